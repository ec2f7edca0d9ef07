package cwlogs

import (
	"context"
	"math"
	"time"

	"lookout/internal/store"
)

// windows walks a time range in windows, forward or backward, the first holding about
// firstWindow records and each next four times as many, until they have held budget
// records. Records arrive roughly in time order, so the store reads a narrow window
// without touching the rest of a group.
type windows struct {
	from, to int64 // what is left of the range, in nanoseconds: [from, to)
	backward bool
	perNano  float64 // the group's records a nanosecond, on average
	size     float64 // records the next window holds
	budget   float64 // records the windows may still hold
}

const firstWindow = 20_000

// groupWindows are the windows of a read of group's records in [start, end) (zero: open)
// after the key after (nil: none), no wider than what its records span.
func (h *Handler) groupWindows(ctx context.Context, group string, start, end time.Time, after *store.LogKey, backward bool, budget int) (*windows, error) {
	streams, err := h.store.LogStreams(ctx, store.LogStreamQuery{Group: group})
	if err != nil {
		return nil, storeError(err, errGroupNotFound, nil)
	}
	w := &windows{from: math.MaxInt64, to: math.MinInt64, backward: backward, size: firstWindow, budget: float64(budget)}
	var records int64
	for _, s := range streams {
		if s.Records > 0 {
			w.from, w.to = min(w.from, s.FirstEvent.UnixNano()), max(w.to, s.LastEvent.UnixNano()+1)
			records += s.Records
		}
	}
	if records == 0 {
		return &windows{}, nil
	}
	w.perNano = float64(records) / float64(w.to-w.from)
	if !start.IsZero() {
		w.from = max(w.from, start.UnixNano())
	}
	if !end.IsZero() {
		w.to = min(w.to, end.UnixNano())
	}
	if after != nil && backward {
		w.to = min(w.to, after.TimeUnixNano+1)
	} else if after != nil {
		w.from = max(w.from, after.TimeUnixNano)
	}
	return w, nil
}

// next returns the next window [lo, hi); false when the range or the budget is spent.
func (w *windows) next() (lo, hi int64, ok bool) {
	if w.from >= w.to || w.budget <= 0 {
		return 0, 0, false
	}
	size := min(w.size, w.budget)
	width := w.to - w.from
	if float64(width)*w.perNano > size {
		width = max(int64(size/w.perNano), 1)
	}
	if w.backward {
		lo, hi = w.to-width, w.to
		w.to = lo
	} else {
		lo, hi = w.from, w.from+width
		w.from = hi
	}
	w.budget -= size
	w.size *= 4
	return lo, hi, true
}

// spent reports that the windows have covered the whole range.
func (w *windows) spent() bool { return w.from >= w.to }
