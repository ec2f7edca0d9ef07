package logsearch

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// memLogs is a store.LogReader over records in memory, for Execute's reading alone: it
// answers Logs as the store does and LogStats with counts only.
type memLogs struct {
	records []telemetry.LogRecord // in LogKey order
	handed  int                   // records Logs returned
}

func (m *memLogs) Logs(ctx context.Context, q store.LogQuery) ([]telemetry.LogRecord, error) {
	var out []telemetry.LogRecord
	err := m.ScanLogs(ctx, q, max(q.Limit, 1), func(b []telemetry.LogRecord) error { out = append(out, b...); return nil })
	return out, err
}

func (m *memLogs) ScanLogs(_ context.Context, q store.LogQuery, batch int, fn func([]telemetry.LogRecord) error) error {
	// Newest first (Execute always asks so), from the last record before End.
	i, _ := slices.BinarySearchFunc(m.records, q.End.UnixNano(), func(r telemetry.LogRecord, t int64) int { return cmp.Compare(r.TimeUnixNano, t) })
	var out []telemetry.LogRecord
	read := 0
	for i--; i >= 0 && (q.Limit == 0 || read < q.Limit); i-- {
		r := m.records[i]
		if r.TimeUnixNano < q.Start.UnixNano() {
			break
		}
		holds := true
		for _, c := range q.Contains {
			holds = holds && strings.Contains(r.Body.AsString(), c)
		}
		if !holds {
			continue
		}
		read++
		m.handed++
		if out = append(out, r); len(out) == batch {
			if err := fn(out); err != nil {
				return err
			}
			out = nil
		}
	}
	if len(out) > 0 {
		return fn(out)
	}
	return nil
}

func (m *memLogs) LogStats(_ context.Context, q store.LogStatsQuery) (*store.LogStatsResult, error) {
	res := &store.LogStatsResult{}
	for _, r := range m.records {
		if t := time.Unix(0, r.TimeUnixNano); !t.Before(q.Start) && t.Before(q.End) {
			res.Scanned++
			res.ScannedBytes += int64(len(r.Body.AsString()))
		}
	}
	return res, nil
}

// TestExecuteReadsInWindows runs queries over 5,000 records a tenth of a second apart
// (read in windows of 1 s, 2 s, 4 s, …), and checks Execute's answers against Run
// over every record at once.
func TestExecuteReadsInWindows(t *testing.T) {
	end := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	m := &memLogs{}
	const n = 5000
	for i := range n {
		at := end.Add(-time.Duration(n-i) * 100 * time.Millisecond)
		msg := fmt.Sprintf(`{"i":%d,"status":%d,"path":"/p%d"}`, i, []int{200, 200, 404, 500}[i%4], i%7)
		m.records = append(m.records, telemetry.LogRecord{ID: uint64(i), TimeUnixNano: at.UnixNano(), Group: "g", Body: telemetry.StringValue(msg)})
	}
	every := func() []Row {
		rows := make([]Row, n)
		for i := range rows {
			rows[i] = RecordRow(&m.records[n-1-i])
		}
		return rows
	}
	for _, tc := range []struct {
		query    string
		newest   bool // may stop before reading everything
		complete bool
	}{
		{`stats count(*) as n, avg(i) as mean, pct(i, 90) as p90 by status, path | sort n desc`, false, true},
		{`filter status = 500 | fields i | sort i asc | limit 5`, false, true},
		{`fields i | sort @timestamp desc | limit 30`, true, true},
		{`filter @message like "/p3\"" and status = 404 | fields i | limit 7`, true, true},
		{`fields path | dedup path`, false, true},
	} {
		q, err := ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		m.handed = 0
		ans, err := Execute(context.Background(), m, q, Scope{Groups: []string{"g"}, Start: end.Add(-2 * time.Hour), End: end, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		want, matched := q.Run(every())
		fields := []string{"i", "n", "mean", "p90", "status", "path"}
		if !slices.Equal(render(ans.Rows, fields), render(want[:min(len(want), 1000)], fields)) {
			t.Errorf("%s:\n got %q\nwant %q", tc.query, render(ans.Rows, fields), render(want, fields))
		}
		if tc.newest != (m.handed < n) || ans.Complete != tc.complete {
			t.Errorf("%s: read %d of %d records, complete %v", tc.query, m.handed, n, ans.Complete)
		}
		if !tc.newest && ans.Matched != int64(matched) || ans.Scanned != n && !strings.Contains(tc.query, "filter") {
			t.Errorf("%s: matched %d, scanned %d; want %d of %d", tc.query, ans.Matched, ans.Scanned, matched, n)
		}
	}
	// MaxRead stops the reading, and says so.
	q, _ := ParseQuery(`stats count(i) as n`) // counted here, not in the store
	ans, err := Execute(context.Background(), m, q, Scope{Start: end.Add(-2 * time.Hour), End: end, Limit: 10, MaxRead: 3000})
	if err != nil || ans.Complete || ans.Scanned != 3000 || render(ans.Rows, []string{"n"})[0] != "n=3000" {
		t.Errorf("MaxRead 3,000: %+v, %v", ans, err)
	}
}
