package ingest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"lookout/internal/telemetry"
)

// gatedWriter records batches and blocks each write until released.
type gatedWriter struct {
	mu      sync.Mutex
	batches []int
	gate    chan struct{}
	err     error
}

func (w *gatedWriter) WriteSpans(_ context.Context, spans []telemetry.Span) error {
	if w.gate != nil {
		<-w.gate
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.batches = append(w.batches, len(spans))
	return w.err
}

func spans(n int) []telemetry.Span { return make([]telemetry.Span, n) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestPipelineGroupsConcurrentRequests(t *testing.T) {
	w := &gatedWriter{gate: make(chan struct{})}
	p := NewPipeline(w, PipelineConfig{MaxPendingSpans: 1000, MaxBatchSpans: 1000, RetryAfter: time.Second}, quiet)
	defer p.Close()
	var wg sync.WaitGroup
	// The first request occupies the writer; the next ten queue up behind it.
	wg.Add(1)
	go func() { defer wg.Done(); p.WriteSpans(context.Background(), spans(5)) }()
	waitFor(t, func() bool { p.mu.Lock(); defer p.mu.Unlock(); return len(p.queue) == 0 && p.spans == 5 })
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.WriteSpans(context.Background(), spans(10)); err != nil {
				t.Error(err)
			}
		}()
	}
	waitFor(t, func() bool { p.mu.Lock(); defer p.mu.Unlock(); return len(p.queue) == 10 })
	close(w.gate)
	wg.Wait()
	if want := []int{5, 100}; len(w.batches) != 2 || w.batches[0] != want[0] || w.batches[1] != want[1] {
		t.Fatalf("store saw batches %v, want %v", w.batches, want)
	}
}

func TestPipelineRefusesBeyondPending(t *testing.T) {
	w := &gatedWriter{gate: make(chan struct{})}
	p := NewPipeline(w, PipelineConfig{MaxPendingSpans: 100, MaxBatchSpans: 100, RetryAfter: 3 * time.Second}, quiet)
	done := make(chan error)
	go func() { done <- p.WriteSpans(context.Background(), spans(80)) }()
	waitFor(t, func() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.spans == 80 })
	err := p.WriteSpans(context.Background(), spans(30))
	if after, ok := IsOverloaded(err); !ok || after != 3*time.Second {
		t.Fatalf("over the bound: err = %v, want OverloadedError with 3s", err)
	}
	go func() { done <- p.WriteSpans(context.Background(), spans(20)) }() // fits exactly
	waitFor(t, func() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.spans == 100 })
	close(w.gate)
	for i := 0; i < 2; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	if err := p.WriteSpans(context.Background(), spans(1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: err = %v, want ErrClosed", err)
	}
}

func TestPipelineReportsStoreErrors(t *testing.T) {
	w := &gatedWriter{err: errors.New("disk full")}
	p := NewPipeline(w, DefaultPipelineConfig(), quiet)
	defer p.Close()
	if err := p.WriteSpans(context.Background(), spans(3)); err == nil || err.Error() != "disk full" {
		t.Fatalf("err = %v, want the store's error", err)
	}
}

func TestPipelineCloseWritesAccepted(t *testing.T) {
	w := &gatedWriter{gate: make(chan struct{})}
	p := NewPipeline(w, DefaultPipelineConfig(), quiet)
	done := make(chan error)
	for i := 0; i < 3; i++ {
		go func() { done <- p.WriteSpans(context.Background(), spans(1)) }()
	}
	waitFor(t, func() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.spans == 3 })
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	close(w.gate)
	<-closed
	for i := 0; i < 3; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	total := 0
	for _, n := range w.batches {
		total += n
	}
	if total != 3 {
		t.Fatalf("wrote %d spans before closing, want 3", total)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
