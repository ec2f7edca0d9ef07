package query

import (
	"cmp"
	"math"
	"slices"
)

// BubbleUp compares a sample of the selected spans with a sample of the others, field by
// field. A field with at most MaxBubbleUpValues distinct values in the sample is compared
// value by value, whatever its type (status codes 200 and 500 are categories); a numeric
// field with more is compared in BubbleUpRanges or fewer ranges with round bounds; any other
// field by its MaxBubbleUpValues most different values.
const (
	MaxBubbleUpValues = 20
	BubbleUpRanges    = 16
)

// FieldCounts is what a backend counts of one field in BubbleUp's sample: weighted numbers of
// selected and baseline events per value, and per value cell for numeric fields.
type FieldCounts struct {
	Field    string
	Distinct int // distinct values in the sample
	// Values holds at least the MaxBubbleUpValues values whose shares of the selection and of
	// the baseline differ most (ValueCount.order), or every value.
	Values []ValueCount
	// Numeric fields (every value a number) are counted in cells too: Cell n holds the values
	// in [n·10^CellExp, (n+1)·10^CellExp), where CellExp is the largest integer with
	// 10^CellExp ≤ (largest − smallest value) / BubbleUpRanges. Rank joins cells into ranges.
	Numeric bool
	CellExp int
	Cells   []CellCount
}

// ValueCount is the weighted number of selected and baseline events with a value.
type ValueCount struct {
	Value              string
	Selected, Baseline float64
}

// CellCount is the weighted number of selected and baseline events in a value cell.
type CellCount struct {
	Cell               int64
	Selected, Baseline float64
}

// Rank turns counts into BubbleUp's comparison. Shares are taken of all sampled selected
// (baseline) events, so events lacking a field count as a difference too. A field's score is
// the largest share difference over its values; fields are ranked by it, then by name.
func Rank(fields []FieldCounts, selected, baseline float64) *BubbleUp {
	out := &BubbleUp{Selected: selected, Baseline: baseline, Fields: []FieldDiff{}}
	share := func(n, total float64) float64 {
		if total <= 0 {
			return 0
		}
		return n / total
	}
	for _, fc := range fields {
		f := FieldDiff{Field: fc.Field}
		if fc.Numeric && fc.Distinct > MaxBubbleUpValues {
			f.Numeric = true
			f.Values = ranges(fc.Cells, fc.CellExp)
		} else {
			for _, v := range fc.Values {
				f.Values = append(f.Values, ValueShare{Value: v.Value, Selected: v.Selected, Baseline: v.Baseline})
			}
		}
		var selSum, baseSum float64
		for i := range f.Values {
			v := &f.Values[i]
			v.Selected, v.Baseline = share(v.Selected, selected), share(v.Baseline, baseline)
			f.Score = math.Max(f.Score, math.Abs(v.Selected-v.Baseline))
			selSum += v.Selected
			baseSum += v.Baseline
		}
		if selected > 0 && baseline > 0 { // the events without the field are a value of their own
			f.Score = math.Max(f.Score, math.Abs((1-selSum)-(1-baseSum)))
		}
		if !f.Numeric {
			slices.SortFunc(f.Values, func(a, b ValueShare) int {
				return cmp.Or(cmp.Compare(math.Abs(b.Selected-b.Baseline), math.Abs(a.Selected-a.Baseline)),
					cmp.Compare(b.Selected+b.Baseline, a.Selected+a.Baseline), cmp.Compare(a.Value, b.Value))
			})
			f.Values = f.Values[:min(len(f.Values), MaxBubbleUpValues)]
		}
		out.Fields = append(out.Fields, f)
	}
	slices.SortFunc(out.Fields, func(a, b FieldDiff) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.Field, b.Field))
	})
	return out
}

// ranges joins value cells of width 10^exp into at most BubbleUpRanges ranges of a round
// width (1, 2 or 5 times a power of ten), in order, each with its weighted counts. Ranges
// without events are left out.
func ranges(cells []CellCount, exp int) []ValueShare {
	if len(cells) == 0 {
		return nil
	}
	lo, hi := cells[0].Cell, cells[0].Cell
	for _, c := range cells {
		lo, hi = min(lo, c.Cell), max(hi, c.Cell)
	}
	per := int64(1) // cells per range
	for i := 1; floorDiv(hi, per)-floorDiv(lo, per) >= BubbleUpRanges && per < math.MaxInt64/10; i++ {
		per = roundStep(i)
	}
	index := map[int64]int{} // range → its place in out
	var out []ValueShare
	for _, c := range cells {
		r := floorDiv(c.Cell, per)
		i, ok := index[r]
		if !ok {
			lower, upper := bound(r*per, exp), bound((r+1)*per, exp)
			i = len(out)
			index[r] = i
			out = append(out, ValueShare{Lower: &lower, Upper: &upper})
		}
		out[i].Selected += c.Selected
		out[i].Baseline += c.Baseline
	}
	slices.SortFunc(out, func(a, b ValueShare) int { return cmp.Compare(*a.Lower, *b.Lower) })
	return out
}

// roundStep is the i-th of 1, 2, 5, 10, 20, 50, 100, ...
func roundStep(i int) int64 {
	n := []int64{1, 2, 5}[i%3]
	for range i / 3 {
		n *= 10
	}
	return n
}

// bound is n·10^exp, as close to the decimal as a float64 gets.
func bound(n int64, exp int) float64 {
	if exp < 0 {
		return float64(n) / math.Pow10(-exp)
	}
	return float64(n) * math.Pow10(exp)
}

// floorDiv is a / b rounded down.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
