package api

import (
	"encoding/json"
	"math"
	"net/http"
	"reflect"
	"testing"

	"lookout/internal/telemetry"
)

// t0 is the root span's start: 1700000000.123456789 s, i.e. 1700000000123456 µs (the 789 ns
// are dropped).
const t0 = int64(1_700_000_000_123_456_789)

func mustTraceID(s string) telemetry.TraceID {
	id, err := telemetry.ParseTraceID(s)
	if err != nil {
		panic(err)
	}
	return id
}

func mustSpanID(s string) telemetry.SpanID {
	id, err := telemetry.ParseSpanID(s)
	if err != nil {
		panic(err)
	}
	return id
}

var (
	goldenTraceID = mustTraceID("4bf92f3577b34da6a3ce929d0e0e4736")
	linkedTraceID = mustTraceID("0af7651916cd43dd8448eb211c80319c")
)

// goldenTrace is a trace of two services over three resources (two of them equal in content),
// with a link, an event, an error span, an in-progress span and every attribute type.
func goldenTrace() []telemetry.Span {
	str, i64, dbl := telemetry.StringValue, telemetry.IntValue, telemetry.DoubleValue
	frontendA := &telemetry.Resource{Attributes: telemetry.Attributes{
		{Key: "service.name", Value: str("frontend")},
		{Key: "host.name", Value: str("web-1")},
		{Key: "process.pid", Value: i64(4242)},
	}}
	frontendB := &telemetry.Resource{Attributes: append(telemetry.Attributes(nil), frontendA.Attributes...)}
	backend := &telemetry.Resource{Attributes: telemetry.Attributes{
		{Key: "deployment.environment", Value: str("prod")},
		{Key: "service.name", Value: str("backend")},
	}}
	scope := &telemetry.Scope{Name: "lookout/test", Version: "1.2.3"}
	root := mustSpanID("00f067aa0ba902b7")
	client := mustSpanID("1111111111111111")
	server := mustSpanID("2222222222222222")
	return []telemetry.Span{
		{
			TraceID: goldenTraceID, SpanID: root, TraceState: "rojo=00f067aa0ba902b7", Flags: 1,
			Name: "GET /checkout", Kind: telemetry.SpanKindServer,
			StartUnixNano: t0, EndUnixNano: t0 + 250_000_999,
			Attributes: telemetry.Attributes{
				{Key: "http.method", Value: str("GET")},
				{Key: "http.status_code", Value: i64(200)},
				{Key: "cache.hit", Value: telemetry.BoolValue(false)},
				{Key: "ratio", Value: dbl(0.25)},
				{Key: "big", Value: i64(-9007199254740993)},
				{Key: "payload", Value: telemetry.BytesValue([]byte{0xde, 0xad, 0xbe, 0xef})},
				{Key: "list", Value: telemetry.ArrayValue(str("a"), i64(1))},
				{Key: "user", Value: telemetry.MapValue(
					telemetry.KeyValue{Key: "id", Value: i64(7)},
					telemetry.KeyValue{Key: "name", Value: str("ann")})},
				{Key: "nothing", Value: telemetry.Value{}},
			},
			Status:   telemetry.Status{Code: telemetry.StatusOK},
			Resource: frontendA, Scope: scope,
		},
		{
			TraceID: goldenTraceID, SpanID: client, ParentSpanID: root, Flags: 1,
			Name: "HTTP POST backend", Kind: telemetry.SpanKindClient,
			StartUnixNano: t0 + 1_000_000, EndUnixNano: t0 + 201_000_000,
			Attributes: telemetry.Attributes{{Key: "peer.service", Value: str("backend")}},
			Resource:   frontendB, Scope: scope,
		},
		{
			TraceID: goldenTraceID, SpanID: server, ParentSpanID: client,
			Name: "POST /orders", Kind: telemetry.SpanKindServer,
			StartUnixNano: t0 + 2_000_500, EndUnixNano: t0 + 152_000_500,
			Events: []telemetry.Event{{
				TimeUnixNano: t0 + 102_000_500, Name: "exception",
				Attributes: telemetry.Attributes{
					{Key: "exception.type", Value: str("TimeoutError")},
					{Key: "exception.message", Value: str("db timeout")},
					{Key: "exception.escaped", Value: telemetry.BoolValue(true)},
				},
			}},
			Links:                  []telemetry.Link{{TraceID: linkedTraceID, SpanID: mustSpanID("b7ad6b7169203331")}},
			DroppedAttributesCount: 2, DroppedEventsCount: 1,
			Status:   telemetry.Status{Code: telemetry.StatusError, Message: "db timeout"},
			Resource: backend,
		},
		{
			TraceID: goldenTraceID, SpanID: mustSpanID("3333333333333333"), ParentSpanID: server,
			Name: "audit", Kind: telemetry.SpanKindInternal,
			StartUnixNano: t0 + 3_000_000, EndUnixNano: t0 + 43_000_500, InProgress: true,
			DroppedLinksCount: 3,
			Resource:          &telemetry.Resource{Attributes: append(telemetry.Attributes(nil), backend.Attributes...)},
		},
	}
}

// decoded is the Jaeger JSON as a client reads it, for checks written by hand.
type decoded struct {
	Data []struct {
		TraceID string `json:"traceID"`
		Spans   []struct {
			SpanID     string `json:"spanID"`
			References []struct{ RefType, TraceID, SpanID string }
			StartTime  int64 `json:"startTime"`
			Duration   int64 `json:"duration"`
			Tags       []struct {
				Key, Type string
				Value     any
			} `json:"tags"`
			Logs []struct {
				Timestamp int64 `json:"timestamp"`
				Fields    []struct {
					Key, Type string
					Value     any
				} `json:"fields"`
			} `json:"logs"`
			ProcessID string   `json:"processID"`
			Warnings  []string `json:"warnings"`
			Flags     uint32   `json:"flags"`
		} `json:"spans"`
		Processes map[string]struct {
			ServiceName string `json:"serviceName"`
		} `json:"processes"`
	} `json:"data"`
}

func TestTraceGolden(t *testing.T) {
	f := newFakeReader()
	f.add(goldenTrace()...)
	h, _ := server(t, f)
	code, body := get(t, h, "/api/traces/4BF92F3577B34DA6A3CE929D0E0E4736") // ids are case-insensitive
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	golden(t, "trace.golden.json", body)

	// The numbers that matter most, computed by hand rather than read off the golden file.
	var d decoded
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Data) != 1 || len(d.Data[0].Spans) != 4 {
		t.Fatalf("want one trace of 4 spans: %s", body)
	}
	tr := d.Data[0]
	type span struct {
		start, duration int64
		process         string
	}
	want := []span{
		{1700000000123456, 250000, "p1"}, // t0 rounded down; 250000999 ns rounded down
		{1700000000124456, 200000, "p1"}, // +1 ms; same content, other *Resource
		{1700000000125457, 150000, "p2"}, // +2000.5 µs from t0: ...123456789+2000500 = ...125457289 ns
		{1700000000126456, 40000, "p2"},  // +3 ms; 40000500 ns
	}
	for i, w := range want {
		s := tr.Spans[i]
		if s.StartTime != w.start || s.Duration != w.duration || s.ProcessID != w.process {
			t.Errorf("span %d: start %d duration %d process %s, want %+v", i, s.StartTime, s.Duration, s.ProcessID, w)
		}
	}
	if p := tr.Processes; len(p) != 2 || p["p1"].ServiceName != "frontend" || p["p2"].ServiceName != "backend" {
		t.Errorf("processes %+v", p)
	}
	if logs := tr.Spans[2].Logs; len(logs) != 1 || logs[0].Timestamp != 1700000000225457 ||
		logs[0].Fields[0].Key != "event" || logs[0].Fields[0].Value != "exception" {
		t.Errorf("logs %+v", logs)
	}
	refs := tr.Spans[2].References
	if len(refs) != 2 || refs[0].RefType != "CHILD_OF" || refs[0].SpanID != "1111111111111111" || refs[0].TraceID != tr.TraceID ||
		refs[1].RefType != "FOLLOWS_FROM" || refs[1].TraceID != "0af7651916cd43dd8448eb211c80319c" || refs[1].SpanID != "b7ad6b7169203331" {
		t.Errorf("references %+v", refs)
	}
	if len(tr.Spans[0].References) != 0 || tr.Spans[0].Warnings != nil || tr.Spans[0].Flags != 1 {
		t.Errorf("root span %+v", tr.Spans[0])
	}
	if w := tr.Spans[3].Warnings; len(w) != 2 {
		t.Errorf("in-progress span warnings %q", w)
	}
	tags := map[string]any{}
	for _, tag := range tr.Spans[2].Tags {
		tags[tag.Key+"/"+tag.Type] = tag.Value
	}
	if tags["error/bool"] != true || tags["otel.status_code/string"] != "ERROR" || tags["otel.status_description/string"] != "db timeout" {
		t.Errorf("error span tags %v", tags)
	}

	// Search returns the same trace, and skips a trace deleted between FindTraceIDs and Trace.
	f.findIDs = []telemetry.TraceID{goldenTraceID, linkedTraceID}
	code, search := get(t, h, "/api/traces?service=frontend")
	if code != http.StatusOK {
		t.Fatalf("search status %d: %s", code, search)
	}
	var byID, found map[string]any
	_ = json.Unmarshal(body, &byID)
	_ = json.Unmarshal(search, &found)
	if !reflect.DeepEqual(byID, found) {
		t.Errorf("search differs from the trace by id:\n%s", search)
	}
}

func TestTraceSummariesGolden(t *testing.T) {
	f := newFakeReader()
	f.add(goldenTrace()...)
	f.findIDs = []telemetry.TraceID{goldenTraceID}
	h, _ := server(t, f)
	code, body := get(t, h, "/api/v1/trace-summaries?service=backend&limit=5")
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	golden(t, "trace-summaries.golden.json", body)
	// By hand: the root is "GET /checkout" of frontend; 4 spans, 2 per service, 1 error in
	// backend; start is t0 in µs; the latest end is the root's, 250000999 ns after t0.
	wantJSON(t, "summaries", body, `{"data":[{"traceID":"4bf92f3577b34da6a3ce929d0e0e4736",
		"rootService":"frontend","rootName":"GET /checkout",
		"services":[{"name":"backend","spanCount":2,"errorCount":1},{"name":"frontend","spanCount":2,"errorCount":0}],
		"spanCount":4,"errorCount":1,"start":1700000000123456,"duration":250000}],
		"total":1,"limit":0,"offset":0,"errors":null}`)
}

func TestSummarizeRoots(t *testing.T) {
	res := &telemetry.Resource{Attributes: telemetry.Attributes{{Key: "service.name", Value: telemetry.StringValue("svc")}}}
	sp := func(id, parent byte, name string, start, end int64) telemetry.Span {
		return telemetry.Span{TraceID: goldenTraceID, SpanID: telemetry.SpanID{7: id}, ParentSpanID: telemetry.SpanID{7: parent},
			Name: name, StartUnixNano: start, EndUnixNano: end, Resource: res}
	}
	// No span without a parent: the earliest is the root, wherever it is in the list.
	s := summarize(goldenTraceID, []telemetry.Span{sp(1, 9, "late", 5000, 6000), sp(2, 9, "early", 2000, 2500)})
	if s.RootName != "early" || s.Start != 2 || s.Duration != 4 {
		t.Errorf("orphans: %+v", s)
	}
	// Two parentless spans: the earlier one. An end before the start counts as the start.
	s = summarize(goldenTraceID, []telemetry.Span{sp(1, 0, "second", 3000, 1000), sp(2, 0, "first", 2000, 2999), sp(3, 1, "child", 1000, 1500)})
	if s.RootName != "first" || s.Start != 1 || s.Duration != 2 {
		t.Errorf("two roots: %+v", s)
	}
}

func TestTagMapping(t *testing.T) {
	kv := func(key string, v telemetry.Value) telemetry.KeyValue { return telemetry.KeyValue{Key: key, Value: v} }
	s := telemetry.Span{
		TraceID: goldenTraceID, SpanID: telemetry.SpanID{7: 1}, StartUnixNano: 1000, EndUnixNano: 500,
		Attributes: telemetry.Attributes{
			kv("nan", telemetry.DoubleValue(math.NaN())),
			kv("inf", telemetry.DoubleValue(math.Inf(-1))),
			kv("error", telemetry.StringValue("custom")), // the sender's own error tag wins
			kv("span.kind", telemetry.StringValue("producer")),
		},
		Kind:     telemetry.SpanKindServer,
		Status:   telemetry.Status{Code: telemetry.StatusError},
		Resource: nil, // never nil from a store, but must not crash
	}
	js := toJaegerSpan(&s, "p1")
	got, _ := json.Marshal(js.Tags)
	want := `[{"key":"nan","type":"string","value":"NaN"},{"key":"inf","type":"string","value":"-Inf"},` +
		`{"key":"error","type":"string","value":"custom"},{"key":"span.kind","type":"string","value":"producer"},` +
		`{"key":"otel.status_code","type":"string","value":"ERROR"}]`
	if string(got) != want {
		t.Errorf("tags\n got %s\nwant %s", got, want)
	}
	if js.Duration != 0 || js.StartTime != 1 {
		t.Errorf("start %d duration %d", js.StartTime, js.Duration)
	}
	// A span with nothing set has empty arrays, not nulls, and no derived tags.
	bare := toJaegerTrace(goldenTraceID, []telemetry.Span{{TraceID: goldenTraceID, SpanID: telemetry.SpanID{7: 1}, StartUnixNano: 1}})
	b, _ := json.Marshal(bare)
	wantBare := `{"traceID":"4bf92f3577b34da6a3ce929d0e0e4736","spans":[{"traceID":"4bf92f3577b34da6a3ce929d0e0e4736",` +
		`"spanID":"0000000000000001","operationName":"","references":[],"startTime":0,"duration":0,"tags":[],"logs":[],` +
		`"processID":"p1","warnings":null,"flags":0}],"processes":{"p1":{"serviceName":"unknown_service","tags":[]}},"warnings":null}`
	if string(b) != wantBare {
		t.Errorf("bare span\n got %s\nwant %s", b, wantBare)
	}
	// Micros rounds down, also before 1970.
	for ns, us := range map[int64]int64{0: 0, 999: 0, 1000: 1, -1: -1, -1000: -1, -1001: -2} {
		if got := micros(ns); got != us {
			t.Errorf("micros(%d) = %d, want %d", ns, got, us)
		}
	}
}
