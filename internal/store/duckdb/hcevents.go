package duckdb

import (
	"context"
	"fmt"
	"math"
	"strings"

	"lookout/internal/query"
)

// spanColumns are the spans table's columns as scanSpan reads them, before the attribute
// columns.
const spanColumns = "trace_hi, trace_lo, span_id, parent_id, start_ns, duration_ns, name, kind, status_code, status_message, trace_state, flags, in_progress, sample_rate, resource_id, scope_name, scope_version, protocol, dataset, key_id, keyset_id, attr_values, extra"

// spanBaseColumns is how many they are.
var spanBaseColumns = len(strings.Split(spanColumns, ", "))

// bubbleUpSample is about how many selected and how many baseline spans BubbleUp compares:
// shares taken from a uniform sample this size are within about half a percentage point of
// the whole.
const bubbleUpSample = 50_000

// filtered compiles the query's filters (and more) for a spans-only read.
func filtered(q *query.Query, datasets []string, meta attrMeta, more ...query.Filter) (*compiler, string, string) {
	c := newCompiler(q, datasets, &meta)
	var conds []string
	for _, f := range q.Filters {
		conds = append(conds, c.condition(f))
	}
	where := combine(conds, q.Or)
	var sel []string
	for _, f := range more {
		sel = append(sel, c.condition(f))
	}
	return c, where, combine(sel, false)
}

// Events implements store.QueryRunner: the query's spans, slowest first.
func (s *Store) Events(ctx context.Context, q *query.Query, datasets []string, limit int) ([]map[string]any, error) {
	c, where, _ := filtered(q, datasets, s.attrSnapshot())
	cols := spanColumns + attrColumnList(s.attrColumns())
	var extra strings.Builder
	for _, col := range strings.Split(cols, ", ")[2:] { // the branch has the trace id
		extra.WriteString(", s." + col)
	}
	text := fmt.Sprintf("%s SELECT %s FROM ev ORDER BY duration_ns DESC, trace_hi, trace_lo, span_id LIMIT %s",
		c.spanEV(where, extra.String()), cols, c.arg(limit))
	text, args := onlyUsed(text, c.args)
	rows, err := s.db.QueryContext(ctx, text, args...)
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

// BubbleUp implements store.QueryRunner. It counts the selection and the baseline, then
// compares the fields of a sample of each (bubbleUpSample spans, chosen by a hash of the span
// id, so the same data gives the same answer): categorical fields by their most different
// values, numeric ones in 16 equal ranges.
func (s *Store) BubbleUp(ctx context.Context, q *query.Query, datasets []string, sel query.Selection) (*query.BubbleUp, error) {
	meta := s.attrSnapshot()
	c, where, selCond := filtered(q, datasets, meta, sel.Filters...)
	if !sel.Start.IsZero() {
		selCond += " AND ts >= " + c.arg(sel.Start.UnixNano())
	}
	if !sel.End.IsZero() {
		selCond += " AND ts < " + c.arg(sel.End.UnixNano())
	}
	selCond = "coalesce(" + selCond + ", false)"
	// Attribute columns, and the keys that have one, for the field list below.
	var colSel, colKV strings.Builder
	for key, a := range meta.slots {
		fmt.Fprintf(&colSel, ", s.c%d", a.slot)
		fmt.Fprintf(&colKV, "\n  UNION ALL SELECT sel, w, %s, %d, c%d FROM samp WHERE c%d <> ''", c.arg(key), uint8(a.kind), a.slot, a.slot)
	}
	ev := c.spanEV(where, ", s.span_id, s.keyset_id, s.resource_id, s.attr_values, s.name, s.service, s.duration_ns, s.status_code, s.kind"+colSel.String())

	var counts struct{ sel, base, nSel, nBase float64 }
	err := s.scan(ctx, ev+fmt.Sprintf(" SELECT coalesce(sum(w) FILTER (WHERE %[1]s), 0), coalesce(sum(w) FILTER (WHERE NOT %[1]s), 0), count(*) FILTER (WHERE %[1]s), count(*) FILTER (WHERE NOT %[1]s) FROM ev", selCond), c.args, func(row []any) {
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
	// Keep a span when a hash of its id falls under its side's share (in millionths).
	share := func(n float64) int64 { return int64(math.Ceil(math.Min(1, bubbleUpSample/math.Max(n, 1)) * 1e6)) }
	sample := fmt.Sprintf("hash(span_id) %% 1000000 < CASE WHEN sel THEN %d ELSE %d END", share(counts.nSel), share(counts.nBase))
	text := ev + fmt.Sprintf(`, samp AS MATERIALIZED (SELECT * FROM (SELECT %[1]s AS sel, * FROM ev) WHERE %[10]s),
kv AS (
  SELECT e.sel, e.w, unnest(k.list_keys) AS key, unnest(k.list_kinds) AS kind, unnest(e.attr_values) AS val FROM samp e JOIN keysets k ON k.id = e.keyset_id%[9]s
  UNION ALL
  SELECT * FROM (SELECT e.sel, e.w, unnest(r.attr_keys) AS key, unnest(r.attr_kinds) AS kind, unnest(r.attr_values) AS val FROM samp e JOIN resources r ON r.id = e.resource_id) WHERE key <> 'service.name'
  UNION ALL SELECT sel, w, 'name', %[3]s, name FROM samp
  UNION ALL SELECT sel, w, 'service.name', %[3]s, service FROM samp
  UNION ALL SELECT sel, w, 'duration_ms', %[4]s, CAST(CAST(duration_ns AS DOUBLE) / 1e6 AS VARCHAR) FROM samp
  UNION ALL SELECT sel, w, 'status_code', %[5]s, CAST(status_code AS VARCHAR) FROM samp
  UNION ALL SELECT sel, w, 'span.kind', %[3]s, %[6]s FROM samp s
  UNION ALL SELECT sel, w, 'error', %[7]s, 'true' FROM samp WHERE status_code = 2),
tot AS (SELECT coalesce(sum(w) FILTER (WHERE sel), 0) AS s, coalesce(sum(w) FILTER (WHERE NOT sel), 0) AS b FROM samp),
cat AS (
  SELECT key, false AS numeric, val, NULL::DOUBLE AS lo, NULL::DOUBLE AS hi, coalesce(sum(w) FILTER (WHERE sel), 0) AS s, coalesce(sum(w) FILTER (WHERE NOT sel), 0) AS b
  FROM kv WHERE kind NOT IN (%[5]s, %[4]s) AND val IS NOT NULL GROUP BY key, val
  QUALIFY row_number() OVER (PARTITION BY key ORDER BY abs(s / (SELECT CASE WHEN s > 0 THEN s ELSE 1 END FROM tot) - b / (SELECT CASE WHEN b > 0 THEN b ELSE 1 END FROM tot)) DESC, s + b DESC, val) <= %[8]d),
nums AS (
  SELECT key, x, sel, w, min(x) OVER (PARTITION BY key) AS mn, max(x) OVER (PARTITION BY key) AS mx
  FROM (SELECT key, TRY_CAST(val AS DOUBLE) AS x, sel, w FROM kv WHERE kind IN (%[5]s, %[4]s)) WHERE x IS NOT NULL),
num AS (
  SELECT key, true, NULL::VARCHAR, mn + bin * (mx - mn) / 16, CASE WHEN bin = 15 OR mx = mn THEN mx ELSE mn + (bin + 1) * (mx - mn) / 16 END,
         coalesce(sum(w) FILTER (WHERE sel), 0), coalesce(sum(w) FILTER (WHERE NOT sel), 0)
  FROM (SELECT *, CASE WHEN mx = mn THEN 0 WHEN x = mx THEN 15 ELSE CAST(floor((x - mn) / ((mx - mn) / 16)) AS BIGINT) END AS bin FROM nums)
  GROUP BY key, mn, mx, bin)
SELECT NULL, NULL, NULL, NULL, NULL, CAST(s AS DOUBLE), CAST(b AS DOUBLE) FROM tot
UNION ALL SELECT key, numeric, val, lo, hi, CAST(s AS DOUBLE), CAST(b AS DOUBLE) FROM cat
UNION ALL SELECT * FROM num`, selCond, "", kindString, kindDouble, kindInt, fmt.Sprintf(spanKindText, "s"), kindBool, query.MaxBubbleUpValues, colKV.String(), sample)
	var (
		values                []query.ValueCount
		sampleSel, sampleBase float64
	)
	err = s.scan(ctx, text, c.args, func(row []any) {
		sc, _ := row[5].(float64)
		bc, _ := row[6].(float64)
		key, ok := row[0].(string)
		if !ok {
			sampleSel, sampleBase = sc, bc
			return
		}
		numeric, _ := row[1].(bool)
		v := query.ValueCount{Field: key, Numeric: numeric, Selected: sc, Baseline: bc}
		v.Value, _ = row[2].(string)
		v.Lower, _ = row[3].(float64)
		v.Upper, _ = row[4].(float64)
		values = append(values, v)
	})
	if err != nil {
		return nil, fmt.Errorf("bubbleup: %w", err)
	}
	ranked := query.Rank(values, sampleSel, sampleBase)
	out.Fields = ranked.Fields
	return out, nil
}
