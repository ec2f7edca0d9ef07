// Package storetest is the conformance suite every store backend runs:
//
//	func TestConformance(t *testing.T) { storetest.Run(t, storetest.Backend{Open: ...}) }
//
// Expected values are written out in the fixtures here, never read back from a store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"lookout/internal/query"
	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// Backend tells the suite how to get a store.
type Backend struct {
	// Open returns a new, empty store. The suite closes it.
	Open func(t *testing.T) store.Backend
	// Reopen, if set, closes s and opens the same data again, to test durability.
	Reopen func(t *testing.T, s store.Backend) store.Backend
	// Unsupported lists the capabilities the backend does not offer yet, each with the reason.
	// The suite fails for a capability that is neither offered nor listed, and for one listed
	// that the backend offers.
	Unsupported map[store.Capability]string
}

// Capabilities the suite's tests need.
var (
	traces   = []store.Capability{store.SpanWriting, store.TraceReading}
	events   = []store.Capability{store.SpanWriting, store.EventQueries}
	datasets = []store.Capability{store.SpanWriting, store.DatasetListing}
	retain   = []store.Capability{store.SpanWriting, store.TraceReading, store.Retention, store.EventQueries}
	logs     = []store.Capability{store.LogWriting, store.LogReading}
	revise   = []store.Capability{store.SpanWriting, store.TraceReading, store.SpanRevising}
	errItems = []store.Capability{store.OccurrenceWriting, store.ItemReading}
	triaged  = []store.Capability{store.OccurrenceWriting, store.ItemReading, store.ItemTriage}
	logCat   = []store.Capability{store.LogWriting, store.LogReading, store.LogCataloguing}
	segments = []store.Capability{store.SpanWriting, store.TraceReading, store.SegmentReading}
)

// Run runs every conformance test a backend's capabilities allow, and skips the others with
// the reason the backend gave.
func Run(t *testing.T, b Backend) {
	probe := b.Open(t)
	for _, c := range store.Capabilities {
		_, declared := b.Unsupported[c]
		switch has := store.Has(probe, c); {
		case has && declared:
			t.Errorf("the backend offers %s but declares it unsupported", c)
		case !has && !declared:
			t.Errorf("the backend neither offers %s nor declares it unsupported", c)
		}
	}
	probe.Close()
	tests := []struct {
		name  string
		needs []store.Capability
		fn    func(*testing.T, Backend)
	}{
		{"RoundTrip", traces, testRoundTrip},
		{"NotFound", traces, testNotFound},
		{"Idempotent", traces, testIdempotent},
		{"FindTraceIDs", traces, testFindTraceIDs},
		{"Catalogue", traces, testCatalogue},
		{"Dependencies", traces, testDependencies},
		{"MissingParents", traces, testMissingParents},
		{"DeleteBefore", retain, testDeleteBefore},
		{"Concurrent", traces, testConcurrent},
		{"Durable", traces, testDurable},
		{"Datasets", datasets, testDatasets},
		{"Query", events, testQuery},
		{"ManySpansOneShape", append(traces, store.EventQueries), testManySpansOneShape},
		{"LogRoundTrip", logs, testLogRoundTrip},
		{"LogIdempotent", logs, testLogIdempotent},
		{"LogQueries", logs, testLogQueries},
		{"LogDurable", logs, testLogDurable},
		{"LogRetention", append(logs, store.Retention), testLogRetention},
		{"Revise", revise, testRevise},
		{"Settings", []store.Capability{store.Settings}, testSettings},
		{"OccurrenceItems", errItems, testOccurrenceItems},
		{"ItemQueries", errItems, testItemQueries},
		{"OccurrencesDurable", errItems, testOccurrencesDurable},
		{"ItemTriage", triaged, testItemTriage},
		{"VersionOrder", triaged, testVersionOrder},
		{"Deploys", triaged, testDeploys},
		{"LogPaging", logs, testLogPaging},
		{"LogStats", logCat, testLogStats},
		{"LogGroups", logCat, testLogGroups},
		{"LogStreams", logCat, testLogStreams},
		{"LogGroupRetention", logCat, testLogGroupRetention},
		{"ServiceCalls", segments, testServiceCalls},
		{"MatchTraces", segments, testMatchTraces},
		{"BatchTraces", segments, testBatchTraces},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range tc.needs {
				if why, ok := b.Unsupported[c]; ok {
					t.Skipf("%s is not supported: %s", c, why)
				}
			}
			tc.fn(t, b)
		})
	}
}

// handle is a backend seen through each of its capabilities; those it lacks are nil, and the
// suite runs a test only on backends that have what it needs.
type handle struct {
	store.Backend
	store.SpanWriter
	store.TraceReader
	store.QueryRunner
	store.DatasetReader
	store.Retainer
	store.LogWriter
	store.LogReader
	store.SpanReviser
	store.SettingsStore
	store.OccurrenceWriter
	store.ItemReader
	store.ItemTriager
}

func newHandle(b store.Backend) *handle {
	h := &handle{Backend: b}
	h.SpanWriter, _ = b.(store.SpanWriter)
	h.TraceReader, _ = b.(store.TraceReader)
	h.QueryRunner, _ = b.(store.QueryRunner)
	h.DatasetReader, _ = b.(store.DatasetReader)
	h.Retainer, _ = b.(store.Retainer)
	h.LogWriter, _ = b.(store.LogWriter)
	h.LogReader, _ = b.(store.LogReader)
	h.SpanReviser, _ = b.(store.SpanReviser)
	h.SettingsStore, _ = b.(store.SettingsStore)
	h.OccurrenceWriter, _ = b.(store.OccurrenceWriter)
	h.ItemReader, _ = b.(store.ItemReader)
	h.ItemTriager, _ = b.(store.ItemTriager)
	return h
}

func open(t *testing.T, b Backend) *handle {
	t.Helper()
	s := b.Open(t)
	t.Cleanup(func() { s.Close() })
	return newHandle(s)
}

// reopen closes s and opens its data again.
func reopen(t *testing.T, b Backend, s *handle) *handle {
	t.Helper()
	again := b.Reopen(t, s.Backend)
	t.Cleanup(func() { again.Close() })
	return newHandle(again)
}

func write(t *testing.T, s *handle, spans []telemetry.Span) {
	t.Helper()
	if err := s.WriteSpans(context.Background(), spans); err != nil {
		t.Fatalf("WriteSpans: %v", err)
	}
}

// base is a fixed instant well inside any retention window the suite uses.
var base = time.Now().Truncate(time.Second).Add(-10 * time.Minute)

func at(offset time.Duration) int64 { return base.Add(offset).UnixNano() }

func traceID(n byte) telemetry.TraceID {
	return telemetry.TraceID{0xa0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, n}
}

func spanID(n byte) telemetry.SpanID { return telemetry.SpanID{0xb0, 0, 0, 0, 0, 0, 0, n} }

func resource(service string, extra ...telemetry.KeyValue) *telemetry.Resource {
	return &telemetry.Resource{Attributes: append(telemetry.Attributes{
		{Key: "service.name", Value: telemetry.StringValue(service)},
	}, extra...)}
}

// richTrace has two services, every attribute kind, an event, a link, a scope with
// attributes, dropped counts, an error and ingest details.
func richTrace() []telemetry.Span {
	frontend := resource("frontend",
		telemetry.KeyValue{Key: "host.name", Value: telemetry.StringValue("web-1")},
		telemetry.KeyValue{Key: "process.pid", Value: telemetry.IntValue(4242)})
	frontend.DroppedAttributesCount = 2
	backend := resource("backend", telemetry.KeyValue{Key: "deployment.environment", Value: telemetry.StringValue("prod")})
	scope := &telemetry.Scope{Name: "net/http", Version: "1.2.3",
		Attributes: telemetry.Attributes{{Key: "scope.attr", Value: telemetry.BoolValue(true)}}, DroppedAttributesCount: 1}
	return []telemetry.Span{
		{
			TraceID: traceID(1), SpanID: spanID(1), TraceState: "vendor=abc", Flags: 1,
			Name: "GET /api/users", Kind: telemetry.SpanKindServer,
			StartUnixNano: at(0), EndUnixNano: at(250 * time.Millisecond),
			Attributes: telemetry.Attributes{
				{Key: "http.method", Value: telemetry.StringValue("GET")},
				{Key: "http.status_code", Value: telemetry.IntValue(200)},
				{Key: "ratio", Value: telemetry.DoubleValue(0.25)},
				{Key: "cache.hit", Value: telemetry.BoolValue(false)},
				{Key: "blob", Value: telemetry.BytesValue([]byte{0, 1, 2, 255})},
				{Key: "tags", Value: telemetry.ArrayValue(telemetry.StringValue("a"), telemetry.IntValue(7))},
				{Key: "nested", Value: telemetry.MapValue(telemetry.KeyValue{Key: "inner", Value: telemetry.DoubleValue(1.5)})},
				{Key: "empty", Value: telemetry.Value{}},
				{Key: "html", Value: telemetry.StringValue(`<img src=x onerror=alert(1)> ' " ; --`)},
			},
			DroppedAttributesCount: 3,
			Events: []telemetry.Event{{TimeUnixNano: at(10 * time.Millisecond), Name: "cache miss",
				Attributes: telemetry.Attributes{{Key: "key", Value: telemetry.StringValue("user:1")}}, DroppedAttributesCount: 1}},
			DroppedEventsCount: 4,
			Links: []telemetry.Link{{TraceID: traceID(9), SpanID: spanID(9), TraceState: "x=y", Flags: 1,
				Attributes: telemetry.Attributes{{Key: "link.kind", Value: telemetry.StringValue("batch")}}, DroppedAttributesCount: 2}},
			DroppedLinksCount: 5,
			Status:            telemetry.Status{Code: telemetry.StatusOK},
			Resource:          frontend, Scope: scope,
			Ingest: telemetry.IngestInfo{Protocol: "otlp", Dataset: "my-dataset", KeyID: "abc123"},
		},
		{
			TraceID: traceID(1), SpanID: spanID(2), ParentSpanID: spanID(1),
			Name: "SELECT users", Kind: telemetry.SpanKindClient,
			StartUnixNano: at(20 * time.Millisecond), EndUnixNano: at(120 * time.Millisecond),
			Attributes: telemetry.Attributes{{Key: "db.system", Value: telemetry.StringValue("postgresql")}},
			Resource:   frontend, Scope: scope,
			Ingest: telemetry.IngestInfo{Protocol: "otlp"},
		},
		{
			TraceID: traceID(1), SpanID: spanID(3), ParentSpanID: spanID(1),
			Name: "load profile", Kind: telemetry.SpanKindServer,
			StartUnixNano: at(130 * time.Millisecond), EndUnixNano: at(240 * time.Millisecond),
			Status:     telemetry.Status{Code: telemetry.StatusError, Message: "profile not found"},
			Resource:   backend,
			InProgress: true, SampleRate: 10,
			Ingest: telemetry.IngestInfo{Protocol: "xray"},
		},
	}
}

func testRoundTrip(t *testing.T, b Backend) {
	s := open(t, b)
	want := richTrace()
	write(t, s, want)
	got, err := s.Trace(context.Background(), traceID(1))
	if err != nil {
		t.Fatalf("Trace: %v", err)
	}
	compareSpans(t, got, want)
}

// compareSpans compares field by field, so that a failure names the field.
func compareSpans(t *testing.T, got, want []telemetry.Span) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d spans, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := reflect.ValueOf(got[i]), reflect.ValueOf(want[i])
		for f := 0; f < w.NumField(); f++ {
			name := w.Type().Field(f).Name
			if !reflect.DeepEqual(g.Field(f).Interface(), w.Field(f).Interface()) {
				t.Errorf("span %d (%s) field %s:\n got %#v\nwant %#v", i, want[i].Name, name, g.Field(f).Interface(), w.Field(f).Interface())
			}
		}
	}
}

func testNotFound(t *testing.T, b Backend) {
	s := open(t, b)
	write(t, s, richTrace())
	_, err := s.Trace(context.Background(), traceID(77))
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Trace of unknown id: err = %v, want ErrNotFound", err)
	}
}

func testIdempotent(t *testing.T, b Backend) {
	s := open(t, b)
	spans := richTrace()
	write(t, s, spans)
	write(t, s, spans)                                         // a retried batch
	write(t, s, append(slices.Clone(spans[:2]), spans[:2]...)) // repeats inside one batch
	got, err := s.Trace(context.Background(), traceID(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("after retries got %d spans, want 3", len(got))
	}
	// A trace the store has never seen, with a span repeated inside its first batch.
	fresh := searchFixture()[:2]
	write(t, s, append(fresh, fresh[1]))
	if got, err := s.Trace(context.Background(), fresh[0].TraceID); err != nil || len(got) != 2 {
		t.Fatalf("new trace with a repeated span: %d spans, err %v; want 2", len(got), err)
	}
	deps, err := s.Dependencies(context.Background(), base.Add(-time.Hour), base.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(deps) != 2 || deps[1].CallCount != 1 {
		t.Fatalf("dependencies after retries = %+v, want one call frontend->backend", deps)
	}
}

// searchFixture is 30 traces: trace i has a root in service "svc-(i%3)" named "op-(i%2)",
// lasting (i+1)*10ms, starting i seconds after base, with attribute "n"=i and resource
// attribute "zone"="z-(i%5)"; every 4th root has error status. Each has one child in "db".
func searchFixture() []telemetry.Span {
	var spans []telemetry.Span
	dbRes := resource("db")
	for i := 0; i < 30; i++ {
		res := resource(fmt.Sprintf("svc-%d", i%3), telemetry.KeyValue{Key: "zone", Value: telemetry.StringValue(fmt.Sprintf("z-%d", i%5))})
		start := at(time.Duration(i) * time.Second)
		root := telemetry.Span{
			TraceID: traceID(byte(100 + i)), SpanID: spanID(1), Name: fmt.Sprintf("op-%d", i%2),
			Kind: telemetry.SpanKindServer, StartUnixNano: start, EndUnixNano: start + int64(time.Duration(i+1)*10*time.Millisecond),
			Attributes: telemetry.Attributes{{Key: "n", Value: telemetry.IntValue(int64(i))}},
			Resource:   res, Ingest: telemetry.IngestInfo{Protocol: "otlp"},
		}
		if i%4 == 0 {
			root.Status = telemetry.Status{Code: telemetry.StatusError}
		}
		child := telemetry.Span{
			TraceID: root.TraceID, SpanID: spanID(2), ParentSpanID: spanID(1), Name: "query",
			Kind: telemetry.SpanKindClient, StartUnixNano: start + 1000, EndUnixNano: start + 2000,
			Resource: dbRes, Ingest: telemetry.IngestInfo{Protocol: "otlp"},
		}
		spans = append(spans, root, child)
	}
	return spans
}

// expectIDs returns the fixture traces i (newest first) for which keep(i) holds.
func expectIDs(keep func(i int) bool, limit int) []telemetry.TraceID {
	var ids []telemetry.TraceID
	for i := 29; i >= 0 && len(ids) < limit; i-- {
		if keep(i) {
			ids = append(ids, traceID(byte(100+i)))
		}
	}
	return ids
}

func testFindTraceIDs(t *testing.T, b Backend) {
	s := open(t, b)
	write(t, s, searchFixture())
	all := func(int) bool { return true }
	cases := []struct {
		name string
		q    store.TraceQuery
		want []telemetry.TraceID
	}{
		{"everything, default limit", store.TraceQuery{}, expectIDs(all, store.DefaultLimit)},
		{"limit", store.TraceQuery{Limit: 5}, expectIDs(all, 5)},
		{"service", store.TraceQuery{Service: "svc-1", Limit: 100}, expectIDs(func(i int) bool { return i%3 == 1 }, 100)},
		{"service and operation", store.TraceQuery{Service: "svc-0", Operation: "op-1", Limit: 100}, expectIDs(func(i int) bool { return i%3 == 0 && i%2 == 1 }, 100)},
		{"span attribute", store.TraceQuery{Attributes: map[string]string{"n": "7"}}, expectIDs(func(i int) bool { return i == 7 }, 100)},
		{"resource attribute", store.TraceQuery{Attributes: map[string]string{"zone": "z-2"}, Limit: 100}, expectIDs(func(i int) bool { return i%5 == 2 }, 100)},
		{"attributes on one span", store.TraceQuery{Attributes: map[string]string{"zone": "z-2", "n": "12"}}, expectIDs(func(i int) bool { return i == 12 }, 100)},
		{"attribute of another span does not combine", store.TraceQuery{Service: "db", Attributes: map[string]string{"n": "12"}}, nil},
		{"error", store.TraceQuery{Attributes: map[string]string{"error": "true"}, Limit: 100}, expectIDs(func(i int) bool { return i%4 == 0 }, 100)},
		{"span kind", store.TraceQuery{Service: "svc-2", Attributes: map[string]string{"span.kind": "server"}, Limit: 100}, expectIDs(func(i int) bool { return i%3 == 2 }, 100)},
		{"min duration", store.TraceQuery{MinDuration: 200 * time.Millisecond, Limit: 100}, expectIDs(func(i int) bool { return (i+1)*10 >= 200 }, 100)},
		{"max duration", store.TraceQuery{Service: "svc-0", MaxDuration: 100 * time.Millisecond, Limit: 100}, expectIDs(func(i int) bool { return i%3 == 0 && (i+1)*10 <= 100 }, 100)},
		{"time range", store.TraceQuery{Start: base.Add(10 * time.Second), End: base.Add(14 * time.Second), Limit: 100}, expectIDs(func(i int) bool { return i >= 10 && i <= 14 }, 100)},
		{"unknown service", store.TraceQuery{Service: "nope"}, nil},
		{"quote in value", store.TraceQuery{Service: "svc-1' OR '1'='1"}, nil},
		{"quote in key", store.TraceQuery{Attributes: map[string]string{"n') OR true --": "1"}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.FindTraceIDs(context.Background(), tc.q)
			if err != nil {
				t.Fatalf("FindTraceIDs: %v", err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v\nwant %v", got, tc.want)
			}
		})
	}
}

func testCatalogue(t *testing.T, b Backend) {
	s := open(t, b)
	write(t, s, searchFixture())
	write(t, s, searchFixture()[:4])
	services, err := s.Services(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"db", "svc-0", "svc-1", "svc-2"}; !slices.Equal(services, want) {
		t.Fatalf("Services = %v, want %v", services, want)
	}
	ops, err := s.Operations(context.Background(), "svc-1")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Operation{{Name: "op-0", SpanKind: telemetry.SpanKindServer}, {Name: "op-1", SpanKind: telemetry.SpanKindServer}}
	if !slices.Equal(ops, want) {
		t.Fatalf("Operations = %v, want %v", ops, want)
	}
}

func testDependencies(t *testing.T, b Backend) {
	s := open(t, b)
	write(t, s, searchFixture())
	deps, err := s.Dependencies(context.Background(), base.Add(-time.Minute), base.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Dependency{{Parent: "svc-0", Child: "db", CallCount: 10}, {Parent: "svc-1", Child: "db", CallCount: 10}, {Parent: "svc-2", Child: "db", CallCount: 10}}
	if !slices.Equal(deps, want) {
		t.Fatalf("Dependencies = %v, want %v", deps, want)
	}
	deps, err = s.Dependencies(context.Background(), base.Add(20*time.Second), base.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// traces 20..29: svc-0 has 21,24,27; svc-1 has 22,25,28; svc-2 has 20,23,26,29
	want = []store.Dependency{{Parent: "svc-0", Child: "db", CallCount: 3}, {Parent: "svc-1", Child: "db", CallCount: 3}, {Parent: "svc-2", Child: "db", CallCount: 4}}
	if !slices.Equal(deps, want) {
		t.Fatalf("Dependencies in window = %v, want %v", deps, want)
	}
}

func testMissingParents(t *testing.T, b Backend) {
	s := open(t, b)
	spans := searchFixture()
	// Traces 5 and 7 lose their roots: their db spans' parent never arrives. In trace 9 the
	// child starts before its parent, which arrives within the look-around.
	var kept []telemetry.Span
	for _, sp := range spans {
		n := int(sp.TraceID[15]) - 100
		if (n == 5 || n == 7) && sp.ParentSpanID.IsZero() {
			continue
		}
		if n == 9 && sp.ParentSpanID.IsZero() {
			sp.StartUnixNano += int64(30 * time.Second)
			sp.EndUnixNano += int64(30 * time.Second)
		}
		kept = append(kept, sp)
	}
	orphan := telemetry.Span{TraceID: traceID(200), SpanID: spanID(3), ParentSpanID: spanID(9), Name: "mock-data",
		StartUnixNano: at(8 * time.Second), EndUnixNano: at(9 * time.Second), Resource: resource("backend-flask"),
		Ingest: telemetry.IngestInfo{Protocol: "xray"}}
	// A long span arrives when it ends: it counts in the window it ended in, not the one it
	// started in.
	long := telemetry.Span{TraceID: traceID(201), SpanID: spanID(3), ParentSpanID: spanID(9), Name: "batch",
		StartUnixNano: at(-40 * time.Second), EndUnixNano: at(12 * time.Second), Resource: resource("worker"),
		Ingest: telemetry.IngestInfo{Protocol: "otlp"}}
	write(t, s, append(kept, orphan, long))
	got, err := s.MissingParents(context.Background(), base, base.Add(20*time.Second), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.MissingParents{{Service: "db", Spans: 2, ExampleName: "query", Example: traceID(105)},
		{Service: "backend-flask", Spans: 1, ExampleName: "mock-data", Example: traceID(200)},
		{Service: "worker", Spans: 1, ExampleName: "batch", Example: traceID(201)}}
	if !slices.Equal(got, want) {
		t.Fatalf("MissingParents = %+v, want %+v", got, want)
	}
	// Outside the window nothing is counted but the long span that ended in it.
	got, err = s.MissingParents(context.Background(), base.Add(10*time.Second), base.Add(20*time.Second), time.Minute)
	if want := want[2:]; err != nil || !slices.Equal(got, want) {
		t.Fatalf("MissingParents after the orphans = %+v, %v; want %+v", got, err, want)
	}
	// A span that ran longer than the look-around is not looked at.
	got, err = s.MissingParents(context.Background(), base.Add(10*time.Second), base.Add(20*time.Second), 30*time.Second)
	if err != nil || len(got) != 0 {
		t.Fatalf("MissingParents with a 30 s look-around = %+v, %v", got, err)
	}
}

func testDeleteBefore(t *testing.T, b Backend) {
	s := open(t, b)
	spans := searchFixture()
	for i := range spans { // every span has an event, which goes with it
		spans[i].Events = []telemetry.Event{{TimeUnixNano: spans[i].StartUnixNano, Name: "tick"}}
	}
	write(t, s, spans)
	n, err := s.DeleteBefore(context.Background(), base.Add(15*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if n != 30 { // traces 0..14, two spans each
		t.Fatalf("DeleteBefore removed %d spans, want 30", n)
	}
	if _, err := s.Trace(context.Background(), traceID(100+3)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired trace: err = %v, want ErrNotFound", err)
	}
	if got, err := s.Trace(context.Background(), traceID(100+15)); err != nil || len(got) != 2 {
		t.Fatalf("kept trace: %d spans, err %v", len(got), err)
	}
	ids, err := s.FindTraceIDs(context.Background(), store.TraceQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if want := expectIDs(func(i int) bool { return i >= 15 }, 100); !slices.Equal(ids, want) {
		t.Fatalf("after retention got %v, want %v", ids, want)
	}
	q, err := query.Spec{Filters: []query.Filter{{Column: "meta.annotation_type", Op: "exists"}},
		StartTime: base.Add(-time.Minute).Unix(), EndTime: base.Add(time.Hour).Unix()}.Resolve(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.RunQuery(context.Background(), q, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := query.Number(res.Results[0].Data["COUNT"]); got != 30 {
		t.Errorf("span events after retention: %v, want the 30 of the kept spans", got)
	}
}

func testConcurrent(t *testing.T, b Backend) {
	s := open(t, b)
	const writers, batches = 4, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches*2)
	for w := 0; w < writers; w++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < batches; i++ {
				spans := searchFixture()[:2]
				for j := range spans {
					spans[j].TraceID = traceID(byte(w*batches + i))
				}
				errs <- s.WriteSpans(context.Background(), spans)
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < batches; i++ {
				_, err := s.FindTraceIDs(context.Background(), store.TraceQuery{Service: "svc-0"})
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ids, err := s.FindTraceIDs(context.Background(), store.TraceQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != writers*batches {
		t.Fatalf("found %d traces after concurrent writes, want %d", len(ids), writers*batches)
	}
}

func testDurable(t *testing.T, b Backend) {
	if b.Reopen == nil {
		t.Skip("backend cannot be reopened")
	}
	s := newHandle(b.Open(t))
	want := richTrace()
	write(t, s, want)
	s = reopen(t, b, s)
	got, err := s.Trace(context.Background(), traceID(1))
	if err != nil {
		t.Fatalf("Trace after reopen: %v", err)
	}
	compareSpans(t, got, want)
}

func testDatasets(t *testing.T, b Backend) {
	s := open(t, b)
	web := resource("web", telemetry.KeyValue{Key: "host.name", Value: telemetry.StringValue("h1")})
	worker := resource("worker", telemetry.KeyValue{Key: "queue.depth", Value: telemetry.IntValue(3)})
	span := func(n byte, dataset string, r *telemetry.Resource, offset time.Duration, attrs ...telemetry.KeyValue) telemetry.Span {
		return telemetry.Span{TraceID: traceID(200 + n), SpanID: spanID(n), Name: "op", StartUnixNano: at(offset), EndUnixNano: at(offset + time.Millisecond),
			Attributes: attrs, Resource: r, Ingest: telemetry.IngestInfo{Protocol: "otlp", Dataset: dataset}}
	}
	write(t, s, []telemetry.Span{
		span(1, "shop", web, time.Second, telemetry.KeyValue{Key: "http.route", Value: telemetry.StringValue("/cart")}, telemetry.KeyValue{Key: "items", Value: telemetry.IntValue(2)}),
		span(2, "shop", worker, 3*time.Second, telemetry.KeyValue{Key: "ratio", Value: telemetry.DoubleValue(0.5)}),
		span(3, "logs", web, 2*time.Second, telemetry.KeyValue{Key: "message", Value: telemetry.StringValue("hi")}),
		span(4, "", web, 4*time.Second, telemetry.KeyValue{Key: "not.in.any.dataset", Value: telemetry.BoolValue(true)}),
	})
	datasets, err := s.Datasets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Dataset{{Name: "logs", LastWritten: base.Add(2 * time.Second)}, {Name: "shop", LastWritten: base.Add(3 * time.Second)}}
	if len(datasets) != len(want) {
		t.Fatalf("Datasets = %v, want %v", datasets, want)
	}
	for i := range want {
		if datasets[i].Name != want[i].Name || !datasets[i].LastWritten.Equal(want[i].LastWritten) {
			t.Errorf("dataset %d = %+v, want %+v", i, datasets[i], want[i])
		}
	}
	cols, err := s.Columns(context.Background(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	wantCols := []store.Column{
		{Name: "host.name", Kind: telemetry.KindString}, {Name: "http.route", Kind: telemetry.KindString},
		{Name: "items", Kind: telemetry.KindInt}, {Name: "queue.depth", Kind: telemetry.KindInt},
		{Name: "ratio", Kind: telemetry.KindDouble}, {Name: "service.name", Kind: telemetry.KindString},
	}
	if !slices.Equal(cols, wantCols) {
		t.Fatalf("Columns(shop) = %v\nwant %v", cols, wantCols)
	}
	if cols, err := s.Columns(context.Background(), "nope"); err != nil || len(cols) != 0 {
		t.Fatalf("Columns of an unknown dataset = %v, %v", cols, err)
	}
}

// testManySpansOneShape writes 300 spans sharing their attribute keys (with some keys only
// a few spans have) in small batches, reopens the store, and reads every span back exactly:
// backends may store frequent keys apart from rare ones as they learn which are which.
func testManySpansOneShape(t *testing.T, b Backend) {
	s := open(t, b)
	var want []telemetry.Span
	for i := range 300 {
		sp := telemetry.Span{
			TraceID: traceID(byte(100 + i%50)), SpanID: telemetry.SpanIDFromUint64(uint64(1000 + i)),
			Name: "op", Kind: telemetry.SpanKindServer, StartUnixNano: at(time.Duration(i) * time.Millisecond),
			Resource: resource("shape", telemetry.KeyValue{Key: "host.name", Value: telemetry.StringValue(fmt.Sprint("h", i%3))}),
			Attributes: telemetry.Attributes{
				{Key: "http.route", Value: telemetry.StringValue(fmt.Sprint("/r/", i%7))},
				{Key: "n", Value: telemetry.IntValue(int64(i))},
				{Key: "ratio", Value: telemetry.DoubleValue(float64(i) / 3)},
				{Key: "tags", Value: telemetry.ArrayValue(telemetry.StringValue("a"), telemetry.IntValue(int64(i)))},
			},
		}
		sp.EndUnixNano = sp.StartUnixNano + int64(i+1)*1000
		if i%10 == 0 { // a rare key, between frequent ones
			sp.Attributes = slices.Insert(sp.Attributes, 1, telemetry.KeyValue{Key: "rare", Value: telemetry.BoolValue(true)})
		}
		if i%13 == 0 { // an empty value is a value, not an absent key
			sp.Attributes[0].Value = telemetry.StringValue("")
		}
		if i%17 == 0 { // and some spans lack a frequent key
			sp.Attributes = sp.Attributes[1:]
		}
		want = append(want, sp)
	}
	for i := 0; i < len(want); i += 25 {
		write(t, s, want[i:i+25])
	}
	if b.Reopen != nil {
		s = reopen(t, b, s)
		t.Cleanup(func() { s.Close() })
	}
	for tr := range 50 {
		got, err := s.Trace(context.Background(), traceID(byte(100+tr)))
		if err != nil {
			t.Fatal(err)
		}
		var expect []telemetry.Span
		for _, sp := range want {
			if sp.TraceID == traceID(byte(100+tr)) {
				expect = append(expect, sp)
			}
		}
		compareSpans(t, got, expect)
	}
	// Search by a frequent key finds spans from before and after it got a place of its own.
	ids, err := s.FindTraceIDs(context.Background(), store.TraceQuery{Attributes: map[string]string{"n": "3"}})
	if err != nil || len(ids) != 1 || ids[0] != traceID(103) {
		t.Errorf("search n=3: %v %v", ids, err)
	}
	ids, err = s.FindTraceIDs(context.Background(), store.TraceQuery{Attributes: map[string]string{"n": "299"}})
	if err != nil || len(ids) != 1 || ids[0] != traceID(149) {
		t.Errorf("search n=299: %v %v", ids, err)
	}
	// Grouped by a frequent key, spans with an empty value and spans without the key are
	// apart.
	q, err := query.Spec{Breakdowns: []string{"http.route"}, Limit: 100, StartTime: base.Add(-time.Minute).Unix(), EndTime: base.Add(time.Minute).Unix()}.Resolve(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.RunQuery(context.Background(), q, nil)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[any]float64{}
	for _, sp := range want {
		var route any
		for _, kv := range sp.Attributes {
			if kv.Key == "http.route" {
				route = kv.Value.Str()
			}
		}
		counts[route]++
	}
	got := map[any]float64{}
	for _, r := range res.Results {
		got[r.Data["http.route"]], _ = query.Number(r.Data["COUNT"])
	}
	if _, ok := counts[""]; !ok || counts[nil] == 0 {
		t.Fatalf("fixture lacks empty or absent routes: %v", counts)
	}
	expectMap(t, got, counts)
}
