package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestHealthAndMetrics checks /healthz, /readyz and that /metrics counts what a real SDK
// sent, in Prometheus' text format.
func TestHealthAndMetrics(t *testing.T) {
	srv := start(t)
	ui := "http://" + srv.Addrs().UI
	if code, body := get(t, ui+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	waitFor(t, func() bool { code, _ := get(t, ui+"/readyz"); return code == http.StatusOK })

	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(srv.Addrs().HTTP), otlptracehttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "metered"))))
	tracer := tp.Tracer("metrics")
	var last string
	for range 7 {
		_, sp := tracer.Start(ctx, "op")
		sp.End()
		last = sp.SpanContext().TraceID().String()
	}
	tp.Shutdown(ctx)
	waitForTrace(t, srv, last, 1)
	// The loader counts a batch once the store's write returns, just after readers see it.
	var body string
	waitFor(t, func() bool {
		var code int
		code, body = get(t, ui+"/metrics")
		return code == http.StatusOK && strings.Contains(body, `lookout_pipeline_loaded_items_total{signal="spans"} 7`)
	})
	for _, want := range []string{
		`lookout_ingest_items_total{outcome="accepted",receiver="otlp",signal="spans"} 7`,
		`lookout_pipeline_loaded_items_total{signal="spans"} 7`,
		`lookout_wal_append_seconds_count 7`,
		`lookout_http_request_seconds_count{listener="http",route="/v1/traces"} 7`,
		`lookout_pipeline_pending_bytes `,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// A client that opened a connection and sent nothing on it (as HTTP clients do when a dial
// outlives its request) does not hold up the server's stop: net/http alone waits five
// seconds for such a connection's first request.
func TestShutdownClosesUnusedConnections(t *testing.T) {
	srv := start(t)
	conn, err := net.Dial("tcp", srv.Addrs().HTTP)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	time.Sleep(100 * time.Millisecond) // the server has accepted it
	began := time.Now()
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("shutdown took %v with an unused connection open", took)
	}
}
