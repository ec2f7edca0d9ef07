package query

import (
	"cmp"
	"math"
	"slices"
)

// ValueCount is the weighted number of selected and baseline events in which a field has a
// value (or, for a numeric field, a value in [Lower, Upper]). Stores count; Rank compares.
type ValueCount struct {
	Field        string
	Numeric      bool
	Value        string
	Lower, Upper float64
	Selected     float64
	Baseline     float64
}

// MaxBubbleUpValues is how many values of a field BubbleUp shows.
const MaxBubbleUpValues = 20

// Rank turns value counts into BubbleUp's field comparison. Shares are taken of all
// selected (baseline) events, so events lacking a field count as a difference too. A
// field's score is the largest share difference over its values; fields are ranked by it,
// then by name.
func Rank(counts []ValueCount, selected, baseline float64) *BubbleUp {
	out := &BubbleUp{Selected: selected, Baseline: baseline, Fields: []FieldDiff{}}
	share := func(n, total float64) float64 {
		if total <= 0 {
			return 0
		}
		return n / total
	}
	byField := map[string]*FieldDiff{}
	var selSum, baseSum = map[string]float64{}, map[string]float64{}
	for _, c := range counts {
		f := byField[c.Field]
		if f == nil {
			f = &FieldDiff{Field: c.Field, Numeric: c.Numeric}
			byField[c.Field] = f
		}
		v := ValueShare{Value: c.Value, Selected: share(c.Selected, selected), Baseline: share(c.Baseline, baseline)}
		if c.Numeric {
			lo, hi := c.Lower, c.Upper
			v.Lower, v.Upper = &lo, &hi
		}
		f.Values = append(f.Values, v)
		f.Score = math.Max(f.Score, math.Abs(v.Selected-v.Baseline))
		selSum[c.Field] += v.Selected
		baseSum[c.Field] += v.Baseline
	}
	for name, f := range byField {
		// The events without the field are a value of their own.
		missing := math.Abs((1 - selSum[name]) - (1 - baseSum[name]))
		if selected > 0 && baseline > 0 {
			f.Score = math.Max(f.Score, missing)
		}
		if f.Numeric {
			slices.SortFunc(f.Values, func(a, b ValueShare) int { return cmp.Compare(*a.Lower, *b.Lower) })
		} else {
			slices.SortFunc(f.Values, func(a, b ValueShare) int {
				return cmp.Or(cmp.Compare(math.Abs(b.Selected-b.Baseline), math.Abs(a.Selected-a.Baseline)),
					cmp.Compare(b.Selected+b.Baseline, a.Selected+a.Baseline), cmp.Compare(a.Value, b.Value))
			})
			if len(f.Values) > MaxBubbleUpValues {
				f.Values = f.Values[:MaxBubbleUpValues]
			}
		}
		out.Fields = append(out.Fields, *f)
	}
	slices.SortFunc(out.Fields, func(a, b FieldDiff) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.Field, b.Field))
	})
	return out
}
