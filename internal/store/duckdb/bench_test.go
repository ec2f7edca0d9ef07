package duckdb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

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

// BenchmarkWriteSpans writes batches of 20,000 spans, as the ingest pipeline's loader does,
// checkpointing every 25 batches and at the end (within the timing: a checkpoint's work is
// part of every span's cost). Besides time and Go allocations it reports the process's CPU
// time a span, DuckDB threads included, its peak RSS, and the database blocks in use a span.
func BenchmarkWriteSpans(b *testing.B) {
	b.Run("uniform", func(b *testing.B) { benchmarkWrite(b, benchSpans, nil) })
	b.Run("shop", func(b *testing.B) { benchmarkWrite(b, shopSpans, nil) })
	b.Run("xray", func(b *testing.B) { benchmarkWrite(b, xraySpans, nil) })
	// Into a store that holds 5M traces already (trace_index filled directly), once its
	// filter of stored traces is read: what checking a batch against them costs.
	b.Run("xray/5M-traces-stored", func(b *testing.B) {
		benchmarkWrite(b, xraySpans, func(s *Store) {
			ctx := context.Background()
			if _, err := s.db.ExecContext(ctx, "INSERT INTO trace_index SELECT (hash(i) >> 1)::BIGINT, (hash(-i) >> 1)::BIGINT, i, i + 1 FROM range(5000000) r(i)"); err != nil {
				b.Fatal(err)
			}
			if err := s.Checkpoint(ctx); err != nil {
				b.Fatal(err)
			}
			readTraceFilter(b, s)
		})
	})
}

// benchmarkWrite writes batches of gen's spans, with fresh ids and later times each, into a
// store that fill, when not nil, has filled first.
func benchmarkWrite(b *testing.B, gen func(rnd *rand.Rand, n int, startNano int64) []telemetry.Span, fill func(*Store)) {
	const (
		batch           = 20_000
		checkpointEvery = 25
	)
	ctx := context.Background()
	s, err := Open(ctx, DefaultConfig(b.TempDir()))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if fill != nil {
		fill(s)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	batches := make([][]telemetry.Span, 4)
	for i := range batches {
		batches[i] = gen(rnd, batch, 1_700_000_000_000_000_000+int64(i)*batch*1000)
	}
	cpu := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		spans := batches[i%len(batches)]
		// Fresh ids and later times, as a live stream has. Ids are changed by one salt a
		// batch, which keeps them distinct and parents pointing at their span.
		salt := rnd.Uint64()
		shift := int64(len(batches)) * batch * 1000
		for j := range spans {
			sp := &spans[j]
			sp.TraceID = telemetry.TraceIDFromParts(sp.TraceID.High(), sp.TraceID.Low()^salt)
			sp.SpanID = telemetry.SpanIDFromUint64(sp.SpanID.Uint64() ^ salt)
			if !sp.ParentSpanID.IsZero() {
				sp.ParentSpanID = telemetry.SpanIDFromUint64(sp.ParentSpanID.Uint64() ^ salt)
			}
			if i >= len(batches) {
				sp.StartUnixNano += shift
				sp.EndUnixNano += shift
			}
		}
		if err := s.WriteSpans(ctx, spans); err != nil {
			b.Fatal(err)
		}
		if (i+1)%checkpointEvery == 0 || i == b.N-1 {
			if err := s.Checkpoint(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	spans := float64(b.N * batch)
	b.ReportMetric(spans/b.Elapsed().Seconds(), "spans/s")
	b.ReportMetric(float64(cpuTime()-cpu)/spans, "cpu-ns/span")
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MiB") // the process's, its batches included
	}
	var blockSize, usedBlocks int64
	if err := s.db.QueryRowContext(ctx, "SELECT block_size, used_blocks FROM pragma_database_size() WHERE database_name = current_database()").Scan(&blockSize, &usedBlocks); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(blockSize*usedBlocks)/spans, "disk-B/span")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
