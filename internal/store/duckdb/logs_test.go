package duckdb

import (
	"context"
	"fmt"
	"testing"
	"time"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// TestPlainLogsOfSeveralStreams writes one batch of plain records whose group, stream and
// protocol change from record to record, and back: each reads back as written.
func TestPlainLogsOfSeveralStreams(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{MemoryLimit: "128MB", Threads: 1, Writers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res := &telemetry.Resource{Attributes: telemetry.Attributes{{Key: telemetry.ServiceNameKey, Value: telemetry.StringValue("g")}}}
	start := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC).UnixNano()
	kinds := [][3]string{{"a", "s1", "cloudwatch"}, {"a", "s1", "cloudwatch"}, {"a", "s2", "cloudwatch"}, {"b", "s1", "cloudwatch"}, {"a", "s1", "otlp"}}
	var logs []telemetry.LogRecord
	for i := range 40 {
		k := kinds[i*7%len(kinds)]
		logs = append(logs, telemetry.LogRecord{ID: 1<<24 + uint64(i), TimeUnixNano: start + int64(i)*1e6, ObservedTimeUnixNano: start + 1e9,
			Body: telemetry.StringValue(fmt.Sprintf("line %d of %v", i, k)), Resource: res, Group: k[0], Stream: k[1],
			Ingest: telemetry.IngestInfo{Protocol: k[2]}})
	}
	if err := s.WriteLogs(ctx, logs); err != nil {
		t.Fatal(err)
	}
	got, err := s.Logs(ctx, store.LogQuery{Groups: []string{"a", "b"}, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(logs) {
		t.Fatalf("read %d records, want %d", len(got), len(logs))
	}
	for _, r := range got {
		w := logs[r.ID-1<<24]
		if r.Group != w.Group || r.Stream != w.Stream || r.Ingest.Protocol != w.Ingest.Protocol || r.Body.AsString() != w.Body.AsString() || r.TimeUnixNano != w.TimeUnixNano {
			t.Errorf("record %d read as %s/%s/%s %q at %d, written as %s/%s/%s %q at %d", r.ID, r.Group, r.Stream, r.Ingest.Protocol, r.Body.AsString(), r.TimeUnixNano,
				w.Group, w.Stream, w.Ingest.Protocol, w.Body.AsString(), w.TimeUnixNano)
		}
	}
}

// TestLargeLogBatchReplayed writes a batch of several vectors, then the same batch again, as a
// replay of the ingest log does: every record is stored once, and the streams' figures count
// each once.
func TestLargeLogBatchReplayed(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{MemoryLimit: "128MB", Writers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res := &telemetry.Resource{Attributes: telemetry.Attributes{{Key: telemetry.ServiceNameKey, Value: telemetry.StringValue("g")}}}
	start := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC).UnixNano()
	const n = 5 * 2048 * 2
	logs := make([]telemetry.LogRecord, n)
	for i := range logs {
		logs[i] = telemetry.LogRecord{ID: 1<<24 + uint64(i), TimeUnixNano: start + int64(i)*1e6, ObservedTimeUnixNano: start + n*1e6,
			Body: telemetry.StringValue(fmt.Sprintf("line %05d", i)), Resource: res, Group: "g", Stream: []string{"a", "b"}[i/(n/4)%2],
			Ingest: telemetry.IngestInfo{Protocol: "cloudwatch"}}
	}
	for range 2 {
		if err := s.WriteLogs(ctx, logs); err != nil {
			t.Fatal(err)
		}
	}
	stored, ids := 0, map[uint64]bool{}
	err = s.ScanLogs(ctx, store.LogQuery{}, 4096, func(batch []telemetry.LogRecord) error {
		for _, r := range batch {
			stored, ids[r.ID] = stored+1, true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if distinct := len(ids); stored != n || distinct != n {
		t.Errorf("%d records stored, %d distinct, want %d", stored, distinct, n)
	}
	streams, err := s.LogStreams(ctx, store.LogStreamQuery{Group: "g"})
	if err != nil {
		t.Fatal(err)
	}
	if len(streams) != 2 {
		t.Fatalf("%d streams, want 2", len(streams))
	}
	for _, st := range streams {
		// Each stream holds every other quarter of the lines, each of 10 bytes.
		if st.Records != n/2 || st.StoredBytes != n/2*10 {
			t.Errorf("stream %s: %d records of %d bytes, want %d of %d", st.Name, st.Records, st.StoredBytes, n/2, n/2*10)
		}
	}
	if first := time.Unix(0, start); !streams[0].FirstEvent.Equal(first) {
		t.Errorf("stream a's first event at %v, want %v", streams[0].FirstEvent, first)
	}
}
