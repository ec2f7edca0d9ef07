package ingest

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/klauspost/compress/s2"

	"lookout/internal/ingest/wal"
	"lookout/internal/metrics"
	"lookout/internal/telemetry"
)

func occurrenceFixture() []telemetry.Occurrence {
	return []telemetry.Occurrence{{
		UUID: "74d34b08-d76a-41b6-b685-928ef2338a86", Project: "cruddur", Environment: "production", Level: "error",
		TimeUnixNano: 1_795_543_327_000_000_000, ReceivedUnixNano: 1_795_543_327_250_000_000,
		Fingerprint: "5f1c", Grouping: "class and frames", Title: "RuntimeError: checkout failed",
		Class: "RuntimeError", CodeVersion: "abc123", Framework: "flask", Platform: "linux", Language: "python",
		Context: "/orders/<int:order_id>", Host: "vm", PersonID: "u1", UserIP: "203.0.113.9",
		Browser: "Firefox 120", OS: "Linux",
		TraceID: telemetry.TraceID{1, 2, 3}, SpanID: telemetry.SpanID{4, 5},
		Data:   `{"body":{"message":{"body":"ünïcode"}}}`,
		Ingest: telemetry.IngestInfo{Protocol: "rollbar", KeyID: "tok1"},
	}, {
		UUID: "u2", Project: "p", Environment: "e", Fingerprint: "f", TimeUnixNano: 5, ReceivedUnixNano: 4, Data: "{}",
	}}
}

func TestOccurrenceCodecRoundTrip(t *testing.T) {
	want := occurrenceFixture()
	got, err := decodeOccurrences(encodeOccurrences(want))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, want)
	}
	if _, err := decodeOccurrences(encodeLogs(logFixture())); err == nil {
		t.Fatal("a log record decoded as occurrences")
	}
	record := encodeOccurrences(want)
	if RecordType(record[0]) != RecordOccurrencesS2 {
		t.Fatalf("record type %d, want %d", record[0], RecordOccurrencesS2)
	}
	raw, err := s2.Decode(nil, record[1:])
	if err != nil {
		t.Fatal(err)
	}
	for cut := 0; cut < len(raw); cut += 5 {
		if _, err := decodeOccurrences(append([]byte{byte(RecordOccurrencesS2)}, s2.Encode(nil, raw[:cut])...)); err == nil {
			t.Fatalf("a record cut at %d of %d bytes decoded without error", cut, len(raw))
		}
	}
}

// Records that earlier versions wrote, the same batch compressed with zstd, stay readable.
func TestOccurrenceCodecReadsEarlierRecords(t *testing.T) {
	want := occurrenceFixture()
	raw, err := s2.Decode(nil, encodeOccurrences(want)[1:])
	if err != nil {
		t.Fatal(err)
	}
	earlier := zstdEncoder.EncodeAll(raw, []byte{byte(RecordOccurrences)})
	got, err := decodeOccurrences(earlier)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("earlier record differs:\n got %+v\nwant %+v", got, want)
	}
	if _, err := decodeOccurrences(append([]byte{byte(RecordOccurrences)}, encodeOccurrences(want)[1:]...)); err == nil {
		t.Fatal("an S2 batch decoded as zstd")
	}
}

// TestReplayReadsEarlierOccurrenceRecords: a run dies with a zstd record an earlier version
// logged and an S2 one in its log, neither loaded; the next run loads both.
func TestReplayReadsEarlierOccurrenceRecords(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	hung := func(ctx context.Context, _ []telemetry.Occurrence) error { <-ctx.Done(); return ctx.Err() }
	p1, err := NewPipeline(dir, newMemStore(), testConfig(), quiet, metrics.New())
	if err != nil {
		t.Fatal(err)
	}
	sink := AddInput(p1, Occurrences, hung).Sink("test")
	if err := p1.Start(ctx); err != nil {
		t.Fatal(err)
	}
	fixture := occurrenceFixture()
	raw, err := s2.Decode(nil, encodeOccurrences(fixture[:1])[1:])
	if err != nil {
		t.Fatal(err)
	}
	earlier := zstdEncoder.EncodeAll(raw, []byte{byte(RecordOccurrences)})
	if err := p1.append(ctx, 1, func() []byte { return earlier }, func(wal.Position) {}); err != nil {
		t.Fatal(err)
	}
	if err := sink.Write(ctx, fixture[1:]); err != nil {
		t.Fatal(err)
	}
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	p1.Shutdown(stopped) // the loader never loaded: both records stay in the log

	var mu sync.Mutex
	var loaded []string
	p2, err := NewPipeline(dir, newMemStore(), testConfig(), quiet, metrics.New())
	if err != nil {
		t.Fatal(err)
	}
	AddInput(p2, Occurrences, func(_ context.Context, occs []telemetry.Occurrence) error {
		mu.Lock()
		defer mu.Unlock()
		for _, o := range occs {
			loaded = append(loaded, o.UUID)
		}
		return nil
	})
	if err := p2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p2.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	slices.Sort(loaded)
	if want := []string{fixture[0].UUID, fixture[1].UUID}; !slices.Equal(loaded, want) {
		t.Fatalf("replay loaded %q, want %q", loaded, want)
	}
}

func FuzzDecodeOccurrences(f *testing.F) {
	f.Add(encodeOccurrences(occurrenceFixture()))
	f.Add([]byte{byte(RecordOccurrencesS2)})
	f.Add(seal(RecordOccurrences, []byte{1}))
	f.Fuzz(func(t *testing.T, record []byte) {
		occs, err := decodeOccurrences(record)
		if err != nil {
			return
		}
		again, err := decodeOccurrences(encodeOccurrences(occs))
		if err != nil || !reflect.DeepEqual(again, occs) {
			t.Fatalf("re-encoding a decoded record failed: %v", err)
		}
	})
}
