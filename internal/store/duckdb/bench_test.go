package duckdb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"lookout/internal/telemetry"
)

// benchSpans returns n realistic spans: ~10 attributes, traces of 20 spans, shared resources.
func benchSpans(rnd *rand.Rand, n int, startNano int64) []telemetry.Span {
	resources := make([]*telemetry.Resource, 6)
	for i := range resources {
		resources[i] = &telemetry.Resource{Attributes: telemetry.Attributes{
			{Key: "service.name", Value: telemetry.StringValue(fmt.Sprintf("service-%d", i))},
			{Key: "service.version", Value: telemetry.StringValue("1.4.2")},
			{Key: "host.name", Value: telemetry.StringValue(fmt.Sprintf("node-%d", i%3))},
			{Key: "deployment.environment", Value: telemetry.StringValue("production")},
			{Key: "k8s.pod.name", Value: telemetry.StringValue(fmt.Sprintf("pod-%d-abcde", i))},
		}}
	}
	routes := []string{"/api/users/{id}", "/api/orders", "/api/cart", "/api/search", "/healthz"}
	spans := make([]telemetry.Span, n)
	var tid telemetry.TraceID
	for i := range spans {
		if i%20 == 0 {
			tid = telemetry.TraceIDFromParts(rnd.Uint64(), rnd.Uint64())
		}
		start := startNano + int64(i)*1000
		route := routes[rnd.IntN(len(routes))]
		spans[i] = telemetry.Span{
			TraceID: tid, SpanID: telemetry.SpanIDFromUint64(rnd.Uint64() | 1), Name: "GET " + route,
			Kind: telemetry.SpanKindServer, StartUnixNano: start, EndUnixNano: start + int64(rnd.IntN(50_000_000)),
			Resource: resources[i%len(resources)], Ingest: telemetry.IngestInfo{Protocol: "otlp"},
			Attributes: telemetry.Attributes{
				{Key: "http.request.method", Value: telemetry.StringValue("GET")},
				{Key: "http.route", Value: telemetry.StringValue(route)},
				{Key: "http.response.status_code", Value: telemetry.IntValue(200)},
				{Key: "url.path", Value: telemetry.StringValue(fmt.Sprintf("/api/users/%d", rnd.IntN(10000)))},
				{Key: "user.id", Value: telemetry.StringValue(fmt.Sprintf("u%d", rnd.IntN(10000)))},
				{Key: "net.peer.name", Value: telemetry.StringValue("10.0.0.12")},
				{Key: "request.id", Value: telemetry.StringValue(fmt.Sprintf("%016x", rnd.Uint64()))},
				{Key: "cache.hit", Value: telemetry.BoolValue(rnd.IntN(2) == 0)},
				{Key: "load", Value: telemetry.DoubleValue(rnd.Float64())},
				{Key: "db.system", Value: telemetry.StringValue("postgresql")},
			},
		}
		if i%20 != 0 {
			spans[i].ParentSpanID = spans[i-i%20].SpanID
		}
	}
	return spans
}

func BenchmarkWriteSpans(b *testing.B) {
	dir := b.TempDir()
	s, err := Open(context.Background(), DefaultConfig(dir))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const batch = 25000
	rnd := rand.New(rand.NewPCG(1, 2))
	batches := make([][]telemetry.Span, 16)
	for i := range batches {
		batches[i] = benchSpans(rnd, batch, 1_700_000_000_000_000_000+int64(i)*batch*1000)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		spans := batches[i%len(batches)]
		shift := int64(i/len(batches)) * int64(len(batches)) * batch * 1000
		for j := range spans { // fresh ids and later times, as a live stream has
			spans[j].SpanID = telemetry.SpanIDFromUint64(rnd.Uint64() | 1)
			spans[j].StartUnixNano += shift
			spans[j].EndUnixNano += shift
		}
		if err := s.WriteSpans(context.Background(), spans); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "spans/s")
	b.StopTimer()
	if err := s.Checkpoint(context.Background()); err != nil {
		b.Fatal(err)
	}
	if info, err := os.Stat(filepath.Join(dir, "lookout.duckdb")); err == nil {
		b.ReportMetric(float64(info.Size())/float64(b.N*batch), "disk-B/span")
	}
}
