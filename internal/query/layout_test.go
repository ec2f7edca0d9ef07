package query

import (
	"testing"
	"time"

	"lookout/internal/telemetry"
)

func TestHeatmapLayout(t *testing.T) {
	l := NewHeatmapLayout(10, 60) // buckets of 1
	h := &Histogram{}
	l.Add(h, HeatmapBuckets-1, 2)
	l.Add(h, 0, 5)
	want := []Bucket{{Lower: 10, Upper: 11, Count: 5}, {Lower: 59, Upper: 60, Count: 2}}
	if len(h.Buckets) != 2 || h.Buckets[0] != want[0] || h.Buckets[1] != want[1] {
		t.Errorf("buckets %+v, want %+v", h.Buckets, want)
	}
	// One value: one bucket holding it.
	h = &Histogram{}
	NewHeatmapLayout(3, 3).Add(h, 0, 1)
	if h.Buckets[0] != (Bucket{Lower: 3, Upper: 3, Count: 1}) {
		t.Errorf("single value: %+v", h.Buckets)
	}
}

func TestConcurrencyBuckets(t *testing.T) {
	q := &Query{Start: time.Unix(0, 0), End: time.Unix(600, 0), Granularity: time.Minute}
	for _, c := range []struct{ start, end, first, last int64 }{
		{2, 4, 2, 4},  // overlaps buckets 2, 3 and 4
		{3, 3, 3, 3},  // within one
		{8, 30, 8, 9}, // ends after the range
	} {
		if first, last := q.ConcurrencyBuckets(c.start, c.end); first != c.first || last != c.last {
			t.Errorf("%d–%d: %d–%d, want %d–%d", c.start, c.end, first, last, c.first, c.last)
		}
	}
}

func TestTyped(t *testing.T) {
	for _, c := range []struct {
		text string
		kind telemetry.ValueKind
		want any
	}{
		{"200", telemetry.KindInt, int64(200)},
		{"2.5", telemetry.KindDouble, 2.5},
		{"true", telemetry.KindBool, true},
		{"200", telemetry.KindString, "200"},
		{"x", telemetry.KindInt, "x"}, // not what its kind says: kept as text
	} {
		if got := Typed(c.text, c.kind); got != c.want {
			t.Errorf("Typed(%q, %v) = %#v, want %#v", c.text, c.kind, got, c.want)
		}
	}
}
