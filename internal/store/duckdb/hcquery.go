package duckdb

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"lookout/internal/query"
)

// Honeycomb queries run over events: every span, and every span event and link of a span as
// events of their own (meta.annotation_type "span_event" or "link"), as Honeycomb turns OTLP
// into events. The compiler below builds one common table, "ev", with a row per event and a
// column per form (text, number, kind) of each field the query uses; the aggregation runs
// over it. Every name and value the user gave is a bound parameter: only fixed SQL text and
// generated column names are concatenated.

// relationalWindow is how far before the query's range a related span (root. or any.) may
// start: a trace's root usually starts before its later spans.
const relationalWindow = 10 * time.Minute

// evField is a field the query reads, with the forms of it the SQL needs.
type evField struct {
	name            string
	col             string // ev column prefix, e.g. "f3"
	text, num, kind bool
	group           bool   // a breakdown: selected in its group form too
	fixedKind       string // the kind of all its values, when every row source knows it ahead
	kindSeen        bool
	relatedCTE      string // for relational breakdowns: the CTE that holds the value
}

type compiler struct {
	q        *query.Query
	meta     *attrMeta
	datasets []string
	args     []any
	fields   map[string]*evField
	order    []*evField
	ctes     []string // relational and exception CTEs, in order
	excCTEs  map[string]string
	relConds []string // ev columns holding relational filter results
	names    *int     // CTEs named so far, shared with the compilers of related spans
}

// name returns a new CTE name.
func (c *compiler) name(prefix string) string {
	*c.names++
	return fmt.Sprintf("%s%d", prefix, *c.names)
}

// related returns a compiler for a related span's fields, sharing this one's arguments and
// CTE names; adopt takes back its arguments and CTEs.
func (c *compiler) related() *compiler {
	inner := newCompiler(c.q, c.datasets, c.meta)
	inner.args, inner.names = c.args, c.names
	return inner
}

func (c *compiler) adopt(inner *compiler) {
	c.args = inner.args
	c.ctes = append(c.ctes, inner.ctes...)
}

func newCompiler(q *query.Query, datasets []string, meta *attrMeta) *compiler {
	return &compiler{q: q, meta: meta, datasets: datasets, fields: map[string]*evField{}, names: new(int)}
}

func (c *compiler) arg(v any) string {
	c.args = append(c.args, v)
	return fmt.Sprintf("$%d", len(c.args))
}

// field registers a field and the forms the query needs; it returns the ev column prefix.
func (c *compiler) field(name string, text, num, kind bool) *evField {
	f := c.fields[name]
	if f == nil {
		f = &evField{name: name, col: fmt.Sprintf("f%d", len(c.order))}
		c.fields[name] = f
		c.order = append(c.order, f)
	}
	f.text = f.text || text
	f.num = f.num || num
	f.kind = f.kind || kind
	return f
}

func (f *evField) t() string { return f.col + "_t" }
func (f *evField) n() string { return f.col + "_n" }
func (f *evField) k() string { return f.col + "_k" }
func (f *evField) r() string { return f.col + "_r" }
func (f *evField) g() string { return f.col + "_g" }

// numericValue reports a filter value as a number, if it is one (numbers, and strings that
// read as numbers).
func numericValue(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
	}
	return 0, false
}

// textValue is a filter value as stored text: numbers in their shortest form, booleans as
// true/false.
func textValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return x.String()
	}
	if f, ok := numericValue(v); ok {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// condition compiles a filter on an ev row.
func (c *compiler) condition(fl query.Filter) string {
	if p, _ := query.Relation(fl.Column); p != "" {
		return c.relationalCondition(fl)
	}
	_, isNumber := fl.Value.(float64)
	if _, ok := fl.Value.(json.Number); ok {
		isNumber = true
	}
	switch fl.Op {
	case query.FilterExists, query.FilterNotExists:
		f := c.field(fl.Column, true, false, false)
		if fl.Op == query.FilterExists {
			return f.t() + " IS NOT NULL"
		}
		return f.t() + " IS NULL"
	case query.FilterEq, query.FilterNe:
		var eq string
		if isNumber {
			f := c.field(fl.Column, false, true, false)
			n, _ := numericValue(fl.Value)
			eq = fmt.Sprintf("%s = %s", f.n(), c.arg(n))
		} else {
			f := c.field(fl.Column, true, false, false)
			eq = fmt.Sprintf("%s = %s", f.t(), c.arg(textValue(fl.Value)))
		}
		if fl.Op == query.FilterNe {
			return "NOT coalesce(" + eq + ", false)" // events without the field differ too
		}
		return eq
	case query.FilterGt, query.FilterGe, query.FilterLt, query.FilterLe:
		if n, ok := numericValue(fl.Value); ok {
			f := c.field(fl.Column, false, true, false)
			return fmt.Sprintf("%s %s %s", f.n(), fl.Op, c.arg(n))
		}
		f := c.field(fl.Column, true, false, false)
		return fmt.Sprintf("%s %s %s", f.t(), fl.Op, c.arg(textValue(fl.Value)))
	case query.FilterStartsWith, query.FilterNotStartsWith, query.FilterEndsWith, query.FilterNotEndsWith, query.FilterContains, query.FilterNotContains:
		f := c.field(fl.Column, true, false, false)
		fn := map[string]string{
			query.FilterStartsWith: "starts_with", query.FilterNotStartsWith: "starts_with",
			query.FilterEndsWith: "suffix", query.FilterNotEndsWith: "suffix",
			query.FilterContains: "contains", query.FilterNotContains: "contains",
		}[fl.Op]
		cond := fmt.Sprintf("%s(%s, %s)", fn, f.t(), c.arg(textValue(fl.Value)))
		if strings.HasPrefix(fl.Op, "does-not") {
			return "NOT coalesce(" + cond + ", false)"
		}
		return cond
	case query.FilterIn, query.FilterNotIn:
		list, _ := fl.Value.([]any)
		allNumbers := true
		for _, v := range list {
			if _, ok := v.(float64); !ok {
				allNumbers = false
			}
		}
		var f *evField
		var col string
		if allNumbers {
			f = c.field(fl.Column, false, true, false)
			col = f.n()
		} else {
			f = c.field(fl.Column, true, false, false)
			col = f.t()
		}
		var items []string
		for _, v := range list {
			if allNumbers {
				items = append(items, c.arg(v.(float64)))
			} else {
				items = append(items, c.arg(textValue(v)))
			}
		}
		in := col + " IN (" + strings.Join(items, ", ") + ")"
		if fl.Op == query.FilterNotIn {
			return "NOT coalesce(" + in + ", false)"
		}
		return in
	}
	return "false" // Validate refuses unknown ops
}

// combine joins conditions with AND or OR.
func combine(conds []string, or bool) string {
	if len(conds) == 0 {
		return "true"
	}
	op := " AND "
	if or {
		op = " OR "
	}
	return "(" + strings.Join(conds, op) + ")"
}

// relatedSpans selects, for the fields registered with this (related) compiler, the spans
// that can be related ones: roots for root., any span for any., starting up to
// relationalWindow before the query's range.
func (c *compiler) relatedSpans(prefix string) string {
	src := &spanSource{alias: "r", c: c}
	sel := src.selectList(c.order, false)
	where := []string{
		fmt.Sprintf("r.start_ns >= %s", c.arg(c.q.Start.Add(-relationalWindow).UnixNano())),
		fmt.Sprintf("r.start_ns < %s", c.arg(c.q.End.UnixNano())),
	}
	if prefix == query.RootPrefix {
		where = append(where, "r.parent_id = 0")
	}
	return fmt.Sprintf("SELECT r.trace_hi, r.trace_lo%s FROM spans r%s WHERE %s", sel, src.joins(), strings.Join(where, " AND "))
}

// relationalCondition compiles a filter on a related span of the same trace (its root, or
// any of its spans) into a CTE of the traces that have one; the ev row gets a boolean column.
func (c *compiler) relationalCondition(fl query.Filter) string {
	prefix, name := query.Relation(fl.Column)
	inner := c.related()
	fl.Column = name
	cond := inner.condition(fl)
	cte := c.name("rel")
	body := fmt.Sprintf("SELECT DISTINCT trace_hi, trace_lo FROM (%s) WHERE %s", inner.relatedSpans(prefix), cond)
	c.adopt(inner)
	c.ctes = append(c.ctes, cte+" AS ("+body+")")
	c.relConds = append(c.relConds, cte)
	return cte + "_hit"
}

// relationalBreakdown makes a CTE with each trace's value of a related span's field (the
// root's; for any., the smallest value among its spans) and returns the field.
func (c *compiler) relationalBreakdown(field string) *evField {
	if f := c.fields[field]; f != nil {
		return f
	}
	prefix, name := query.Relation(field)
	inner := c.related()
	rf := inner.field(name, true, false, true)
	cte := c.name("rel")
	body := fmt.Sprintf("SELECT trace_hi, trace_lo, min(%s) AS v, min(%s) AS k FROM (%s) GROUP BY trace_hi, trace_lo",
		rf.t(), rf.k(), inner.relatedSpans(prefix))
	c.adopt(inner)
	c.ctes = append(c.ctes, cte+" AS ("+body+")")
	f := c.field(field, true, false, true)
	f.relatedCTE = cte
	return f
}

// exceptionCTE returns a CTE with, per span of the query's range, the given attribute of its
// first exception event.
func (c *compiler) exceptionCTE(field string) string {
	if cte, ok := c.excCTEs[field]; ok {
		return cte
	}
	if c.excCTEs == nil {
		c.excCTEs = map[string]string{}
	}
	cte := c.name("exc")
	c.excCTEs[field] = cte
	k := c.arg(field)
	c.ctes = append(c.ctes, fmt.Sprintf(
		"%s AS (SELECT trace_hi, trace_lo, span_id, arg_min(attr_values[list_position(attr_keys, %[2]s)], time_ns) AS v, arg_min(attr_kinds[list_position(attr_keys, %[2]s)], time_ns) AS k"+
			" FROM annotations WHERE type = %[3]d AND name = 'exception' AND list_contains(attr_keys, %[2]s) AND span_start >= %[4]s AND span_start < %[5]s GROUP BY ALL)",
		cte, k, annotationEvent, c.arg(c.q.Start.UnixNano()), c.arg(c.q.End.UnixNano())))
	return cte
}

// relatedJoins joins an event branch (alias s, whose trace columns are named) to the
// relational CTEs and returns the join clauses and the select items they add.
func (c *compiler) relatedJoins() (joins, sel string) {
	var j, s strings.Builder
	for _, cte := range c.relConds {
		fmt.Fprintf(&j, " LEFT JOIN %[1]s ON %[1]s.trace_hi = s.trace_hi AND %[1]s.trace_lo = s.trace_lo", cte)
		fmt.Fprintf(&s, ", %[1]s.trace_hi IS NOT NULL AS %[1]s_hit", cte)
	}
	for _, f := range c.order {
		if f.relatedCTE != "" {
			fmt.Fprintf(&j, " LEFT JOIN %[1]s ON %[1]s.trace_hi = s.trace_hi AND %[1]s.trace_lo = s.trace_lo", f.relatedCTE)
			fmt.Fprintf(&s, ", %[1]s.v AS %[2]s, %[1]s.k AS %[3]s", f.relatedCTE, f.t(), f.k())
		}
	}
	return j.String(), s.String()
}

// needsAnnotations reports whether span events and links can change the result: not when
// the filters require a field only spans have, nor when every calculation reads one.
func (c *compiler) needsAnnotations() bool {
	q := c.q
	if !q.Or || len(q.Filters) == 1 {
		for _, f := range q.Filters {
			if spanOnlyFields[f.Column] && (f.Op == query.FilterExists || !strings.Contains(f.Op, "not") && f.Op != query.FilterNe && f.Op != query.FilterNotExists) {
				return false
			}
		}
	}
	for _, calc := range q.Calculations {
		if !spanOnlyFields[calc.Column] {
			return true
		}
	}
	return false
}

// scope is the condition on spans (alias s) of the query's time range and datasets.
func (c *compiler) scope() string {
	q := c.q
	scope := fmt.Sprintf("s.start_ns >= %s AND s.start_ns < %s", c.arg(q.Start.UnixNano()), c.arg(q.End.UnixNano()))
	if c.datasets != nil {
		var ds []string
		for _, d := range c.datasets {
			ds = append(ds, c.arg(d))
		}
		scope += " AND s.dataset IN (" + strings.Join(ds, ", ") + ")"
	}
	return scope
}

func (c *compiler) weight() string {
	if c.q.UsageMode {
		return "1"
	}
	// 0 means 1. (CASE, not greatest(): DuckDB's greatest is an order of magnitude slower.)
	return "CASE WHEN s.sample_rate > 1 THEN s.sample_rate ELSE 1 END"
}

// spanBranch selects the query's spans with the columns ts, w, trace_hi, trace_lo, then
// extra (", ..." or ""), then the registered fields' forms.
func (c *compiler) spanBranch(extra string) string {
	relJoins, relSel := c.relatedJoins()
	spans := &spanSource{alias: "s", c: c}
	sel := spans.selectList(c.order, true)
	return fmt.Sprintf("SELECT s.start_ns AS ts, %s AS w, s.trace_hi, s.trace_lo%s%s%s FROM spans s%s%s WHERE %s",
		c.weight(), extra, sel, relSel, spans.joins(), relJoins, c.scope())
}

func (c *compiler) with() string {
	var b strings.Builder
	b.WriteString("WITH ")
	for _, cte := range c.ctes {
		b.WriteString(cte + ", ")
	}
	return b.String()
}

// spanEV returns the CTE "ev" of the query's spans alone, with extra columns.
func (c *compiler) spanEV(where, extra string) string {
	branch := c.spanBranch(extra) // first: it may add CTEs
	return fmt.Sprintf("%sev AS (SELECT * FROM (%s) WHERE %s)", c.with(), branch, where)
}

// evSQL returns the CTE "ev" of events, with the columns ts, w (sample rate), trace_hi,
// trace_lo, dur (when withDur), the registered fields' forms and bucket, filtered by where.
// Fields must all be registered before.
func (c *compiler) evSQL(where string, annotations, withDur bool) string {
	dur := ""
	if withDur {
		dur = ", s.duration_ns AS dur"
	}
	branches := []string{c.spanBranch(dur)}
	if annotations {
		relJoins, relSel := c.relatedJoins()
		src := &annotationSource{c: c}
		d := ""
		if withDur {
			d = ", 0 AS dur"
		}
		sel := formList(c.order, true, src.expr)
		scope := strings.ReplaceAll(c.scope(), "s.start_ns", "s.time_ns")
		branches = append(branches, fmt.Sprintf("SELECT s.time_ns AS ts, %s AS w, s.trace_hi, s.trace_lo%s%s%s FROM annotations s%s%s WHERE %s",
			c.weight(), d, sel, relSel, src.attrs.sql(), relJoins, scope))
	}
	return fmt.Sprintf("%sev AS (SELECT *, (ts - %s) // %s AS bucket FROM (%s) WHERE %s)",
		c.with(), c.arg(c.q.Start.UnixNano()), c.arg(c.q.Granularity.Nanoseconds()), strings.Join(branches, " UNION ALL "), where)
}
