package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// segmentKeys are the keys lookout's X-Ray ingest gives spans.
var segmentKeys = store.SegmentKeys{
	Protocol: "xray", Type: "aws.xray.type", Segment: "segment", Namespace: "aws.xray.namespace", Origin: "aws.xray.origin",
	Fault: "aws.xray.fault", Error: "aws.xray.error", Throttle: "aws.xray.throttle", HTTPStatus: []string{"http.status_code", "http.response.status_code"},
	PeerService: "peer.service", RPCService: "rpc.service", RPCSystem: "rpc.system", AWSRPCSystem: "aws-api",
	DBSystem: "db.system", DBConnection: "db.connection_string", AWSNamespace: "aws", RemoteCall: "remote",
}

// segmentFixture is three traces. Trace 1: a web segment (EC2) calls api through a remote
// subsegment; api's segment answers 500 and calls DynamoDB, which throttles (429). Trace 2:
// web alone, 404, for user "bob", calling a database (an OpenTelemetry client span) that
// answers nothing. Trace 3: an OpenTelemetry server span with error status and a status code
// of 0, which is no HTTP status (a fault).
func segmentFixture() []telemetry.Span {
	xray := telemetry.IngestInfo{Protocol: "xray"}
	str := func(k, v string) telemetry.KeyValue {
		return telemetry.KeyValue{Key: k, Value: telemetry.StringValue(v)}
	}
	num := func(k string, v int64) telemetry.KeyValue {
		return telemetry.KeyValue{Key: k, Value: telemetry.IntValue(v)}
	}
	flag := func(k string) telemetry.KeyValue { return telemetry.KeyValue{Key: k, Value: telemetry.BoolValue(true)} }
	span := func(trace, id, parent byte, svc, name string, from, ms int, ingest telemetry.IngestInfo, attrs ...telemetry.KeyValue) telemetry.Span {
		sp := telemetry.Span{TraceID: traceID(trace), SpanID: spanID(id), Name: name, StartUnixNano: at(time.Duration(from) * time.Millisecond),
			Resource: resource(svc), Attributes: attrs, Ingest: ingest}
		sp.EndUnixNano = sp.StartUnixNano + int64(ms)*1e6
		if parent != 0 {
			sp.ParentSpanID = spanID(parent)
		}
		return sp
	}
	otel := telemetry.IngestInfo{Protocol: "otlp"}
	trace3 := span(3, 1, 0, "shop", "GET /", 3000, 7, otel, num("http.response.status_code", 0))
	trace3.Kind, trace3.Status.Code = telemetry.SpanKindServer, telemetry.StatusError
	db := span(2, 3, 1, "web", "SELECT", 2002, 2, otel, str("db.system", "postgresql"))
	db.Kind = telemetry.SpanKindClient
	return []telemetry.Span{
		span(1, 1, 0, "web", "web", 0, 50, xray, str("aws.xray.type", "segment"), str("aws.xray.origin", "AWS::EC2::Instance"), num("http.status_code", 200), str("user", "ann")),
		span(1, 2, 1, "web", "api", 5, 40, xray, str("aws.xray.type", "subsegment"), str("aws.xray.namespace", "remote")),
		span(1, 3, 2, "api", "api", 6, 30, xray, str("aws.xray.type", "segment"), num("http.status_code", 500), flag("aws.xray.fault"), num("page", 3)),
		span(1, 4, 3, "api", "DynamoDB", 10, 5, xray, str("aws.xray.type", "subsegment"), str("aws.xray.namespace", "aws"), num("http.status_code", 429), flag("aws.xray.throttle")),
		span(2, 1, 0, "web", "web", 2000, 10, xray, str("aws.xray.type", "segment"), str("aws.xray.origin", "AWS::EC2::Instance"), num("http.status_code", 404), flag("aws.xray.error"), str("user", "bob")),
		span(2, 2, 1, "web", "render", 2001, 1, xray, str("aws.xray.type", "subsegment"), str("aws.xray.namespace", "local")),
		db,
		trace3,
	}
}

func testServiceCalls(t *testing.T, b Backend) {
	s := open(t, b)
	write(t, s, segmentFixture())
	segs := s.Backend.(store.SegmentReader)
	got, err := segs.ServiceCalls(context.Background(), store.ServiceCallQuery{Keys: segmentKeys, Start: base.Add(-time.Minute), End: base.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	web := store.GraphNode{Name: "web", Type: "AWS::EC2::Instance"}
	ns := func(ms int) int64 { return int64(ms) * 1e6 }
	want := []store.ServiceCalls{
		{Callee: web, ResponseMillis: 10, Errors: 1, Total: 1, ResponseNanos: ns(10), Start: at(2000 * time.Millisecond), End: at(2010 * time.Millisecond)},
		{Callee: web, ResponseMillis: 50, OK: 1, Total: 1, ResponseNanos: ns(50), Start: at(0), End: at(50 * time.Millisecond)},
		{Callee: store.GraphNode{Name: "shop"}, ResponseMillis: 7, Faults: 1, Total: 1, ResponseNanos: ns(7), Start: at(3000 * time.Millisecond), End: at(3007 * time.Millisecond)},
		{Caller: web, Callee: store.GraphNode{Name: "api"}, ResponseMillis: 30, Faults: 1, Total: 1, ResponseNanos: ns(30), Start: at(6 * time.Millisecond), End: at(36 * time.Millisecond)},
		{Caller: store.GraphNode{Name: "api"}, Callee: store.GraphNode{Name: "DynamoDB", Type: "AWS::DynamoDB", Inferred: true}, ResponseMillis: 5, Errors: 1, Throttles: 1, Total: 1,
			ResponseNanos: ns(5), Start: at(10 * time.Millisecond), End: at(15 * time.Millisecond)},
		{Caller: web, Callee: store.GraphNode{Name: "SELECT", Type: "Database::SQL", Inferred: true}, ResponseMillis: 2, OK: 1, Total: 1,
			ResponseNanos: ns(2), Start: at(2002 * time.Millisecond), End: at(2004 * time.Millisecond)},
	}
	order := func(a, b store.ServiceCalls) int { return int(a.Start - b.Start) }
	slices.SortFunc(got, order)
	slices.SortFunc(want, order)
	if !slices.Equal(got, want) {
		t.Fatalf("ServiceCalls =\n%+v\nwant\n%+v", got, want)
	}
	// A range that holds trace 3 alone.
	got, err = segs.ServiceCalls(context.Background(), store.ServiceCallQuery{Keys: segmentKeys, Start: base.Add(2500 * time.Millisecond), End: base.Add(time.Minute)})
	if err != nil || len(got) != 1 || got[0].Callee.Name != "shop" {
		t.Fatalf("ServiceCalls of trace 3 = %+v, %v", got, err)
	}
}

func testMatchTraces(t *testing.T, b Backend) {
	s := open(t, b)
	write(t, s, segmentFixture())
	segs := s.Backend.(store.SegmentReader)
	ctx := context.Background()
	some := func(t store.SpanTest) store.TraceCondition { return store.TraceCondition{Some: &t} }
	user := func(name string) store.TraceCondition {
		return some(store.SpanTest{What: "attribute", Key: "user", Op: "=", Value: telemetry.StringValue(name)})
	}
	for _, tc := range []struct {
		name string
		cond store.TraceCondition
		want []byte // trace numbers, newest first
	}{
		{"every trace", store.TraceCondition{}, []byte{3, 2, 1}},
		{"fault", some(store.SpanTest{What: "fault"}), []byte{3, 1}},
		{"fault of api", some(store.SpanTest{Service: "api", What: "fault"}), []byte{1}},
		{"error", some(store.SpanTest{What: "error"}), []byte{2, 1}}, // the throttle is a 4xx
		{"throttle", some(store.SpanTest{What: "throttle"}), []byte{1}},
		{"ok", some(store.SpanTest{What: "ok"}), []byte{2, 1}},
		{"no fault", store.TraceCondition{Not: &store.TraceCondition{Some: &store.SpanTest{What: "fault"}}}, []byte{2}},
		{"a span without fault", some(store.SpanTest{What: "fault", Negate: true}), []byte{2, 1}},
		{"user", some(store.SpanTest{What: "attribute", Key: "user", Op: "=", Value: telemetry.StringValue("bob")}), []byte{2}},
		{"user begins", some(store.SpanTest{What: "attribute", Key: "user", Op: "BEGINSWITH", Value: telemetry.StringValue("a")}), []byte{1}},
		{"page as a number", some(store.SpanTest{What: "attribute", Key: "page", Op: ">=", Value: telemetry.DoubleValue(3)}), []byte{1}},
		{"page as text", some(store.SpanTest{What: "attribute", Key: "page", Op: "=", Value: telemetry.StringValue("3")}), nil},
		{"page present", some(store.SpanTest{What: "attribute", Key: "page"}), []byte{1}},
		{"status", some(store.SpanTest{What: "http.status", Op: "=", Value: telemetry.DoubleValue(404)}), []byte{2}},
		{"slow", some(store.SpanTest{What: "duration", Op: ">", Value: telemetry.DoubleValue(0.04)}), []byte{1}},
		{"web and fault", store.TraceCondition{And: []store.TraceCondition{some(store.SpanTest{Service: "web"}), some(store.SpanTest{What: "fault"})}}, []byte{1}},
		// Conjunctions whose selective part comes last, searched among the traces of the other.
		{"fault of api for ann", store.TraceCondition{And: []store.TraceCondition{some(store.SpanTest{Service: "api", What: "fault"}), user("ann")}}, []byte{1}},
		{"fault of web for ann", store.TraceCondition{And: []store.TraceCondition{some(store.SpanTest{Service: "web", What: "fault"}), user("ann")}}, nil},
		{"ok and a user", store.TraceCondition{And: []store.TraceCondition{some(store.SpanTest{What: "ok"}), some(store.SpanTest{What: "attribute", Key: "user"})}}, []byte{2, 1}},
		{"bob, web and no fault", store.TraceCondition{And: []store.TraceCondition{
			{And: []store.TraceCondition{some(store.SpanTest{Service: "web"}), {Not: &store.TraceCondition{Some: &store.SpanTest{What: "fault"}}}}}, user("bob")}}, []byte{2}},
		{"ann, web and no fault", store.TraceCondition{And: []store.TraceCondition{
			{And: []store.TraceCondition{some(store.SpanTest{Service: "web"}), {Not: &store.TraceCondition{Some: &store.SpanTest{What: "fault"}}}}}, user("ann")}}, nil},
		{"bob or shop", store.TraceCondition{Or: []store.TraceCondition{
			some(store.SpanTest{What: "attribute", Key: "user", Op: "=", Value: telemetry.StringValue("bob")}), some(store.SpanTest{Service: "shop"})}}, []byte{3, 2}},
	} {
		ids, err := segs.MatchTraces(ctx, store.TraceMatch{Keys: segmentKeys, Start: base.Add(-time.Minute), End: base.Add(time.Minute), Cond: tc.cond, Limit: 10})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var want []telemetry.TraceID
		for _, n := range tc.want {
			want = append(want, traceID(n))
		}
		if !slices.Equal(ids, want) {
			t.Errorf("%s: %v, want %v", tc.name, ids, want)
		}
	}
	// Paging, and a range that holds trace 1 alone.
	ids, err := segs.MatchTraces(ctx, store.TraceMatch{Keys: segmentKeys, Start: base.Add(-time.Minute), End: base.Add(time.Minute), Offset: 1, Limit: 1})
	if err != nil || !slices.Equal(ids, []telemetry.TraceID{traceID(2)}) {
		t.Errorf("second trace: %v, %v", ids, err)
	}
	ids, err = segs.MatchTraces(ctx, store.TraceMatch{Keys: segmentKeys, Start: base.Add(-time.Minute), End: base.Add(time.Second), Limit: 10})
	if err != nil || !slices.Equal(ids, []telemetry.TraceID{traceID(1)}) {
		t.Errorf("range of trace 1: %v, %v", ids, err)
	}
	// A range whose last seconds hold one trace of web, the newest, and another before.
	for _, want := range [][]telemetry.TraceID{{traceID(2)}, {traceID(2), traceID(1)}} {
		limit := len(want)
		ids, err = segs.MatchTraces(ctx, store.TraceMatch{Keys: segmentKeys, Start: base.Add(-time.Minute), End: base.Add(2050 * time.Millisecond),
			Cond: some(store.SpanTest{Service: "web"}), Limit: limit})
		if err != nil || !slices.Equal(ids, want) {
			t.Errorf("newest %d of web: %v, %v", limit, ids, err)
		}
	}
}

func testBatchTraces(t *testing.T, b Backend) {
	s := open(t, b)
	spans := segmentFixture()
	write(t, s, spans)
	// Traces 2 and 3 started within a second of each other, trace 1 two seconds before.
	got, err := s.Backend.(store.SegmentReader).Traces(context.Background(), []telemetry.TraceID{traceID(3), traceID(9), traceID(2), traceID(1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || len(got[1]) != 0 {
		t.Fatalf("Traces gave %d traces, the unknown one with %d spans", len(got), len(got[1]))
	}
	compareSpans(t, got[0], spans[7:8])
	compareSpans(t, got[2], spans[4:7])
	compareSpans(t, got[3], spans[:4])
}
