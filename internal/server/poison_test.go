package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// TestOneHugeSpanDoesNotStopIngest sends, with the real OpenTelemetry SDK and gzip, a span
// with a 16 MB attribute (a few KB on the wire), then an ordinary span. Both must be
// readable: the huge value cut to the value limit and marked, and nothing behind it stuck.
// (Before item limits, DuckDB could not insert the span under its memory limit, and the
// loader retried it forever with every later span behind it.)
func TestOneHugeSpanDoesNotStopIngest(t *testing.T) {
	srv := start(t)
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(srv.Addrs().HTTP), otlptracehttp.WithInsecure(),
		otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "huge"))))
	defer tp.Shutdown(ctx)
	tracer := tp.Tracer("poison")

	_, big := tracer.Start(ctx, "big")
	big.SetAttributes(attribute.String("payload", strings.Repeat("x", 16<<20)), attribute.String("small", "kept"))
	big.End()
	_, after := tracer.Start(ctx, "after")
	after.End()

	trace := waitForTrace(t, srv, big.SpanContext().TraceID().String(), 1)
	payload, _ := tag(trace.Spans[0].Tags, "payload")
	if s, _ := payload.Value.(string); len(s) != 64<<10 {
		t.Fatalf("payload kept %d bytes, want the 64 KiB limit", len(s))
	}
	if small, _ := tag(trace.Spans[0].Tags, "small"); small.Value != "kept" {
		t.Fatalf("small attribute = %v", small.Value)
	}
	if marker, ok := tag(trace.Spans[0].Tags, "lookout.truncated"); !ok || !strings.Contains(marker.Value.(string), "payload") {
		t.Fatalf("lookout.truncated = %v, %v; want it to name payload", marker.Value, ok)
	}
	waitForTrace(t, srv, after.SpanContext().TraceID().String(), 1)

	// And the server still stops within its budget.
	shutdownCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	began := time.Now()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		t.Fatal(err)
	}
	t.Logf("shutdown took %v", time.Since(began))
}
