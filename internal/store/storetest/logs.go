package storetest

import (
	"context"
	"reflect"
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
