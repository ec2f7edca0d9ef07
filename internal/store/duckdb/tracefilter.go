package duckdb

import (
	"context"
	"database/sql"
	"sync"

	"lookout/internal/telemetry"
)

// traceFilter is a Bloom filter of the trace ids the store holds spans of. A batch's traces
// it has never seen are new, and only those it may hold are looked up, so that checking a
// batch does not cost a scan of trace_index, which grows with every trace stored.
//
// It is read from trace_index in the background, at the first write and again, larger, when
// full; until then every trace may be held, and is looked up. The writers add their traces
// once committed; those added while it is read are kept aside and added to it when read.
type traceFilter struct {
	db      *sql.DB
	ctx     context.Context // ends when the store closes
	stop    context.CancelFunc
	reading sync.WaitGroup

	mu      sync.Mutex
	ids     idFilter
	loaded  bool
	loading bool
	pending []int64 // hashes stored while loading
}

func newTraceFilter(db *sql.DB) *traceFilter {
	ctx, stop := context.WithCancel(context.Background())
	return &traceFilter{db: db, ctx: ctx, stop: stop}
}

// close stops a read under way and waits for it.
func (f *traceFilter) close() {
	f.stop()
	f.reading.Wait()
}

// traceHash is a trace id's hash in the filter.
func traceHash(id telemetry.TraceID) int64 {
	return int64(id.High()*0x9e3779b97f4a7c15 ^ id.Low())
}

// mayHold returns the traces of ranges the store may hold spans of: all of them until the
// filter is read, which it starts reading when it has not.
func (f *traceFilter) mayHold(ranges []tracedRange) []tracedRange {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.loading && (!f.loaded || f.ids.full()) && f.ctx.Err() == nil {
		f.loading, f.loaded, f.pending = true, false, nil
		f.reading.Go(f.load)
	}
	if !f.loaded {
		return ranges
	}
	var maybe []tracedRange
	for _, r := range ranges {
		if f.ids.mayHold(traceHash(r.id)) {
			maybe = append(maybe, r)
		}
	}
	return maybe
}

// load reads the filter from trace_index, with room for as many traces again. A failed read
// leaves the filter unread, to be read again at the next write.
func (f *traceFilter) load() {
	ids, err := readTraceIDs(f.ctx, f.db)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loading = false
	if err != nil {
		return
	}
	for _, h := range f.pending {
		ids.add(h)
	}
	f.ids, f.loaded, f.pending = ids, true, nil
}

func readTraceIDs(ctx context.Context, db *sql.DB) (idFilter, error) {
	return readIDFilter(ctx, db, "SELECT count(*) FROM trace_index", "SELECT trace_hi, trace_lo FROM trace_index", func(rows *sql.Rows) (int64, error) {
		var hi, lo int64
		err := rows.Scan(&hi, &lo)
		return traceHash(telemetry.TraceIDFromParts(uint64(hi), uint64(lo))), err
	})
}

// stored adds committed traces.
func (f *traceFilter) stored(ranges []tracedRange) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range ranges {
		switch h := traceHash(r.id); {
		case f.loading:
			f.pending = append(f.pending, h)
		case f.loaded:
			f.ids.add(h)
		}
	}
}
