package query

import (
	"cmp"
	"slices"
	"strconv"

	"lookout/internal/telemetry"
)

// HeatmapBuckets is how many value buckets a HEATMAP has.
const HeatmapBuckets = 50

// HeatmapLayout lays out the value buckets of a HEATMAP: HeatmapBuckets equal buckets from
// the smallest value of any group (Lo) to the largest (Hi). A backend counts a value x in
// bucket floor((x − Lo) / Width), the largest values in the last; all in bucket 0 when every
// value is the same (Width 0).
type HeatmapLayout struct {
	Lo, Hi, Width float64
}

// NewHeatmapLayout returns the layout of values from lo to hi.
func NewHeatmapLayout(lo, hi float64) HeatmapLayout {
	return HeatmapLayout{Lo: lo, Hi: hi, Width: (hi - lo) / HeatmapBuckets}
}

// Add adds the count of bucket n to h, keeping its buckets in order.
func (l HeatmapLayout) Add(h *Histogram, n int64, count float64) {
	upper := l.Lo + float64(n+1)*l.Width
	if n == HeatmapBuckets-1 || l.Width == 0 {
		upper = l.Hi
	}
	h.Buckets = append(h.Buckets, Bucket{Lower: l.Lo + float64(n)*l.Width, Upper: upper, Count: count})
	slices.SortFunc(h.Buckets, func(a, b Bucket) int { return cmp.Compare(a.Lower, b.Lower) })
}

// LastBucket is the time bucket of the range's last instant. An instant t is in bucket
// (t − Start) / Granularity, rounded down.
func (q *Query) LastBucket() int64 {
	return int64((q.End.Sub(q.Start) - 1) / q.Granularity)
}

// ConcurrencyBuckets returns the time buckets an event counts in for CONCURRENCY, given the
// buckets of its start and of its end: every bucket its duration overlaps, within the range.
func (q *Query) ConcurrencyBuckets(start, end int64) (first, last int64) {
	return start, min(max(start, end), q.LastBucket())
}

// Typed returns a value read back as text in the type its kind names, so that breakdown
// values keep the type they were sent with (200, not "200").
func Typed(text string, kind telemetry.ValueKind) any {
	switch kind {
	case telemetry.KindInt:
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return n
		}
	case telemetry.KindDouble:
		if f, err := strconv.ParseFloat(text, 64); err == nil {
			return f
		}
	case telemetry.KindBool:
		if b, err := strconv.ParseBool(text); err == nil {
			return b
		}
	}
	return text
}
