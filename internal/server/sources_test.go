package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"lookout/internal/server"
	"lookout/internal/sources"
)

type sourcesReport struct {
	Data struct {
		sources.Report
		Endpoints struct{ OTLPHTTP, OTLPGRPC string }
	}
}

// TestSourcesPageSeesSendersAndOrphans sends with the OpenTelemetry SDK over HTTP and gRPC,
// under two API keys, a child span whose parent never ends, and a request lookout refuses;
// the sources report names every sender by its SDK and key fingerprint, and warns of each
// problem.
func TestSourcesPageSeesSendersAndOrphans(t *testing.T) {
	srv := start(t, func(c *server.Config) { c.AuditEvery, c.ParentWait = 100*time.Millisecond, 200*time.Millisecond })
	ctx := context.Background()
	res := resource.NewSchemaless(attribute.String("service.name", "backend-flask"), attribute.String("telemetry.sdk.name", "opentelemetry"),
		attribute.String("telemetry.sdk.language", "go"), attribute.String("telemetry.sdk.version", "1.47.0"))
	httpExp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(srv.Addrs().HTTP), otlptracehttp.WithInsecure(),
		otlptracehttp.WithHeaders(map[string]string{"x-honeycomb-team": "production-key"}))
	if err != nil {
		t.Fatal(err)
	}
	grpcExp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(srv.Addrs().GRPC), otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithHeaders(map[string]string{"x-honeycomb-team": "test-environment-key"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, exp := range []sdktrace.SpanExporter{httpExp, grpcExp} {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(res))
		parentCtx, _ := tp.Tracer("t").Start(ctx, "GET /api/activities/@{handle}") // never ended
		_, child := tp.Tracer("t").Start(parentCtx, "mock-data")
		child.End()
		if err := tp.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Post("http://"+srv.Addrs().HTTP+"/v1/traces", "application/json", strings.NewReader("{not json"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	var rep sourcesReport
	waitFor(t, func() bool {
		getJSON(t, srv, "/api/v1/sources", &rep)
		return hasWarning(rep.Data.Warnings, "missing-parents", `of service backend-flask (such as "mock-data") arrived, but never the parent span`)
	})
	want := map[string]bool{
		sources.Fingerprint("production-key"):       false,
		sources.Fingerprint("test-environment-key"): false,
	}
	for _, s := range rep.Data.Senders {
		if _, ok := want[s.Credential]; ok && s.SDK == "opentelemetry go 1.47.0" && s.Destination == "dataset backend-flask" && s.Items == 1 {
			want[s.Credential] = true
		}
	}
	for k, seen := range want {
		if !seen {
			t.Errorf("no sender with key %s in %+v", k, rep.Data.Senders)
		}
	}
	for _, w := range []struct{ kind, text string }{
		{"two-keys", "2 API keys"},
		{"refused", "cannot decode OTLP/json"},
	} {
		if !hasWarning(rep.Data.Warnings, w.kind, w.text) {
			t.Errorf("no %s warning saying %q in %+v", w.kind, w.text, rep.Data.Warnings)
		}
	}
	if rep.Data.Endpoints.OTLPHTTP != "http://"+srv.Addrs().HTTP || rep.Data.Endpoints.OTLPGRPC != srv.Addrs().GRPC {
		t.Errorf("endpoints %+v", rep.Data.Endpoints)
	}
}

func hasWarning(ws []sources.Warning, kind, text string) bool {
	for _, w := range ws {
		if w.Kind == kind && strings.Contains(w.Message, text) {
			return true
		}
	}
	return false
}
