package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"
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
	cfg, level, err := parseFlags([]string{"--http", "127.0.0.1:9999", "--log-level", "debug", "--max-value-bytes", "1KiB"}, io.Discard, func(k string) string { return env[k] })
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
	}); err == nil || !strings.Contains(err.Error(), "LOOKOUT_RETENTION") {
		t.Fatalf("a bad variable: err = %v, want one naming LOOKOUT_RETENTION", err)
	}
}
