package cwlogs

import (
	"slices"
	"testing"
)

// TestWindowsCoverTheRange walks 10 records a nanosecond over [1000, 21000), 200,000
// records in all, forward and backward, within a budget of 150,000 and then of all.
func TestWindowsCoverTheRange(t *testing.T) {
	cases := []struct {
		backward bool
		budget   float64
		want     [][2]int64 // windows of 20,000 records, then 80,000, then what is left
		spent    bool
	}{
		{false, 150_000, [][2]int64{{1000, 3000}, {3000, 11000}, {11000, 16000}}, false},
		{false, 1e9, [][2]int64{{1000, 3000}, {3000, 11000}, {11000, 21000}}, true},
		{true, 150_000, [][2]int64{{19000, 21000}, {11000, 19000}, {6000, 11000}}, false},
		{true, 1e9, [][2]int64{{19000, 21000}, {11000, 19000}, {1000, 11000}}, true},
	}
	for _, c := range cases {
		w := &windows{from: 1000, to: 21000, backward: c.backward, perNano: 10, size: firstWindow, budget: c.budget}
		var got [][2]int64
		for lo, hi, ok := w.next(); ok; lo, hi, ok = w.next() {
			got = append(got, [2]int64{lo, hi})
		}
		if !slices.Equal(got, c.want) || w.spent() != c.spent {
			t.Errorf("backward %v, budget %v: windows %v (spent %v), want %v (spent %v)", c.backward, c.budget, got, w.spent(), c.want, c.spent)
		}
	}
}
