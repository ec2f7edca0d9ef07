package ingest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"lookout/internal/ingest/wal"
	"lookout/internal/metrics"
	"lookout/internal/telemetry"
)

// memStore records loaded spans and log records by id; it can be held shut, made to fail,
// and made to refuse chosen spans for good.
type memStore struct {
	mu          sync.Mutex
	spans       map[telemetry.SpanID]bool
	logs        map[string]bool
	logIDs      map[string]uint64 // by body
	logOrder    []uint64          // the ids of the log records, in the order they were written
	writes      int
	checkpoints int
	gate        chan struct{} // when set, writes wait for it to close or for their context
	failures    int           // the next writes that fail
	poison      string        // spans with this name are refused
}

func newMemStore() *memStore {
	return &memStore{spans: map[telemetry.SpanID]bool{}, logs: map[string]bool{}, logIDs: map[string]uint64{}}
}

func (m *memStore) wait(ctx context.Context) error {
	m.mu.Lock()
	gate := m.gate
	m.mu.Unlock()
	if gate == nil {
		return nil
	}
	select {
	case <-gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *memStore) WriteSpans(ctx context.Context, spans []telemetry.Span) error {
	if err := m.wait(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failures > 0 {
		m.failures--
		return errors.New("disk full")
	}
	for _, s := range spans {
		if m.poison != "" && s.Name == m.poison {
			return errors.New("out of memory")
		}
	}
	m.writes++
	for _, s := range spans {
		m.spans[s.SpanID] = true
	}
	return nil
}

func (m *memStore) WriteLogs(ctx context.Context, logs []telemetry.LogRecord) error {
	if err := m.wait(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range logs {
		m.logs[r.Body.Str()] = true
		m.logIDs[r.Body.Str()] = r.ID
		m.logOrder = append(m.logOrder, r.ID)
	}
	return nil
}

func (m *memStore) Checkpoint(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.checkpoints++
	return nil
}

func (m *memStore) count() (spans, logs int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.spans), len(m.logs)
}

var testResource = &telemetry.Resource{Attributes: telemetry.Attributes{{Key: "service.name", Value: telemetry.StringValue("svc")}}}

// batch returns n valid spans with ids starting at first.
func batch(first, n int) []telemetry.Span {
	spans := make([]telemetry.Span, n)
	for i := range spans {
		id := uint64(first + i + 1)
		spans[i] = telemetry.Span{TraceID: telemetry.TraceIDFromParts(1, id), SpanID: telemetry.SpanIDFromUint64(id),
			Name: "op", StartUnixNano: int64(id), EndUnixNano: int64(id) + 10, Resource: testResource}
	}
	return spans
}

// logBatch returns n log records whose bodies are "line <first+i>".
func logBatch(first, n int) []telemetry.LogRecord {
	logs := make([]telemetry.LogRecord, n)
	for i := range logs {
		logs[i] = telemetry.LogRecord{TimeUnixNano: int64(first + i + 1), Body: telemetry.StringValue("line " + strconv.Itoa(first+i)),
			Resource: testResource, Group: "svc", Stream: "default"}
	}
	return logs
}

// spanBytes is the memory the pipeline counts for one span of batch.
var spanBytes = int64(batch(0, 1)[0].Size())

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func testConfig() PipelineConfig {
	cfg := DefaultPipelineConfig()
	cfg.MaxPendingBytes = 100 * spanBytes
	cfg.RetryAfter = 3 * time.Second
	cfg.CheckpointEvery = time.Hour
	return cfg
}

// harness is a started pipeline over a memStore with a sink for each signal.
type harness struct {
	p     *Pipeline
	spans Sink[telemetry.Span]
	logs  Sink[telemetry.LogRecord]
}

func start(t *testing.T, dir string, st *memStore, cfg PipelineConfig) harness {
	t.Helper()
	p, err := NewPipeline(dir, st, cfg, quiet, metrics.New())
	if err != nil {
		t.Fatal(err)
	}
	h := harness{p: p,
		spans: AddInput(p, Spans, st.WriteSpans).Sink("test"),
		logs:  AddInput(p, Logs, st.WriteLogs).Sink("test")}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h harness) shutdown(t *testing.T) {
	t.Helper()
	if err := h.p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestPipelineLoadsWhatItAcknowledges(t *testing.T) {
	st := newMemStore()
	h := start(t, t.TempDir(), st, testConfig())
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := h.spans.Write(context.Background(), batch(i*10, 10)); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			if err := h.logs.Write(context.Background(), logBatch(i*3, 3)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	h.shutdown(t)
	if spans, logs := st.count(); spans != 80 || logs != 24 {
		t.Fatalf("store holds %d spans and %d log records after Shutdown, want 80 and 24", spans, logs)
	}
	if st.checkpoints < 1 {
		t.Fatal("no checkpoint on Shutdown")
	}
	if err := h.spans.Write(context.Background(), batch(0, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Shutdown: err = %v, want ErrClosed", err)
	}
}

func TestPipelineRefusesBeyondPending(t *testing.T) {
	st := newMemStore()
	st.gate = make(chan struct{})
	cfg := testConfig()
	cfg.MaxWait = 0
	h := start(t, t.TempDir(), st, cfg)
	if err := h.spans.Write(context.Background(), batch(0, 80)); err != nil {
		t.Fatal(err)
	}
	err := h.spans.Write(context.Background(), batch(80, 30))
	if o, ok := errors.AsType[*OverloadedError](err); !ok || o.RetryAfter != 3*time.Second {
		t.Fatalf("over the bound: err = %v, want OverloadedError with 3s", err)
	}
	if err := h.spans.Write(context.Background(), batch(80, 20)); err != nil { // fits exactly
		t.Fatal(err)
	}
	// Log records count against the same bound.
	if _, ok := errors.AsType[*OverloadedError](h.logs.Write(context.Background(), logBatch(0, 1))); !ok {
		t.Fatal("a log record beyond the bound shared with spans was taken")
	}
	close(st.gate)
	h.shutdown(t)
	if spans, _ := st.count(); spans != 100 {
		t.Fatalf("store holds %d spans, want 100", spans)
	}
}

func TestPipelineRetriesFailedLoads(t *testing.T) {
	st := newMemStore()
	st.failures = 12 // the batch and its eight parts, then two retries
	h := start(t, t.TempDir(), st, testConfig())
	if err := h.spans.Write(context.Background(), batch(0, 10)); err != nil {
		t.Fatalf("acknowledgement does not wait for the store: %v", err)
	}
	h.shutdown(t)
	if spans, _ := st.count(); spans != 10 {
		t.Fatalf("store holds %d spans after failed loads, want 10", spans)
	}
	n := 0
	if err := ReadDeadLetters(h.p.dir, func(DeadLetter) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("a failing store set %d entries aside (err %v); it should be retried", n, err)
	}
}

// TestPipelineSetsAsideWhatTheStoreRefuses checks that one item the store can never take
// does not hold back the others: they are stored, it goes to the dead-letter log, and the
// pipeline goes on.
func TestPipelineSetsAsideWhatTheStoreRefuses(t *testing.T) {
	st := newMemStore()
	st.poison = "poison"
	h := start(t, t.TempDir(), st, testConfig())
	spans := batch(0, 20)
	spans[13].Name = "poison"
	if err := h.spans.Write(context.Background(), spans); err != nil {
		t.Fatal(err)
	}
	single := batch(100, 1)
	single[0].Name = "poison"
	if err := h.spans.Write(context.Background(), single); err != nil {
		t.Fatal(err)
	}
	if err := h.spans.Write(context.Background(), batch(200, 5)); err != nil {
		t.Fatal(err)
	}
	h.shutdown(t)
	if n, _ := st.count(); n != 24 {
		t.Fatalf("store holds %d spans, want the 24 good ones", n)
	}
	var entries []DeadLetter
	if err := ReadDeadLetters(h.p.dir, func(d DeadLetter) error { entries = append(entries, d); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("dead-letter log holds %d entries, want 2: %+v", len(entries), entries)
	}
	for _, e := range entries {
		if e.Signal != "spans" || len(e.Items) != 1 || !strings.Contains(e.Items[0], `name "poison"`) || !strings.Contains(e.Reason, "out of memory") {
			t.Errorf("unexpected dead letter %+v", e)
		}
	}
}

// TestPipelineReplaysAfterCrash acknowledges items the store never gets (its writes hang, as
// if the process died), then opens the same directory again: they must arrive.
func TestPipelineReplaysAfterCrash(t *testing.T) {
	dir := t.TempDir()
	hung := newMemStore()
	hung.gate = make(chan struct{}) // never opened: the first run dies before loading
	h1 := start(t, dir, hung, testConfig())
	for i := 0; i < 3; i++ {
		if err := h1.spans.Write(context.Background(), batch(i*10, 10)); err != nil {
			t.Fatal(err)
		}
		if err := h1.logs.Write(context.Background(), logBatch(i*2, 2)); err != nil {
			t.Fatal(err)
		}
	}
	st := newMemStore()
	h2 := start(t, dir, st, testConfig())
	waitUntil(t, h2.p.Ready)
	if spans, logs := st.count(); spans != 30 || logs != 6 {
		t.Fatalf("replay loaded %d spans and %d log records, want 30 and 6", spans, logs)
	}
	h2.shutdown(t)

	// The replay was checkpointed: a third run has nothing to replay.
	again := newMemStore()
	h3 := start(t, dir, again, testConfig())
	waitUntil(t, h3.p.Ready)
	h3.shutdown(t)
	if spans, logs := again.count(); spans+logs != 0 {
		t.Fatalf("a checkpointed log replayed %d spans and %d log records", spans, logs)
	}
}

// TestPipelineShutdownHonoursItsContext gives Shutdown a deadline while the store hangs: it
// must return by then, and what it could not load must be replayed at the next start.
func TestPipelineShutdownHonoursItsContext(t *testing.T) {
	dir := t.TempDir()
	hung := newMemStore()
	hung.gate = make(chan struct{})
	h := start(t, dir, hung, testConfig())
	if err := h.spans.Write(context.Background(), batch(0, 10)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	began := time.Now()
	if err := h.p.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown with a hung store: err = %v, want the deadline", err)
	}
	if took := time.Since(began); took > 2*time.Second {
		t.Fatalf("Shutdown took %v past a 200ms deadline", took)
	}
	st := newMemStore()
	h2 := start(t, dir, st, testConfig())
	waitUntil(t, h2.p.Ready)
	h2.shutdown(t)
	if spans, _ := st.count(); spans != 10 {
		t.Fatalf("the next start loaded %d spans, want 10", spans)
	}
}

// TestPipelineSetsAsideUnreadableRecords damages a logged record: replay sets it aside and
// loads the rest rather than refusing to start.
func TestPipelineSetsAsideUnreadableRecords(t *testing.T) {
	dir := t.TempDir()
	hung := newMemStore()
	hung.gate = make(chan struct{})
	h1 := start(t, dir, hung, testConfig())
	if err := h1.spans.Write(context.Background(), batch(0, 4)); err != nil {
		t.Fatal(err)
	}
	// A record the codec cannot read, logged as a request would be.
	if err := h1.p.append(context.Background(), 1, func() []byte { return []byte{byte(RecordSpans), 1, 2, 3} }, func(wal.Position) {}); err != nil {
		t.Fatal(err)
	}
	if err := h1.spans.Write(context.Background(), batch(4, 4)); err != nil {
		t.Fatal(err)
	}
	st := newMemStore()
	h2 := start(t, dir, st, testConfig())
	waitUntil(t, h2.p.Ready)
	h2.shutdown(t)
	if spans, _ := st.count(); spans != 8 {
		t.Fatalf("replay loaded %d spans, want the 8 readable ones", spans)
	}
	var reasons []string
	ReadDeadLetters(dir, func(d DeadLetter) error { reasons = append(reasons, d.Reason); return nil })
	if len(reasons) != 1 || !strings.HasPrefix(reasons[0], "replay: ") {
		t.Fatalf("dead letters %q, want the one unreadable record", reasons)
	}
}

// TestPipelineWaitsBrieflyForRoom checks that a request over the bound waits for the loader
// instead of being refused at once, and that the waiting room itself is bounded.
func TestPipelineWaitsBrieflyForRoom(t *testing.T) {
	st := newMemStore()
	st.gate = make(chan struct{})
	cfg := testConfig()
	cfg.MaxWait = time.Minute
	h := start(t, t.TempDir(), st, cfg)
	if err := h.spans.Write(context.Background(), batch(0, 90)); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error)
	go func() { waited <- h.spans.Write(context.Background(), batch(90, 60)) }()
	waitUntil(t, func() bool { h.p.mu.Lock(); defer h.p.mu.Unlock(); return h.p.waiting == 60*spanBytes })
	// The waiting room holds MaxPendingBytes at most: a further 50 spans are refused at once.
	if _, ok := errors.AsType[*OverloadedError](h.spans.Write(context.Background(), batch(150, 50))); !ok {
		t.Fatal("a request beyond the waiting room was not refused")
	}
	close(st.gate) // the loader stores the first 90 spans and frees their room
	if err := <-waited; err != nil {
		t.Fatalf("the waiting request failed: %v", err)
	}
	h.shutdown(t)
	if spans, _ := st.count(); spans != 150 {
		t.Fatalf("store holds %d spans, want 150", spans)
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

// waitForSpans waits up to within for the store to hold n spans, and says how long it took.
func waitForSpans(t *testing.T, st *memStore, n int, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if spans, _ := st.count(); spans >= n {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("the store holds fewer than %d spans after %v", n, within)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestPipelineGathersSmallWrites checks that requests arriving soon after a load are loaded
// together, no later than Gather after it.
func TestPipelineGathersSmallWrites(t *testing.T) {
	st := newMemStore()
	cfg := testConfig()
	cfg.Gather = 2 * time.Second
	h := start(t, t.TempDir(), st, cfg)
	defer h.shutdown(t)
	if err := h.spans.Write(context.Background(), batch(0, 1)); err != nil {
		t.Fatal(err)
	}
	if took := waitForSpans(t, st, 1, time.Second); took > time.Second {
		t.Fatalf("the first request after an idle time waited %v", took)
	}
	began := time.Now()
	for i := 1; i <= 10; i++ {
		if err := h.spans.Write(context.Background(), batch(i, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if spans, _ := st.count(); spans != 1 && time.Since(began) < cfg.Gather {
		t.Fatalf("the store holds %d spans while the loader gathers, want 1", spans)
	}
	waitForSpans(t, st, 11, 2*cfg.Gather)
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.writes != 2 {
		t.Fatalf("11 requests took %d writes, want 2", st.writes)
	}
}

// TestPipelineGatherYields checks that the loader stops gathering when memory runs short
// and when the pipeline closes.
func TestPipelineGatherYields(t *testing.T) {
	st := newMemStore()
	cfg := testConfig() // room for 100 spans
	cfg.Gather = time.Hour
	h := start(t, t.TempDir(), st, cfg)
	if err := h.spans.Write(context.Background(), batch(0, 1)); err != nil {
		t.Fatal(err)
	}
	waitForSpans(t, st, 1, 5*time.Second)
	if err := h.spans.Write(context.Background(), batch(1, 10)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if spans, _ := st.count(); spans != 1 {
		t.Fatalf("the store holds %d spans while the loader gathers, want 1", spans)
	}
	if err := h.spans.Write(context.Background(), batch(11, 45)); err != nil { // 55 of 100 queued
		t.Fatal(err)
	}
	waitForSpans(t, st, 56, 5*time.Second)
	if err := h.spans.Write(context.Background(), batch(56, 1)); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		if err := h.p.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown waited for the loader to gather")
	}
	if spans, _ := st.count(); spans != 57 {
		t.Fatalf("the store holds %d spans after Shutdown, want 57", spans)
	}
}
