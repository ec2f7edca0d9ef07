package query

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Group is what a backend computes for one group of events (one combination of breakdown
// values): each calculation's value over the whole time range (Total) and per time bucket
// (Buckets, keyed by bucket number from Query.Start), in the order of Query.Calculations.
// Values are float64, int64, *Histogram or nil (no value). For RATE_* ops the backend gives
// the value of the base op (RATE_AVG → AVG) and for CONCURRENCY only the buckets: Finish
// derives the rest.
type Group struct {
	Key     []any
	Total   []any
	Buckets map[int64][]any
}

// MaxGroups bounds how many groups a backend holds for one query: a breakdown by a field
// with more distinct values (a trace id, say) is refused with a clear error rather than
// filling memory.
const MaxGroups = 100_000

// TooManyGroups is the error for a query past MaxGroups.
func TooManyGroups() error {
	return invalid("the breakdown has more than %d groups: add a filter, or group by fewer or coarser fields", MaxGroups)
}

// Top returns the groups Finish will keep, judged by their totals alone, so that a backend
// need not hold the time series of the others. Where the totals are not final yet (orders or
// havings on RATE_* or CONCURRENCY, which Finish derives from the series, or on percentiles
// a backend will recompute, as listed in pending) it returns every group.
func (q *Query) Top(groups []*Group, pending func(Calculation) bool) []*Group {
	uses := func(op, column string) bool {
		c := Calculation{Op: op, Column: column}
		_, rate := RateBase(op)
		return rate || op == OpConcurrency || pending(c)
	}
	for _, o := range q.Orders {
		if o.Op != "" && uses(o.Op, o.Column) {
			return groups
		}
	}
	for _, h := range q.Havings {
		if uses(h.CalculateOp, h.Column) {
			return groups
		}
	}
	if len(q.Orders) == 0 && uses(q.Calculations[0].Op, q.Calculations[0].Column) {
		return groups
	}
	return q.keep(slices.Clone(groups))
}

// keep applies havings, orders and the limit to groups, reusing the slice.
func (q *Query) keep(groups []*Group) []*Group {
	kept := groups[:0]
	for _, g := range groups {
		if q.passesHavings(g) {
			kept = append(kept, g)
		}
	}
	slices.SortStableFunc(kept, q.compare)
	if len(kept) > q.Limit {
		kept = kept[:q.Limit]
	}
	return kept
}

// Finish turns a backend's groups into the result: it derives rates and concurrency totals,
// applies havings, orders (by default the first calculation, descending) and the limit.
func (q *Query) Finish(groups []*Group) *Result {
	for _, g := range groups {
		q.derive(g)
	}
	kept := q.keep(groups)
	res := &Result{Series: []Row{}, Results: []Row{}}
	for _, g := range kept {
		res.Results = append(res.Results, Row{Data: q.rowData(g.Key, g.Total)})
	}
	type point struct {
		bucket int64
		order  int
		g      *Group
	}
	var points []point
	for i, g := range kept {
		for b := range g.Buckets {
			points = append(points, point{b, i, g})
		}
	}
	slices.SortFunc(points, func(a, b point) int { return cmp.Or(cmp.Compare(a.bucket, b.bucket), cmp.Compare(a.order, b.order)) })
	for _, p := range points {
		t := q.Start.Add(time.Duration(p.bucket) * q.Granularity).UTC()
		res.Series = append(res.Series, Row{Time: &t, Data: q.rowData(p.g.Key, p.g.Buckets[p.bucket])})
	}
	return res
}

func (q *Query) rowData(key, values []any) map[string]any {
	d := make(map[string]any, len(key)+len(values))
	for i, b := range q.Breakdowns {
		d[b] = key[i]
	}
	for i, c := range q.Calculations {
		if v := values[i]; v != nil {
			d[c.Key()] = v
		}
	}
	return d
}

// derive computes rates from their base op per bucket, and totals of rates and concurrency.
func (q *Query) derive(g *Group) {
	secs := q.Granularity.Seconds()
	for i, c := range q.Calculations {
		_, isRate := RateBase(c.Op)
		if !isRate && c.Op != OpConcurrency {
			continue
		}
		buckets := make([]int64, 0, len(g.Buckets))
		for b := range g.Buckets {
			buckets = append(buckets, b)
		}
		slices.Sort(buckets)
		if c.Op == OpConcurrency {
			var peak any
			for _, b := range buckets {
				if v, ok := Number(g.Buckets[b][i]); ok && (peak == nil || v > peak.(float64)) {
					peak = v
				}
			}
			g.Total[i] = peak
			continue
		}
		// The rate at a bucket is the change of the base value since the previous bucket,
		// per second; the total is the mean of those rates.
		base := make(map[int64]any, len(buckets))
		for _, b := range buckets {
			base[b] = g.Buckets[b][i]
		}
		var sum float64
		var n int
		for _, b := range buckets {
			cur, ok1 := Number(base[b])
			prev, ok2 := Number(base[b-1])
			if ok1 && ok2 {
				r := (cur - prev) / secs
				g.Buckets[b][i] = r
				sum += r
				n++
			} else {
				g.Buckets[b][i] = nil
			}
		}
		if n > 0 {
			g.Total[i] = sum / float64(n)
		} else {
			g.Total[i] = nil
		}
	}
}

// Number reads a calculation value as a float64.
func Number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, !math.IsNaN(n)
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	}
	return 0, false
}

func (q *Query) calcIndex(op, column string) int {
	for i, c := range q.Calculations {
		if c.Op == op && c.Column == column {
			return i
		}
	}
	return -1
}

func (q *Query) passesHavings(g *Group) bool {
	for _, h := range q.Havings {
		v, ok := Number(g.Total[q.calcIndex(h.CalculateOp, h.Column)])
		if !ok {
			return false
		}
		var pass bool
		switch h.Op {
		case FilterEq:
			pass = v == h.Value
		case FilterNe:
			pass = v != h.Value
		case FilterGt:
			pass = v > h.Value
		case FilterGe:
			pass = v >= h.Value
		case FilterLt:
			pass = v < h.Value
		case FilterLe:
			pass = v <= h.Value
		}
		if !pass {
			return false
		}
	}
	return true
}

// compare orders groups by the query's orders; without any, by the first calculation
// (descending). Missing values sort last; ties keep the breakdown values' order.
func (q *Query) compare(a, b *Group) int {
	orders := q.Orders
	if len(orders) == 0 && q.Calculations[0].Op != OpHeatmap {
		orders = []Order{{Op: q.Calculations[0].Op, Column: q.Calculations[0].Column, Order: "descending"}}
	}
	for _, o := range orders {
		var x, y any
		if o.Op == "" {
			i := slices.Index(q.Breakdowns, o.Column)
			x, y = a.Key[i], b.Key[i]
		} else {
			i := q.calcIndex(o.Op, o.Column)
			x, y = a.Total[i], b.Total[i]
		}
		c := compareValues(x, y)
		if c == 0 {
			continue
		}
		if x == nil || y == nil {
			return c // missing last, whatever the direction
		}
		if o.Order == "descending" {
			c = -c
		}
		return c
	}
	for i := range a.Key {
		if c := compareValues(a.Key[i], b.Key[i]); c != 0 {
			return c
		}
	}
	return 0
}

// compareValues orders numbers before text, nil last.
func compareValues(x, y any) int {
	switch {
	case x == nil && y == nil:
		return 0
	case x == nil:
		return 1
	case y == nil:
		return -1
	}
	nx, okx := Number(x)
	ny, oky := Number(y)
	switch {
	case okx && oky:
		return cmp.Compare(nx, ny)
	case okx:
		return -1
	case oky:
		return 1
	}
	return cmp.Compare(textOf(x), textOf(y))
}

func textOf(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case bool:
		if t {
			return "true"
		}
		return "false"
	}
	return ""
}
