package ingest

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	"lookout/internal/ingest/wal"
	"lookout/internal/metrics"
)

// Input is one signal's way into a pipeline: its receivers write through its Sinks, and the
// pipeline's loader writes its batches to the store.
type Input[T any] struct {
	p     *Pipeline
	sig   Signal[T]
	store StoreFunc[T]
	queue []queued[T]   // guarded by p.mu, in log order
	ids   atomic.Uint64 // the next id Number gives (numbering.go)
}

// queued is one acknowledged request's items, waiting to be loaded.
type queued[T any] struct {
	items []T
	pos   wal.Position
	bytes int64
}

// AddInput adds a signal to the pipeline, loaded into the store by store. Call it before
// Start, once per signal.
func AddInput[T any](p *Pipeline, sig Signal[T], store StoreFunc[T]) *Input[T] {
	in := &Input[T]{p: p, sig: sig, store: store}
	in.ids.Store(firstID(p.wal.Next()))
	p.inputs[sig.Record] = in
	if sig.Earlier != 0 {
		p.inputs[sig.Earlier] = in
	}
	return in
}

// Sink returns the Sink a receiver writes through; receiver names it in /metrics.
func (in *Input[T]) Sink(receiver string) Sink[T] {
	c := in.p.metrics.IngestItems
	return &sink[T]{in: in,
		accepted:  c.WithLabelValues(receiver, in.sig.Name, metrics.Accepted),
		rejected:  c.WithLabelValues(receiver, in.sig.Name, metrics.Rejected),
		throttled: c.WithLabelValues(receiver, in.sig.Name, metrics.Throttled),
		failed:    c.WithLabelValues(receiver, in.sig.Name, metrics.Failed),
	}
}

type counter interface{ Add(float64) }

type sink[T any] struct {
	in                                    *Input[T]
	accepted, rejected, throttled, failed counter
}

func (s *sink[T]) Write(ctx context.Context, items []T) error {
	err := s.in.write(ctx, items)
	n := float64(len(items))
	switch {
	case err == nil:
		s.accepted.Add(n)
	case Classify(ctx, err).Kind == Overloaded:
		s.throttled.Add(n)
	default:
		s.failed.Add(n)
	}
	return err
}

func (s *sink[T]) Rejected(n int) { s.rejected.Add(float64(n)) }

// write fits the items to the limits and returns once they are in the write-ahead log.
func (in *Input[T]) write(ctx context.Context, items []T) error {
	if len(items) == 0 {
		return nil
	}
	var size int64
	for i := range items {
		size += int64(in.sig.Fit(&items[i], in.p.cfg.Limits))
	}
	return in.p.append(ctx, size, func() []byte { return in.record(items) }, func(pos wal.Position) {
		in.enqueue(items, pos, size)
	})
}

// record encodes items as a record of the ingest log, numbering them if the signal does:
// done last, just before the record is logged, the numbers follow the log's order.
func (in *Input[T]) record(items []T) []byte {
	record := in.sig.Encode(items)
	if in.sig.Number != nil {
		n := uint64(len(items))
		in.sig.Number(items, record, in.ids.Add(n)-n)
	}
	return record
}

func (in *Input[T]) oldest() wal.Position {
	if len(in.queue) == 0 {
		return 0
	}
	return in.queue[0].pos
}

func (in *Input[T]) take(maxBytes int64) work {
	n, bytes, count := 0, int64(0), 0
	for n < len(in.queue) && (n == 0 || bytes+in.queue[n].bytes <= maxBytes) {
		bytes += in.queue[n].bytes
		count += len(in.queue[n].items)
		n++
	}
	taken := in.queue[:n:n]
	in.queue = in.queue[n:]
	w := work{bytes: bytes, positions: make([]wal.Position, n)}
	items := taken[0].items
	if n > 1 {
		items = make([]T, 0, count) // items are large (log records): copied once
		for _, q := range taken {
			items = append(items, q.items...)
		}
	}
	for i, q := range taken {
		w.positions[i] = q.pos
	}
	w.load = func(ctx context.Context) error { return in.load(ctx, items) }
	return w
}

func (in *Input[T]) queueReplayed(record []byte, pos wal.Position) error {
	items, err := in.sig.Decode(record)
	if err != nil {
		return err
	}
	if in.sig.Stamp != nil && RecordType(record[0]) == in.sig.Earlier {
		in.sig.Stamp(items, pos)
	}
	var size int64
	for i := range items {
		size += int64(in.sig.Fit(&items[i], in.p.cfg.Limits))
	}
	in.enqueue(items, pos, size)
	in.p.pending += size
	return nil
}

// enqueue queues a logged batch for loading, in log order (p.mu held): requests whose
// records were logged together may get here in any order.
func (in *Input[T]) enqueue(items []T, pos wal.Position, size int64) {
	i := len(in.queue)
	for i > 0 && in.queue[i-1].pos > pos {
		i--
	}
	in.queue = slices.Insert(in.queue, i, queued[T]{items: items, pos: pos, bytes: size})
}

// How the loader treats a batch the store refuses.
const (
	firstBackoff   = 100 * time.Millisecond
	maxBackoff     = 30 * time.Second
	itemAttempts   = 3 // writes of a single refused item before it is set aside
	splitInto      = 8 // parts a refused batch is split into
	deadLetterNote = "the store refused it: "
)

// load writes items into the store. A batch the store refuses is split into parts: when some
// parts are stored, the store is healthy and the refused parts hold items it cannot take,
// which are isolated and set aside in the dead-letter log; when every part fails, the store
// itself is failing, and the batch is retried with backoff. A single item is set aside after
// itemAttempts writes. load returns an error only when ctx ends first, leaving the items in
// the ingest log.
func (in *Input[T]) load(ctx context.Context, items []T) error {
	backoff := firstBackoff
	for attempt := 1; ; attempt++ {
		err := in.write1(ctx, items)
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case len(items) == 1 && attempt >= itemAttempts:
			return in.setAsideItems(ctx, items, err)
		case len(items) > 1:
			if stored, err := in.splitLoad(ctx, items); stored || err != nil {
				return err
			}
		}
		in.p.log.Error("the store refused a batch; retrying", "signal", in.sig.Name, "items", len(items), "retry_in", backoff, "err", err)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return ctx.Err()
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// splitLoad writes items in parts. If none is stored it reports false and does nothing more;
// otherwise it isolates the items of each refused part.
func (in *Input[T]) splitLoad(ctx context.Context, items []T) (stored bool, err error) {
	var refused [][]T
	var lastErr error
	parts := split(items, splitInto)
	for _, part := range parts {
		if err := in.write1(ctx, part); err != nil {
			refused, lastErr = append(refused, part), err
		}
	}
	if len(refused) == len(parts) {
		return false, ctx.Err()
	}
	for _, part := range refused {
		if err := in.isolate(ctx, part, lastErr); err != nil {
			return true, err
		}
	}
	return true, nil
}

// isolate stores what it can of a part the healthy store refused, and sets aside the single
// items it keeps refusing.
func (in *Input[T]) isolate(ctx context.Context, items []T, err error) error {
	if len(items) == 1 {
		for attempt := 1; attempt < itemAttempts && err != nil; attempt++ {
			err = in.write1(ctx, items)
		}
		if err == nil {
			return nil
		}
		return in.setAsideItems(ctx, items, err)
	}
	for _, part := range split(items, splitInto) {
		if err := in.write1(ctx, part); err != nil {
			if err := in.isolate(ctx, part, err); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

// write1 is one store write, measured.
func (in *Input[T]) write1(ctx context.Context, items []T) error {
	start := time.Now()
	err := in.store(ctx, items)
	in.p.metrics.StoreWriteSeconds.WithLabelValues(in.sig.Name).Observe(time.Since(start).Seconds())
	if err == nil {
		in.p.metrics.LoadedItems.WithLabelValues(in.sig.Name).Add(float64(len(items)))
	}
	return err
}

func (in *Input[T]) setAsideItems(ctx context.Context, items []T, cause error) error {
	in.p.log.Error("setting items the store refuses aside in the dead-letter log", "signal", in.sig.Name, "items", len(items), "err", cause)
	if err := in.p.dead.add(ctx, in.sig.Encode(items), deadLetterNote+cause.Error()); err != nil {
		return err
	}
	in.p.metrics.DeadLetterItems.WithLabelValues(in.sig.Name).Add(float64(len(items)))
	return nil
}

// split cuts items into at most n parts of about equal length.
func split[T any](items []T, n int) [][]T {
	n = min(n, len(items))
	parts := make([][]T, 0, n)
	for i := range n {
		parts = append(parts, items[i*len(items)/n:(i+1)*len(items)/n])
	}
	return parts
}
