package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"lookout/internal/ingest/wal"
	"lookout/internal/metrics"
	"lookout/internal/telemetry"
)

// Checkpointer is the store as the pipeline sees it apart from its writers (a store backend
// satisfies it).
type Checkpointer interface {
	// Checkpoint makes everything written so far durable in the store's own files, so that
	// the pipeline may drop its log up to that point.
	Checkpoint(ctx context.Context) error
}

// PipelineConfig bounds what the pipeline holds.
type PipelineConfig struct {
	// MaxPendingBytes bounds the memory of items accepted and not yet loaded into the store,
	// whatever their signal; beyond it senders are told to retry.
	MaxPendingBytes int64
	// MaxBatchBytes is the most loaded into the store in one write.
	MaxBatchBytes int64
	// MaxWait is how long a request may wait for room before its sender is told to retry.
	// Waiting briefly keeps senders from all backing off at once, which would leave the
	// store idle; at most MaxPendingBytes more may wait, so memory stays bounded.
	MaxWait time.Duration
	// RetryAfter is what overloaded senders are told to wait.
	RetryAfter time.Duration
	// CheckpointEvery is how often the store is checkpointed and the log trimmed.
	CheckpointEvery time.Duration
	// Gather is how long the loader may wait after a write for more items before the next:
	// a store write costs about the same however few items it holds, and requests are
	// acknowledged once logged, so waiting delays only when items can be read.
	Gather time.Duration
	// Limits bound each item; larger ones are cut before they are acknowledged.
	Limits telemetry.Limits
}

// DefaultPipelineConfig suits the embedded store on a small machine.
func DefaultPipelineConfig() PipelineConfig {
	return PipelineConfig{MaxPendingBytes: 32 << 20, MaxBatchBytes: 32 << 20, MaxWait: 2 * time.Second,
		RetryAfter: time.Second, CheckpointEvery: 30 * time.Second, Gather: 50 * time.Millisecond, Limits: telemetry.DefaultLimits()}
}

// Pipeline is what receivers write to, through the Sink of each signal's Input. A request is
// acknowledged once its items are in the write-ahead log (concurrent requests share one
// fsync); a loader moves them into the store in large batches, and a checkpoint then trims
// the log. After a crash, the loader first replays the log from the last checkpoint, so
// nothing acknowledged is lost, and the store's idempotence makes the replay harmless. A batch
// the store refuses is split, and items it keeps refusing are set aside in a dead-letter log,
// so that one bad item never holds back the others.
type Pipeline struct {
	cfg     PipelineConfig
	store   Checkpointer
	wal     *wal.Log
	dead    *deadLetters
	dir     string
	log     *slog.Logger
	metrics *metrics.Metrics
	inputs  map[RecordType]input

	replayFrom, replayTo wal.Position // the records an earlier run left

	mu         sync.Mutex
	pending    int64         // bytes accepted and not yet loaded
	waiting    int64         // bytes of requests waiting for room
	room       chan struct{} // closed, and replaced, whenever the loader frees room
	loaded     map[wal.Position]bool
	loadedUpTo wal.Position  // every record before it is in the store
	wake       chan struct{} // the queues gained work, or the pipeline is closing
	closed     bool
	started    bool

	ready    chan struct{} // closed once the replay is done
	stopped  chan struct{} // closed when the loader has stopped
	loadCtx  context.Context
	stopLoad context.CancelFunc
}

// input is one signal's queue, as the loader sees it. Methods marked so are called with p.mu
// held.
type input interface {
	// oldest is the log position of the first queued batch, or 0 for none (p.mu held).
	oldest() wal.Position
	// take removes queued batches up to maxBytes, at least one (p.mu held).
	take(maxBytes int64) work
	// queueReplayed decodes a record an earlier run logged and queues its items (p.mu held).
	queueReplayed(record []byte, pos wal.Position) error
}

// work is a batch the loader took: the log records it came from, what it holds, and how to
// load it. load returns an error only when its context ended before the items were stored
// or set aside.
type work struct {
	positions []wal.Position
	bytes     int64
	load      func(ctx context.Context) error
}

// NewPipeline opens the write-ahead log in dir. Add each signal's Input, then Start.
func NewPipeline(dir string, st Checkpointer, cfg PipelineConfig, log *slog.Logger, m *metrics.Metrics) (*Pipeline, error) {
	w, err := wal.Open(dir, wal.Options{})
	if err != nil {
		return nil, fmt.Errorf("open ingest log: %w", err)
	}
	dead, err := openDeadLetters(filepath.Join(dir, deadLetterDir))
	if err != nil {
		w.Close()
		return nil, err
	}
	p := &Pipeline{cfg: cfg, store: st, wal: w, dead: dead, dir: dir, log: log, metrics: m,
		inputs: map[RecordType]input{}, loaded: map[wal.Position]bool{},
		wake: make(chan struct{}, 1), room: make(chan struct{}), ready: make(chan struct{}), stopped: make(chan struct{})}
	p.replayFrom, p.replayTo = p.readCheckpoint(), w.Next()
	p.loadedUpTo = p.replayFrom
	p.loadCtx, p.stopLoad = context.WithCancel(context.Background())
	return p, nil
}

// Start starts the loader: it replays what an earlier run logged and did not checkpoint,
// then loads new items as they come. Receivers may write at once; reads see the replayed
// items once Ready.
func (p *Pipeline) Start(context.Context) error {
	p.mu.Lock()
	p.started = true
	p.mu.Unlock()
	go p.run()
	return nil
}

// Ready reports whether the replay of an earlier run's log is done.
func (p *Pipeline) Ready() bool {
	select {
	case <-p.ready:
		return true
	default:
		return false
	}
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
	start := time.Now()
	if err := p.store.Checkpoint(ctx); err != nil {
		return fmt.Errorf("checkpoint store: %w", err)
	}
	p.metrics.CheckpointSeconds.Observe(time.Since(start).Seconds())
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

// append logs a request's record once room for its items is reserved, and queues the items
// with queue (called with p.mu held) once the record is durable.
func (p *Pipeline) append(ctx context.Context, size int64, record func() []byte, queue func(wal.Position)) error {
	if err := p.admit(ctx, size); err != nil {
		return err
	}
	start := time.Now()
	pos, err := p.wal.Append(record())
	p.metrics.LogAppendSeconds.Observe(time.Since(start).Seconds())
	p.mu.Lock()
	if err != nil {
		p.release(size)
		if pos != 0 {
			p.markLoaded(pos) // nothing to load for a record that was not acknowledged
		}
		p.mu.Unlock()
		if errors.Is(err, wal.ErrClosed) {
			return ErrClosed
		}
		return fmt.Errorf("ingest log: %w", err)
	}
	queue(pos)
	p.mu.Unlock()
	p.signal()
	return nil
}

// admit reserves room for n bytes, waiting up to MaxWait for the loader to free some.
func (p *Pipeline) admit(ctx context.Context, n int64) error {
	var deadline <-chan time.Time
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		switch {
		case p.closed:
			return ErrClosed
		case p.pending == 0 || p.pending+n <= p.cfg.MaxPendingBytes:
			// An idle pipeline takes any one request, however large (receivers bound its size).
			p.pending += n
			p.metrics.PendingBytes.Set(float64(p.pending))
			return nil
		case p.waiting+n > p.cfg.MaxPendingBytes:
			return &OverloadedError{RetryAfter: p.cfg.RetryAfter}
		}
		if deadline == nil {
			timer := time.NewTimer(p.cfg.MaxWait)
			defer timer.Stop()
			deadline = timer.C
		}
		room := p.room
		p.waiting += n
		p.signal() // a loader gathering items loads them now
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

// release frees n bytes of room and wakes requests waiting for it. Callers hold p.mu.
func (p *Pipeline) release(n int64) {
	p.pending -= n
	p.metrics.PendingBytes.Set(float64(p.pending))
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

// signal wakes the loader.
func (p *Pipeline) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run replays the log an earlier run left, then loads queued items into the store and
// checkpoints now and then, until the pipeline is closed and everything is loaded, or the
// load context ends.
func (p *Pipeline) run() {
	defer close(p.stopped)
	p.replay()
	close(p.ready)
	lastCheckpoint := time.Now()
	checkpointed := p.replayFrom
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for {
		loadedAny, closed, ok := p.loadNext()
		if !ok {
			return // the load context ended: what is left stays in the log
		}
		p.mu.Lock()
		upTo := p.loadedUpTo
		p.mu.Unlock()
		if upTo > checkpointed && (closed || time.Since(lastCheckpoint) >= p.cfg.CheckpointEvery) {
			if err := p.checkpoint(p.loadCtx, upTo); err != nil {
				p.log.Error("checkpoint failed; the ingest log is kept", "err", err)
			} else {
				checkpointed = upTo
			}
			lastCheckpoint = time.Now()
		}
		if loadedAny {
			p.gather()
			continue
		}
		if closed {
			return
		}
		select {
		case <-p.wake:
		case <-ticker.C:
		case <-p.loadCtx.Done():
			return
		}
	}
}

// gather waits, up to cfg.Gather, until what is queued fills half the room for pending
// items. It returns at once when the pipeline is closing, requests wait for room, or the
// load context ends.
func (p *Pipeline) gather() {
	if p.cfg.Gather <= 0 {
		return
	}
	timer := time.NewTimer(p.cfg.Gather)
	defer timer.Stop()
	for {
		p.mu.Lock()
		enough := p.closed || p.waiting > 0 || p.pending >= min(p.cfg.MaxBatchBytes, p.cfg.MaxPendingBytes/2)
		p.mu.Unlock()
		if enough {
			return
		}
		select {
		case <-p.wake:
		case <-timer.C:
			return
		case <-p.loadCtx.Done():
			return
		}
	}
}

// loadNext loads the oldest queued batch, if any. It reports whether it loaded one, whether
// the pipeline is closed with nothing left to load, and false when the load context ended.
func (p *Pipeline) loadNext() (loaded, closed, ok bool) {
	p.mu.Lock()
	next, _ := p.oldest()
	if next == nil {
		closed = p.closed
		p.mu.Unlock()
		return false, closed, p.loadCtx.Err() == nil
	}
	w := next.take(p.cfg.MaxBatchBytes)
	p.mu.Unlock()
	if err := w.load(p.loadCtx); err != nil {
		return false, false, false
	}
	p.mu.Lock()
	p.release(w.bytes)
	for _, pos := range w.positions {
		p.markLoaded(pos)
	}
	p.mu.Unlock()
	return true, false, true
}

// replay queues the records an earlier run logged after its last checkpoint, loading as it
// goes so that memory stays bounded. A record that cannot be read is set aside in the
// dead-letter log; replay never stops lookout from starting.
func (p *Pipeline) replay() {
	if p.replayFrom >= p.replayTo {
		return
	}
	start := time.Now()
	next, records := p.replayFrom, 0
	errStop := errors.New("replayed every record")
	err := p.wal.Replay(p.replayFrom, func(pos wal.Position, record []byte) error {
		if pos >= p.replayTo {
			return errStop
		}
		p.skipUntil(&next, pos) // records a crash cut short are not there
		next = pos + 1
		records++
		p.mu.Lock()
		var in input
		if len(record) > 0 {
			in = p.inputs[RecordType(record[0])]
		}
		err := errors.New("no store takes this signal")
		if in != nil {
			err = in.queueReplayed(record, pos)
		}
		p.mu.Unlock()
		if err != nil {
			p.log.Error("setting aside an unreadable ingest log record", "position", pos, "err", err)
			if err := p.dead.add(p.loadCtx, record, "replay: "+err.Error()); err != nil {
				return err
			}
			p.mu.Lock()
			p.markLoaded(pos)
			p.mu.Unlock()
		}
		for p.pendingBytes() >= p.cfg.MaxPendingBytes {
			if _, _, ok := p.loadNext(); !ok {
				return p.loadCtx.Err()
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		// The records not read stay in the log, which is not trimmed past them.
		p.log.Error("replaying the ingest log stopped early; the log is kept", "err", err)
		return
	}
	p.skipUntil(&next, p.replayTo)
	for p.oldestQueued() < p.replayTo { // loaded before Ready, so reads see every replayed item
		if _, _, ok := p.loadNext(); !ok {
			return
		}
	}
	p.log.Info("replayed ingest log", "records", records, "took", time.Since(start))
}

// oldest returns the input whose queue holds the oldest batch, and that batch's log
// position; nil and the next position to be written when nothing waits. Callers hold p.mu.
func (p *Pipeline) oldest() (input, wal.Position) {
	var next input
	oldest := p.wal.Next()
	for _, in := range p.inputs {
		if pos := in.oldest(); pos != 0 && pos < oldest {
			next, oldest = in, pos
		}
	}
	return next, oldest
}

// oldestQueued is the log position of the oldest batch waiting to be loaded, or the next
// position to be written when none waits.
func (p *Pipeline) oldestQueued() wal.Position {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, pos := p.oldest()
	return pos
}

// skipUntil marks the positions from *next up to pos as loaded: records a crash cut short.
func (p *Pipeline) skipUntil(next *wal.Position, pos wal.Position) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for ; *next < pos; *next++ {
		p.markLoaded(*next)
	}
}

func (p *Pipeline) pendingBytes() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pending
}

// Shutdown stops taking items and loads what was accepted, checkpoints and closes the log.
// When ctx ends first, the loader stops where it is: what it had not loaded stays in the
// log, to be replayed at the next start.
func (p *Pipeline) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	close(p.room)
	p.room = make(chan struct{})
	if !p.started {
		close(p.stopped)
	}
	p.mu.Unlock()
	p.signal()
	var err error
	select {
	case <-p.stopped:
	case <-ctx.Done():
		p.stopLoad()
		<-p.stopped // store writes honour the load context, so this is prompt
		err = fmt.Errorf("ingest pipeline: %w; unloaded items stay in the ingest log", ctx.Err())
	}
	p.stopLoad()
	return errors.Join(err, p.wal.Close(), p.dead.close())
}
