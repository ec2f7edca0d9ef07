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

// memStore records loaded spans by id; it can be held shut, and made to fail.
type memStore struct {
	mu          sync.Mutex
	spans       map[telemetry.SpanID]bool
	writes      int
	checkpoints int
	gate        chan struct{} // when set, writes wait for it to close
	failures    int           // the next writes that fail
}

func newMemStore() *memStore { return &memStore{spans: map[telemetry.SpanID]bool{}} }

func (m *memStore) WriteSpans(_ context.Context, spans []telemetry.Span) error {
	m.mu.Lock()
	gate := m.gate
	m.mu.Unlock()
	if gate != nil {
		<-gate
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failures > 0 {
		m.failures--
		return errors.New("disk full")
	}
	m.writes++
	for _, s := range spans {
		m.spans[s.SpanID] = true
	}
	return nil
}

func (m *memStore) Checkpoint(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.checkpoints++
	return nil
}

func (m *memStore) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.spans)
}

// batch returns n valid spans with ids starting at first.
func batch(first, n int) []telemetry.Span {
	res := &telemetry.Resource{Attributes: telemetry.Attributes{{Key: "service.name", Value: telemetry.StringValue("svc")}}}
	spans := make([]telemetry.Span, n)
	for i := range spans {
		id := uint64(first + i + 1)
		spans[i] = telemetry.Span{TraceID: telemetry.TraceIDFromParts(1, id), SpanID: telemetry.SpanIDFromUint64(id),
			Name: "op", StartUnixNano: int64(id), EndUnixNano: int64(id) + 10, Resource: res}
	}
	return spans
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func testConfig() PipelineConfig {
	return PipelineConfig{MaxPendingSpans: 100, MaxBatchSpans: 1000, RetryAfter: 3 * time.Second, CheckpointEvery: time.Hour}
}

func open(t *testing.T, dir string, st Store) *Pipeline {
	t.Helper()
	p, err := OpenPipeline(context.Background(), dir, st, testConfig(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPipelineLoadsWhatItAcknowledges(t *testing.T) {
	st := newMemStore()
	p := open(t, t.TempDir(), st)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.WriteSpans(context.Background(), batch(i*10, 10)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if st.count() != 80 {
		t.Fatalf("store holds %d spans after Close, want 80", st.count())
	}
	if st.checkpoints < 2 { // one after recovery, one on close
		t.Fatalf("%d checkpoints, want at least 2", st.checkpoints)
	}
	if err := p.WriteSpans(context.Background(), batch(0, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: err = %v, want ErrClosed", err)
	}
}

func TestPipelineRefusesBeyondPending(t *testing.T) {
	st := newMemStore()
	st.gate = make(chan struct{})
	p := open(t, t.TempDir(), st)
	if err := p.WriteSpans(context.Background(), batch(0, 80)); err != nil {
		t.Fatal(err)
	}
	err := p.WriteSpans(context.Background(), batch(80, 30))
	if o, ok := errors.AsType[*OverloadedError](err); !ok || o.RetryAfter != 3*time.Second {
		t.Fatalf("over the bound: err = %v, want OverloadedError with 3s", err)
	}
	if err := p.WriteSpans(context.Background(), batch(80, 20)); err != nil { // fits exactly
		t.Fatal(err)
	}
	close(st.gate)
	p.Close()
	if st.count() != 100 {
		t.Fatalf("store holds %d spans, want 100", st.count())
	}
}

func TestPipelineRetriesFailedLoads(t *testing.T) {
	st := newMemStore()
	st.failures = 2
	p := open(t, t.TempDir(), st)
	if err := p.WriteSpans(context.Background(), batch(0, 5)); err != nil {
		t.Fatalf("acknowledgement does not wait for the store: %v", err)
	}
	p.Close()
	if st.count() != 5 {
		t.Fatalf("store holds %d spans after two failed loads, want 5", st.count())
	}
}

// TestPipelineReplaysAfterCrash acknowledges spans the store never gets (its writes hang, as
// if the process died), then opens the same directory again: the spans must arrive.
func TestPipelineReplaysAfterCrash(t *testing.T) {
	dir := t.TempDir()
	hung := newMemStore()
	hung.gate = make(chan struct{}) // never opened: the first run dies before loading
	p1 := open(t, dir, hung)
	for i := 0; i < 3; i++ {
		if err := p1.WriteSpans(context.Background(), batch(i*10, 10)); err != nil {
			t.Fatal(err)
		}
	}
	st := newMemStore()
	p2 := open(t, dir, st)
	if st.count() != 30 {
		t.Fatalf("replay loaded %d spans, want 30", st.count())
	}
	p2.Close()

	// The replay was checkpointed: a third run has nothing to replay.
	again := newMemStore()
	p3 := open(t, dir, again)
	defer p3.Close()
	if again.count() != 0 {
		t.Fatalf("a checkpointed log replayed %d spans", again.count())
	}
}

// TestPipelineWaitsBrieflyForRoom checks that a request over the bound waits for the loader
// instead of being refused at once, and that the waiting room itself is bounded.
func TestPipelineWaitsBrieflyForRoom(t *testing.T) {
	st := newMemStore()
	st.gate = make(chan struct{})
	cfg := testConfig()
	cfg.MaxWait = time.Minute
	p, err := OpenPipeline(context.Background(), t.TempDir(), st, cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WriteSpans(context.Background(), batch(0, 90)); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error)
	go func() { waited <- p.WriteSpans(context.Background(), batch(90, 60)) }()
	waitUntil(t, func() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.waiting == 60 })
	// The waiting room holds MaxPendingSpans at most: a further 50 spans are refused at once.
	if _, ok := errors.AsType[*OverloadedError](p.WriteSpans(context.Background(), batch(150, 50))); !ok {
		t.Fatal("a request beyond the waiting room was not refused")
	}
	close(st.gate) // the loader stores the first 90 spans and frees their room
	if err := <-waited; err != nil {
		t.Fatalf("the waiting request failed: %v", err)
	}
	p.Close()
	if st.count() != 150 {
		t.Fatalf("store holds %d spans, want 150", st.count())
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
