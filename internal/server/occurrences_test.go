package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// TestOccurrencesOfATrace records the same exception on a child span of two traces with the
// OpenTelemetry Go SDK: the item's occurrences in one trace are that trace's only, each with
// the id of the span that recorded it (the trace page marks that span).
func TestOccurrencesOfATrace(t *testing.T) {
	srv := start(t)
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(srv.Addrs().HTTP), otlptracehttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "shop"))))
	defer tp.Shutdown(ctx)
	tracer := tp.Tracer("test")
	var traces, spans []string
	for range 2 {
		rctx, root := tracer.Start(ctx, "GET /cart")
		_, child := tracer.Start(rctx, "load cart")
		child.RecordError(errors.New("cart service unavailable"))
		child.End()
		root.End()
		traces, spans = append(traces, root.SpanContext().TraceID().String()), append(spans, child.SpanContext().SpanID().String())
	}
	var items struct{ Data []struct{ ID, Total int64 } }
	waitFor(t, func() bool {
		getJSON(t, srv, "/api/v1/errors/items?traceID="+traces[1], &items)
		return len(items.Data) == 1 && items.Data[0].Total == 2
	})
	var occs struct {
		Data []struct{ TraceID, SpanID string }
	}
	path := fmt.Sprintf("/api/v1/errors/items/%d/occurrences?traceID=%s", items.Data[0].ID, traces[1])
	if st := getJSON(t, srv, path, &occs); st != 200 || len(occs.Data) != 1 || occs.Data[0].TraceID != traces[1] || occs.Data[0].SpanID != spans[1] {
		t.Errorf("%s: %d %+v, want the one of span %s", path, st, occs.Data, spans[1])
	}
	var bad struct{ Errors []struct{ Msg string } }
	path = fmt.Sprintf("/api/v1/errors/items/%d/occurrences?traceID=xyz", items.Data[0].ID)
	if st := getJSON(t, srv, path, &bad); st != 400 || len(bad.Errors) != 1 || !strings.Contains(bad.Errors[0].Msg, "invalid trace id") {
		t.Errorf("%s: %d %+v", path, st, bad)
	}
}

// TestOccurrencePages pages through an item's occurrences, sent to the Rollbar API: every one
// comes exactly once, newest first.
func TestOccurrencePages(t *testing.T) {
	srv := start(t)
	const n, page = 23, 5
	now := time.Now().Add(-time.Hour).Unix()
	for i := range n {
		body := fmt.Sprintf(`{"access_token":"paging-token","data":{"environment":"production","uuid":"occ-%02d","timestamp":%d,`+
			`"body":{"trace":{"frames":[{"filename":"app.py","lineno":3}],"exception":{"class":"ValueError","message":"bad %d"}}}}}`, i, now+int64(i), i)
		resp, err := http.Post("http://"+srv.Addrs().HTTP+"/api/1/item/", "application/json", strings.NewReader(body))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("posting an item: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	var items struct{ Data []struct{ ID, Total int64 } }
	waitFor(t, func() bool {
		getJSON(t, srv, "/api/v1/errors/items", &items)
		return len(items.Data) == 1 && items.Data[0].Total == n
	})
	var got []string
	for offset := 0; ; offset += page {
		var occs struct{ Data []struct{ UUID string } }
		getJSON(t, srv, fmt.Sprintf("/api/v1/errors/items/%d/occurrences?limit=%d&offset=%d", items.Data[0].ID, page, offset), &occs)
		for _, o := range occs.Data {
			got = append(got, o.UUID)
		}
		if len(occs.Data) < page {
			break
		}
	}
	var want []string
	for i := n - 1; i >= 0; i-- {
		want = append(want, fmt.Sprintf("occ-%02d", i))
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages of %d: %v, want %v", page, got, want)
	}
	var bad struct{ Errors []struct{ Msg string } }
	if st := getJSON(t, srv, fmt.Sprintf("/api/v1/errors/items/%d/occurrences?offset=-1", items.Data[0].ID), &bad); st != 400 || len(bad.Errors) != 1 {
		t.Errorf("a negative offset: %d %+v", st, bad)
	}
}
