package ingest

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"lookout/internal/telemetry"
)

// PipelineConfig bounds what the pipeline holds.
type PipelineConfig struct {
	// MaxPendingSpans is how many spans may wait for the store at once; beyond it senders are
	// told to retry. It bounds the memory ingest uses, whatever the load.
	MaxPendingSpans int
	// MaxBatchSpans is the most spans written to the store in one batch.
	MaxBatchSpans int
	// RetryAfter is what overloaded senders are told to wait.
	RetryAfter time.Duration
}

// DefaultPipelineConfig suits the embedded store on a small machine.
func DefaultPipelineConfig() PipelineConfig {
	return PipelineConfig{MaxPendingSpans: 64_000, MaxBatchSpans: 16_000, RetryAfter: time.Second}
}

// Pipeline is the Sink receivers write to. Concurrent requests are grouped into one store
// write (group commit), so that many small requests cost one durable commit; each request
// returns once the batch holding it is durable.
type Pipeline struct {
	cfg    PipelineConfig
	writer Sink
	log    *slog.Logger

	mu      sync.Mutex
	queue   []*pending
	spans   int           // spans queued or being written
	wake    chan struct{} // signalled when the queue gains work
	closed  bool
	stopped chan struct{}
}

type pending struct {
	spans []telemetry.Span
	done  chan error
}

// ErrClosed is returned by WriteSpans after Close.
var ErrClosed = errors.New("ingest pipeline is shut down")

// NewPipeline starts a pipeline that writes to w, typically a store.
func NewPipeline(w Sink, cfg PipelineConfig, log *slog.Logger) *Pipeline {
	p := &Pipeline{cfg: cfg, writer: w, log: log, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	go p.run()
	return p
}

// WriteSpans implements Sink. If ctx ends first it returns ctx's error, and the spans may
// still be written: a sender that retries is deduplicated by the store.
func (p *Pipeline) WriteSpans(ctx context.Context, spans []telemetry.Span) error {
	if len(spans) == 0 {
		return nil
	}
	req := &pending{spans: spans, done: make(chan error, 1)}
	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		return ErrClosed
	case p.spans > 0 && p.spans+len(spans) > p.cfg.MaxPendingSpans:
		// An idle pipeline takes any one request, however large (receivers bound its size).
		p.mu.Unlock()
		return &OverloadedError{RetryAfter: p.cfg.RetryAfter}
	}
	p.queue = append(p.queue, req)
	p.spans += len(spans)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Pipeline) run() {
	defer close(p.stopped)
	for {
		batch, n, closed := p.take()
		if len(batch) == 0 {
			if closed {
				return
			}
			<-p.wake
			continue
		}
		err := p.write(batch, n)
		for _, req := range batch {
			req.done <- err
		}
		p.mu.Lock()
		p.spans -= n
		p.mu.Unlock()
	}
}

// take removes requests from the queue, up to MaxBatchSpans spans (and at least one).
func (p *Pipeline) take() ([]*pending, int, bool) {
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
	return batch, n, p.closed
}

func (p *Pipeline) write(batch []*pending, n int) error {
	spans := batch[0].spans
	if len(batch) > 1 {
		spans = make([]telemetry.Span, 0, n)
		for _, req := range batch {
			spans = append(spans, req.spans...)
		}
	}
	start := time.Now()
	// The write is not tied to any one request's context: it serves them all.
	err := p.writer.WriteSpans(context.Background(), spans)
	if err != nil {
		p.log.Error("store write failed", "spans", n, "err", err)
	} else {
		p.log.Debug("stored batch", "spans", n, "requests", len(batch), "took", time.Since(start))
	}
	return err
}

// Close stops taking spans, writes what was accepted, and returns once that is durable.
func (p *Pipeline) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	<-p.stopped
}
