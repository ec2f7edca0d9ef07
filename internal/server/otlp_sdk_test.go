package server_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"lookout/internal/server"
)

// TestOpenTelemetrySDK sends a trace with the real OpenTelemetry Go SDK over each OTLP
// transport and reads every field back through the Jaeger-compatible API.
func TestOpenTelemetrySDK(t *testing.T) {
	srv := start(t)
	exporters := map[string]func(ctx context.Context) (*otlptrace.Exporter, error){
		"http-protobuf": func(ctx context.Context) (*otlptrace.Exporter, error) {
			return otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(srv.Addrs().HTTP), otlptracehttp.WithInsecure(),
				otlptracehttp.WithHeaders(map[string]string{"x-honeycomb-team": "secret-key", "x-honeycomb-dataset": "e2e"}))
		},
		"http-gzip": func(ctx context.Context) (*otlptrace.Exporter, error) {
			return otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(srv.Addrs().HTTP), otlptracehttp.WithInsecure(),
				otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
		},
		"grpc-gzip": func(ctx context.Context) (*otlptrace.Exporter, error) {
			return otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(srv.Addrs().GRPC), otlptracegrpc.WithInsecure(),
				otlptracegrpc.WithCompressor("gzip"))
		},
	}
	for name, newExporter := range exporters {
		t.Run(name, func(t *testing.T) { checkSDKRoundTrip(t, srv, name, newExporter) })
	}
}

func checkSDKRoundTrip(t *testing.T, srv *server.Server, transport string, newExporter func(context.Context) (*otlptrace.Exporter, error)) {
	ctx := context.Background()
	exp, err := newExporter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	service := "e2e-" + transport
	res := resource.NewSchemaless(attribute.String("service.name", service), attribute.String("host.name", "test-host"), attribute.Int("worker.id", 3))
	// A syncer exports each span as it ends and reports the server's answer.
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(res))
	defer tp.Shutdown(ctx)
	tracer := tp.Tracer("lookout/e2e", trace.WithInstrumentationVersion("0.1.0"))

	start := time.Now().Add(-time.Minute).Truncate(time.Microsecond)
	otherTrace := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:  trace.SpanID{1, 1, 1, 1, 1, 1, 1, 1}, TraceFlags: trace.FlagsSampled,
	})
	rootCtx, root := tracer.Start(ctx, "GET /users/{id}", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(start),
		trace.WithAttributes(
			attribute.String("http.route", "/users/{id}"),
			attribute.Int64("http.status_code", 503),
			attribute.Float64("load", 0.75),
			attribute.Bool("cache.hit", true),
			attribute.StringSlice("roles", []string{"admin", "ops"}),
			attribute.Int64Slice("shards", []int64{1, 2}),
			attribute.String("xss", `<script>alert(1)</script>`),
		),
		trace.WithLinks(trace.Link{SpanContext: otherTrace, Attributes: []attribute.KeyValue{attribute.String("link.reason", "batch")}}))
	_, child := tracer.Start(rootCtx, "SELECT users", trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(start.Add(10*time.Millisecond)),
		trace.WithAttributes(attribute.String("db.system", "postgresql")))
	child.AddEvent("rows fetched", trace.WithTimestamp(start.Add(20*time.Millisecond)), trace.WithAttributes(attribute.Int("rows", 42)))
	child.End(trace.WithTimestamp(start.Add(30 * time.Millisecond)))
	root.SetStatus(codes.Error, "upstream unavailable")
	root.End(trace.WithTimestamp(start.Add(125 * time.Millisecond)))
	if err := tp.ForceFlush(ctx); err != nil {
		t.Fatalf("export: %v", err)
	}

	traceID := root.SpanContext().TraceID().String()
	rootID, childID := root.SpanContext().SpanID().String(), child.SpanContext().SpanID().String()

	tr := waitForTrace(t, srv, traceID, 2)
	if tr.TraceID != traceID {
		t.Fatalf("got trace %s, want %s", tr.TraceID, traceID)
	}
	spans := map[string]jaegerSpan{}
	for _, s := range tr.Spans {
		spans[s.SpanID] = s
	}
	r, c := spans[rootID], spans[childID]

	// The root span.
	if r.OperationName != "GET /users/{id}" || r.StartTime != start.UnixMicro() || r.Duration != 125_000 {
		t.Errorf("root: name %q start %d duration %d", r.OperationName, r.StartTime, r.Duration)
	}
	wantTags := map[string]any{
		"http.route": "/users/{id}", "http.status_code": float64(503), "load": 0.75, "cache.hit": true,
		"roles": `["admin","ops"]`, "shards": `[1,2]`, "xss": `<script>alert(1)</script>`,
		"span.kind": "server", "otel.status_code": "ERROR", "otel.status_description": "upstream unavailable", "error": true,
		"otel.scope.name": "lookout/e2e", "otel.scope.version": "0.1.0",
	}
	for key, want := range wantTags {
		kv, ok := tag(r.Tags, key)
		if !ok || kv.Value != want {
			t.Errorf("root tag %s = %#v (present %v), want %#v", key, kv.Value, ok, want)
		}
	}
	if len(r.References) != 1 || r.References[0].RefType != "FOLLOWS_FROM" || r.References[0].TraceID != otherTrace.TraceID().String() || r.References[0].SpanID != otherTrace.SpanID().String() {
		t.Errorf("root references = %+v, want one FOLLOWS_FROM link to %s", r.References, otherTrace.TraceID())
	}

	// The child span, its parent and its event.
	if c.OperationName != "SELECT users" || c.StartTime != start.Add(10*time.Millisecond).UnixMicro() || c.Duration != 20_000 {
		t.Errorf("child: name %q start %d duration %d", c.OperationName, c.StartTime, c.Duration)
	}
	if len(c.References) != 1 || c.References[0].RefType != "CHILD_OF" || c.References[0].SpanID != rootID {
		t.Errorf("child references = %+v, want CHILD_OF %s", c.References, rootID)
	}
	if kv, _ := tag(c.Tags, "db.system"); kv.Value != "postgresql" {
		t.Errorf("child db.system = %v", kv.Value)
	}
	if kv, _ := tag(c.Tags, "span.kind"); kv.Value != "client" {
		t.Errorf("child span.kind = %v", kv.Value)
	}
	if len(c.Logs) != 1 || c.Logs[0].Timestamp != start.Add(20*time.Millisecond).UnixMicro() {
		t.Fatalf("child logs = %+v", c.Logs)
	}
	if kv, _ := tag(c.Logs[0].Fields, "event"); kv.Value != "rows fetched" {
		t.Errorf("event name field = %v", kv.Value)
	}
	if kv, _ := tag(c.Logs[0].Fields, "rows"); kv.Value != float64(42) {
		t.Errorf("event rows field = %v", kv.Value)
	}

	// The process (resource).
	p := tr.Processes[r.ProcessID]
	if p.ServiceName != service || r.ProcessID != c.ProcessID {
		t.Errorf("process %q: %+v (child process %q)", r.ProcessID, p, c.ProcessID)
	}
	if kv, _ := tag(p.Tags, "host.name"); kv.Value != "test-host" {
		t.Errorf("process host.name = %v", kv.Value)
	}
	if kv, _ := tag(p.Tags, "worker.id"); kv.Value != float64(3) {
		t.Errorf("process worker.id = %v", kv.Value)
	}

	// Search finds it by service, operation, tag and duration, and not by a wrong tag.
	q := url.Values{"service": {service}, "operation": {"GET /users/{id}"}, "tags": {`{"http.status_code":"503"}`},
		"minDuration": {"100ms"}, "start": {fmt.Sprint(start.Add(-time.Minute).UnixMicro())}, "end": {fmt.Sprint(time.Now().UnixMicro())}}
	var found jaegerResponse
	if getJSON(t, srv, "/api/traces?"+q.Encode(), &found); len(found.Data) != 1 || found.Data[0].TraceID != traceID {
		t.Errorf("search %v found %d traces %v", q, len(found.Data), found.Errors)
	}
	q.Set("tags", `{"http.status_code":"200"}`)
	if getJSON(t, srv, "/api/traces?"+q.Encode(), &found); len(found.Data) != 0 {
		t.Errorf("search with a wrong tag found %d traces", len(found.Data))
	}
	var services struct{ Data []string }
	getJSON(t, srv, "/api/services", &services)
	if !contains(services.Data, service) {
		t.Errorf("services %v lack %s", services.Data, service)
	}
	var ops struct{ Data []string }
	getJSON(t, srv, "/api/services/"+url.PathEscape(service)+"/operations", &ops)
	if !contains(ops.Data, "GET /users/{id}") || !contains(ops.Data, "SELECT users") {
		t.Errorf("operations of %s = %v", service, ops.Data)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
