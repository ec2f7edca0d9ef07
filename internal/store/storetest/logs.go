package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// logFixture returns log records of two groups: every field set on some record, bodies of
// several kinds, ids as the ingest pipeline gives them.
func logFixture() []telemetry.LogRecord {
	api := resource("api", telemetry.KeyValue{Key: "host.name", Value: telemetry.StringValue("h1")})
	web := resource("web")
	scope := &telemetry.Scope{Name: "logger", Version: "2.1", Attributes: telemetry.Attributes{{Key: "s", Value: telemetry.BoolValue(true)}}}
	var out []telemetry.LogRecord
	for i := range 30 {
		r := telemetry.LogRecord{
			ID:                   uint64(7)<<24 | uint64(i),
			TimeUnixNano:         at(time.Duration(i) * time.Second),
			ObservedTimeUnixNano: at(time.Duration(i)*time.Second + time.Millisecond),
			Body:                 telemetry.StringValue("GET /api/activities/home 200 <b>" + string(rune('a'+i))),
			Resource:             api, Group: "cruddur", Stream: "h1/app/1",
			Ingest: telemetry.IngestInfo{Protocol: "cloudwatch"},
		}
		switch i % 3 {
		case 1:
			r.Severity, r.SeverityText = 17, "ERROR"
			r.Body = telemetry.MapValue(telemetry.KeyValue{Key: "msg", Value: telemetry.StringValue("boom")}, telemetry.KeyValue{Key: "n", Value: telemetry.IntValue(int64(i))})
			r.Attributes = telemetry.Attributes{{Key: "http.route", Value: telemetry.StringValue("/x")}, {Key: "code", Value: telemetry.IntValue(500)}}
			r.DroppedAttributesCount = 1
			r.TraceID, r.SpanID, r.Flags = traceID(byte(i)), spanID(byte(i)), 1
			r.Scope, r.EventName = scope, "app.error"
		case 2:
			r.Resource, r.Group, r.Stream = web, "web", "default"
			r.Ingest = telemetry.IngestInfo{Protocol: "otlp"}
		}
		out = append(out, r)
	}
	return out
}

func writeLogs(t *testing.T, s *handle, logs []telemetry.LogRecord) {
	t.Helper()
	if err := s.WriteLogs(context.Background(), logs); err != nil {
		t.Fatalf("WriteLogs: %v", err)
	}
}

func readLogs(t *testing.T, s *handle, q store.LogQuery) []telemetry.LogRecord {
	t.Helper()
	got, err := s.Logs(context.Background(), q)
	if err != nil {
		t.Fatalf("Logs(%+v): %v", q, err)
	}
	return got
}

// selectLogs is the expected answer to a query over the fixture, computed here.
func selectLogs(all []telemetry.LogRecord, keep func(r *telemetry.LogRecord) bool) []telemetry.LogRecord {
	var out []telemetry.LogRecord
	for i := range all {
		if keep(&all[i]) {
			out = append(out, all[i])
		}
	}
	return out
}

func compareLogs(t *testing.T, got, want []telemetry.LogRecord) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d log records, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("log record %d differs:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func testLogRoundTrip(t *testing.T, b Backend) {
	s := open(t, b)
	all := logFixture()
	writeLogs(t, s, all)
	got := readLogs(t, s, store.LogQuery{Group: "cruddur", Limit: 100})
	compareLogs(t, got, selectLogs(all, func(r *telemetry.LogRecord) bool { return r.Group == "cruddur" }))
}

func testLogIdempotent(t *testing.T, b Backend) {
	s := open(t, b)
	all := logFixture()
	writeLogs(t, s, all[:20])
	writeLogs(t, s, append(all[10:], all[25])) // a replay overlapping the first, with a repeat
	compareLogs(t, readLogs(t, s, store.LogQuery{Limit: 100}), all)
}

func testLogQueries(t *testing.T, b Backend) {
	s := open(t, b)
	all := logFixture()
	writeLogs(t, s, all[15:])
	writeLogs(t, s, all[:15])
	cases := []struct {
		name string
		q    store.LogQuery
		keep func(r *telemetry.LogRecord) bool
	}{
		{"group", store.LogQuery{Group: "web"}, func(r *telemetry.LogRecord) bool { return r.Group == "web" }},
		{"stream", store.LogQuery{Group: "cruddur", Stream: "h1/app/1"}, func(r *telemetry.LogRecord) bool { return r.Stream == "h1/app/1" }},
		{"trace", store.LogQuery{TraceID: traceID(4)}, func(r *telemetry.LogRecord) bool { return r.TraceID == traceID(4) }},
		{"range", store.LogQuery{Start: base.Add(5 * time.Second), End: base.Add(9 * time.Second)}, func(r *telemetry.LogRecord) bool {
			return r.TimeUnixNano >= at(5*time.Second) && r.TimeUnixNano < at(9*time.Second)
		}},
		{"nothing", store.LogQuery{Group: "nope"}, func(*telemetry.LogRecord) bool { return false }},
		{"after an instant", store.LogQuery{After: &store.LogKey{TimeUnixNano: at(5 * time.Second), ID: math.MaxUint64}}, func(r *telemetry.LogRecord) bool {
			return r.TimeUnixNano > at(5*time.Second)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Limit = 100
			compareLogs(t, readLogs(t, s, tc.q), selectLogs(all, tc.keep))
		})
	}
	t.Run("limit and order", func(t *testing.T) {
		got := readLogs(t, s, store.LogQuery{Group: "cruddur", Limit: 3, Descending: true})
		want := selectLogs(all, func(r *telemetry.LogRecord) bool { return r.Group == "cruddur" })
		want = []telemetry.LogRecord{want[len(want)-1], want[len(want)-2], want[len(want)-3]}
		compareLogs(t, got, want)
	})
	t.Run("scanned in batches", func(t *testing.T) {
		want := selectLogs(all, func(r *telemetry.LogRecord) bool { return r.Group == "cruddur" })
		slices.Reverse(want)
		for _, limit := range []int{0, len(want) - 2} {
			var got []telemetry.LogRecord
			err := s.ScanLogs(context.Background(), store.LogQuery{Group: "cruddur", Limit: limit, Descending: true}, 4, func(b []telemetry.LogRecord) error {
				if len(b) == 0 || len(b) > 4 {
					t.Errorf("a batch of %d records, want 1 to 4", len(b))
				}
				got = append(got, b...)
				return nil
			})
			if err != nil {
				t.Fatalf("ScanLogs: %v", err)
			}
			if limit > 0 {
				compareLogs(t, got, want[:limit])
			} else {
				compareLogs(t, got, want)
			}
		}
		stop, calls := errors.New("stop"), 0
		err := s.ScanLogs(context.Background(), store.LogQuery{Group: "cruddur"}, 2, func([]telemetry.LogRecord) error { calls++; return stop })
		if err != stop || calls != 1 {
			t.Errorf("ScanLogs with fn failing: %v after %d calls, want fn's error after 1", err, calls)
		}
	})
}

func testLogDurable(t *testing.T, b Backend) {
	if b.Reopen == nil {
		t.Skip("the backend cannot be reopened")
	}
	s := open(t, b)
	all := logFixture()
	writeLogs(t, s, all)
	if err := s.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, b, s)
	compareLogs(t, readLogs(t, s, store.LogQuery{Limit: 100}), all)
}

func testLogRetention(t *testing.T, b Backend) {
	s := open(t, b)
	all := logFixture()
	writeLogs(t, s, all)
	n, err := s.DeleteBefore(context.Background(), base.Add(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if n != 10 {
		t.Fatalf("DeleteBefore reported %d items, want the 10 older log records", n)
	}
	compareLogs(t, readLogs(t, s, store.LogQuery{Limit: 100}), all[10:])
}

func testLogStats(t *testing.T, b Backend) {
	s := open(t, b)
	all := logFixture()
	all[4].TimeUnixNano = all[3].TimeUnixNano // two records in the same instant: ID breaks the tie
	writeLogs(t, s, all)
	from := at(3 * time.Second) // math.MinInt64 when the range has no start
	scope := func(r *telemetry.LogRecord) bool {
		return r.Group == "cruddur" && r.TimeUnixNano >= from && r.TimeUnixNano < at(25*time.Second)
	}
	// One bucket of the expected answer, computed here.
	type bucket struct {
		key     []any
		count   int64
		streams map[string]bool
		first   int64
		newest  store.LogKey
	}
	expect := func(match func(r *telemetry.LogRecord) bool, binMillis int64) (want []*bucket, scanned, matched int64) {
		index := map[[2]any]*bucket{}
		for i := range all {
			r := &all[i]
			if !scope(r) {
				continue
			}
			scanned++
			if !match(r) {
				continue
			}
			matched++
			ms := r.TimeUnixNano / 1e6
			k := [2]any{ms / binMillis * binMillis, r.Stream}
			bk := index[k]
			if bk == nil {
				bk = &bucket{key: k[:], streams: map[string]bool{}, first: ms}
				index[k] = bk
				want = append(want, bk)
			}
			bk.count++
			bk.streams[r.Stream] = true
			bk.first = min(bk.first, ms)
			if key := (store.LogKey{TimeUnixNano: r.TimeUnixNano, ID: r.ID}); key.TimeUnixNano > bk.newest.TimeUnixNano ||
				key.TimeUnixNano == bk.newest.TimeUnixNano && key.ID > bk.newest.ID {
				bk.newest = key
			}
		}
		slices.SortFunc(want, func(a, b *bucket) int {
			if a.newest.TimeUnixNano != b.newest.TimeUnixNano {
				return int(b.newest.TimeUnixNano - a.newest.TimeUnixNano)
			}
			return int(b.newest.ID) - int(a.newest.ID)
		})
		return want, scanned, matched
	}
	// Bytes scanned are estimated from the streams' average record.
	streams, err := catalogue(s).LogStreams(context.Background(), store.LogStreamQuery{Group: "cruddur"})
	if err != nil {
		t.Fatal(err)
	}
	var storedBytes, storedRecords int64
	for _, st := range streams {
		storedBytes, storedRecords = storedBytes+st.StoredBytes, storedRecords+st.Records
	}
	q := store.LogStatsQuery{Groups: []string{"cruddur", "nope"}, Start: base.Add(3 * time.Second), End: base.Add(25 * time.Second),
		By:         []store.LogGrouping{{Field: store.LogTime, BinMillis: 5000}, {Field: store.LogStreamName}},
		Aggregates: []store.LogAggregate{{Fn: "count"}, {Fn: "count_distinct", Field: store.LogStreamName}, {Fn: "min", Field: store.LogTime}},
		Ordered:    true}
	cases := []struct {
		name  string
		where *store.LogCond
		match func(r *telemetry.LogRecord) bool
	}{
		{"all", nil, func(*telemetry.LogRecord) bool { return true }},
		{"time and stream", &store.LogCond{Op: "or", Conds: []store.LogCond{
			{Op: "<", Field: store.LogTime, Values: []any{float64(at(9*time.Second) / 1e6)}},
			{Op: "not", Conds: []store.LogCond{{Op: "in", Field: store.LogStreamName, Values: []any{"h1/app/1", "x"}}}},
		}}, func(r *telemetry.LogRecord) bool { return r.TimeUnixNano < at(9*time.Second) || r.Stream != "h1/app/1" }},
		{"contains and compare", &store.LogCond{Op: "and", Conds: []store.LogCond{
			{Op: "contains", Field: store.LogStreamName, Values: []any{"app/"}},
			{Op: ">=", Field: store.LogIngestTime, Values: []any{float64(at(20*time.Second) / 1e6)}},
			{Op: "!=", Field: store.LogStreamName, Values: []any{"h1"}},
		}}, func(r *telemetry.LogRecord) bool { return r.ObservedTimeUnixNano/1e6 >= at(20*time.Second)/1e6 }},
		{"nothing", &store.LogCond{Op: "=", Field: store.LogStreamName, Values: []any{"nope"}}, func(*telemetry.LogRecord) bool { return false }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q.Where, q.Start, from = tc.where, base.Add(3*time.Second), at(3*time.Second)
			if tc.name == "all" { // the range has no start: the store cannot rule out times before 1970
				q.Start, from = time.Time{}, math.MinInt64
			}
			res, err := s.LogStats(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			want, scanned, matched := expect(tc.match, 5000)
			bytes := int64(float64(scanned) * float64(storedBytes) / float64(storedRecords))
			if res.Scanned != scanned || res.ScannedBytes != bytes || res.Matched != matched {
				t.Errorf("scanned %d records of %d bytes, %d matched; want %d, %d, %d", res.Scanned, res.ScannedBytes, res.Matched, scanned, bytes, matched)
			}
			if len(res.Buckets) != len(want) {
				t.Fatalf("%d buckets, want %d", len(res.Buckets), len(want))
			}
			for i, w := range want {
				wantBucket := store.LogBucket{Key: w.key, Values: []any{w.count, int64(len(w.streams)), w.first}}
				if !reflect.DeepEqual(res.Buckets[i], wantBucket) {
					t.Errorf("bucket %d: %v, want %v", i, res.Buckets[i], wantBucket)
				}
			}
		})
	}
	t.Run("in any order", func(t *testing.T) {
		q.Where, q.Ordered = nil, false
		res, err := s.LogStats(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		want, _, _ := expect(func(*telemetry.LogRecord) bool { return true }, 5000)
		var got, wantKeys []string
		for i := range want {
			got = append(got, fmt.Sprint(res.Buckets[i]))
			wantKeys = append(wantKeys, fmt.Sprint(store.LogBucket{Key: want[i].key, Values: []any{want[i].count, int64(len(want[i].streams)), want[i].first}}))
		}
		slices.Sort(got)
		slices.Sort(wantKeys)
		if !slices.Equal(got, wantKeys) {
			t.Errorf("buckets %v, want %v", got, wantKeys)
		}
	})
	t.Run("bad conditions", func(t *testing.T) {
		for _, c := range []store.LogCond{
			{Op: "=", Field: store.LogStreamName, Values: []any{1.0}},
			{Op: "<", Field: store.LogTime, Values: []any{"1"}},
			{Op: "contains", Field: store.LogTime, Values: []any{"1"}},
			{Op: "not"},
			{Op: "and"},
			{Op: "like", Field: store.LogStreamName, Values: []any{"x"}},
			{Op: "=", Field: 99, Values: []any{"x"}},
		} {
			if _, err := s.LogStats(context.Background(), store.LogStatsQuery{Where: &c}); err == nil {
				t.Errorf("%+v: no error", c)
			}
		}
	})
	t.Run("messages", func(t *testing.T) {
		cond := &store.LogCond{Op: "and", Conds: []store.LogCond{
			{Op: "contains", Field: store.LogMessage, Values: []any{"200 <b>"}},
			{Op: "not", Conds: []store.LogCond{{Op: "in", Field: store.LogMessage, Values: []any{all[2].Body.AsString()}}}},
		}}
		count := []store.LogAggregate{{Fn: "count"}}
		var want int64
		for i := range all {
			if msg := all[i].Body.AsString(); all[i].Group == "web" && strings.Contains(msg, "200 <b>") && msg != all[2].Body.AsString() {
				want++
			}
		}
		res, err := s.LogStats(context.Background(), store.LogStatsQuery{Groups: []string{"web"}, Where: cond, Aggregates: count})
		if err != nil {
			t.Fatal(err)
		}
		if res.Matched != want || want == 0 || !reflect.DeepEqual(res.Buckets[0].Values, []any{want}) {
			t.Errorf("%d matched, buckets %v; want %d", res.Matched, res.Buckets, want)
		}
		// The other group has map bodies, whose text the store does not hold.
		if _, err := s.LogStats(context.Background(), store.LogStatsQuery{Groups: []string{"cruddur"}, Where: cond, Aggregates: count}); !errors.Is(err, store.ErrStructuredBodies) {
			t.Errorf("messages tested among map bodies: %v, want ErrStructuredBodies", err)
		}
		for _, q := range []store.LogStatsQuery{
			{Groups: []string{"web"}, By: []store.LogGrouping{{Field: store.LogMessage}}},
			{Groups: []string{"web"}, Aggregates: []store.LogAggregate{{Fn: "count_distinct", Field: store.LogMessage}}},
		} {
			if _, err := s.LogStats(context.Background(), q); err == nil {
				t.Errorf("%+v: messages grouped or aggregated", q)
			}
		}
	})
	t.Run("without groupings", func(t *testing.T) {
		q := store.LogStatsQuery{Groups: []string{"cruddur"}, Where: &store.LogCond{Op: "=", Field: store.LogStreamName, Values: []any{"nope"}},
			Aggregates: []store.LogAggregate{{Fn: "count"}, {Fn: "max", Field: store.LogTime}}}
		res, err := s.LogStats(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.LogBucket{{Key: []any{}, Values: []any{int64(0), nil}}}
		if res.Matched != 0 || !reflect.DeepEqual(res.Buckets, want) {
			t.Errorf("%d matched in %v, want none in %v", res.Matched, res.Buckets, want)
		}
		res, err = s.LogStats(context.Background(), store.LogStatsQuery{Groups: []string{"web"}})
		web := int64(len(selectLogs(all, func(r *telemetry.LogRecord) bool { return r.Group == "web" })))
		if err != nil || res.Scanned != web || res.Matched != web || len(res.Buckets) != 1 {
			t.Errorf("counting alone: %+v, %v; want %d records", res, err, web)
		}
	})
}
