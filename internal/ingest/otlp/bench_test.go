package otlp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/klauspost/compress/gzip"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"lookout/internal/telemetry"
)

// loadgenRequest is a request as cmd/loadgen sends it: 500 spans of 5 to 50-span traces
// across eight services (template 0 of seed 42, as request 1), with the attributes SDK
// instrumentation records.
func loadgenRequest(t testing.TB) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(readTestdata(t, "loadgen-500.pb.gz")))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkDecodeTraces compares the decoders with the pdata path they replace, on the
// loadgen request in both encodings.
func BenchmarkDecodeTraces(b *testing.B) {
	body := loadgenRequest(b)
	td, err := pdataUnmarshalTraces(body, Protobuf)
	if err != nil {
		b.Fatal(err)
	}
	n := td.SpanCount()
	bodies := map[Encoding][]byte{Protobuf: body, JSON: mustJSON(b, td)}
	decoders := []struct {
		name   string
		decode func([]byte, Encoding) (Result[telemetry.Span], error)
	}{
		{"pdata", func(body []byte, enc Encoding) (Result[telemetry.Span], error) {
			return pdataTraces(body, enc, telemetry.IngestInfo{})
		}},
		{"direct", func(body []byte, enc Encoding) (Result[telemetry.Span], error) {
			return DecodeTraces(context.Background(), body, enc)
		}},
	}
	for _, enc := range []Encoding{Protobuf, JSON} {
		for _, dec := range decoders {
			b.Run(fmt.Sprintf("%s/%s", enc, dec.name), func(b *testing.B) {
				body := bodies[enc]
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				for b.Loop() {
					res, err := dec.decode(body, enc)
					if err != nil || len(res.Items) != n {
						b.Fatalf("%d spans, %v", len(res.Items), err)
					}
				}
				runtime.ReadMemStats(&after)
				spans := float64(b.N * n)
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/spans, "ns/span")
				b.ReportMetric(float64(after.Mallocs-before.Mallocs)/spans, "allocs/span")
			})
		}
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
