package duckdb

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"lookout/internal/query"
	"lookout/internal/telemetry"
)

// HeatmapBuckets is how many value buckets a HEATMAP has.
const HeatmapBuckets = 50

// plan is a compiled query: the events CTE and what each calculation reads.
type plan struct {
	c      *compiler
	ev     string
	breaks []*evField
	calcs  []calcPlan
}

type calcPlan struct {
	query.Calculation
	field  *evField
	filter string // SQL condition, "" for none
}

// groupCols are the ev columns the breakdowns group by.
func (p *plan) groupCols() []string {
	cols := make([]string, len(p.breaks))
	for i, f := range p.breaks {
		cols[i] = f.t()
		if f.group {
			cols[i] = f.g()
		}
	}
	return cols
}

// statement builds a statement on the plan: fn writes its SQL and may add arguments after
// the plan's own.
func (p *plan) statement(fn func(arg func(any) string) string) (string, []any) {
	args := slices.Clone(p.c.args)
	text := fn(func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	})
	return text, args
}

// compile registers every field the query reads and builds its events CTE.
func compile(q *query.Query, datasets []string, meta attrMeta) *plan {
	c := newCompiler(q, datasets, &meta)
	var conds []string
	for _, f := range q.Filters {
		conds = append(conds, c.condition(f))
	}
	p := &plan{c: c}
	withDur := false
	for _, calc := range q.Calculations {
		cp := calcPlan{Calculation: calc}
		if len(calc.Filters) > 0 {
			var cf []string
			for _, f := range calc.Filters {
				cf = append(cf, c.condition(f))
			}
			cp.filter = combine(cf, strings.EqualFold(calc.FilterCombination, "OR"))
		}
		switch {
		case calc.Op == query.OpConcurrency:
			withDur = true
		case calc.Op == query.OpCountDistinct:
			cp.field = c.field(calc.Column, true, false, false)
		case calc.Column != "":
			cp.field = c.field(calc.Column, false, true, false)
		}
		p.calcs = append(p.calcs, cp)
	}
	for _, b := range q.Breakdowns {
		if prefix, _ := query.Relation(b); prefix != "" {
			p.breaks = append(p.breaks, c.relationalBreakdown(b))
		} else {
			f := c.field(b, false, false, true)
			f.group = true
			p.breaks = append(p.breaks, f)
		}
	}
	p.ev = c.evSQL(combine(conds, q.Or), c.needsAnnotations(), withDur)
	return p
}

// aggregate returns the SQL aggregate of a calculation over ev.
func (cp calcPlan) aggregate() string {
	filter := func(agg string) string {
		if cp.filter == "" {
			return agg
		}
		return agg + " FILTER (WHERE " + cp.filter + ")"
	}
	var n string
	if cp.field != nil {
		n = cp.field.n()
	}
	op := cp.Op
	if base, ok := query.RateBase(op); ok {
		op = base
	}
	switch op {
	case query.OpCount:
		return "coalesce(CAST(" + filter("sum(w)") + " AS BIGINT), 0)" // no events count 0
	case query.OpCountDistinct:
		return filter("count(DISTINCT " + cp.field.t() + ")")
	case query.OpSum:
		return filter("sum(w * " + n + ")")
	case query.OpAvg:
		return fmt.Sprintf("%s / %s", filter("sum(w * "+n+")"), filter("sum(CASE WHEN "+n+" IS NOT NULL THEN w END)"))
	case query.OpMin:
		return filter("min(" + n + ")")
	case query.OpMax:
		return filter("max(" + n + ")")
	case query.OpHeatmap:
		return filter("min(" + n + ")") // the range's low end; the buckets come from heatmap()
	case query.OpConcurrency:
		return "NULL"
	}
	if pct, ok := query.Percentile(op); ok {
		if cp.field.name == "duration_ms" { // the same percentile, of integers
			return filter(fmt.Sprintf("quantile_cont(%s, %g)", cp.field.r(), pct)) + " / 1e6"
		}
		return filter(fmt.Sprintf("quantile_cont(%s, %g)", n, pct))
	}
	return "NULL"
}

// RunQuery implements store.QueryRunner.
func (s *Store) RunQuery(ctx context.Context, q *query.Query, datasets []string) (*query.Result, error) {
	p := compile(q, datasets, s.attrSnapshot())
	groups, err := s.aggregate(ctx, p)
	if err != nil {
		return nil, err
	}
	return q.Finish(groups.list()), nil
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

func (s *Store) aggregate(ctx context.Context, p *plan) (*groupSet, error) {
	q := p.c.q
	cols := p.groupCols()
	var sel []string
	for i, f := range p.breaks {
		kind := "min(" + f.k() + ")"
		if f.fixedKind != "" { // known without looking at every row
			kind = "CAST(NULL AS UTINYINT)"
		}
		sel = append(sel, cols[i], kind)
	}
	for _, cp := range p.calcs {
		sel = append(sel, cp.aggregate())
	}
	for _, cp := range p.calcs {
		if cp.Op == query.OpHeatmap {
			sel = append(sel, "max("+cp.field.n()+")")
		}
	}
	// Totals come first: once they are all known, only the series of the groups the result
	// keeps are held.
	text := fmt.Sprintf("%s SELECT GROUPING(bucket) = 1 AS total, bucket, %s FROM ev GROUP BY GROUPING SETS ((%s), (%s)) ORDER BY total DESC",
		p.ev, strings.Join(sel, ", "), strings.Join(cols, ", "), strings.Join(append([]string{"bucket"}, cols...), ", "))
	gs := &groupSet{q: q, byKey: map[string]*query.Group{}, heatMax: map[string][]any{}}
	weighted := !q.UsageMode && s.sampled()
	pending := func(c query.Calculation) bool { // values recomputed after this statement
		_, pct := query.Percentile(c.Op)
		return c.Op == query.OpHeatmap || pct && weighted
	}
	var tooMany, pruned bool
	nb := len(p.breaks)
	err := s.scan(ctx, text, p.c.args, func(row []any) {
		if tooMany {
			return
		}
		total, _ := row[0].(bool)
		texts := make([]any, nb)
		key := make([]any, nb)
		for i, f := range p.breaks {
			texts[i] = row[2+2*i]
			kind := row[3+2*i]
			if f.fixedKind != "" && texts[i] != "" {
				kind, _ = strconv.ParseInt(f.fixedKind, 10, 64)
			}
			key[i] = typed(texts[i], kind)
		}
		vals := row[2+2*nb : 2+2*nb+len(p.calcs)]
		for i := range vals {
			vals[i] = plainValue(vals[i])
		}
		rest := row[2+2*nb+len(p.calcs):]
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
		gs.heatMax[k] = slices.Clone(rest)
	})
	if err != nil {
		return nil, err
	}
	if tooMany {
		return nil, query.TooManyGroups()
	}
	for i, cp := range p.calcs {
		var err error
		switch {
		case cp.Op == query.OpHeatmap:
			err = s.heatmap(ctx, p, gs, i)
		case cp.Op == query.OpConcurrency:
			err = s.concurrency(ctx, p, gs, i)
		default:
			if pct, ok := query.Percentile(cp.Op); ok && weighted {
				err = s.weightedPercentile(ctx, p, gs, i, pct)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return gs, nil
}

// heatmap fills calculation i, a HEATMAP, with HeatmapBuckets equal value buckets spanning
// the values of every group.
func (s *Store) heatmap(ctx context.Context, p *plan, gs *groupSet, i int) error {
	lo, hi := math.Inf(1), math.Inf(-1)
	heatIdx := 0
	for j := range i {
		if p.calcs[j].Op == query.OpHeatmap {
			heatIdx++
		}
	}
	for k, g := range gs.byKey {
		if v, ok := query.Number(g.Total[i]); ok {
			lo = math.Min(lo, v)
		}
		if v, ok := query.Number(plainValue(gs.heatMax[k][heatIdx])); ok {
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
	width := (hi - lo) / HeatmapBuckets
	cp := p.calcs[i]
	cols := p.groupCols()
	text, args := p.statement(func(arg func(any) string) string {
		cond := cp.field.n() + " IS NOT NULL"
		if cp.filter != "" {
			cond += " AND " + cp.filter
		}
		hb := "0"
		if width > 0 {
			raw := fmt.Sprintf("CAST(floor((%s - %s) / %s) AS BIGINT)", cp.field.n(), arg(lo), arg(width))
			hb = fmt.Sprintf("CASE WHEN %[1]s < %[2]d THEN %[1]s ELSE %[2]d END", raw, HeatmapBuckets-1)
		}
		return fmt.Sprintf("%s SELECT GROUPING(bucket) = 1, bucket, hb, CAST(sum(w) AS DOUBLE)%s FROM (SELECT *, %s AS hb FROM ev WHERE %s) GROUP BY GROUPING SETS ((%s), (%s))",
			p.ev, prefixed(cols), hb, cond, strings.Join(append([]string{"hb"}, cols...), ", "), strings.Join(append([]string{"bucket", "hb"}, cols...), ", "))
	})
	return s.scan(ctx, text, args, func(row []any) {
		total, _ := row[0].(bool)
		b, _ := row[1].(int64)
		if total {
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
		n, _ := row[2].(int64)
		count, _ := row[3].(float64)
		upper := lo + float64(n+1)*width
		if n == HeatmapBuckets-1 || width == 0 {
			upper = hi
		}
		h.Buckets = append(h.Buckets, query.Bucket{Lower: lo + float64(n)*width, Upper: upper, Count: count})
		slices.SortFunc(h.Buckets, func(a, b query.Bucket) int { return cmp.Compare(a.Lower, b.Lower) })
	})
}

// concurrency fills calculation i with the weighted number of events in progress during each
// bucket: an event counts in every bucket its duration overlaps. The store counts events by
// first and last bucket; spreading them over the buckets between is done here.
func (s *Store) concurrency(ctx context.Context, p *plan, gs *groupSet, i int) error {
	cp := p.calcs[i]
	q := p.c.q
	cols := p.groupCols()
	last := int64((q.End.Sub(q.Start) - 1) / q.Granularity)
	text, args := p.statement(func(arg func(any) string) string {
		cond := "true"
		if cp.filter != "" {
			cond = cp.filter
		}
		return fmt.Sprintf("%s SELECT bucket, lb, CAST(sum(w) AS DOUBLE)%s FROM (SELECT *, CASE WHEN (ts + dur - %[3]s) // %[4]s < %[5]s THEN (ts + dur - %[3]s) // %[4]s ELSE %[5]s END AS lb FROM ev WHERE %[6]s) GROUP BY %[7]s",
			p.ev, prefixed(cols), arg(q.Start.UnixNano()), arg(q.Granularity.Nanoseconds()), arg(last), cond, strings.Join(append([]string{"bucket", "lb"}, cols...), ", "))
	})
	return s.scan(ctx, text, args, func(row []any) {
		first, _ := row[0].(int64)
		lastB, _ := row[1].(int64)
		w, _ := row[2].(float64)
		key := groupKey(row[3:])
		for b := first; b <= max(first, lastB); b++ {
			if cell := gs.cell(key, b, true); cell != nil {
				n, _ := cell[i].(float64)
				cell[i] = n + w
			}
		}
	})
}

// weightedPercentile replaces calculation i with the percentile of the events' values each
// repeated by its sample rate, interpolated as quantile_cont is: for a total weight W the
// value at position pct·(W−1) of the repeated, sorted values.
func (s *Store) weightedPercentile(ctx context.Context, p *plan, gs *groupSet, i int, pct float64) error {
	cp := p.calcs[i]
	cols := p.groupCols()
	part := strings.Join(append([]string{"t", "bk"}, cols...), ", ")
	text, args := p.statement(func(arg func(any) string) string {
		cond := cp.field.n() + " IS NOT NULL"
		if cp.filter != "" {
			cond += " AND " + cp.filter
		}
		pos := arg(pct)
		return fmt.Sprintf(`%[1]s, pv AS (SELECT t, bk%[2]s, x, sum(w) OVER (PARTITION BY %[3]s ORDER BY x ROWS UNBOUNDED PRECEDING) AS cw, %[4]s * (sum(w) OVER (PARTITION BY %[3]s) - 1) AS h
  FROM (SELECT true AS t, -1 AS bk%[2]s, %[5]s AS x, w FROM ev WHERE %[6]s UNION ALL SELECT false, bucket%[2]s, %[5]s, w FROM ev WHERE %[6]s))
SELECT t, bk, min(x) FILTER (WHERE cw > floor(h)), min(x) FILTER (WHERE cw > ceil(h)), any_value(h - floor(h))%[2]s FROM pv GROUP BY %[3]s`,
			p.ev, prefixed(cols), part, pos, cp.field.n(), cond)
	})
	return s.scan(ctx, text, args, func(row []any) {
		b, _ := row[1].(int64)
		if t, _ := row[0].(bool); t {
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

func prefixed(cols []string) string {
	if len(cols) == 0 {
		return ""
	}
	return ", " + strings.Join(cols, ", ")
}

// paramRef is a positional parameter in generated SQL. No other "$" followed by a digit
// occurs in it: user text is never part of the SQL.
var paramRef = regexp.MustCompile(`\$([0-9]+)`)

// onlyUsed renumbers a statement's parameters to those it uses: statements built from a
// plan share its arguments, not all of which each one needs, and DuckDB refuses arguments a
// statement does not use.
func onlyUsed(text string, args []any) (string, []any) {
	renumber := map[string]string{}
	var used []any
	text = paramRef.ReplaceAllStringFunc(text, func(ref string) string {
		if n, ok := renumber[ref]; ok {
			return n
		}
		i, _ := strconv.Atoi(ref[1:])
		used = append(used, bindable(args[i-1]))
		renumber[ref] = "$" + strconv.Itoa(len(used))
		return renumber[ref]
	})
	return text, used
}

// bindable makes a value something DuckDB binds: text must be valid UTF-8. Stored text is
// (ingest replaces invalid bytes with U+FFFD), so the same replacement keeps matches exact.
func bindable(v any) any {
	if s, ok := v.(string); ok && !utf8.ValidString(s) {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	return v
}

// statementHook, when set (by benchmarks), sees every query statement before it runs.
var statementHook func(text string, args []any)

// scan runs a query and hands each row to fn as plain values.
func (s *Store) scan(ctx context.Context, text string, args []any, fn func(row []any)) error {
	text, args = onlyUsed(text, args)
	if statementHook != nil {
		statementHook(text, args)
	}
	rows, err := s.db.QueryContext(ctx, text, args...)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i := range vals {
			vals[i] = plainValue(vals[i])
		}
		fn(vals)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("query: %w", err)
	}
	return nil
}

// plainValue narrows a driver value to int64, float64, string, bool or nil.
func plainValue(v any) any {
	switch x := v.(type) {
	case *big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		f, _ := new(big.Float).SetInt(x).Float64()
		return f
	case int32:
		return int64(x)
	case uint32:
		return int64(x)
	case uint8:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case uint16:
		return int64(x)
	case uint64:
		return int64(x)
	case float32:
		return float64(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
	case []byte:
		return string(x)
	}
	return v
}

// typed turns a breakdown value's text into the type its kind names. Text without a kind
// is an attribute column's ” for "no value".
func typed(text, kind any) any {
	s, ok := text.(string)
	if !ok || s == "" && kind == nil {
		return nil
	}
	k, _ := kind.(int64)
	switch telemetry.ValueKind(k) {
	case telemetry.KindInt:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	case telemetry.KindDouble:
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
	case telemetry.KindBool:
		if b, err := strconv.ParseBool(s); err == nil {
			return b
		}
	}
	return s
}
