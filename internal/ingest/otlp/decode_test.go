package otlp

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"lookout/internal/telemetry"
)

// The golden tests decode testdata/traces.json, and the same request built with pdata and
// encoded as protobuf, and compare every field with goldenSpans, which is written out by hand.

func tid(s string) telemetry.TraceID {
	var id telemetry.TraceID
	if n, err := hex.Decode(id[:], []byte(s)); err != nil || n != 16 {
		panic("bad test trace id " + s)
	}
	return id
}

func sid(s string) telemetry.SpanID {
	var id telemetry.SpanID
	if n, err := hex.Decode(id[:], []byte(s)); err != nil || n != 8 {
		panic("bad test span id " + s)
	}
	return id
}

func kv(k string, v telemetry.Value) telemetry.KeyValue { return telemetry.KeyValue{Key: k, Value: v} }

var (
	str  = telemetry.StringValue
	i64  = telemetry.IntValue
	f64  = telemetry.DoubleValue
	bln  = telemetry.BoolValue
	arr  = telemetry.ArrayValue
	mapv = telemetry.MapValue
)

func goldenSpans() []telemetry.Span {
	checkout := &telemetry.Resource{
		Attributes: telemetry.Attributes{
			kv("service.name", str("checkout")),
			kv("host.name", str("web-1")),
			kv("process.pid", i64(4242)),
			kv("telemetry.sdk.language", str("go")),
			kv("cloud.zones", arr(str("eu-west-1a"), str("eu-west-1b"))),
		},
		DroppedAttributesCount: 2,
	}
	payments := &telemetry.Resource{Attributes: telemetry.Attributes{kv("service.name", str("payments"))}}
	httpScope := &telemetry.Scope{
		Name:                   "io.opentelemetry.http",
		Version:                "1.2.3",
		Attributes:             telemetry.Attributes{kv("scope.sampled", bln(true))},
		DroppedAttributesCount: 1,
	}
	manual := &telemetry.Scope{Name: "manual"}
	anon := &telemetry.Scope{}
	// Without a classic Honeycomb key, spans are filed by service, as Honeycomb does.

	return []telemetry.Span{
		{
			TraceID:       tid("5b8efff798038103d269b633813fc60c"),
			SpanID:        sid("eee19b7ec3c1b174"),
			TraceState:    "rojo=00f067aa0ba902b7",
			Flags:         257,
			Name:          "GET /cart",
			Kind:          telemetry.SpanKindServer,
			StartUnixNano: 1700000000000000000,
			EndUnixNano:   1700000000250000000,
			Attributes: telemetry.Attributes{
				kv("http.method", str("GET")),
				kv("http.retry", bln(false)),
				kv("http.status_code", i64(-42)),
				kv("http.response_size", i64(9007199254740993)),
				kv("ratio", f64(3.25)),
				kv("payload", telemetry.BytesValue([]byte{0, 1, 2, 255})),
				kv("tags", arr(str("a"), i64(7), arr(bln(true)), telemetry.Value{})),
				kv("user", mapv(kv("id", str("u-1")), kv("geo", mapv(kv("lat", f64(-33.5)))))),
				kv("nothing", telemetry.Value{}),
				kv("empty.list", arr()),
			},
			DroppedAttributesCount: 3,
			Events: []telemetry.Event{
				{
					TimeUnixNano:           1700000000100000000,
					Name:                   "exception",
					Attributes:             telemetry.Attributes{kv("exception.type", str("IOError"))},
					DroppedAttributesCount: 1,
				},
				{TimeUnixNano: 1700000000200000000, Name: "retry"},
			},
			DroppedEventsCount: 4,
			Links: []telemetry.Link{{
				TraceID:                tid("0af7651916cd43dd8448eb211c80319c"),
				SpanID:                 sid("b7ad6b7169203331"),
				TraceState:             "congo=t61rcWkgMzE",
				Flags:                  1,
				Attributes:             telemetry.Attributes{kv("link.kind", str("follows"))},
				DroppedAttributesCount: 5,
			}},
			DroppedLinksCount: 6,
			Status:            telemetry.Status{Code: telemetry.StatusError, Message: "upstream timeout"},
			Resource:          checkout,
			Scope:             httpScope,
			Ingest:            telemetry.IngestInfo{Protocol: "otlp", Dataset: "checkout"},
		},
		{
			TraceID:       tid("5b8efff798038103d269b633813fc60c"),
			SpanID:        sid("00f067aa0ba902b7"),
			ParentSpanID:  sid("eee19b7ec3c1b174"),
			Name:          "SELECT carts",
			Kind:          telemetry.SpanKindClient,
			StartUnixNano: 1700000000010000000,
			EndUnixNano:   1700000000020000000,
			Status:        telemetry.Status{Code: telemetry.StatusOK},
			Resource:      checkout,
			Scope:         httpScope,
			Ingest:        telemetry.IngestInfo{Protocol: "otlp", Dataset: "checkout"},
		},
		{
			TraceID:       tid("5b8efff798038103d269b633813fc60c"),
			SpanID:        sid("1111111111111111"),
			ParentSpanID:  sid("eee19b7ec3c1b174"),
			Name:          "render",
			Kind:          telemetry.SpanKindInternal,
			StartUnixNano: 1700000000030000000,
			EndUnixNano:   1700000000040000000,
			Resource:      checkout,
			Scope:         manual,
			Ingest:        telemetry.IngestInfo{Protocol: "otlp", Dataset: "checkout"},
		},
		{
			TraceID:       tid("4bf92f3577b34da6a3ce929d0e0e4736"),
			SpanID:        sid("2222222222222222"),
			Name:          "publish charge",
			Kind:          telemetry.SpanKindProducer,
			StartUnixNano: 1700000001000000000,
			EndUnixNano:   1700000001000500000,
			Resource:      payments,
			Scope:         anon,
			Ingest:        telemetry.IngestInfo{Protocol: "otlp", Dataset: "payments"},
		},
		{
			TraceID:       tid("4bf92f3577b34da6a3ce929d0e0e4736"),
			SpanID:        sid("3333333333333333"),
			ParentSpanID:  sid("2222222222222222"),
			Name:          "consume charge",
			Kind:          telemetry.SpanKindConsumer,
			StartUnixNano: 1700000002000000000,
			EndUnixNano:   1700000002000000000,
			Resource:      payments,
			Scope:         anon,
			Ingest:        telemetry.IngestInfo{Protocol: "otlp", Dataset: "payments"},
		},
		{
			TraceID:       tid("4bf92f3577b34da6a3ce929d0e0e4736"),
			SpanID:        sid("4444444444444444"),
			Name:          "unspecified kind",
			Kind:          telemetry.SpanKindUnspecified,
			StartUnixNano: 1700000003000000000,
			Resource:      payments,
			Scope:         anon,
			Ingest:        telemetry.IngestInfo{Protocol: "otlp", Dataset: "payments"},
		},
	}
}

// goldenTraces builds the request of testdata/traces.json with pdata, for the protobuf side.
func goldenTraces() ptrace.Traces {
	td := ptrace.NewTraces()

	rs := td.ResourceSpans().AppendEmpty()
	ra := rs.Resource().Attributes()
	ra.PutStr("service.name", "checkout")
	ra.PutStr("host.name", "web-1")
	ra.PutInt("process.pid", 4242)
	ra.PutStr("telemetry.sdk.language", "go")
	zones := ra.PutEmptySlice("cloud.zones")
	zones.AppendEmpty().SetStr("eu-west-1a")
	zones.AppendEmpty().SetStr("eu-west-1b")
	rs.Resource().SetDroppedAttributesCount(2)

	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("io.opentelemetry.http")
	ss.Scope().SetVersion("1.2.3")
	ss.Scope().Attributes().PutBool("scope.sampled", true)
	ss.Scope().SetDroppedAttributesCount(1)

	a := ss.Spans().AppendEmpty()
	a.SetTraceID(pcommon.TraceID{0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c})
	a.SetSpanID(pcommon.SpanID{0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74})
	a.TraceState().FromRaw("rojo=00f067aa0ba902b7")
	a.SetFlags(257)
	a.SetName("GET /cart")
	a.SetKind(ptrace.SpanKindServer)
	a.SetStartTimestamp(1700000000000000000)
	a.SetEndTimestamp(1700000000250000000)
	at := a.Attributes()
	at.PutStr("http.method", "GET")
	at.PutBool("http.retry", false)
	at.PutInt("http.status_code", -42)
	at.PutInt("http.response_size", 9007199254740993)
	at.PutDouble("ratio", 3.25)
	at.PutEmptyBytes("payload").FromRaw([]byte{0, 1, 2, 255})
	tags := at.PutEmptySlice("tags")
	tags.AppendEmpty().SetStr("a")
	tags.AppendEmpty().SetInt(7)
	tags.AppendEmpty().SetEmptySlice().AppendEmpty().SetBool(true)
	tags.AppendEmpty()
	user := at.PutEmptyMap("user")
	user.PutStr("id", "u-1")
	user.PutEmptyMap("geo").PutDouble("lat", -33.5)
	at.PutEmpty("nothing")
	at.PutEmptySlice("empty.list")
	a.SetDroppedAttributesCount(3)
	e := a.Events().AppendEmpty()
	e.SetTimestamp(1700000000100000000)
	e.SetName("exception")
	e.Attributes().PutStr("exception.type", "IOError")
	e.SetDroppedAttributesCount(1)
	e = a.Events().AppendEmpty()
	e.SetTimestamp(1700000000200000000)
	e.SetName("retry")
	a.SetDroppedEventsCount(4)
	l := a.Links().AppendEmpty()
	l.SetTraceID(pcommon.TraceID{0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c})
	l.SetSpanID(pcommon.SpanID{0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31})
	l.TraceState().FromRaw("congo=t61rcWkgMzE")
	l.SetFlags(1)
	l.Attributes().PutStr("link.kind", "follows")
	l.SetDroppedAttributesCount(5)
	a.SetDroppedLinksCount(6)
	a.Status().SetCode(ptrace.StatusCodeError)
	a.Status().SetMessage("upstream timeout")

	checkoutTrace := pcommon.TraceID{0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c}
	b := ss.Spans().AppendEmpty()
	b.SetTraceID(checkoutTrace)
	b.SetSpanID(pcommon.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7})
	b.SetParentSpanID(pcommon.SpanID{0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74})
	b.SetName("SELECT carts")
	b.SetKind(ptrace.SpanKindClient)
	b.SetStartTimestamp(1700000000010000000)
	b.SetEndTimestamp(1700000000020000000)
	b.Status().SetCode(ptrace.StatusCodeOk)

	ss2 := rs.ScopeSpans().AppendEmpty()
	ss2.Scope().SetName("manual")
	c := ss2.Spans().AppendEmpty()
	c.SetTraceID(checkoutTrace)
	c.SetSpanID(pcommon.SpanID{0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11})
	c.SetParentSpanID(pcommon.SpanID{0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74})
	c.SetName("render")
	c.SetKind(ptrace.SpanKindInternal)
	c.SetStartTimestamp(1700000000030000000)
	c.SetEndTimestamp(1700000000040000000)

	rs2 := td.ResourceSpans().AppendEmpty()
	rs2.Resource().Attributes().PutStr("service.name", "payments")
	ss3 := rs2.ScopeSpans().AppendEmpty()
	paymentsTrace := pcommon.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	d := ss3.Spans().AppendEmpty()
	d.SetTraceID(paymentsTrace)
	d.SetSpanID(pcommon.SpanID{0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22})
	d.SetName("publish charge")
	d.SetKind(ptrace.SpanKindProducer)
	d.SetStartTimestamp(1700000001000000000)
	d.SetEndTimestamp(1700000001000500000)
	f := ss3.Spans().AppendEmpty()
	f.SetTraceID(paymentsTrace)
	f.SetSpanID(pcommon.SpanID{0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33})
	f.SetParentSpanID(pcommon.SpanID{0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22})
	f.SetName("consume charge")
	f.SetKind(ptrace.SpanKindConsumer)
	f.SetStartTimestamp(1700000002000000000)
	f.SetEndTimestamp(1700000002000000000)
	g := ss3.Spans().AppendEmpty()
	g.SetTraceID(paymentsTrace)
	g.SetSpanID(pcommon.SpanID{0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44})
	g.SetName("unspecified kind")
	g.SetKind(ptrace.SpanKindUnspecified)
	g.SetStartTimestamp(1700000003000000000)
	return td
}

func marshalProto(t testing.TB, td ptrace.Traces) []byte {
	t.Helper()
	var m ptrace.ProtoMarshaler
	b, err := m.MarshalTraces(td)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
		enc  Encoding
	}{
		{"json", readTestdata(t, "traces.json"), JSON},
		{"protobuf", marshalProto(t, goldenTraces()), Protobuf},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := DecodeTraces(context.Background(), tc.body, tc.enc)
			if err != nil {
				t.Fatal(err)
			}
			if res.Rejected != 0 || res.Message != "" {
				t.Errorf("Rejected, Message = %d, %q; want 0, \"\"", res.Rejected, res.Message)
			}
			compareSpans(t, res.Items, goldenSpans())

			// One shared Resource per ResourceSpans and one Scope per ScopeSpans.
			s := res.Items
			if len(s) != 6 {
				return
			}
			if s[0].Resource != s[1].Resource || s[1].Resource != s[2].Resource || s[3].Resource != s[4].Resource || s[4].Resource != s[5].Resource {
				t.Error("spans of one ResourceSpans do not share their *Resource")
			}
			if s[0].Resource == s[3].Resource {
				t.Error("spans of different ResourceSpans share a *Resource")
			}
			if s[0].Scope != s[1].Scope || s[3].Scope != s[5].Scope {
				t.Error("spans of one ScopeSpans do not share their *Scope")
			}
			if s[1].Scope == s[2].Scope {
				t.Error("spans of different ScopeSpans share a *Scope")
			}
			if got := s[0].Service(); got != "checkout" {
				t.Errorf("Service() = %q, want checkout", got)
			}
		})
	}
}

// compareSpans reports every field where got differs from want.
func compareSpans(t *testing.T, got, want []telemetry.Span) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d spans, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := &got[i], &want[i]
		p := fmt.Sprintf("span %d (%s)", i, w.Name)
		eq(t, p+".TraceID", g.TraceID, w.TraceID)
		eq(t, p+".SpanID", g.SpanID, w.SpanID)
		eq(t, p+".ParentSpanID", g.ParentSpanID, w.ParentSpanID)
		eq(t, p+".TraceState", g.TraceState, w.TraceState)
		eq(t, p+".Flags", g.Flags, w.Flags)
		eq(t, p+".Name", g.Name, w.Name)
		eq(t, p+".Kind", g.Kind, w.Kind)
		eq(t, p+".StartUnixNano", g.StartUnixNano, w.StartUnixNano)
		eq(t, p+".EndUnixNano", g.EndUnixNano, w.EndUnixNano)
		eq(t, p+".InProgress", g.InProgress, w.InProgress)
		compareAttrs(t, p+".Attributes", g.Attributes, w.Attributes)
		eq(t, p+".DroppedAttributesCount", g.DroppedAttributesCount, w.DroppedAttributesCount)
		eq(t, p+".DroppedEventsCount", g.DroppedEventsCount, w.DroppedEventsCount)
		eq(t, p+".DroppedLinksCount", g.DroppedLinksCount, w.DroppedLinksCount)
		eq(t, p+".Status", g.Status, w.Status)
		eq(t, p+".SampleRate", g.SampleRate, w.SampleRate)
		eq(t, p+".Ingest", g.Ingest, w.Ingest)

		if len(g.Events) != len(w.Events) {
			t.Errorf("%s: %d events, want %d", p, len(g.Events), len(w.Events))
		} else {
			for j := range w.Events {
				ep := fmt.Sprintf("%s.Events[%d]", p, j)
				eq(t, ep+".TimeUnixNano", g.Events[j].TimeUnixNano, w.Events[j].TimeUnixNano)
				eq(t, ep+".Name", g.Events[j].Name, w.Events[j].Name)
				compareAttrs(t, ep+".Attributes", g.Events[j].Attributes, w.Events[j].Attributes)
				eq(t, ep+".DroppedAttributesCount", g.Events[j].DroppedAttributesCount, w.Events[j].DroppedAttributesCount)
			}
		}
		if len(g.Links) != len(w.Links) {
			t.Errorf("%s: %d links, want %d", p, len(g.Links), len(w.Links))
		} else {
			for j := range w.Links {
				lp := fmt.Sprintf("%s.Links[%d]", p, j)
				eq(t, lp+".TraceID", g.Links[j].TraceID, w.Links[j].TraceID)
				eq(t, lp+".SpanID", g.Links[j].SpanID, w.Links[j].SpanID)
				eq(t, lp+".TraceState", g.Links[j].TraceState, w.Links[j].TraceState)
				eq(t, lp+".Flags", g.Links[j].Flags, w.Links[j].Flags)
				compareAttrs(t, lp+".Attributes", g.Links[j].Attributes, w.Links[j].Attributes)
				eq(t, lp+".DroppedAttributesCount", g.Links[j].DroppedAttributesCount, w.Links[j].DroppedAttributesCount)
			}
		}

		compareResource(t, p, g.Resource, w.Resource)
		compareScope(t, p, g.Scope, w.Scope)
	}
}

func compareResource(t *testing.T, p string, g, w *telemetry.Resource) {
	t.Helper()
	switch {
	case (g == nil) != (w == nil):
		t.Errorf("%s.Resource = %v, want %v", p, g, w)
	case w != nil:
		compareAttrs(t, p+".Resource.Attributes", g.Attributes, w.Attributes)
		eq(t, p+".Resource.DroppedAttributesCount", g.DroppedAttributesCount, w.DroppedAttributesCount)
	}
}

func compareScope(t *testing.T, p string, g, w *telemetry.Scope) {
	t.Helper()
	switch {
	case (g == nil) != (w == nil):
		t.Errorf("%s.Scope = %v, want %v", p, g, w)
	case w != nil:
		eq(t, p+".Scope.Name", g.Name, w.Name)
		eq(t, p+".Scope.Version", g.Version, w.Version)
		compareAttrs(t, p+".Scope.Attributes", g.Attributes, w.Attributes)
		eq(t, p+".Scope.DroppedAttributesCount", g.DroppedAttributesCount, w.DroppedAttributesCount)
	}
}

func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func compareAttrs(t *testing.T, what string, got, want telemetry.Attributes) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d attributes %s, want %d %s", what, len(got), showAttrs(got), len(want), showAttrs(want))
		return
	}
	for i := range want {
		if got[i].Key != want[i].Key || !got[i].Value.Equal(want[i].Value) {
			t.Errorf("%s[%d] = %s: %s %s, want %s: %s %s", what, i,
				got[i].Key, got[i].Value.Kind(), got[i].Value.AsString(),
				want[i].Key, want[i].Value.Kind(), want[i].Value.AsString())
		}
	}
}

func showAttrs(a telemetry.Attributes) string {
	var b strings.Builder
	for _, kv := range a {
		fmt.Fprintf(&b, "[%s=%s]", kv.Key, kv.Value.AsString())
	}
	return b.String()
}

func TestDecodePartial(t *testing.T) {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
	mk := func(name string, trace pcommon.TraceID, span pcommon.SpanID, start uint64) {
		s := ss.Spans().AppendEmpty()
		s.SetName(name)
		s.SetTraceID(trace)
		s.SetSpanID(span)
		s.SetStartTimestamp(pcommon.Timestamp(start))
	}
	good := pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	mk("ok 1", good, pcommon.SpanID{1}, 1700000000000000000)
	mk("zero trace", pcommon.TraceID{}, pcommon.SpanID{2}, 1700000000000000000)
	mk("zero span", good, pcommon.SpanID{}, 1700000000000000000)
	mk("ok 2", good, pcommon.SpanID{3}, 1700000000000000000)
	mk("zero trace again", pcommon.TraceID{}, pcommon.SpanID{4}, 1700000000000000000)
	mk("no start", good, pcommon.SpanID{5}, 0)

	for _, tc := range []struct {
		name string
		body []byte
		enc  Encoding
	}{
		{"protobuf", marshalProto(t, td), Protobuf},
		{"json", mustJSON(t, td), JSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := DecodeTraces(context.Background(), tc.body, tc.enc)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Items) != 2 || res.Items[0].Name != "ok 1" || res.Items[1].Name != "ok 2" {
				t.Fatalf("kept %d spans %v, want [ok 1, ok 2]", len(res.Items), names(res.Items))
			}
			if res.Rejected != 4 {
				t.Errorf("Rejected = %d, want 4", res.Rejected)
			}
			const want = "rejected 4 of 6 spans: " +
				"trace id is all zero (2 spans, first at resourceSpans[0].scopeSpans[0].spans[1]); " +
				"span id is all zero (1 span, first at resourceSpans[0].scopeSpans[0].spans[2]); " +
				"start time is missing (1 span, first at resourceSpans[0].scopeSpans[0].spans[5])"
			if res.Message != want {
				t.Errorf("Message =\n%q\nwant\n%q", res.Message, want)
			}
		})
	}
}

func mustJSON(t testing.TB, td ptrace.Traces) []byte {
	t.Helper()
	var m ptrace.JSONMarshaler
	b, err := m.MarshalTraces(td)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func names(spans []telemetry.Span) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

func TestDecodeEmpty(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		enc  Encoding
	}{
		{"protobuf zero bytes", "", Protobuf},
		{"json empty object", "{}", JSON},
		{"json empty list", `{"resourceSpans":[]}`, JSON},
		{"json resource without spans", `{"resourceSpans":[{"resource":{},"scopeSpans":[{"scope":{}}]}]}`, JSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := DecodeTraces(context.Background(), []byte(tc.body), tc.enc)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Items) != 0 || res.Rejected != 0 || res.Message != "" {
				t.Errorf("got %+v, want an empty result", res)
			}
		})
	}
}

func TestDecodeJSONDetails(t *testing.T) {
	// OTLP/JSON specifics: ids are hex in either case, never base64; enums are integers;
	// 64-bit integers come as strings or numbers; unknown fields are ignored; snake_case
	// field names, which the protobuf JSON mapping also allows, are accepted.
	const span = `{"resourceSpans":[{"scopeSpans":[{"spans":[{` +
		`"traceId":"5B8EFFF798038103d269b633813fc60c","span_id":"EEE19B7EC3C1B174",` +
		`"start_time_unix_nano":1700000000000000000,"kind":3,"unknownField":[{"a":null}]}]}]}]}`
	res, err := DecodeTraces(context.Background(), []byte(span), JSON)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 {
		t.Fatalf("got %d spans, want 1 (%s)", len(res.Items), res.Message)
	}
	s := res.Items[0]
	eq(t, "TraceID", s.TraceID, tid("5b8efff798038103d269b633813fc60c"))
	eq(t, "SpanID", s.SpanID, sid("eee19b7ec3c1b174"))
	eq(t, "StartUnixNano", s.StartUnixNano, int64(1700000000000000000))
	eq(t, "Kind", s.Kind, telemetry.SpanKindClient)
	if s.Resource == nil || len(s.Resource.Attributes) != 0 {
		t.Errorf("Resource = %+v, want an empty resource", s.Resource)
	}
	if s.Service() != telemetry.UnknownService {
		t.Errorf("Service() = %q, want %q", s.Service(), telemetry.UnknownService)
	}

	for name, body := range map[string]string{
		"base64 trace id":  `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"eee19b7ec3c1b174","startTimeUnixNano":"1"}]}]}]}`,
		"short trace id":   `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8e","spanId":"eee19b7ec3c1b174","startTimeUnixNano":"1"}]}]}]}`,
		"non-hex span id":  `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"zzzzzzzzzzzzzzzz"}]}]}]}`,
		"string timestamp": `{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"soon"}]}]}]}`,
		"truncated":        `{"resourceSpans":[{"scopeSpans":[`,
		"not json":         `<xml/>`,
		"wrong type":       `{"resourceSpans":{}}`,
		"trailing data":    `{"resourceSpans":[]} {}`,
		"trailing comma":   `{"resourceSpans":[],}`,
		"control char":     "{\"resourceSpans\":[{\"scopeSpans\":[{\"scope\":{\"name\":\"a\x01\"}}]}]}",
		"bad escape":       `{"resourceSpans":[{"scopeSpans":[{"scope":{"name":"\x41"}}]}]}`,
		"float as int":     `{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":1.5}]}]}]}`,
		"negative time":    `{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"-1"}]}]}]}`,
		"flags overflow":   `{"resourceSpans":[{"scopeSpans":[{"spans":[{"flags":4294967296}]}]}]}`,
		"unknown kind":     `{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"SPAN_KIND_OTHER"}]}]}]}`,
		"leading zero":     `{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":02}]}]}]}`,
		"bad base64":       `{"resourceSpans":[{"scopeSpans":[{"scope":{"attributes":[{"key":"b","value":{"bytesValue":"!!"}}]}}]}]}`,
		"unquoted key":     `{resourceSpans:[]}`,
		"empty body":       ``,
	} {
		if _, err := DecodeTraces(context.Background(), []byte(body), JSON); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestDecodeJSONValues(t *testing.T) {
	// How OTLP/JSON values read, as the protobuf JSON mapping and pdata read them.
	for _, tc := range []struct {
		name, value string
		want        telemetry.Value
	}{
		{"string", `{"stringValue":"héllo"}`, str("héllo")},
		{"escapes", `{"stringValue":"a\"\\\/\b\f\n\r\t\u00e9"}`, str("a\"\\/\b\f\n\r\té")},
		{"surrogate pair", `{"stringValue":"\ud83d\ude00"}`, str("😀")},
		{"lone surrogates", `{"stringValue":"\ud83dx\ude00"}`, str("\uFFFDx\uFFFD")},
		{"unpaired surrogates", `{"stringValue":"\ud83d\u0041"}`, str("\uFFFDA")},
		{"invalid UTF-8 kept", "{\"stringValue\":\"a\xff\"}", str("a\xff")},
		{"null string", `{"stringValue":null}`, str("")},
		{"bool", `{"boolValue":true}`, bln(true)},
		{"int as string", `{"intValue":"-9223372036854775808"}`, i64(math.MinInt64)},
		{"int as number", `{"int_value":42}`, i64(42)},
		{"double", `{"doubleValue":-1.5e-3}`, f64(-1.5e-3)},
		{"double as string", `{"doubleValue":"-Infinity"}`, f64(math.Inf(-1))},
		{"double from integer", `{"doubleValue":7}`, f64(7)},
		{"bytes", `{"bytesValue":"AP8="}`, telemetry.BytesValue([]byte{0, 255})},
		{"bytes unpadded, URL alphabet", `{"bytesValue":"AP-_"}`, telemetry.BytesValue([]byte{0, 255, 191})},
		{"empty", `{}`, telemetry.Value{}},
		{"null", `null`, telemetry.Value{}},
		{"null array", `{"arrayValue":null}`, arr()},
		{"null map", `{"kvlistValue":null}`, mapv()},
		{"array", `{"arrayValue":{"values":[{"intValue":"1"},{},{"arrayValue":{}}]}}`, arr(i64(1), telemetry.Value{}, arr())},
		{"map", `{"kvlist_value":{"values":[{"key":"a","value":{"boolValue":false}},{"key":"b"}]}}`, mapv(kv("a", bln(false)), kv("b", telemetry.Value{}))},
		{"last field wins", `{"stringValue":"a","intValue":"5"}`, i64(5)},
		{"profiles' string index is no value", `{"stringValue":"a","stringValueStrindex":3}`, telemetry.Value{}},
		{"unknown fields skipped", `{"x":{"y":[1,[2,{"z":null}]]},"boolValue":true,"w":"\u0041"}`, bln(true)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"01000000000000000000000000000000",` +
				`"spanId":"0100000000000000","startTimeUnixNano":"1","attributes":[{"key":"v","value":` + tc.value + `}]}]}]}]}`
			res, err := DecodeTraces(context.Background(), []byte(body), JSON)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Items) != 1 {
				t.Fatalf("%d spans (%s)", len(res.Items), res.Message)
			}
			compareAttrs(t, "Attributes", res.Items[0].Attributes, telemetry.Attributes{kv("v", tc.want)})
		})
	}
}

func TestDecodeJSONSkipsDeepUnknownFields(t *testing.T) {
	// Unknown fields are skipped however deep, without recursing.
	deep := strings.Repeat(`{"a":[`, 200_000) + strings.Repeat(`]}`, 200_000)
	body := `{"unknown":` + deep + `,"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"01000000000000000000000000000000",` +
		`"spanId":"0100000000000000","startTimeUnixNano":"1","more":` + deep + `}]}]}]}`
	res, err := DecodeTraces(context.Background(), []byte(body), JSON)
	if err != nil || len(res.Items) != 1 {
		t.Fatalf("%d spans, %v", len(res.Items), err)
	}
	if _, err := DecodeTraces(context.Background(), []byte(`{"unknown":`+deep[:len(deep)-1]+`}`), JSON); err == nil {
		t.Error("unbalanced unknown field: no error")
	}
}

func TestDecodeProtobufCorners(t *testing.T) {
	// The corners of the protobuf encoding that generated encoders do not produce, read as
	// pdata reads them.
	edge := protoTraceEdgeCases(t)
	for _, tc := range []struct {
		name  string
		body  []byte
		check func(t *testing.T, spans []telemetry.Span)
	}{
		{"resource after its spans", edge[0], func(t *testing.T, spans []telemetry.Span) {
			if len(spans) != 1 || spans[0].Service() != "late" {
				t.Errorf("spans %v, want one of service late", names(spans))
			}
		}},
		{"deprecated scope spans", edge[1], func(t *testing.T, spans []telemetry.Span) {
			if len(spans) != 1 {
				t.Errorf("%d spans, want the one in instrumentation_library_spans", len(spans))
			}
		}},
		{"deprecated scope spans beside scope spans", edge[2], func(t *testing.T, spans []telemetry.Span) {
			if len(spans) != 1 || spans[0].SpanID != telemetry.SpanID(pbID(8, 1)) {
				t.Errorf("spans %v, want only the one in scope_spans", spans)
			}
		}},
		{"fields sent twice", edge[3], func(t *testing.T, spans []telemetry.Span) {
			if len(spans) != 2 {
				t.Fatalf("%d spans, want 2 (the one with a deep value rejected)", len(spans))
			}
			eq(t, "Status", spans[0].Status, telemetry.Status{Code: telemetry.StatusError, Message: "second status field"})
			compareAttrs(t, "Attributes", spans[0].Attributes, telemetry.Attributes{kv("k", str("v"))})
			compareAttrs(t, "Resource", spans[0].Resource.Attributes, telemetry.Attributes{kv("service.name", str("late")), kv("service.name", str("late"))})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := DecodeTraces(context.Background(), tc.body, Protobuf)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, res.Items)
			want, err := pdataTraces(tc.body, Protobuf, telemetry.IngestInfo{})
			if err != nil {
				t.Fatal(err)
			}
			compareSpans(t, res.Items, want.Items)
		})
	}
}

func TestDecodeProtobufErrors(t *testing.T) {
	valid := marshalProto(t, goldenTraces())
	for name, body := range map[string][]byte{
		"truncated":       valid[:len(valid)/2],
		"bad tag":         {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"length overflow": {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"json as proto":   readTestdata(t, "traces.json"),
		// resource_spans { scope_spans { spans { trace_id: 3 bytes } } }
		"trace id 3 bytes": {0x0a, 0x09, 0x12, 0x07, 0x12, 0x05, 0x0a, 0x03, 0x01, 0x02, 0x03},
	} {
		if _, err := DecodeTraces(context.Background(), body, Protobuf); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := DecodeTraces(context.Background(), valid, Encoding(9)); err == nil {
		t.Error("unknown encoding: no error")
	}
}

func TestDecodeEdgeValues(t *testing.T) {
	td := ptrace.NewTraces()
	s := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetTraceID(pcommon.TraceID{1})
	s.SetSpanID(pcommon.SpanID{1})
	s.SetStartTimestamp(pcommon.Timestamp(math.MaxUint64)) // past 2262: clamped, not negative
	s.SetEndTimestamp(pcommon.Timestamp(math.MaxInt64 + 1))
	s.SetKind(ptrace.SpanKind(258)) // unknown kind: not truncated into a known one
	s.Status().SetCode(ptrace.StatusCode(7))
	res, err := DecodeTraces(context.Background(), marshalProto(t, td), Protobuf)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 {
		t.Fatalf("got %d spans (%s)", len(res.Items), res.Message)
	}
	got := res.Items[0]
	eq(t, "StartUnixNano", got.StartUnixNano, int64(math.MaxInt64))
	eq(t, "EndUnixNano", got.EndUnixNano, int64(math.MaxInt64))
	eq(t, "Kind", got.Kind, telemetry.SpanKindUnspecified)
	eq(t, "Status.Code", got.Status.Code, telemetry.StatusUnset)
}

func TestDecodeDuplicateKeysKept(t *testing.T) {
	// pdata's Put replaces existing keys, so send the duplicate as OTLP/JSON.
	const body = `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"01000000000000000000000000000000",` +
		`"spanId":"0100000000000000","startTimeUnixNano":"1","attributes":[` +
		`{"key":"k","value":{"stringValue":"first"}},{"key":"k","value":{"stringValue":"second"}}]}]}]}]}`
	res, err := DecodeTraces(context.Background(), []byte(body), JSON)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 {
		t.Fatalf("got %d spans (%s)", len(res.Items), res.Message)
	}
	compareAttrs(t, "Attributes", res.Items[0].Attributes,
		telemetry.Attributes{kv("k", str("first")), kv("k", str("second"))})
}

func TestDecodedSlicesAreCapped(t *testing.T) {
	// Attributes of consecutive spans come from one backing array; appending to one span's
	// attributes must not overwrite the next span's.
	res, err := DecodeTraces(context.Background(), readTestdata(t, "traces.json"), JSON)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Items
	_ = append(s[0].Attributes, kv("extra", str("x")))
	_ = append(s[0].Events, telemetry.Event{Name: "extra"})
	_ = append(s[0].Resource.Attributes, kv("extra", str("x")))
	compareSpans(t, s, goldenSpans())
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"abcdef", 3, "abc..."},
		{"héllo", 2, "h..."}, // does not split é
		{"bad\xffutf8", 100, "bad\uFFFDutf8"},
	} {
		if got := truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// mustProtoFromJSON re-encodes an OTLP/JSON trace request as protobuf, with pdata.
func mustProtoFromJSON(t testing.TB, b []byte) []byte {
	t.Helper()
	req := ptraceotlp.NewExportRequest()
	if err := req.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	out, err := req.MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	return out
}
