package storetest

import (
	"context"
	"testing"
	"time"

	"lookout/internal/telemetry"
)

// versions returns the versions an X-Ray client may send of one span: in progress (ending
// when it was last seen), complete with an exception event, and complete but stored before
// its service was known (a subsegment sent without its segment).
func versions() (inProgress, complete, unknownService telemetry.Span) {
	svc := resource("checkout")
	complete = telemetry.Span{
		TraceID: traceID(60), SpanID: spanID(1), Name: "POST /pay", Kind: telemetry.SpanKindServer,
		StartUnixNano: at(0), EndUnixNano: at(800 * time.Millisecond), Resource: svc,
		Status:     telemetry.Status{Code: telemetry.StatusError, Message: "card declined"},
		Attributes: telemetry.Attributes{{Key: "http.status_code", Value: telemetry.IntValue(502)}},
		Events:     []telemetry.Event{{TimeUnixNano: at(790 * time.Millisecond), Name: "exception"}},
		Ingest:     telemetry.IngestInfo{Protocol: "xray"},
	}
	inProgress = telemetry.Span{
		TraceID: complete.TraceID, SpanID: complete.SpanID, Name: "POST /pay", Kind: telemetry.SpanKindServer,
		StartUnixNano: at(0), EndUnixNano: at(100 * time.Millisecond), InProgress: true, Resource: svc,
		Ingest: telemetry.IngestInfo{Protocol: "xray"},
	}
	unknownService = complete
	unknownService.Resource = &telemetry.Resource{}
	return inProgress, complete, unknownService
}

func testRevise(t *testing.T, b Backend) {
	inProgress, complete, unknown := versions()
	child := telemetry.Span{TraceID: complete.TraceID, SpanID: spanID(2), ParentSpanID: complete.SpanID, Name: "charge",
		Kind: telemetry.SpanKindClient, StartUnixNano: at(10 * time.Millisecond), EndUnixNano: at(700 * time.Millisecond),
		Resource: complete.Resource, Ingest: telemetry.IngestInfo{Protocol: "xray"}}
	cases := []struct {
		name    string
		batches [][]telemetry.Span
		want    telemetry.Span
	}{
		{"complete replaces in progress", [][]telemetry.Span{{inProgress, child}, {complete}}, complete},
		{"in progress after complete is skipped", [][]telemetry.Span{{complete, child}, {inProgress}}, complete},
		{"both in one batch", [][]telemetry.Span{{inProgress, child, complete, inProgress}}, complete},
		{"known service replaces unknown", [][]telemetry.Span{{unknown, child}, {complete}}, complete},
		{"unknown after known is skipped", [][]telemetry.Span{{complete, child}, {unknown}}, complete},
		{"a retried complete version counts once", [][]telemetry.Span{{inProgress, child}, {complete}, {complete}, {inProgress}}, complete},
		{"in progress alone stays", [][]telemetry.Span{{inProgress, child}, {inProgress}}, inProgress},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, b)
			for _, batch := range tc.batches {
				if err := s.SpanReviser.ReviseSpans(context.Background(), batch); err != nil {
					t.Fatalf("ReviseSpans: %v", err)
				}
			}
			got, err := s.Trace(context.Background(), complete.TraceID)
			if err != nil {
				t.Fatal(err)
			}
			compareSpans(t, got, []telemetry.Span{tc.want, child})
		})
	}
	t.Run("WriteSpans does not revise", func(t *testing.T) {
		s := open(t, b)
		write(t, s, []telemetry.Span{inProgress})
		write(t, s, []telemetry.Span{complete})
		got, err := s.Trace(context.Background(), complete.TraceID)
		if err != nil {
			t.Fatal(err)
		}
		compareSpans(t, got, []telemetry.Span{inProgress})
	})
}
