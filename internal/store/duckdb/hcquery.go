package duckdb

import (
	"fmt"
	"strings"

	"lookout/internal/query"
	"lookout/internal/telemetry"
)

// Honeycomb queries arrive as plans (query.Plan), whose meaning is settled: this file and its
// neighbours only say them in DuckDB's SQL. The translation's parts are the expressions of
// fields on stored rows (hcfields.go), conditions and aggregates (below and hcrun.go), and
// the statements built on the common table "ev" (hcrun.go, hcevents.go). ev has a row per
// event, spans first and then (when the plan counts them) span events and links, with the
// columns ts (the event's time), w (its weight), trace_hi, trace_lo, bucket (its time bucket)
// and per field the forms the plan reads of it: text, number, kind, group.

// layout is where a plan's fields are in ev. It is worked out once per plan; each statement
// of the plan writes ev anew (translation), binding its own arguments.
type layout struct {
	p        *query.Plan
	meta     *attrMeta
	datasets []string
	cols     []*evColumn
	byName   map[string]*evColumn
	// related numbers the tests of relational fields among the filters: their ev column says
	// whether the event's trace passes.
	related map[*query.Cond]int
}

// evColumn is a field of ev, with the forms of it the plan reads.
type evColumn struct {
	f               *query.Field
	name            string // column prefix, e.g. "f3"
	text, num, kind bool
	raw             bool // duration_ms's nanoseconds, for percentiles
	// group: grouped by its attribute column, where '' is no value (DuckDB groups a column
	// without NULLs much faster than an expression); else by its text.
	group bool
	fixed telemetry.ValueKind // the kind of every value when known ahead, else KindEmpty
}

func (c *evColumn) t() string { return c.name + "_t" }
func (c *evColumn) n() string { return c.name + "_n" }
func (c *evColumn) k() string { return c.name + "_k" }
func (c *evColumn) r() string { return c.name + "_r" }
func (c *evColumn) g() string { return c.name + "_g" }

// groupCol is the ev column a breakdown groups by.
func (c *evColumn) groupCol() string {
	if c.group {
		return c.g()
	}
	return c.t()
}

func newLayout(p *query.Plan, meta *attrMeta, datasets []string) *layout {
	l := &layout{p: p, meta: meta, datasets: datasets, byName: map[string]*evColumn{}, related: map[*query.Cond]int{}}
	l.conditions(p.Where)
	l.conditions(p.Selection)
	for _, a := range p.Aggregates {
		l.conditions(a.Where)
		switch a.Func {
		case query.AggCount, query.AggConcurrency:
		case query.AggCountDistinct:
			l.column(a.Field).text = true
		default:
			c := l.column(a.Field)
			c.num = true
			c.raw = c.raw || a.Func == query.AggPercentile && isDuration(a.Field)
		}
	}
	for _, f := range p.GroupBy {
		c := l.column(f)
		c.kind = true
		kind, ok := meta.columnKind(f.Attribute)
		if ok && f.Standard == nil && f.Path == nil && !f.Exception && f.Related == nil {
			c.group = true
			if !p.Annotations { // span events and links have kinds of their own
				c.fixed = kind
			}
		} else {
			c.text = true
		}
	}
	return l
}

// isDuration reports whether f is duration_ms, read from the spans' nanoseconds.
func isDuration(f *query.Field) bool {
	return f.Standard != nil && f.Standard.Std == query.StdDuration && f.Attribute == ""
}

// column returns the ev column of a field, added on first use.
func (l *layout) column(f *query.Field) *evColumn {
	c := l.byName[f.Name]
	if c == nil {
		c = &evColumn{f: f, name: fmt.Sprintf("f%d", len(l.cols)), fixed: f.Type()}
		l.byName[f.Name] = c
		l.cols = append(l.cols, c)
	}
	return c
}

// conditions registers the forms conditions read.
func (l *layout) conditions(c *query.Cond) {
	switch {
	case c == nil:
	case c.Field == nil:
		for _, t := range c.Terms {
			l.conditions(t)
		}
	case c.Field.Related != nil:
		l.related[c] = len(l.related)
	case c.Number:
		l.column(c.Field).num = true
	default:
		l.column(c.Field).text = true
	}
}

// translation writes the SQL of one statement on a plan.
type translation struct {
	statement
	*layout
	ctes       []string
	exceptions map[string]string // exception CTEs by attribute and time range
}

func (l *layout) translation() *translation {
	return &translation{layout: l, exceptions: map[string]string{}}
}

// evColumn names the ev column of a form of a field: its number or its text.
func (t *translation) evColumn(f *query.Field, num bool) string {
	if num {
		return t.byName[f.Name].n()
	}
	return t.byName[f.Name].t()
}

// cond writes a condition on the values col names, or for relational tests on the ev column
// of their result.
func (t *translation) cond(c *query.Cond, col func(f *query.Field, num bool) string) string {
	if c.Field == nil {
		var terms []string
		for _, term := range c.Terms {
			terms = append(terms, t.cond(term, col))
		}
		return combineSQL(terms, c.Or)
	}
	if c.Field.Related != nil {
		return fmt.Sprintf("rt%d_hit", t.related[c])
	}
	v := col(c.Field, c.Number)
	var test string
	switch c.Test {
	case query.Exists:
		if c.Not {
			return v + " IS NULL"
		}
		return v + " IS NOT NULL"
	case query.Equal:
		test = v + " = " + t.arg(c.Values[0])
	case query.Less:
		test = v + " < " + t.arg(c.Values[0])
	case query.LessEqual:
		test = v + " <= " + t.arg(c.Values[0])
	case query.Greater:
		test = v + " > " + t.arg(c.Values[0])
	case query.GreaterEqual:
		test = v + " >= " + t.arg(c.Values[0])
	case query.StartsWith:
		test = fmt.Sprintf("starts_with(%s, %s)", v, t.arg(c.Values[0]))
	case query.EndsWith:
		test = fmt.Sprintf("suffix(%s, %s)", v, t.arg(c.Values[0]))
	case query.Contains:
		test = fmt.Sprintf("contains(%s, %s)", v, t.arg(c.Values[0]))
	case query.In:
		items := make([]string, len(c.Values))
		for i, x := range c.Values {
			items[i] = t.arg(x)
		}
		test = v + " IN (" + strings.Join(items, ", ") + ")"
	}
	if c.Not {
		return "NOT coalesce(" + test + ", false)"
	}
	return test
}

// where writes a condition on ev's columns; "true" for none.
func (t *translation) where(c *query.Cond) string {
	if c == nil {
		return "true"
	}
	return t.cond(c, t.evColumn)
}

// extraColumn is a column ev has besides the fields: its expression on spans (alias s) and
// on annotations.
type extraColumn struct{ span, annotation string }

// events returns "WITH ..., ev AS (...)": the plan's events that pass its filters.
func (t *translation) events(extra ...extraColumn) string {
	q := t.p.Query
	t.relatedCTEs()
	spans := t.source("s", true, q.Start.UnixNano(), q.End.UnixNano())
	var spanExtra, noteExtra strings.Builder
	for _, e := range extra {
		spanExtra.WriteString(", " + e.span)
		noteExtra.WriteString(", " + e.annotation)
	}
	branches := []string{t.branch(spans, "spans", "s.start_ns", spanExtra.String())}
	if t.p.Annotations {
		branches = append(branches, t.branch(t.source("s", false, 0, 0), "annotations", "s.time_ns", noteExtra.String()))
	}
	where := t.where(t.p.Where)
	bucket := fmt.Sprintf("(ts - %s) // %s", t.arg(q.Start.UnixNano()), t.arg(q.Granularity.Nanoseconds()))
	return fmt.Sprintf("WITH %sev AS (SELECT *, %s AS bucket FROM (%s) WHERE %s)", t.with(), bucket, strings.Join(branches, " UNION ALL "), where)
}

// with lists the CTEs written so far, each followed by ", ".
func (t *translation) with() string {
	var b strings.Builder
	for _, cte := range t.ctes {
		b.WriteString(cte + ", ")
	}
	return b.String()
}

// branch selects a table's rows of the query's range and datasets (alias s, timed by ts) as
// events: ts, w, trace_hi, trace_lo, extra, then the fields' forms.
func (t *translation) branch(src *source, table, ts, extra string) string {
	var b strings.Builder
	weight := "CASE WHEN s.sample_rate > 1 THEN s.sample_rate ELSE 1 END" // (not greatest(): an order of magnitude slower)
	if t.p.UsageMode {
		weight = "1"
	}
	fmt.Fprintf(&b, "SELECT %s AS ts, %s AS w, s.trace_hi, s.trace_lo%s", ts, weight, extra)
	var joins strings.Builder
	for _, c := range t.cols {
		if c.f.Related != nil {
			cte := c.name + "_rel"
			fmt.Fprintf(&b, ", %[1]s.v AS %[2]s, %[1]s.k AS %[3]s", cte, c.t(), c.k())
			fmt.Fprintf(&joins, " LEFT JOIN %[1]s ON %[1]s.trace_hi = s.trace_hi AND %[1]s.trace_lo = s.trace_lo", cte)
			continue
		}
		b.WriteString(t.forms(src, c))
	}
	for i := range len(t.related) {
		fmt.Fprintf(&b, ", rt%[1]d.trace_hi IS NOT NULL AS rt%[1]d_hit", i)
		fmt.Fprintf(&joins, " LEFT JOIN rt%[1]d ON rt%[1]d.trace_hi = s.trace_hi AND rt%[1]d.trace_lo = s.trace_lo", i)
	}
	fmt.Fprintf(&b, " FROM %s s%s%s WHERE %s", table, src.joins(), joins.String(), t.scope(ts))
	return b.String()
}

// value is the expression of a form of a field on the source's rows: its number or text.
func (src *source) value(f *query.Field, num bool) string {
	if num {
		return src.field(f).number()
	}
	return src.field(f).text
}

// forms selects the forms of a field the plan reads: ", expr AS f0_t, ...".
func (t *translation) forms(src *source, c *evColumn) string {
	e := src.field(c.f)
	var b strings.Builder
	if c.text {
		fmt.Fprintf(&b, ", %s AS %s", e.text, c.t())
	}
	if c.num {
		fmt.Fprintf(&b, ", %s AS %s", e.number(), c.n())
	}
	if c.kind {
		fmt.Fprintf(&b, ", %s AS %s", e.kind, c.k())
	}
	if c.group {
		g := e.group
		if g == "" { // span events and links have no attribute columns
			g = "coalesce(" + e.text + ", '')"
		}
		fmt.Fprintf(&b, ", %s AS %s", g, c.g())
	}
	if c.raw {
		raw := e.raw
		if raw == "" {
			raw = "CAST(NULL AS BIGINT)"
		}
		fmt.Fprintf(&b, ", %s AS %s", raw, c.r())
	}
	return b.String()
}

// scope is the condition on a table's rows (alias s, timed by ts) of the query's time range
// and datasets.
func (t *translation) scope(ts string) string {
	q := t.p.Query
	scope := fmt.Sprintf("%[1]s >= %[2]s AND %[1]s < %[3]s", ts, t.arg(q.Start.UnixNano()), t.arg(q.End.UnixNano()))
	if t.datasets != nil {
		ds := make([]string, len(t.datasets))
		for i, d := range t.datasets {
			ds[i] = t.arg(d)
		}
		scope += " AND s.dataset IN (" + strings.Join(ds, ", ") + ")"
	}
	return scope
}

// relatedCTEs writes the CTEs of relational fields: for each test among the filters, the
// traces with a related span that passes it (rtN); for each breakdown, each trace's value
// (fN_rel: its root's, or the smallest of its spans').
func (t *translation) relatedCTEs() {
	tests := make([]*query.Cond, len(t.related))
	for c, i := range t.related {
		tests[i] = c
	}
	for i, c := range tests {
		src, from := t.relatedSpans(c.Field.Related)
		inner := *c
		inner.Field = c.Field.Related.Field
		cond := t.cond(&inner, src.value)
		t.ctes = append(t.ctes, fmt.Sprintf("rt%d AS (SELECT DISTINCT r.trace_hi, r.trace_lo FROM spans r%s WHERE %s AND %s)", i, src.joins(), from, cond))
	}
	for _, c := range t.cols {
		if c.f.Related == nil {
			continue
		}
		src, from := t.relatedSpans(c.f.Related)
		e := src.field(c.f.Related.Field)
		t.ctes = append(t.ctes, fmt.Sprintf("%[1]s_rel AS (SELECT r.trace_hi, r.trace_lo, min(%[2]s) AS v, arg_min(%[3]s, %[2]s) AS k FROM spans r%[4]s WHERE %[5]s GROUP BY r.trace_hi, r.trace_lo)",
			c.name, e.text, e.kind, src.joins(), from))
	}
}

// relatedSpans returns a source for the spans a relational field may read (alias r) and
// the condition that picks them: roots for root., any span for any., starting from the
// plan's RelatedSince to the query's end.
func (t *translation) relatedSpans(rel *query.Related) (*source, string) {
	since, until := t.p.RelatedSince.UnixNano(), t.p.End.UnixNano()
	from := fmt.Sprintf("r.start_ns >= %s AND r.start_ns < %s", t.arg(since), t.arg(until))
	if rel.Root {
		from += " AND r.parent_id = 0"
	}
	return t.source("r", true, since, until), from
}

// exceptionCTE returns a CTE with, per span starting in [since, until), the given attribute
// of its first exception event.
func (t *translation) exceptionCTE(key string, since, until int64) string {
	id := fmt.Sprint(key, "\x00", since, "\x00", until)
	if cte, ok := t.exceptions[id]; ok {
		return cte
	}
	cte := fmt.Sprintf("exc%d", len(t.exceptions))
	t.exceptions[id] = cte
	k := t.arg(key)
	t.ctes = append(t.ctes, fmt.Sprintf(
		"%s AS (SELECT trace_hi, trace_lo, span_id, arg_min(attr_values[list_position(attr_keys, %[2]s)], time_ns) AS v, arg_min(attr_kinds[list_position(attr_keys, %[2]s)], time_ns) AS k"+
			" FROM annotations WHERE type = %[3]d AND name = 'exception' AND list_contains(attr_keys, %[2]s) AND span_start >= %[4]s AND span_start < %[5]s GROUP BY ALL)",
		cte, k, annotationEvent, t.arg(since), t.arg(until)))
	return cte
}
