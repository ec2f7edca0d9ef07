package server_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// TestSpanExceptionsAreItems records exceptions on spans with the OpenTelemetry Go SDK and
// finds them as error items of the service's project, grouped as Rollbar groups, each
// occurrence in its trace.
func TestSpanExceptionsAreItems(t *testing.T) {
	srv := start(t)
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(srv.Addrs().HTTP), otlptracehttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(resource.NewSchemaless(
		attribute.String("service.name", "checkout"), attribute.String("deployment.environment.name", "production"))))
	defer tp.Shutdown(ctx)
	tracer := tp.Tracer("test")
	var traces []string
	fail := func(err error) {
		_, span := tracer.Start(ctx, "POST /pay")
		span.RecordError(err, trace.WithStackTrace(true))
		span.End()
		traces = append(traces, span.SpanContext().TraceID().String())
	}
	for i := range 2 {
		fail(fmt.Errorf("card %d declined", i)) // the same error twice: one item
	}
	fail(&os.PathError{Op: "open", Path: "/etc/shop.conf", Err: os.ErrPermission}) // other classes
	fail(errors.Join(os.ErrClosed))
	var items struct {
		Data []struct {
			Title, Project, Environment, Class string
			Total                              int64
		}
	}
	waitFor(t, func() bool {
		getJSON(t, srv, "/api/v1/errors/items?project=checkout&sort=count", &items)
		return len(items.Data) >= 3
	})
	if len(items.Data) != 3 || items.Data[0].Total != 2 || items.Data[0].Class != "*errors.errorString" || items.Data[0].Environment != "production" {
		t.Errorf("items %+v", items.Data)
	}
	var inTrace struct{ Data []struct{ Title string } }
	getJSON(t, srv, "/api/v1/errors/items?traceID="+traces[2], &inTrace)
	if len(inTrace.Data) != 1 || inTrace.Data[0].Title != "*fs.PathError: open /etc/shop.conf: permission denied" {
		t.Errorf("the item of trace %s: %+v", traces[2], inTrace.Data)
	}
}
