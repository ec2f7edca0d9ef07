package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"lookout/internal/server"
)

// TestRetention sends one trace from three hours ago and one from now to a lookout that keeps
// two hours: the old one must go, the new one stay.
func TestRetention(t *testing.T) {
	srv := start(t, func(c *server.Config) { c.Retention = 2 * time.Hour; c.RetentionEvery = 50 * time.Millisecond })
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(srv.Addrs().HTTP), otlptracehttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "retention"))))
	defer tp.Shutdown(ctx)
	tracer := tp.Tracer("e2e")
	old := time.Now().Add(-3 * time.Hour)
	_, oldSpan := tracer.Start(ctx, "old", trace.WithTimestamp(old))
	oldSpan.End(trace.WithTimestamp(old.Add(time.Millisecond)))
	_, newSpan := tracer.Start(ctx, "new")
	newSpan.End()

	// The old span was acknowledged first and the loader keeps order, so once the new one is
	// readable the old one was stored too: from then on, a 404 means retention removed it.
	waitForTrace(t, srv, newSpan.SpanContext().TraceID().String(), 1)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got jaegerResponse
		if getJSON(t, srv, "/api/traces/"+oldSpan.SpanContext().TraceID().String(), &got) == http.StatusNotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the expired trace is still there after 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitForTrace(t, srv, newSpan.SpanContext().TraceID().String(), 1)
}
