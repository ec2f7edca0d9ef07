package duckdb

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"lookout/internal/query"
	"lookout/internal/telemetry"
)

// RunQuery implements store.QueryRunner.
func (s *Store) RunQuery(ctx context.Context, q *query.Query, datasets []string) (*query.Result, error) {
	meta := s.attrSnapshot()
	p, err := query.NewPlan(ctx, q, s.catalog(&meta, datasets))
	if err != nil {
		return nil, err
	}
	groups, err := s.aggregate(ctx, newLayout(p, &meta, datasets))
	if err != nil {
		return nil, err
	}
	return q.Finish(groups.list()), nil
}

// aggregate writes an aggregate on ev.
func (t *translation) aggregate(a query.Aggregate) string {
	filter := func(agg string) string {
		if a.Where == nil {
			return agg
		}
		return agg + " FILTER (WHERE " + t.where(a.Where) + ")"
	}
	var c *evColumn
	if a.Field != nil {
		c = t.byName[a.Field.Name]
	}
	switch a.Func {
	case query.AggCount:
		return "coalesce(CAST(" + filter("sum(w)") + " AS BIGINT), 0)" // no events count 0
	case query.AggCountDistinct:
		return filter("count(DISTINCT " + c.t() + ")")
	case query.AggSum:
		return filter("sum(w * " + c.n() + ")")
	case query.AggAvg:
		return fmt.Sprintf("%s / %s", filter("sum(w * "+c.n()+")"), filter("sum(CASE WHEN "+c.n()+" IS NOT NULL THEN w END)"))
	case query.AggMin:
		return filter("min(" + c.n() + ")")
	case query.AggMax:
		return filter("max(" + c.n() + ")")
	case query.AggHeatmap:
		return filter("min(" + c.n() + ")") // the range's low end; the buckets come from heatmap()
	case query.AggPercentile:
		if c.raw { // the same percentile, of integers
			return filter(fmt.Sprintf("quantile_cont(%s, %g)", c.r(), a.Fraction)) + " / 1e6"
		}
		return filter(fmt.Sprintf("quantile_cont(%s, %g)", c.n(), a.Fraction))
	}
	return "NULL" // CONCURRENCY: from concurrency()
}

// groupCols are the ev columns the breakdowns group by.
func (l *layout) groupCols() []string {
	cols := make([]string, len(l.p.GroupBy))
	for i, f := range l.p.GroupBy {
		cols[i] = l.byName[f.Name].groupCol()
	}
	return cols
}

// groupValue is a breakdown's value from its text and kind.
func (c *evColumn) groupValue(text, kind any) any {
	s, ok := text.(string)
	if !ok {
		return nil
	}
	k, _ := kind.(int64)
	if c.fixed != telemetry.KindEmpty && s != "" {
		k = int64(c.fixed)
	}
	if s == "" && k == 0 {
		return nil // an attribute column's '' for no value
	}
	return query.Typed(s, telemetry.ValueKind(k))
}

// groupSet holds groups by their key's text.
type groupSet struct {
	q     *query.Query
	byKey map[string]*query.Group
	order []string
	// extra per-group values from the main query: the high end of each HEATMAP's range.
	heatMax map[string][]any
}

// list returns the groups in the order they came.
func (g *groupSet) list() []*query.Group {
	out := make([]*query.Group, 0, len(g.order))
	for _, k := range g.order {
		out = append(out, g.byKey[k])
	}
	return out
}

// keepOnly forgets every group but these.
func (g *groupSet) keepOnly(keep []*query.Group) {
	if len(keep) == len(g.byKey) {
		return
	}
	wanted := make(map[*query.Group]bool, len(keep))
	for _, grp := range keep {
		wanted[grp] = true
	}
	order := g.order[:0]
	for _, k := range g.order {
		if wanted[g.byKey[k]] {
			order = append(order, k)
		} else {
			delete(g.byKey, k)
			delete(g.heatMax, k)
		}
	}
	g.order = order
}

func groupKey(texts []any) string {
	var b strings.Builder
	for _, t := range texts {
		if s, ok := t.(string); ok {
			b.WriteByte(1)
			b.WriteString(s)
		} else {
			b.WriteByte(0)
		}
	}
	return b.String()
}

// cell returns the values slot of a group's total (bucket < 0) or of one bucket.
func (g *groupSet) cell(key string, bucket int64, create bool) []any {
	grp := g.byKey[key]
	if grp == nil {
		return nil
	}
	if bucket < 0 {
		return grp.Total
	}
	vals := grp.Buckets[bucket]
	if vals == nil && create {
		vals = make([]any, len(g.q.Calculations))
		grp.Buckets[bucket] = vals
	}
	return vals
}

func (s *Store) aggregate(ctx context.Context, l *layout) (*groupSet, error) {
	q := l.p.Query
	t := l.translation()
	var extra []extraColumn
	if slices.ContainsFunc(l.p.Aggregates, func(a query.Aggregate) bool { return a.Func == query.AggConcurrency }) {
		extra = append(extra, extraColumn{span: "s.duration_ns AS dur", annotation: "0 AS dur"})
	}
	ev := t.events(extra...)
	cols := l.groupCols()
	var sel []string
	for i, f := range l.p.GroupBy {
		c := l.byName[f.Name]
		kind := "min(" + c.k() + ")"
		if c.fixed != telemetry.KindEmpty { // known without looking at every row
			kind = "CAST(NULL AS UTINYINT)"
		}
		sel = append(sel, cols[i], kind)
	}
	for _, a := range l.p.Aggregates {
		sel = append(sel, t.aggregate(a))
	}
	for _, a := range l.p.Aggregates {
		if a.Func == query.AggHeatmap {
			sel = append(sel, "max("+l.byName[a.Field.Name].n()+")")
		}
	}
	// Totals come first: once they are all known, only the series of the groups the result
	// keeps are held.
	text := fmt.Sprintf("%s SELECT GROUPING(bucket) = 1 AS total, bucket, %s FROM ev GROUP BY GROUPING SETS ((%s), (%s)) ORDER BY total DESC",
		ev, strings.Join(sel, ", "), strings.Join(cols, ", "), strings.Join(append([]string{"bucket"}, cols...), ", "))
	gs := &groupSet{q: q, byKey: map[string]*query.Group{}, heatMax: map[string][]any{}}
	weighted := !q.UsageMode && s.sampled()
	pending := func(c query.Calculation) bool { // values recomputed after this statement
		_, pct := query.Percentile(c.Op)
		return c.Op == query.OpHeatmap || pct && weighted
	}
	var tooMany, pruned bool
	nb, na := len(l.p.GroupBy), len(l.p.Aggregates)
	err := s.scan(ctx, text, &t.statement, func(row []any) {
		if tooMany {
			return
		}
		total, _ := row[0].(bool)
		texts := make([]any, nb)
		key := make([]any, nb)
		for i, f := range l.p.GroupBy {
			texts[i] = row[2+2*i]
			key[i] = l.byName[f.Name].groupValue(texts[i], row[3+2*i])
		}
		vals := row[2+2*nb : 2+2*nb+na]
		k := groupKey(texts)
		if !total {
			if !pruned {
				gs.keepOnly(q.Top(gs.list(), pending))
				pruned = true
			}
			b, _ := row[1].(int64)
			if cell := gs.cell(k, b, true); cell != nil {
				copy(cell, vals)
			}
			return
		}
		if len(gs.byKey) >= query.MaxGroups {
			tooMany = true
			return
		}
		gs.byKey[k] = &query.Group{Key: key, Total: slices.Clone(vals), Buckets: map[int64][]any{}}
		gs.order = append(gs.order, k)
		gs.heatMax[k] = slices.Clone(row[2+2*nb+na:])
	})
	if err != nil {
		return nil, err
	}
	if tooMany {
		return nil, query.TooManyGroups()
	}
	heatmaps := 0
	for i, a := range l.p.Aggregates {
		var err error
		switch {
		case a.Func == query.AggHeatmap:
			err = s.heatmap(ctx, l, gs, i, heatmaps)
			heatmaps++
		case a.Func == query.AggConcurrency:
			err = s.concurrency(ctx, l, gs, i)
		case a.Func == query.AggPercentile && weighted:
			err = s.weightedPercentile(ctx, l, gs, i)
		}
		if err != nil {
			return nil, err
		}
	}
	return gs, nil
}

// heatmap fills aggregate i, the nth HEATMAP, with the buckets of its layout over the values
// of every group.
func (s *Store) heatmap(ctx context.Context, l *layout, gs *groupSet, i, nth int) error {
	lo, hi := math.Inf(1), math.Inf(-1)
	for k, g := range gs.byKey {
		if v, ok := query.Number(g.Total[i]); ok {
			lo = math.Min(lo, v)
		}
		if v, ok := query.Number(gs.heatMax[k][nth]); ok {
			hi = math.Max(hi, v)
		}
		g.Total[i] = nil
	}
	for _, g := range gs.byKey {
		for _, vals := range g.Buckets {
			vals[i] = nil
		}
	}
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil // no values
	}
	hl := query.NewHeatmapLayout(lo, hi)
	a := l.p.Aggregates[i]
	n := l.byName[a.Field.Name].n()
	cols := l.groupCols()
	t := l.translation()
	ev := t.events()
	cond := n + " IS NOT NULL"
	if a.Where != nil {
		cond += " AND " + t.where(a.Where)
	}
	hb := "0"
	if hl.Width > 0 {
		raw := fmt.Sprintf("CAST(floor((%s - %s) / %s) AS BIGINT)", n, t.arg(hl.Lo), t.arg(hl.Width))
		hb = fmt.Sprintf("CASE WHEN %[1]s < %[2]d THEN %[1]s ELSE %[2]d END", raw, query.HeatmapBuckets-1)
	}
	text := fmt.Sprintf("%s SELECT GROUPING(bucket) = 1, bucket, hb, CAST(sum(w) AS DOUBLE)%s FROM (SELECT *, %s AS hb FROM ev WHERE %s) GROUP BY GROUPING SETS ((%s), (%s))",
		ev, prefixed(cols), hb, cond, strings.Join(append([]string{"hb"}, cols...), ", "), strings.Join(append([]string{"bucket", "hb"}, cols...), ", "))
	return s.scan(ctx, text, &t.statement, func(row []any) {
		b, _ := row[1].(int64)
		if total, _ := row[0].(bool); total {
			b = -1
		}
		cell := gs.cell(groupKey(row[4:]), b, true)
		if cell == nil {
			return
		}
		h, _ := cell[i].(*query.Histogram)
		if h == nil {
			h = &query.Histogram{}
			cell[i] = h
		}
		bucket, _ := row[2].(int64)
		count, _ := row[3].(float64)
		hl.Add(h, bucket, count)
	})
}

// concurrency fills aggregate i with the weighted number of events in progress during each
// time bucket (query.ConcurrencyBuckets). The statement counts events by the buckets of their
// start and end; spreading them over the buckets between is done here.
func (s *Store) concurrency(ctx context.Context, l *layout, gs *groupSet, i int) error {
	a := l.p.Aggregates[i]
	q := l.p.Query
	cols := l.groupCols()
	t := l.translation()
	ev := t.events(extraColumn{span: "s.duration_ns AS dur", annotation: "0 AS dur"})
	cond := "true"
	if a.Where != nil {
		cond = t.where(a.Where)
	}
	text := fmt.Sprintf("%s SELECT bucket, eb, CAST(sum(w) AS DOUBLE)%s FROM (SELECT *, (ts + dur - %s) // %s AS eb FROM ev WHERE %s) GROUP BY %s",
		ev, prefixed(cols), t.arg(q.Start.UnixNano()), t.arg(q.Granularity.Nanoseconds()), cond, strings.Join(append([]string{"bucket", "eb"}, cols...), ", "))
	return s.scan(ctx, text, &t.statement, func(row []any) {
		start, _ := row[0].(int64)
		end, _ := row[1].(int64)
		w, _ := row[2].(float64)
		key := groupKey(row[3:])
		first, last := q.ConcurrencyBuckets(start, end)
		for b := first; b <= last; b++ {
			if cell := gs.cell(key, b, true); cell != nil {
				n, _ := cell[i].(float64)
				cell[i] = n + w
			}
		}
	})
}

// weightedPercentile replaces aggregate i with the percentile of the events' values each
// repeated by its sample rate, interpolated as quantile_cont is: for a total weight W the
// value at position pct·(W−1) of the repeated, sorted values.
func (s *Store) weightedPercentile(ctx context.Context, l *layout, gs *groupSet, i int) error {
	a := l.p.Aggregates[i]
	n := l.byName[a.Field.Name].n()
	cols := l.groupCols()
	part := strings.Join(append([]string{"t", "bk"}, cols...), ", ")
	t := l.translation()
	ev := t.events()
	cond := n + " IS NOT NULL"
	if a.Where != nil {
		cond += " AND " + t.where(a.Where)
	}
	text := fmt.Sprintf(`%[1]s, pv AS (SELECT t, bk%[2]s, x, sum(w) OVER (PARTITION BY %[3]s ORDER BY x ROWS UNBOUNDED PRECEDING) AS cw, %[4]s * (sum(w) OVER (PARTITION BY %[3]s) - 1) AS h
  FROM (SELECT true AS t, -1 AS bk%[2]s, %[5]s AS x, w FROM ev WHERE %[6]s UNION ALL SELECT false, bucket%[2]s, %[5]s, w FROM ev WHERE %[6]s))
SELECT t, bk, min(x) FILTER (WHERE cw > floor(h)), min(x) FILTER (WHERE cw > ceil(h)), any_value(h - floor(h))%[2]s FROM pv GROUP BY %[3]s`,
		ev, prefixed(cols), part, t.arg(a.Fraction), n, cond)
	return s.scan(ctx, text, &t.statement, func(row []any) {
		b, _ := row[1].(int64)
		if total, _ := row[0].(bool); total {
			b = -1
		}
		cell := gs.cell(groupKey(row[5:]), b, true)
		if cell == nil {
			return
		}
		lo, ok1 := row[2].(float64)
		hi, ok2 := row[3].(float64)
		frac, _ := row[4].(float64)
		if ok1 && ok2 {
			cell[i] = lo + (hi-lo)*frac
		}
	})
}
