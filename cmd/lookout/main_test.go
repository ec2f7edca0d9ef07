package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"lookout/internal/ingest"
	"lookout/internal/metrics"
	"lookout/internal/server"
	"lookout/internal/telemetry"
)

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "lookout dev\n" {
		t.Fatalf("version printed %q", got)
	}
	if err := run(context.Background(), []string{"frobnicate"}, io.Discard, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Fatalf("unknown command: err = %v", err)
	}
}

// TestFlagsAndEnvironment checks that each flag defaults to its LOOKOUT_ variable, and that a
// flag given on the command line wins.
func TestFlagsAndEnvironment(t *testing.T) {
	env := map[string]string{
		"LOOKOUT_DATA":                "/var/lib/lookout",
		"LOOKOUT_HTTP":                "0.0.0.0:14318",
		"LOOKOUT_RETENTION":           "48h",
		"LOOKOUT_MAX_PENDING_BYTES":   "16MiB",
		"LOOKOUT_DUCKDB_MEMORY_LIMIT": "96MB",
	}
	cfg, level, err := parseFlags([]string{"--http", "127.0.0.1:9999", "--log-level", "debug", "--max-value-bytes", "1KiB"}, io.Discard, func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "/var/lib/lookout" || cfg.Retention != 48*time.Hour || cfg.Pipeline.MaxPendingBytes != 16<<20 || cfg.Store.DuckDB.MemoryLimit != "96MB" {
		t.Errorf("environment not applied: %+v", cfg)
	}
	if cfg.Pipeline.Limits.MaxValueBytes != 1024 || cfg.Store.Kind != "duckdb" {
		t.Errorf("--max-value-bytes 1KiB gave %d; store %q", cfg.Pipeline.Limits.MaxValueBytes, cfg.Store.Kind)
	}
	if cfg.HTTPAddr != "127.0.0.1:9999" {
		t.Errorf("--http = %q, want the flag to win over LOOKOUT_HTTP", cfg.HTTPAddr)
	}
	if cfg.GRPCAddr != "127.0.0.1:4317" || cfg.UIAddr != "127.0.0.1:8080" {
		t.Errorf("defaults changed: grpc %q ui %q", cfg.GRPCAddr, cfg.UIAddr)
	}
	if level.String() != "DEBUG" {
		t.Errorf("log level %v", level)
	}
	if _, _, err := parseFlags(nil, io.Discard, func(k string) string {
		if k == "LOOKOUT_RETENTION" {
			return "a week"
		}
		return ""
	}, nil); err == nil || !strings.Contains(err.Error(), "LOOKOUT_RETENTION") {
		t.Fatalf("a bad variable: err = %v, want one naming LOOKOUT_RETENTION", err)
	}
}

// refusingStore refuses spans named "poison" and takes the rest.
type refusingStore struct{}

func (refusingStore) WriteSpans(_ context.Context, spans []telemetry.Span) error {
	for _, s := range spans {
		if s.Name == "poison" {
			return errors.New("out of memory")
		}
	}
	return nil
}
func (refusingStore) Checkpoint(context.Context) error { return nil }

// TestDeadLetterCommand sets a span aside as the pipeline does when the store keeps refusing
// it, then lists it with lookout dead-letter.
func TestDeadLetterCommand(t *testing.T) {
	data := t.TempDir()
	p, err := ingest.NewPipeline(server.IngestLogDir(data), refusingStore{}, ingest.DefaultPipelineConfig(), slog.New(slog.DiscardHandler), metrics.New())
	if err != nil {
		t.Fatal(err)
	}
	sink := ingest.AddInput(p, ingest.Spans, refusingStore{}.WriteSpans).Sink("test")
	p.Start(context.Background())
	res := &telemetry.Resource{Attributes: telemetry.Attributes{{Key: "service.name", Value: telemetry.StringValue("api")}}}
	span := telemetry.Span{TraceID: telemetry.TraceID{1}, SpanID: telemetry.SpanID{2}, Name: "poison", StartUnixNano: 1, EndUnixNano: 2, Resource: res}
	if err := sink.Write(context.Background(), []telemetry.Span{span}); err != nil {
		t.Fatal(err)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"dead-letter", "--data", data, "--items"}, &out, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"spans, 1 items", "out of memory", `service "api" name "poison"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("lookout dead-letter printed %q; want it to contain %q", out.String(), want)
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"dead-letter", "--data", t.TempDir()}, &out, func(string) string { return "" }); err != nil || !strings.Contains(out.String(), "nothing was set aside") {
		t.Fatalf("an empty data directory: %q, %v", out.String(), err)
	}
}
