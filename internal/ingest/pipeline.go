package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"lookout/internal/ingest/wal"
	"lookout/internal/telemetry"
)

// Store is what the pipeline loads accepted spans into (a store.Store satisfies it).
type Store interface {
	// WriteSpans must be idempotent on (trace id, span id): after a crash, the pipeline
	// writes again what it cannot prove the store already holds durably.
	WriteSpans(ctx context.Context, spans []telemetry.Span) error
	// Checkpoint makes everything written so far durable in the store's main files, so
	// that the pipeline may drop its log up to that point.
	Checkpoint(ctx context.Context) error
}

// PipelineConfig bounds what the pipeline holds.
type PipelineConfig struct {
	// MaxPendingSpans is how many accepted spans may wait to be loaded into the store;
	// beyond it senders are told to retry. It bounds the memory ingest uses, whatever the load.
	MaxPendingSpans int
	// MaxBatchSpans is the most spans loaded into the store in one write.
	MaxBatchSpans int
	// MaxWait is how long a request may wait for room before its sender is told to retry.
	// Waiting briefly keeps senders from all backing off at once, which would leave the
	// store idle; at most MaxPendingSpans more spans may wait, so memory stays bounded.
	MaxWait time.Duration
	// RetryAfter is what overloaded senders are told to wait.
	RetryAfter time.Duration
	// CheckpointEvery is how often the store is checkpointed and the log trimmed.
	CheckpointEvery time.Duration
}

// DefaultPipelineConfig suits the embedded store on a small machine.
func DefaultPipelineConfig() PipelineConfig {
	return PipelineConfig{MaxPendingSpans: 20_000, MaxBatchSpans: 20_000, MaxWait: 2 * time.Second, RetryAfter: time.Second, CheckpointEvery: 30 * time.Second}
}

// Pipeline is the Sink receivers write to. A request is acknowledged once its spans are in
// the write-ahead log (concurrent requests share one fsync); a loader moves them into the
// store in large batches, and a checkpoint then trims the log. After a crash, Open replays
// the log from the last checkpoint, so nothing acknowledged is lost, and the store's
// idempotence makes the replay harmless.
type Pipeline struct {
	cfg   PipelineConfig
	store Store
	wal   *wal.Log
	dir   string
	log   *slog.Logger

	mu         sync.Mutex
	queue      []pending
	spans      int           // spans accepted and not yet loaded
	waiting    int           // spans of requests waiting for room
	room       chan struct{} // closed, and replaced, whenever the loader frees room
	loaded     map[wal.Position]bool
	loadedUpTo wal.Position  // every record before it is in the store
	wake       chan struct{} // the queue gained work, or the pipeline is closing
	closed     bool
	stopped    chan struct{}
}

type pending struct {
	spans []telemetry.Span
	pos   wal.Position
}

// OpenPipeline opens the write-ahead log in dir, replays into st what an earlier run
// acknowledged but had not checkpointed, and starts loading.
func OpenPipeline(ctx context.Context, dir string, st Store, cfg PipelineConfig, log *slog.Logger) (*Pipeline, error) {
	w, err := wal.Open(dir, wal.Options{})
	if err != nil {
		return nil, fmt.Errorf("open ingest log: %w", err)
	}
	p := &Pipeline{cfg: cfg, store: st, wal: w, dir: dir, log: log, loaded: map[wal.Position]bool{},
		wake: make(chan struct{}, 1), stopped: make(chan struct{}), room: make(chan struct{})}
	if err := p.recover(ctx); err != nil {
		w.Close()
		return nil, err
	}
	p.loadedUpTo = w.Next()
	go p.run()
	return p, nil
}

// recover loads the records after the last checkpoint into the store.
func (p *Pipeline) recover(ctx context.Context) error {
	from := p.readCheckpoint()
	start := time.Now()
	var batch []telemetry.Span
	records, spans := 0, 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		spans += len(batch)
		err := p.store.WriteSpans(ctx, batch)
		batch = batch[:0]
		return err
	}
	err := p.wal.Replay(from, func(pos wal.Position, payload []byte) error {
		decoded, err := decodeSpans(payload)
		if err != nil {
			p.log.Error("skipping unreadable ingest log record", "position", pos, "err", err)
			return nil
		}
		records++
		batch = append(batch, decoded...)
		if len(batch) >= p.cfg.MaxBatchSpans {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("replay ingest log: %w", err)
	}
	if records > 0 {
		p.log.Info("replayed ingest log", "records", records, "spans", spans, "took", time.Since(start))
	}
	return p.checkpoint(ctx, p.wal.Next())
}

const checkpointFile = "checkpoint"

func (p *Pipeline) readCheckpoint() wal.Position {
	b, err := os.ReadFile(filepath.Join(p.dir, checkpointFile))
	if err != nil {
		return 1
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n == 0 {
		p.log.Warn("unreadable ingest checkpoint; replaying the whole log", "err", err)
		return 1
	}
	return wal.Position(n)
}

// checkpoint makes the store durable, then records that every log record before upTo is in
// it and removes those records.
func (p *Pipeline) checkpoint(ctx context.Context, upTo wal.Position) error {
	if err := p.store.Checkpoint(ctx); err != nil {
		return fmt.Errorf("checkpoint store: %w", err)
	}
	tmp := filepath.Join(p.dir, checkpointFile+".tmp")
	if err := writeFileSync(tmp, []byte(strconv.FormatUint(uint64(upTo), 10)+"\n")); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(p.dir, checkpointFile)); err != nil {
		return err
	}
	return p.wal.RemoveBefore(upTo)
}

func writeFileSync(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// SpanSink returns the Sink receivers write spans to.
func (p *Pipeline) SpanSink() Sink[telemetry.Span] { return spanSink{p} }

type spanSink struct{ p *Pipeline }

func (s spanSink) Write(ctx context.Context, spans []telemetry.Span) error {
	return s.p.WriteSpans(ctx, spans)
}
func (s spanSink) Rejected(int) {}

// WriteSpans returns once the spans are in the write-ahead log.
func (p *Pipeline) WriteSpans(ctx context.Context, spans []telemetry.Span) error {
	if len(spans) == 0 {
		return nil
	}
	if err := p.admit(ctx, len(spans)); err != nil {
		return err
	}

	pos, err := p.wal.Append(encodeSpans(spans))
	p.mu.Lock()
	if err != nil {
		p.spans -= len(spans)
		p.freeRoom()
		if pos != 0 {
			p.markLoaded(pos) // nothing to load for a record that was not acknowledged
		}
		p.mu.Unlock()
		return fmt.Errorf("ingest log: %w", err)
	}
	p.queue = append(p.queue, pending{spans: spans, pos: pos})
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return nil
}

// admit reserves room for n spans, waiting up to MaxWait for the loader to free some.
func (p *Pipeline) admit(ctx context.Context, n int) error {
	var deadline <-chan time.Time
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		switch {
		case p.closed:
			return ErrClosed
		case p.spans == 0 || p.spans+n <= p.cfg.MaxPendingSpans:
			// An idle pipeline takes any one request, however large (receivers bound its size).
			p.spans += n
			return nil
		case p.waiting+n > p.cfg.MaxPendingSpans:
			return &OverloadedError{RetryAfter: p.cfg.RetryAfter}
		}
		if deadline == nil {
			timer := time.NewTimer(p.cfg.MaxWait)
			defer timer.Stop()
			deadline = timer.C
		}
		room := p.room
		p.waiting += n
		p.mu.Unlock()
		var err error
		select {
		case <-room:
		case <-deadline:
			err = &OverloadedError{RetryAfter: p.cfg.RetryAfter}
		case <-ctx.Done():
			err = ctx.Err()
		}
		p.mu.Lock()
		p.waiting -= n
		if err != nil {
			return err
		}
	}
}

// freeRoom wakes requests waiting for room. Callers hold p.mu.
func (p *Pipeline) freeRoom() {
	close(p.room)
	p.room = make(chan struct{})
}

// markLoaded records that the record at pos needs no more loading. Callers hold p.mu.
func (p *Pipeline) markLoaded(pos wal.Position) {
	p.loaded[pos] = true
	for p.loaded[p.loadedUpTo] {
		delete(p.loaded, p.loadedUpTo)
		p.loadedUpTo++
	}
}

// run loads queued spans into the store and checkpoints now and then.
func (p *Pipeline) run() {
	defer close(p.stopped)
	lastCheckpoint := time.Now()
	checkpointed := p.loadedUpTo
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for {
		batch, closed := p.take()
		if len(batch) > 0 {
			p.load(batch)
		}
		p.mu.Lock()
		upTo := p.loadedUpTo
		p.mu.Unlock()
		if upTo > checkpointed && (closed || time.Since(lastCheckpoint) >= p.cfg.CheckpointEvery) {
			if err := p.checkpoint(context.Background(), upTo); err != nil {
				p.log.Error("checkpoint failed; the ingest log is kept", "err", err)
			} else {
				checkpointed = upTo
			}
			lastCheckpoint = time.Now()
		}
		if len(batch) > 0 {
			continue
		}
		if closed {
			return
		}
		select {
		case <-p.wake:
		case <-ticker.C:
		}
	}
}

// take removes queued requests, up to MaxBatchSpans spans (and at least one request).
func (p *Pipeline) take() ([]pending, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, i := 0, 0
	for ; i < len(p.queue); i++ {
		if i > 0 && n+len(p.queue[i].spans) > p.cfg.MaxBatchSpans {
			break
		}
		n += len(p.queue[i].spans)
	}
	batch := p.queue[:i:i]
	p.queue = p.queue[i:]
	return batch, p.closed && len(p.queue) == 0
}

// load writes a batch to the store, retrying until it succeeds: the spans are acknowledged,
// so giving up would lose them. Meanwhile the pending bound makes senders wait.
func (p *Pipeline) load(batch []pending) {
	n := 0
	for _, b := range batch {
		n += len(b.spans)
	}
	spans := batch[0].spans
	if len(batch) > 1 {
		spans = make([]telemetry.Span, 0, n)
		for _, b := range batch {
			spans = append(spans, b.spans...)
		}
	}
	start := time.Now()
	for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, 30*time.Second) {
		err := p.store.WriteSpans(context.Background(), spans)
		if err == nil {
			break
		}
		p.log.Error("loading spans into the store failed; retrying", "spans", n, "retry_in", backoff, "err", err)
		time.Sleep(backoff)
	}
	p.log.Debug("loaded batch", "spans", n, "requests", len(batch), "took", time.Since(start))
	p.mu.Lock()
	p.spans -= n
	for _, b := range batch {
		p.markLoaded(b.pos)
	}
	p.freeRoom()
	p.mu.Unlock()
}

// Close stops taking spans, loads what was accepted, checkpoints and closes the log.
func (p *Pipeline) Close() error {
	p.mu.Lock()
	p.closed = true
	p.freeRoom()
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	<-p.stopped
	return p.wal.Close()
}
