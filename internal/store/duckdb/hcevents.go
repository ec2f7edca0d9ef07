package duckdb

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"lookout/internal/query"
	"lookout/internal/telemetry"
)

// spanColumns are the spans table's columns as scanSpan reads them, before the attribute
// columns.
const spanColumns = "trace_hi, trace_lo, span_id, parent_id, start_ns, duration_ns, name, kind, status_code, status_message, trace_state, flags, in_progress, sample_rate, resource_id, scope_name, scope_version, protocol, dataset, key_id, keyset_id, attr_values, extra"

// spanBaseColumns is how many they are.
var spanBaseColumns = len(strings.Split(spanColumns, ", "))

// bubbleUpColumns are the spans table's columns BubbleUp's sample reads: the span id it is
// drawn by, where attribute values are, and what the compared standard fields are made of.
const bubbleUpColumns = "span_id, keyset_id, resource_id, attr_values, name, service, duration_ns, kind, status_code, status_message, trace_state, scope_name, scope_version, sample_rate"

// bubbleUpSample is about how many selected and how many baseline spans BubbleUp compares:
// shares taken from a uniform sample this size are within about half a percentage point of
// the whole.
const bubbleUpSample = 50_000

// spanExtra is ev's extra columns for the spans table's columns cols (alias s).
func spanExtra(cols ...string) []extraColumn {
	extra := make([]extraColumn, len(cols))
	for i, c := range cols {
		extra[i] = extraColumn{span: "s." + c, annotation: "NULL"}
	}
	return extra
}

// Events implements store.QueryRunner: the query's spans, slowest first.
func (s *Store) Events(ctx context.Context, q *query.Query, datasets []string, limit int) ([]map[string]any, error) {
	meta := s.attrSnapshot()
	p, err := query.SpanPlan(ctx, q, s.catalog(&meta, datasets))
	if err != nil {
		return nil, err
	}
	cols := spanColumns + attrColumnList(s.attrColumns())
	t := newLayout(p, &meta, datasets).translation()
	ev := t.events(spanExtra(strings.Split(cols, ", ")[2:]...)...) // ev has the trace id
	text := fmt.Sprintf("%s SELECT %s FROM ev ORDER BY duration_ns DESC, trace_hi, trace_lo, span_id LIMIT %s", ev, cols, t.arg(limit))
	rows, err := s.db.QueryContext(ctx, text, t.args...)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	defer rows.Close()
	out := []map[string]any{}
	for rows.Next() {
		sp, err := s.scanSpan(ctx, rows)
		if err != nil {
			return nil, err
		}
		out = append(out, query.SpanEvent(&sp))
	}
	return out, rows.Err()
}

// selected writes whether an ev row is among BubbleUp's selected events.
func (t *translation) selected() string {
	conds := []string{t.where(t.p.Selection)}
	if !t.p.SelectedFrom.IsZero() {
		conds = append(conds, "ts >= "+t.arg(t.p.SelectedFrom.UnixNano()))
	}
	if !t.p.SelectedUntil.IsZero() {
		conds = append(conds, "ts < "+t.arg(t.p.SelectedUntil.UnixNano()))
	}
	return "coalesce(" + combineSQL(conds, false) + ", false)"
}

// BubbleUp implements store.QueryRunner. It counts the selection and the baseline, then
// counts the values of every field in a sample of each (bubbleUpSample spans, chosen by a
// hash of the span id, so the same data gives the same answer) for query.Rank to compare.
func (s *Store) BubbleUp(ctx context.Context, q *query.Query, datasets []string, sel query.Selection) (*query.BubbleUp, error) {
	meta := s.attrSnapshot()
	p, err := query.BubbleUpPlan(ctx, q, sel, s.catalog(&meta, datasets))
	if err != nil {
		return nil, err
	}
	l := newLayout(p, &meta, datasets)

	t := l.translation()
	var counts struct{ sel, base, nSel, nBase float64 }
	text := fmt.Sprintf("%s SELECT coalesce(sum(w) FILTER (WHERE sel), 0), coalesce(sum(w) FILTER (WHERE NOT sel), 0), count(*) FILTER (WHERE sel), count(*) FILTER (WHERE NOT sel) FROM (SELECT %s AS sel, w FROM ev)",
		t.events(), t.selected())
	err = s.scan(ctx, text, &t.statement, func(row []any) {
		counts.sel, _ = query.Number(row[0])
		counts.base, _ = query.Number(row[1])
		counts.nSel, _ = query.Number(row[2])
		counts.nBase, _ = query.Number(row[3])
	})
	if err != nil {
		return nil, fmt.Errorf("bubbleup: %w", err)
	}
	out := &query.BubbleUp{Selected: counts.sel, Baseline: counts.base, Fields: []query.FieldDiff{}}
	if counts.nSel == 0 {
		return out, nil
	}
	fields, sampleSel, sampleBase, err := s.bubbleUpCounts(ctx, l, counts.nSel, counts.nBase)
	if err != nil {
		return nil, fmt.Errorf("bubbleup: %w", err)
	}
	out.Fields = query.Rank(fields, sampleSel, sampleBase).Fields
	return out, nil
}

// bubbleUpCounts counts the fields of a sample of about bubbleUpSample selected and as many
// baseline spans, as query.FieldCounts says, and the sample's selected and baseline weights.
func (s *Store) bubbleUpCounts(ctx context.Context, l *layout, nSel, nBase float64) ([]query.FieldCounts, float64, float64, error) {
	t := l.translation()
	// ev has the span columns the comparison reads (not the wide, rarely compared ones such
	// as extra: every column of ev is read for every span of the range); the sample keeps
	// those kv reads (sampled), the attribute columns and the standard fields compared (b0_t,
	// b0_k, ...), worked out for the sample alone.
	extra := strings.Split(bubbleUpColumns, ", ")
	sampled := []string{"e.keyset_id", "e.resource_id", "e.attr_values"}
	// The attribute columns and the compared standard fields become rows of kv through one
	// list a sampled span (a struct each: key, kind, value), unnested in a single pass.
	// Like the lists below, they leave out maps and the attributes standard fields hide.
	var pairs, shadowed []string
	hidden := map[string]bool{}
	for _, f := range query.StandardFields() {
		if f.On&query.Spans != 0 {
			shadowed = append(shadowed, t.arg(f.Name))
			hidden[f.Name] = true
		}
	}
	for _, key := range slices.Sorted(maps.Keys(l.meta.slots)) {
		a := l.meta.slots[key]
		extra = append(extra, fmt.Sprintf("c%d", a.slot))
		sampled = append(sampled, fmt.Sprintf("e.c%d", a.slot))
		if a.kind != telemetry.KindMap && !hidden[key] {
			pairs = append(pairs, fmt.Sprintf("{'k': %s, 'kind': %d, 'v': NULLIF(c%d, '')}", t.arg(key), uint8(a.kind), a.slot))
		}
	}
	ev := t.events(spanExtra(extra...)...)
	q := l.p.Query
	src := t.source("e", true, q.Start.UnixNano(), q.End.UnixNano())
	var forms strings.Builder
	for i, f := range l.p.Compared {
		c := &evColumn{f: f, name: fmt.Sprintf("b%d", i), text: true, kind: true}
		forms.WriteString(t.forms(src, c))
		pairs = append(pairs, fmt.Sprintf("{'k': %s, 'kind': CAST(%s AS UTINYINT), 'v': %s}", t.arg(f.Name), c.k(), c.t()))
	}
	// Keep a span when a hash of its id falls under its side's share (in millionths).
	share := func(n float64) int64 { return int64(math.Ceil(math.Min(1, bubbleUpSample/math.Max(n, 1)) * 1e6)) }
	numeric := fmt.Sprintf("%d, %d", uint8(telemetry.KindInt), uint8(telemetry.KindDouble))
	// Rows: 0, the sample's weights; 1, a field's number of distinct values and, when cells
	// were counted, their exponent; 2, a value's weights; 3, a cell's weights.
	text := ev + fmt.Sprintf(`, samp AS MATERIALIZED (SELECT e.sel, e.w, %[10]s%[11]s FROM (SELECT %[1]s AS sel, * FROM ev) e%[12]s
  WHERE hash(e.span_id) %% 1000000 < CASE WHEN e.sel THEN %[2]d ELSE %[3]d END),
kv AS (
  SELECT * FROM (
    SELECT e.sel, e.w, unnest(k.list_keys) AS key, unnest(k.list_kinds) AS kind, unnest(e.attr_values) AS val FROM samp e JOIN keysets k ON k.id = e.keyset_id
    UNION ALL SELECT e.sel, e.w, unnest(r.attr_keys), unnest(r.attr_kinds), unnest(r.attr_values) FROM samp e JOIN resources r ON r.id = e.resource_id
  ) WHERE key NOT IN (%[5]s) AND kind <> %[6]d
  UNION ALL SELECT sel, w, p.k, p.kind, p.v FROM (SELECT sel, w, unnest([%[4]s]) AS p FROM samp) WHERE p.v IS NOT NULL),
tot AS (SELECT coalesce(sum(w) FILTER (WHERE sel), 0) AS s, coalesce(sum(w) FILTER (WHERE NOT sel), 0) AS b FROM samp),
vals AS (
  SELECT key, val, bool_and(kind IN (%[7]s)) AS numeric, coalesce(sum(w) FILTER (WHERE sel), 0) AS s, coalesce(sum(w) FILTER (WHERE NOT sel), 0) AS b
  FROM kv WHERE val IS NOT NULL GROUP BY key, val),
stats AS (
  SELECT key, nd, numeric, CASE WHEN numeric AND hi > lo AND isfinite(hi - lo) THEN CAST(floor(log10((hi - lo) / %[8]d)) AS BIGINT) END AS e
  FROM (SELECT key, count(*) AS nd, bool_and(numeric) AS numeric, max(TRY_CAST(val AS DOUBLE)) AS hi, min(TRY_CAST(val AS DOUBLE)) AS lo FROM vals GROUP BY key)),
cells AS (
  SELECT key, CAST(CASE WHEN e >= 0 THEN floor(x / pow(10, e)) ELSE floor(x * pow(10, -e)) END AS BIGINT) AS cell, sum(s) AS s, sum(b) AS b
  FROM (SELECT v.key, v.s, v.b, st.e, TRY_CAST(v.val AS DOUBLE) AS x FROM vals v JOIN stats st USING (key) WHERE st.e IS NOT NULL)
  WHERE isfinite(x) GROUP BY key, cell)
SELECT 0, NULL, NULL, NULL, NULL, NULL, s, b FROM tot
UNION ALL SELECT 1, key, NULL, nd, e, e IS NOT NULL, NULL, NULL FROM stats
UNION ALL SELECT 2, key, val, NULL, NULL, NULL, s, b FROM vals
  QUALIFY row_number() OVER (PARTITION BY key ORDER BY abs(s / (SELECT CASE WHEN s > 0 THEN s ELSE 1 END FROM tot) - b / (SELECT CASE WHEN b > 0 THEN b ELSE 1 END FROM tot)) DESC, s + b DESC, val) <= %[9]d
UNION ALL SELECT 3, key, NULL, cell, NULL, NULL, s, b FROM cells`,
		t.selected(), share(nSel), share(nBase), strings.Join(pairs, ", "), strings.Join(shadowed, ", "), uint8(telemetry.KindMap),
		numeric, query.BubbleUpRanges, query.MaxBubbleUpValues, strings.Join(sampled, ", "), forms.String(), src.joins())
	var (
		fields                []query.FieldCounts
		index                 = map[string]int{}
		sampleSel, sampleBase float64
	)
	field := func(key string) *query.FieldCounts {
		i, ok := index[key]
		if !ok {
			i = len(fields)
			index[key] = i
			fields = append(fields, query.FieldCounts{Field: key})
		}
		return &fields[i]
	}
	err := s.scan(ctx, text, &t.statement, func(row []any) {
		what, _ := row[0].(int64)
		key, _ := row[1].(string)
		n, _ := row[3].(int64)
		e, _ := row[4].(int64)
		sc, _ := query.Number(row[6])
		bc, _ := query.Number(row[7])
		switch what {
		case 0:
			sampleSel, sampleBase = sc, bc
		case 1:
			f := field(key)
			f.Distinct, f.CellExp = int(n), int(e)
			f.Numeric, _ = row[5].(bool)
		case 2:
			val, _ := row[2].(string)
			f := field(key)
			f.Values = append(f.Values, query.ValueCount{Value: val, Selected: sc, Baseline: bc})
		case 3:
			f := field(key)
			f.Cells = append(f.Cells, query.CellCount{Cell: n, Selected: sc, Baseline: bc})
		}
	})
	return fields, sampleSel, sampleBase, err
}
