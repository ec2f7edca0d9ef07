package otlp

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"lookout/internal/telemetry"
)

// Invariants checked on every fuzz input: decoding never panics; what it returns is valid;
// and no span goes missing: kept plus rejected equals what pdata decoded.

func FuzzDecodeProto(f *testing.F) {
	f.Add(marshalProto(f, goldenTraces()))
	f.Add(marshalProto(f, benchTraces(3)))
	if b, err := ptraceotlpRequestFromJSON(readTestdata(f, "partial.json")); err == nil {
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x09, 0x12, 0x07, 0x12, 0x05, 0x0a, 0x03, 0x01, 0x02, 0x03})
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := DecodeTraces(body, Protobuf)
		if err != nil {
			return
		}
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err != nil {
			t.Fatalf("DecodeTraces accepted what pdata rejects: %v", err)
		}
		checkResult(t, res, req.Traces().SpanCount())
	})
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add(readTestdata(f, "traces.json"))
	f.Add(readTestdata(f, "partial.json"))
	f.Add(mustJSON(f, benchTraces(3)))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"01000000000000000000000000000000","spanId":"0100000000000000","startTimeUnixNano":"1","kind":"SPAN_KIND_SERVER"}]}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := DecodeTraces(body, JSON)
		if err != nil {
			return
		}
		var u ptrace.JSONUnmarshaler
		td, err := u.UnmarshalTraces(body)
		if err != nil {
			t.Fatalf("DecodeTraces accepted what pdata rejects: %v", err)
		}
		checkResult(t, res, td.SpanCount())
	})
}

func checkResult(t *testing.T, res Result, decoded int) {
	t.Helper()
	if int64(len(res.Spans))+res.Rejected != int64(decoded) {
		t.Fatalf("%d spans kept + %d rejected, but %d decoded", len(res.Spans), res.Rejected, decoded)
	}
	if (res.Rejected > 0) != (res.Message != "") {
		t.Fatalf("Rejected %d with message %q", res.Rejected, res.Message)
	}
	for i := range res.Spans {
		s := &res.Spans[i]
		if err := s.Validate(); err != nil {
			t.Fatalf("span %d kept although invalid: %v", i, err)
		}
		if s.Ingest.Protocol != Protocol {
			t.Fatalf("span %d has protocol %q", i, s.Ingest.Protocol)
		}
		if s.Kind > telemetry.SpanKindConsumer || s.Status.Code > telemetry.StatusError {
			t.Fatalf("span %d has kind %d, status %d", i, s.Kind, s.Status.Code)
		}
		checkAttrs(t, s.Attributes)
		checkAttrs(t, s.Resource.Attributes)
		for _, e := range s.Events {
			checkAttrs(t, e.Attributes)
		}
		for _, l := range s.Links {
			checkAttrs(t, l.Attributes)
		}
	}
}

func checkAttrs(t *testing.T, attrs telemetry.Attributes) {
	t.Helper()
	for _, kv := range attrs {
		checkValue(t, kv.Value)
	}
}

func checkValue(t *testing.T, v telemetry.Value) {
	t.Helper()
	switch v.Kind() {
	case telemetry.KindArray:
		for _, e := range v.Array() {
			checkValue(t, e)
		}
	case telemetry.KindMap:
		checkAttrs(t, v.Map())
	case telemetry.KindEmpty, telemetry.KindString, telemetry.KindBool, telemetry.KindInt,
		telemetry.KindDouble, telemetry.KindBytes:
	default:
		t.Fatalf("value of unknown kind %v", v.Kind())
	}
}

// benchTraces builds a request shaped like an SDK batch: n spans of one service, each with
// ten attributes of the usual HTTP/database kinds, an event on every tenth span.
func benchTraces(n int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	ra := rs.Resource().Attributes()
	ra.PutStr("service.name", "checkout")
	ra.PutStr("service.version", "2.14.1")
	ra.PutStr("host.name", "ip-10-0-3-17.eu-west-1.compute.internal")
	ra.PutStr("telemetry.sdk.language", "go")
	ra.PutInt("process.pid", 4242)
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp")
	ss.Scope().SetVersion("0.60.0")
	spans := ss.Spans()
	spans.EnsureCapacity(n)
	for i := range n {
		s := spans.AppendEmpty()
		s.SetTraceID(pcommon.TraceID{byte(i >> 8), byte(i), 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
		s.SetSpanID(pcommon.SpanID{byte(i >> 8), byte(i), 1, 2, 3, 4, 5, 6})
		if i%5 != 0 {
			s.SetParentSpanID(pcommon.SpanID{byte(i >> 8), byte(i - 1), 1, 2, 3, 4, 5, 6})
		}
		s.SetName(fmt.Sprintf("GET /api/v1/carts/{id}/items/%d", i%7))
		s.SetKind(ptrace.SpanKindServer)
		start := pcommon.Timestamp(1700000000000000000 + int64(i)*1000000)
		s.SetStartTimestamp(start)
		s.SetEndTimestamp(start + 2500000)
		a := s.Attributes()
		a.PutStr("http.request.method", "GET")
		a.PutStr("url.path", fmt.Sprintf("/api/v1/carts/%d/items", 1000+i))
		a.PutStr("url.scheme", "https")
		a.PutInt("http.response.status_code", 200)
		a.PutStr("server.address", "checkout.internal")
		a.PutInt("server.port", 8443)
		a.PutStr("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36")
		a.PutStr("network.protocol.version", "1.1")
		a.PutDouble("app.cart.total", 129.95)
		a.PutBool("app.cache.hit", i%3 == 0)
		if i%10 == 0 {
			e := s.Events().AppendEmpty()
			e.SetName("cache.miss")
			e.SetTimestamp(start + 1000)
			e.Attributes().PutStr("cache.key", fmt.Sprintf("cart:%d", i))
		}
		s.Status().SetCode(ptrace.StatusCodeOk)
	}
	return td
}

func BenchmarkDecodeTraces(b *testing.B) {
	const n = 500
	td := benchTraces(n)
	for _, bc := range []struct {
		name string
		body []byte
		enc  Encoding
	}{
		{"protobuf", marshalProto(b, td), Protobuf},
		{"json", mustJSON(b, td), JSON},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			for b.Loop() {
				res, err := DecodeTraces(bc.body, bc.enc)
				if err != nil || len(res.Spans) != n {
					b.Fatalf("%d spans, %v", len(res.Spans), err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "spans/s")
		})
	}
	// The pdata → telemetry step alone, which is this package's own cost.
	b.Run("convert-only", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if res := convertTraces(td, telemetry.IngestInfo{Protocol: Protocol}); len(res.Spans) != n {
				b.Fatalf("%d spans", len(res.Spans))
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "spans/s")
	})
}

// FuzzHTTPHandler drives the whole OTLP/HTTP path: arbitrary bytes, as either content type,
// as plain, gzip or zstd bodies. The handler must answer every input with 200, 400 or 413,
// and with a body the sender can decode.
func FuzzHTTPHandler(f *testing.F) {
	traces := readTestdata(f, "traces.json")
	proto := marshalProto(f, goldenTraces())
	f.Add(traces, false, uint8(0))
	f.Add(gzipBytes(f, traces), false, uint8(1))
	f.Add(zstdBytes(f, traces), false, uint8(2))
	f.Add(proto, true, uint8(0))
	f.Add(gzipBytes(f, proto), true, uint8(1))
	f.Add(zstdBytes(f, proto), true, uint8(2))
	h := NewHTTPHandler(discardSink{}, nil, Config{MaxRequestBytes: 1 << 20})
	f.Fuzz(func(t *testing.T, body []byte, isProto bool, coding uint8) {
		req := request{ct: contentTypeJSON, body: body}
		if isProto {
			req.ct = contentTypeProtobuf
		}
		req.encoding = [...]string{"", "gzip", "zstd"}[coding%3]
		w := serve(t, h, req)
		switch w.Code {
		case http.StatusOK:
			resp := ptraceotlp.NewExportResponse()
			var err error
			if isProto {
				err = resp.UnmarshalProto(w.Body.Bytes())
			} else {
				err = resp.UnmarshalJSON(w.Body.Bytes())
			}
			if err != nil {
				t.Fatalf("200 with undecodable body %q: %v", w.Body.Bytes(), err)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			errorStatus(t, w, req.ct)
		default:
			t.Fatalf("status %d, body %q", w.Code, w.Body.Bytes())
		}
	})
}

type discardSink struct{}

func (discardSink) Write(context.Context, []telemetry.Span) error { return nil }
func (discardSink) Rejected(int)                                  {}
