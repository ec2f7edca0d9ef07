package server_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
)

type logsResponse struct {
	Data []struct {
		Group, Stream, SeverityText, TraceID, SpanID string
		Body                                         any
		Severity                                     int
		Time                                         time.Time
		Attributes                                   map[string]any
	} `json:"data"`
}

// TestOTLPLogs sends log records with the OpenTelemetry Go logs SDK over OTLP/HTTP and
// OTLP/gRPC to a real lookout, and reads them back by group and by trace.
func TestOTLPLogs(t *testing.T) {
	srv := start(t)
	ctx := context.Background()
	exporters := map[string]func() (sdklog.Exporter, error){
		"http": func() (sdklog.Exporter, error) {
			return otlploghttp.New(ctx, otlploghttp.WithEndpoint(srv.Addrs().HTTP), otlploghttp.WithInsecure())
		},
		"grpc": func() (sdklog.Exporter, error) {
			return otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(srv.Addrs().GRPC), otlploggrpc.WithInsecure())
		},
	}
	for transport, newExporter := range exporters {
		t.Run(transport, func(t *testing.T) {
			exp, err := newExporter()
			if err != nil {
				t.Fatal(err)
			}
			service := "logs-" + transport
			provider := sdklog.NewLoggerProvider(sdklog.WithResource(resource.NewSchemaless(attribute.String("service.name", service))),
				sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
			logger := provider.Logger("cruddur")
			traceID := trace.TraceID{0xab, transport[0], 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
			sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}})
			when := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
			for i, line := range []string{"GET /api/activities/home 200", "POST /api/messages 500"} {
				var r otellog.Record
				r.SetTimestamp(when.Add(time.Duration(i) * time.Second))
				r.SetSeverity(otellog.SeverityInfo + otellog.Severity(8*i))
				r.SetSeverityText([]string{"INFO", "ERROR"}[i])
				r.SetBody(attribute.StringValue(line))
				r.AddAttributes(attribute.Int("n", i))
				c := ctx
				if i == 1 {
					c = trace.ContextWithSpanContext(ctx, sc)
				}
				logger.Emit(c, r)
			}
			if err := provider.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			var got logsResponse
			waitFor(t, func() bool {
				getJSON(t, srv, "/api/v1/logs?group="+url.QueryEscape(service), &got)
				return len(got.Data) == 2
			})
			first, second := got.Data[0], got.Data[1]
			if first.Body != "GET /api/activities/home 200" || first.SeverityText != "INFO" || !first.Time.Equal(when) || first.Attributes["n"] != float64(0) {
				t.Errorf("first record %+v", first)
			}
			if second.Body != "POST /api/messages 500" || second.Severity != 17 || second.TraceID != traceID.String() || second.Stream != "default" {
				t.Errorf("second record %+v", second)
			}
			var byTrace logsResponse
			getJSON(t, srv, "/api/v1/logs?traceID="+traceID.String(), &byTrace)
			if len(byTrace.Data) != 1 || byTrace.Data[0].Body != second.Body {
				t.Errorf("logs of trace %s: %+v", traceID, byTrace.Data)
			}
		})
	}
}
