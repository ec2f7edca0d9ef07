package otlp

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"

	"lookout/internal/telemetry"
)

// TestLogsSDK sends log records with the OpenTelemetry Go logs SDK, through its OTLP/HTTP and
// OTLP/gRPC exporters, to the receiver on real listeners.
func TestLogsSDK(t *testing.T) {
	for _, transport := range []string{"http", "grpc"} {
		t.Run(transport, func(t *testing.T) {
			ctx := testContext(t)
			sink := &recordingSink[telemetry.LogRecord]{}
			rcv := NewReceiver(Config{}, testLogger(t))
			var exp sdklog.Exporter
			var err error
			switch transport {
			case "http":
				mux := http.NewServeMux()
				mux.Handle("/v1/logs", rcv.LogsHandler(sink))
				srv := httptest.NewServer(mux)
				t.Cleanup(srv.Close)
				exp, err = otlploghttp.New(ctx, otlploghttp.WithEndpointURL(srv.URL+"/v1/logs"),
					otlploghttp.WithCompression(otlploghttp.GzipCompression))
			case "grpc":
				lis, lerr := net.Listen("tcp", "127.0.0.1:0")
				if lerr != nil {
					t.Fatal(lerr)
				}
				srv := grpc.NewServer(GRPCServerOptions(Config{})...)
				rcv.RegisterLogsService(srv, sink)
				go func() { _ = srv.Serve(lis) }()
				t.Cleanup(srv.Stop)
				exp, err = otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(lis.Addr().String()), otlploggrpc.WithInsecure(),
					otlploggrpc.WithCompressor("gzip"))
			}
			if err != nil {
				t.Fatal(err)
			}
			res := resource.NewSchemaless(attribute.String("service.name", "cruddur-api"), attribute.String("service.instance.id", "api-7"))
			provider := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
			logger := provider.Logger("cruddur/handlers", otellog.WithInstrumentationVersion("1.2.0"))

			at := time.Unix(1700000000, 250)
			sc := trace.NewSpanContext(trace.SpanContextConfig{
				TraceID: trace.TraceID(tid("5b8efff798038103d269b633813fc60c")), SpanID: trace.SpanID(sid("eee19b7ec3c1b174")),
				TraceFlags: trace.FlagsSampled,
			})
			var r otellog.Record
			r.SetTimestamp(at)
			r.SetSeverity(otellog.SeverityWarn2)
			r.SetSeverityText("WARN")
			r.SetEventName("login.failed")
			r.SetBody(attribute.MapValue(attribute.String("user", "u-1"), attribute.Int("attempt", 3)))
			r.AddAttributes(attribute.String("http.route", "/api/activities"), attribute.Bool("retry", true))
			logger.Emit(trace.ContextWithSpanContext(ctx, sc), r)

			var audit otellog.Record
			audit.SetBody(attribute.StringValue("password changed"))
			audit.AddAttributes(attribute.StringSlice("aws.log.group.names", []string{"/cruddur/audit"}))
			before := time.Now().UnixNano()
			logger.Emit(ctx, audit)
			if err := provider.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}

			got := sink.items()
			if len(got) != 2 {
				t.Fatalf("sink got %d records, want 2", len(got))
			}
			g := got[0]
			eq(t, "TimeUnixNano", g.TimeUnixNano, at.UnixNano())
			eq(t, "Severity", g.Severity, telemetry.Severity(14))
			eq(t, "SeverityText", g.SeverityText, "WARN")
			eq(t, "EventName", g.EventName, "login.failed")
			// The attribute package sorts a map's keys.
			if want := mapv(kv("attempt", i64(3)), kv("user", str("u-1"))); !g.Body.Equal(want) {
				t.Errorf("Body = %s, want %s", g.Body.Encode(), want.Encode())
			}
			compareAttrs(t, "Attributes", g.Attributes, telemetry.Attributes{kv("http.route", str("/api/activities")), kv("retry", bln(true))})
			eq(t, "TraceID", g.TraceID, tid("5b8efff798038103d269b633813fc60c"))
			eq(t, "SpanID", g.SpanID, sid("eee19b7ec3c1b174"))
			eq(t, "Flags", g.Flags, uint32(1))
			eq(t, "Group", g.Group, "cruddur-api")
			eq(t, "Stream", g.Stream, "api-7")
			eq(t, "Scope", *g.Scope, telemetry.Scope{Name: "cruddur/handlers", Version: "1.2.0"})
			eq(t, "Ingest", g.Ingest, telemetry.IngestInfo{Protocol: "otlp"})

			a := got[1]
			eq(t, "audit Group", a.Group, "/cruddur/audit")
			eq(t, "audit Stream", a.Stream, "api-7")
			if a.ObservedTimeUnixNano < before || a.TimeUnixNano != a.ObservedTimeUnixNano {
				t.Errorf("audit times %d, %d: want the time it was observed, after %d", a.TimeUnixNano, a.ObservedTimeUnixNano, before)
			}
			compareResource(t, "audit", a.Resource, g.Resource)
		})
	}
}
