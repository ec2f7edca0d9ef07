package duckdb

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"lookout/internal/telemetry"
)

// TestStoredTracesAreKnown checks that spans sent again are stored once, whether the store
// learnt of their traces in this run, is reading them after a reopen or has read them, or
// reads them again into a filter grown full, and that an in-progress span is still replaced
// by its end.
func TestStoredTracesAreKnown(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	rnd := rand.New(rand.NewPCG(3, 4))
	first := xraySpans(rnd, 2_000, 1_700_000_000_000_000_000)
	count := func(s *Store) (n int) {
		t.Helper()
		if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM spans").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	write := func(s *Store, spans []telemetry.Span) {
		t.Helper()
		if err := s.WriteSpans(ctx, spans); err != nil {
			t.Fatal(err)
		}
	}

	s, err := Open(ctx, DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	write(s, first[:1000])
	readTraceFilter(t, s)
	write(s, first[1000:])
	write(s, first) // again in the same run: the traces of first[1000:] the writers added
	if n := count(s); n != len(first) {
		t.Fatalf("%d spans stored of %d sent twice", n, len(first))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	write(s, first[:500]) // the first write after a reopen, while the filter is read
	readTraceFilter(t, s)
	write(s, first[500:1000]) // with the filter read from trace_index
	if n := count(s); n != len(first) {
		t.Fatalf("after a reopen, %d spans stored of %d", n, len(first))
	}

	// A filter past its capacity is read again, larger, from what is stored.
	s.traces.mu.Lock()
	s.traces.ids = newIDFilter(0)
	s.traces.ids.n = s.traces.ids.capacity + 1
	s.traces.mu.Unlock()
	write(s, first[1000:1500])
	readTraceFilter(t, s)
	write(s, first[1500:])
	if n := count(s); n != len(first) {
		t.Fatalf("after the filter's reload, %d spans stored of %d", n, len(first))
	}

	// A span first stored in progress is replaced by its completed version.
	open := first[0]
	open.SpanID = telemetry.SpanIDFromUint64(rnd.Uint64())
	open.ParentSpanID = first[0].SpanID
	open.InProgress = true
	if err := s.ReviseSpans(ctx, []telemetry.Span{open}); err != nil {
		t.Fatal(err)
	}
	done := open
	done.InProgress = false
	if err := s.ReviseSpans(ctx, []telemetry.Span{done}); err != nil {
		t.Fatal(err)
	}
	var total, inProgress int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*), count(*) FILTER (in_progress) FROM spans").Scan(&total, &inProgress); err != nil {
		t.Fatal(err)
	}
	if total != len(first)+1 || inProgress != 0 {
		t.Errorf("after a revision: %d spans, %d in progress; want %d, 0", total, inProgress, len(first)+1)
	}
}

// readTraceFilter has the store read its filter of stored traces, if it is not read, and
// waits until it is.
func readTraceFilter(tb testing.TB, s *Store) {
	tb.Helper()
	s.traces.mayHold(nil) // starts the read if none is under way
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		s.traces.mu.Lock()
		loaded := s.traces.loaded
		s.traces.mu.Unlock()
		if loaded {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatal("the trace filter was not read")
		}
	}
}

// TestTracesStoredWhileReading checks that traces committed while the filter is read are in
// it once read.
func TestTracesStoredWhileReading(t *testing.T) {
	s, err := Open(context.Background(), DefaultConfig(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f := s.traces
	id := telemetry.TraceIDFromParts(7, 8) // not in trace_index: only the writers' word has it
	ranges := []tracedRange{{id: id}}
	f.mu.Lock()
	f.loading = true
	f.mu.Unlock()
	f.stored(ranges)
	f.load()
	if maybe := f.mayHold(ranges); len(maybe) != 1 {
		t.Error("a trace stored while the filter was read is not in it")
	}
	if maybe := f.mayHold([]tracedRange{{id: telemetry.TraceIDFromParts(7, 9)}}); len(maybe) != 0 {
		t.Error("the filter holds a trace never stored")
	}
}
