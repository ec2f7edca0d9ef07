package logsearch_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"lookout/internal/logsearch"
	"lookout/internal/store"
	"lookout/internal/store/duckdb"
	"lookout/internal/telemetry"
)

// planRecords are log records over 12 minutes of three groups' streams, some in the same
// millisecond, some streams named like numbers.
func planRecords() []telemetry.LogRecord {
	base := time.Date(2024, 5, 19, 6, 0, 0, 0, time.UTC)
	res := &telemetry.Resource{Attributes: []telemetry.KeyValue{{Key: "service.name", Value: telemetry.StringValue("app")}}}
	streams := []string{"web", "worker", "10", "9", "api"}
	var out []telemetry.LogRecord
	for i := range 240 {
		at := base.Add(time.Duration(i*3001) * time.Millisecond)
		if i%7 == 3 { // the same millisecond as the record before
			at = time.Unix(0, out[len(out)-1].TimeUnixNano)
		}
		out = append(out, telemetry.LogRecord{ID: uint64(1000 + (i*37)%240), TimeUnixNano: at.UnixNano(),
			ObservedTimeUnixNano: at.Add(time.Duration(i%5) * time.Second).UnixNano(),
			Group:                []string{"app", "app", "other"}[i%3], Stream: streams[(i*i)%len(streams)],
			Body: telemetry.StringValue(fmt.Sprintf(`{"status":%d,"ms":%d}`, 200+100*(i%4), i%50)), Resource: res,
			Ingest: telemetry.IngestInfo{Protocol: "cwlogs"}})
	}
	return out
}

// logStore is a DuckDB store holding records, closed when the test ends.
func logStore(t *testing.T, records []telemetry.LogRecord) *duckdb.Store {
	t.Helper()
	s, err := duckdb.Open(context.Background(), duckdb.DefaultConfig(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.WriteLogs(context.Background(), records); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStatsPlanAgreesWithRun runs queries in the store through their StatsPlan and checks
// their rows and matched count against Run over the same records read as rows.
func TestStatsPlanAgreesWithRun(t *testing.T) {
	ctx := context.Background()
	records := planRecords()
	s := logStore(t, records)
	groups := []string{"app"}
	start, end := time.Unix(0, records[20].TimeUnixNano), time.Unix(0, records[200].TimeUnixNano)
	// The rows Run reads: the groups' records in the range, newest first.
	var rows []logsearch.Row
	slices.SortFunc(records, func(a, b telemetry.LogRecord) int {
		if a.TimeUnixNano != b.TimeUnixNano {
			return int(b.TimeUnixNano - a.TimeUnixNano)
		}
		return int(b.ID) - int(a.ID)
	})
	for i := range records {
		r := &records[i]
		if slices.Contains(groups, r.Group) && r.TimeUnixNano >= start.UnixNano() && r.TimeUnixNano < end.UnixNano() {
			rows = append(rows, logsearch.RecordRow(r))
		}
	}
	mid := records[len(records)/2].TimeUnixNano / 1e6
	queries := []string{
		`stats count(*) by bin(1m)`,
		`stats count(*) as n by bin(5m), @logStream | sort n desc`,
		`filter @logStream = "web" | stats count(*)`,
		fmt.Sprintf(`filter @logStream != "web" and @timestamp >= %v | stats count(*) as n, min(@timestamp), max(@ingestionTime) by @logStream`, mid),
		`filter @logStream like "or" or @logStream in ["10", "api"] | stats count_distinct(@logStream) as streams by bin(30s)`,
		`filter not (@logStream < "m") | stats count(@logStream) as n`,
		`fields @timestamp, @message | filter @logStream not in ["web"] | stats count(*) as n by @logStream | limit 2`,
		`filter @logStream = "nothing" | stats count(*) as n, min(@timestamp) as first, count_distinct(@ingestionTime)`,
		`filter @logStream = "nothing" | stats count(*) as n by bin(1m)`,
		fmt.Sprintf(`filter %v > @timestamp | stats count(*) as n by @timestamp | sort n desc | limit 5`, mid),
		`stats count(*) as n, max(@timestamp) as last by bin(1.5s), @logStream | sort last asc`,
		`stats count(*) as n by @logStream, bin(2m)`,
		`filter @message like "x" | stats count(*)`,
		`filter @message like '"status":300' | stats count(*) as n by bin(1m)`,
		`filter @message not like "400" and @logStream = "web" | stats count(*) as n by @logStream`,
		`filter @message in ['{"status":200,"ms":0}', '{"status":500,"ms":7}'] or @message = '{"status":300,"ms":1}' | stats count(*) as n by bin(5m)`,
		`filter @message > '{"status":3' | stats count(*) as n`,
	}
	for _, text := range queries {
		q, err := logsearch.ParseQuery(text)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		plan, ok := q.StatsPlan()
		if !ok {
			t.Errorf("%s: no plan for the store", text)
			continue
		}
		sq := plan.Store
		sq.Groups, sq.Start, sq.End = groups, start, end
		res, err := s.LogStats(ctx, sq)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		got, gotMatched := plan.Finish(res)
		want, wantMatched := q.Run(cloneRows(rows))
		if g, w := renderRows(got, q.Fields()), renderRows(want, q.Fields()); !slices.Equal(g, w) || gotMatched != wantMatched {
			t.Errorf("%s:\n got %d matched %q\nwant %d matched %q", text, gotMatched, g, wantMatched, w)
		}
		if res.Scanned != int64(len(rows)) {
			t.Errorf("%s: %d records scanned, want %d", text, res.Scanned, len(rows))
		}
	}
}

// TestStatsPlanRefuses checks that queries the store cannot answer exactly stay in Go.
func TestStatsPlanRefuses(t *testing.T) {
	for _, text := range []string{
		`fields @timestamp, @message | sort @timestamp desc`,
		`stats avg(ms)`,
		`stats count(*) by @message`,
		`stats count_distinct(@message)`,
		`filter @message = "10" | stats count(*)`, // compared as numbers
		`filter @message like /status/ | stats count(*)`,
		`stats sum(@timestamp)`,
		`filter @logStream = "10" | stats count(*)`, // compared as numbers
		`filter @timestamp = "2024" | stats count(*)`,
		`filter @timestamp like "2024" | stats count(*)`,
		`filter @logStream =~ /w/ | stats count(*)`,
		`parse @message "*:*" as a, b | stats count(*) by a`,
		`stats count(*) by bin(0.5ms)`,
		`stats min(@logStream)`,
		`fields @timestamp as t | stats count(*)`,
		`sort @timestamp asc | stats count(*) by @logStream`,
		`stats count(*) by status`,
	} {
		q, err := logsearch.ParseQuery(text)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		if _, ok := q.StatsPlan(); ok {
			t.Errorf("%s: planned for the store", text)
		}
	}
}

// TestExecuteStructuredMessages checks that a query testing @message is answered over the
// records when some of them have map bodies, whose text the store does not hold, and in
// the store otherwise, both as Run answers it.
func TestExecuteStructuredMessages(t *testing.T) {
	ctx := context.Background()
	records := planRecords()
	for i := range records {
		if records[i].Group == "other" && i%2 == 0 {
			records[i].Body = telemetry.MapValue(telemetry.KeyValue{Key: "status", Value: telemetry.IntValue(int64(200 + 100*(i%4)))})
		}
	}
	s := logStore(t, records)
	q, err := logsearch.ParseQuery(`filter @message like '"status":300' | stats count(*) as n by bin(1m)`)
	if err != nil {
		t.Fatal(err)
	}
	for _, group := range []string{"app", "other"} {
		var rows []logsearch.Row
		for i := range records {
			if records[i].Group == group {
				rows = append(rows, logsearch.RecordRow(&records[i]))
			}
		}
		want, wantMatched := q.Run(rows)
		start, end := time.Unix(0, records[0].TimeUnixNano), time.Unix(0, records[len(records)-1].TimeUnixNano+1)
		ans, err := logsearch.Execute(ctx, s, q, logsearch.Scope{Groups: []string{group}, Start: start, End: end})
		if err != nil {
			t.Fatal(err)
		}
		if g, w := renderRows(ans.Rows, q.Fields()), renderRows(want, q.Fields()); !slices.Equal(g, w) || ans.Matched != int64(wantMatched) || wantMatched == 0 {
			t.Errorf("%s: got %d matched %q\nwant %d matched %q", group, ans.Matched, g, wantMatched, w)
		}
		plan, _ := q.StatsPlan()
		sq := plan.Store
		sq.Groups, sq.Start, sq.End = []string{group}, start, end
		_, err = s.LogStats(ctx, sq)
		if structured := errors.Is(err, store.ErrStructuredBodies); structured != (group == "other") {
			t.Errorf("%s: the store answered %v", group, err)
		}
	}
}

func cloneRows(rows []logsearch.Row) []logsearch.Row {
	out := make([]logsearch.Row, len(rows))
	for i, r := range rows {
		out[i] = logsearch.Row{}
		for k, v := range r {
			out[i][k] = v
		}
	}
	return out
}

func renderRows(rows []logsearch.Row, fields []string) []string {
	var out []string
	for _, r := range rows {
		var parts []string
		for _, f := range fields {
			if v, ok := r[f]; ok {
				parts = append(parts, f+"="+logsearch.Render(v))
			}
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

func TestMessageTexts(t *testing.T) {
	cases := []struct {
		query string
		want  []string
	}{
		{`filter @message like "ERROR" and @message like 'db' | fields @timestamp`, []string{"ERROR", "db"}},
		{`filter @message like "a" | filter @logStream = "web" and @message like "b" | parse @message "*" as x | filter @message like "c"`, []string{"a", "b"}},
		{`filter @message like "a" or @message like "b"`, nil},
		{`filter @message not like "a"`, nil},
		{`filter @message like /a/`, nil},
		{`fields @timestamp | filter @message like "a"`, nil},
		{`filter msg like "a"`, nil},
	}
	for _, c := range cases {
		q, err := logsearch.ParseQuery(c.query)
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		if got := q.MessageTexts(); !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, want %q", c.query, got, c.want)
		}
	}
}

func TestGroupedBy(t *testing.T) {
	for query, want := range map[string][]string{
		`fields @message`:                        nil,
		`stats count(*) as n by bin(5m), status`: {"bin(5m)", "status"},
		`stats count(*)`:                         {},
		`stats count(*) as n by a, b | stats sum(n) as total by a`: {"a"},
	} {
		q, err := logsearch.ParseQuery(query)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		if got := q.GroupedBy(); !slices.Equal(got, want) || (got == nil) != (want == nil) {
			t.Errorf("%s: %q, want %q", query, got, want)
		}
	}
}
