package duckdb

import (
	"context"
	"testing"

	"lookout/internal/telemetry"
)

// DuckDB keeps only valid UTF-8; text that is not is stored with U+FFFD for each bad byte
// rather than refused or lost.
func TestWriteInvalidUTF8(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{Dir: t.TempDir(), Writers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const bad, fixed = "a\xffb\xfe", "a\uFFFDb\uFFFD"
	span := telemetry.Span{
		TraceID: telemetry.TraceIDFromParts(1, 2), SpanID: telemetry.SpanIDFromUint64(3), Name: bad,
		StartUnixNano: 1_700_000_000_000_000_000, EndUnixNano: 1_700_000_000_000_000_100,
		Attributes: telemetry.Attributes{{Key: "k", Value: telemetry.StringValue(bad)}},
		Events:     []telemetry.Event{{TimeUnixNano: 1_700_000_000_000_000_050, Name: bad}},
		Resource:   &telemetry.Resource{Attributes: telemetry.Attributes{{Key: "service.name", Value: telemetry.StringValue(bad)}}},
		Status:     telemetry.Status{Code: telemetry.StatusError, Message: bad},
		Ingest:     telemetry.IngestInfo{Protocol: "otlp", Dataset: bad},
	}
	if err := s.WriteSpans(ctx, []telemetry.Span{span}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Trace(ctx, span.TraceID)
	if err != nil {
		t.Fatal(err)
	}
	g := got[0]
	for what, text := range map[string]string{
		"name": g.Name, "attribute": g.Attributes[0].Value.Str(), "event": g.Events[0].Name, "service": g.Service(),
		"status message": g.Status.Message, "dataset": g.Ingest.Dataset,
	} {
		if text != fixed {
			t.Errorf("%s: got %q, want %q", what, text, fixed)
		}
	}
	var name string
	if err := s.db.QueryRowContext(ctx, "SELECT name FROM annotations").Scan(&name); err != nil || name != fixed {
		t.Errorf("annotation name %q (err %v), want %q", name, err, fixed)
	}
}
