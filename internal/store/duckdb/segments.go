package duckdb

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// segmentSQL builds the expressions of X-Ray's view of a span "s" (store.SegmentReader): every
// value the caller gave, attribute keys included, is a bound parameter. Attributes are read
// from the span only, not from its resource.
type segmentSQL struct {
	keys  store.SegmentKeys
	args  []any
	attrs *attrJoins
	kinds []string // keys whose value's kind is read from the span's key set
}

func newSegmentSQL(keys store.SegmentKeys, meta attrMeta, args ...any) *segmentSQL {
	g := &segmentSQL{keys: keys, args: args}
	meta.resource = nil
	g.attrs = &attrJoins{arg: g.arg, meta: &meta, alias: "s"}
	return g
}

func (g *segmentSQL) arg(v any) string {
	g.args = append(g.args, bindable(v))
	return fmt.Sprintf("$%d", len(g.args))
}

// text is an attribute's text (NULL when the span lacks it).
func (g *segmentSQL) text(key string) string { return g.attrs.stored(key).text }

// comparable is an attribute's text where an absent one may read as empty: for comparisons with
// a text that is not empty. An attribute kept only in its column is that column, which DuckDB
// compares as it scans it.
func (g *segmentSQL) comparable(key string) string {
	if f := g.attrs.stored(key); f.group != "" {
		return f.group
	}
	return g.text(key)
}

// kind is the kind of an attribute's value, as the span's key set says (an attribute column
// holds values of every kind).
func (g *segmentSQL) kind(key string) string {
	i := slices.Index(g.kinds, key)
	if i < 0 {
		i = len(g.kinds)
		g.kinds = append(g.kinds, key)
	}
	return fmt.Sprintf("kk_s.k%d", i)
}

// joins are the tables the expressions read beside the spans.
func (g *segmentSQL) joins() string {
	out := g.attrs.sql()
	if len(g.kinds) > 0 {
		var cols []string
		for i, k := range g.kinds {
			cols = append(cols, fmt.Sprintf("kinds[list_position(keys, %s)] AS k%d", g.arg(k), i))
		}
		out += " JOIN (SELECT id, " + strings.Join(cols, ", ") + " FROM keysets) kk_s ON kk_s.id = s.keyset_id"
	}
	return out
}

// isSegment is whether the span is a segment.
func (g *segmentSQL) isSegment() string {
	typ := g.text(g.keys.Type)
	return fmt.Sprintf("(CASE WHEN s.protocol = %s AND %s IS NOT NULL THEN %s = %s ELSE s.kind = %s OR s.parent_id = 0 END)",
		g.arg(g.keys.Protocol), typ, typ, g.arg(g.keys.Segment), g.arg(uint8(telemetry.SpanKindServer)))
}

func (g *segmentSQL) origin() string { return "coalesce(" + g.text(g.keys.Origin) + ", '')" }

// httpStatus is the span's HTTP status, NULL when it has none.
func (g *segmentSQL) httpStatus() string {
	var codes []string
	for _, k := range g.keys.HTTPStatus {
		codes = append(codes, "TRY_CAST("+g.text(k)+" AS BIGINT)")
	}
	return coalesceOr(codes, "BIGINT")
}

// flag is whether a boolean flag is set. (Its kind is not looked at: a flag holds a boolean.)
//
// Here and below a condition is NULL where SQL's logic makes it so, which a filter takes for
// false: DuckDB skips the rest of a conjunction for the rows it has decided, which it cannot
// do inside coalesce(). Negations use IS NOT TRUE.
func (g *segmentSQL) flag(key string) string {
	return fmt.Sprintf("(%s = 'true')", g.comparable(key))
}

// fault, failed and throttle are the span's outcome, as store.SegmentReader defines it.
func (g *segmentSQL) fault() string {
	code := g.httpStatus()
	return fmt.Sprintf("(%s OR %s >= 500 OR (s.status_code = %s AND s.protocol <> %s AND (%s IS NULL OR %s = 0)))",
		g.flag(g.keys.Fault), code, g.arg(uint8(telemetry.StatusError)), g.arg(g.keys.Protocol), code, code)
}

func (g *segmentSQL) failed() string {
	return fmt.Sprintf("(%s IS NOT TRUE AND (%s OR %s BETWEEN 400 AND 499))", g.fault(), g.flag(g.keys.Error), g.httpStatus())
}

func (g *segmentSQL) throttle() string {
	return fmt.Sprintf("(%s OR %s = 429)", g.flag(g.keys.Throttle), g.httpStatus())
}

// outcome is 3 for a fault, 2 for a throttle, 1 for another error, 0 for ok.
func (g *segmentSQL) outcome() string {
	return fmt.Sprintf("(CASE WHEN %s THEN 3 WHEN %s THEN 2 WHEN %s THEN 1 ELSE 0 END)", g.fault(), g.throttle(), g.failed())
}

func (g *segmentSQL) calleeName() string {
	return fmt.Sprintf("coalesce(NULLIF(%s, ''), NULLIF(%s, ''), s.name)", g.text(g.keys.PeerService), g.text(g.keys.RPCService))
}

// calleeType is the type of the node a span calls, ” when it calls none (store.Callee).
func (g *segmentSQL) calleeType() string {
	k := g.keys
	ns := g.text(k.Namespace)
	return fmt.Sprintf("(CASE WHEN %s = %s OR %s = %s THEN 'AWS::' || %s "+
		"WHEN %s = %s OR s.kind IN (%s, %s) THEN CASE WHEN %s IS NOT NULL OR %s IS NOT NULL THEN 'Database::SQL' ELSE 'remote' END "+
		"ELSE '' END)",
		ns, g.arg(k.AWSNamespace), g.text(k.RPCSystem), g.arg(k.AWSRPCSystem), g.calleeName(),
		ns, g.arg(k.RemoteCall), g.arg(uint8(telemetry.SpanKindClient)), g.arg(uint8(telemetry.SpanKindProducer)),
		g.text(k.DBSystem), g.text(k.DBConnection))
}

// MatchTraces implements store.SegmentReader.
//
// When a condition is met by single spans (oneSpan), the newest traces are those of its
// newest passing spans: the end of the range is searched first, a thirty-second of it, and
// the search widened eightfold while it finds fewer traces than asked for. Each trace found
// has its latest passing span in the part searched, so the page is the one of the whole range.
func (s *Store) MatchTraces(ctx context.Context, q store.TraceMatch) ([]telemetry.TraceID, error) {
	limit := min(q.Limit, store.MaxLimit)
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	from := q.Start
	if oneSpan(q.Cond) {
		from = q.End.Add(-q.End.Sub(q.Start) / 32)
	}
	for {
		ids, err := s.matchSince(ctx, q, from, limit)
		if err != nil || len(ids) == limit || !from.After(q.Start) {
			return ids, err
		}
		width := 8 * q.End.Sub(from)
		from = q.End.Add(-width)
		if width <= 0 || from.Before(q.Start) {
			from = q.Start
		}
	}
}

// matchSince is a page of the traces matching q among the spans that started in [from, q.End].
func (s *Store) matchSince(ctx context.Context, q store.TraceMatch, from time.Time, limit int) ([]telemetry.TraceID, error) {
	g := newSegmentSQL(q.Keys, s.attrSnapshot(), from.UnixNano(), q.End.UnixNano())
	text := "SELECT trace_hi, trace_lo, last FROM (" + g.traceSet(q.Cond) + ") ORDER BY last DESC, trace_hi, trace_lo LIMIT " +
		g.arg(limit) + " OFFSET " + g.arg(max(q.Offset, 0))
	text = strings.ReplaceAll(text, "{{JOINS}}", g.joins())
	return s.traceIDs(ctx, "match traces", text, g.args)
}

// oneSpan reports whether c holds for exactly the traces with a span that passes one of its
// tests (every trace, when it has none).
func oneSpan(c store.TraceCondition) bool {
	switch {
	case c.Some != nil:
		return true
	case len(c.Or) > 0:
		return !slices.ContainsFunc(c.Or, func(d store.TraceCondition) bool { return d.Some == nil })
	}
	return c.Not == nil && len(c.And) == 0
}

// tracesPerRead is how many traces one statement of Traces reads: each group of them is a
// scan of its own, and every scan holds buffers.
const tracesPerRead = 50

// traceReadGap is how far apart the spans of two traces may start for one scan to read both:
// a scan costs more to start, reading every column, than to pass over the start times and
// trace ids of a second's spans between.
const traceReadGap = int64(time.Second)

// Traces implements store.SegmentReader.
func (s *Store) Traces(ctx context.Context, ids []telemetry.TraceID) ([][]telemetry.Span, error) {
	out := make([][]telemetry.Span, 0, len(ids))
	for part := range slices.Chunk(ids, tracesPerRead) {
		spans, err := s.someTraces(ctx, part)
		if err != nil {
			return nil, err
		}
		out = append(out, spans...)
	}
	return out, nil
}

// traceRange is the time range in which the spans of some traces started.
type traceRange struct {
	from, to int64
	lows     []int64 // the traces' low halves
}

// someTraces reads a few traces in one statement.
func (s *Store) someTraces(ctx context.Context, ids []telemetry.TraceID) ([][]telemetry.Span, error) {
	out := make([][]telemetry.Span, len(ids))
	at := map[telemetry.TraceID]int{}
	for i, id := range ids {
		at[id] = i
	}
	groups, err := s.traceRanges(ctx, ids)
	if err != nil || len(groups) == 0 {
		return out, err
	}
	// Each group of traces is read from its time range, so that the scan reads the few row
	// groups that hold them, not every one between.
	var scans []string
	var args []any
	arg := func(v int64) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	for _, g := range groups {
		var lows []string
		for _, lo := range g.lows {
			lows = append(lows, arg(lo))
		}
		scans = append(scans, strings.NewReplacer("{{FROM}}", arg(g.from), "{{TO}}", arg(g.to), "{{LOWS}}", strings.Join(lows, ", ")).Replace(
			withAttrColumns(sqlFile("trace_batch")[0], s.attrColumns())))
	}
	text := strings.Join(scans, " UNION ALL ") + " ORDER BY start_ns, span_id"
	rows, err := s.db.QueryContext(ctx, text, args...)
	if err != nil {
		return nil, fmt.Errorf("traces: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		sp, err := s.scanSpan(ctx, rows)
		if err != nil {
			return nil, err
		}
		if i, ok := at[sp.TraceID]; ok { // not another trace of the same low half
			out[i] = append(out[i], sp)
		}
	}
	return out, rows.Err()
}

// traceRanges are the time ranges the index gives the traces, those that lie within
// traceReadGap of each other merged, in time order.
func (s *Store) traceRanges(ctx context.Context, ids []telemetry.TraceID) ([]traceRange, error) {
	var lows []string
	var args []any
	for _, id := range ids {
		args = append(args, int64(id.Low()))
		lows = append(lows, fmt.Sprintf("$%d", len(args)))
	}
	rows, err := s.db.QueryContext(ctx, "SELECT trace_lo, min(start_ns) AS since, max(end_ns) FROM trace_index WHERE trace_lo IN ("+
		strings.Join(lows, ", ")+") GROUP BY trace_lo ORDER BY since", args...)
	if err != nil {
		return nil, fmt.Errorf("traces' ranges: %w", err)
	}
	defer rows.Close()
	var out []traceRange
	for rows.Next() {
		var r traceRange
		var lo int64
		if err := rows.Scan(&lo, &r.from, &r.to); err != nil {
			return nil, err
		}
		if n := len(out); n > 0 && r.from-out[n-1].to <= traceReadGap {
			out[n-1].to = max(out[n-1].to, r.to)
			out[n-1].lows = append(out[n-1].lows, lo)
			continue
		}
		r.lows = []int64{lo}
		out = append(out, r)
	}
	return out, rows.Err()
}

// traceSet is a query of the traces whose spans satisfy c, each with the latest start of its
// spans that pass one of c's tests (of all its spans, when c holds without them). One pass
// groups the spans by trace, each test an aggregate; when c cannot hold without a passing
// span, only the spans that pass a test are grouped, which DuckDB narrows as it scans (it
// filters a column while it reads it).
//
// A conjunction's parts are found one after the other: the part likely to match fewest
// traces first (narrowing), each next one among the spans of the traces found so far
// (withinTraces). A test of a part after the first is then evaluated on the spans of a few
// traces, rather than on every span of the range.
func (g *segmentSQL) traceSet(c store.TraceCondition) string {
	if len(c.And) > 1 && !slices.ContainsFunc(c.And, store.TraceCondition.HoldsWithoutTests) {
		parts := slices.Clone(c.And)
		slices.SortStableFunc(parts, func(a, b store.TraceCondition) int { return cmp.Compare(narrowing(a), narrowing(b)) })
		set := g.traceSet(parts[0])
		for _, part := range parts[1:] {
			set = g.withinTraces(part, set)
		}
		return set
	}
	var tests []string
	having := g.condition(c, &tests)
	where := ""
	if !c.HoldsWithoutTests() {
		where = " AND (" + strings.Join(tests, " OR ") + ")"
	}
	return "SELECT s.trace_hi, s.trace_lo, max(s.start_ns) AS last FROM spans s{{JOINS}} WHERE s.start_ns >= $1 AND s.start_ns <= $2" +
		where + " GROUP BY s.trace_hi, s.trace_lo HAVING " + having
}

// withinTraces is the query of the traces of set whose spans satisfy c, which cannot hold
// without a passing span; each trace's latest start is the later of set's and that of its
// spans passing one of c's tests. The spans are joined to set's traces before c's tests are
// evaluated, by the low half of their trace id alone (reading the high half of every span
// would double the cost: store.SegmentReader allows the rare false match); when every test
// names a service, only that service's spans are read.
func (g *segmentSQL) withinTraces(c store.TraceCondition, set string) string {
	var tests []string
	having := g.condition(c, &tests)
	where := ""
	if services := testServices(c); len(services) > 0 {
		var args []string
		for _, name := range services {
			args = append(args, g.arg(name))
		}
		where = " AND s.service IN (" + strings.Join(args, ", ") + ")"
	}
	return "SELECT t.trace_hi, t.trace_lo, greatest(any_value(t.last), max(s.start_ns) FILTER (WHERE " + strings.Join(tests, " OR ") + ")) AS last " +
		"FROM spans s{{JOINS}} JOIN (" + set + ") t ON t.trace_lo = s.trace_lo " +
		"WHERE s.start_ns >= $1 AND s.start_ns <= $2" + where + " GROUP BY t.trace_hi, t.trace_lo HAVING " + having
}

// testServices are the services c's tests name, none when one of them names none.
func testServices(c store.TraceCondition) []string {
	var out []string
	for _, t := range spanTests(c) {
		if t.Service == "" {
			return nil
		}
		if !slices.Contains(out, t.Service) {
			out = append(out, t.Service)
		}
	}
	return out
}

// spanTests are the tests of c, negated ones included.
func spanTests(c store.TraceCondition) []*store.SpanTest {
	if c.Some != nil {
		return []*store.SpanTest{c.Some}
	}
	var out []*store.SpanTest
	if c.Not != nil {
		out = spanTests(*c.Not)
	}
	for _, d := range slices.Concat(c.And, c.Or) {
		out = append(out, spanTests(d)...)
	}
	return out
}

// narrowing ranks a condition by how few traces it is likely to match: 0 when each of its
// tests compares an attribute for equality (annotations, users, URLs: mostly a few traces'
// own), 1 when each tests an attribute, 2 otherwise (outcomes, durations, services, negations).
func narrowing(c store.TraceCondition) int {
	switch {
	case c.Some != nil:
		t := c.Some
		switch {
		case t.What != "attribute" || t.Negate:
			return 2
		case t.Op != "=":
			return 1
		}
		return 0
	case c.Not != nil:
		return 2
	}
	rank := 0
	for _, d := range slices.Concat(c.And, c.Or) {
		rank = max(rank, narrowing(d))
	}
	return rank
}

// condition is c as an expression over a trace's group of spans; tests collects its tests.
func (g *segmentSQL) condition(c store.TraceCondition, tests *[]string) string {
	join := func(list []store.TraceCondition, op string) string {
		parts := make([]string, len(list))
		for i, d := range list {
			parts[i] = g.condition(d, tests)
		}
		return "(" + strings.Join(parts, op) + ")"
	}
	switch {
	case c.Some != nil:
		t := g.test(c.Some)
		*tests = append(*tests, t)
		return "coalesce(bool_or(" + t + "), false)"
	case c.Not != nil:
		return "NOT " + g.condition(*c.Not, tests)
	case len(c.And) > 0:
		return join(c.And, " AND ")
	case len(c.Or) > 0:
		return join(c.Or, " OR ")
	}
	return "true"
}

// test is a span test as a condition.
func (g *segmentSQL) test(t *store.SpanTest) string {
	expr := g.testValue(t)
	if t.Negate {
		expr = "(" + expr + " IS NOT TRUE)"
	}
	if t.Service != "" {
		expr = "(s.service = " + g.arg(t.Service) + " AND " + expr + ")"
	}
	return expr
}

var textOps = map[string]string{"=": "%s = %s", "!=": "%s <> %s", "CONTAINS": "contains(%s, %s)",
	"BEGINSWITH": "starts_with(%s, %s)", "ENDSWITH": "ends_with(%s, %s)"}

var numberOps = map[string]string{"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

func (g *segmentSQL) testValue(t *store.SpanTest) string {
	number := func(x string) string {
		op, ok := numberOps[t.Op]
		if !ok || t.Value.Kind() != telemetry.KindDouble {
			return "false"
		}
		return fmt.Sprintf("(%s %s %s)", x, op, g.arg(t.Value.Double()))
	}
	switch t.What {
	case "":
		return "true"
	case "fault":
		return g.fault()
	case "error":
		return g.failed()
	case "throttle":
		return g.throttle()
	case "ok":
		return fmt.Sprintf("((%s OR %s OR %s) IS NOT TRUE)", g.fault(), g.failed(), g.throttle())
	case "in_progress":
		return "s.in_progress"
	case "duration":
		return number("s.duration_ns / 1e9")
	case "http.status":
		return number(g.httpStatus())
	case "attribute":
		return g.attributeTest(t, number)
	}
	return "false"
}

func (g *segmentSQL) attributeTest(t *store.SpanTest, number func(string) string) string {
	text, kind := g.text(t.Key), g.kind(t.Key)
	if t.Op == "" {
		return "(" + text + " IS NOT NULL)"
	}
	isKind := func(kinds ...telemetry.ValueKind) string {
		var list []string
		for _, k := range kinds {
			list = append(list, g.arg(uint8(k)))
		}
		return fmt.Sprintf("%s IN (%s)", kind, strings.Join(list, ", "))
	}
	switch t.Value.Kind() {
	case telemetry.KindString:
		op, ok := textOps[t.Op]
		if !ok {
			return "false"
		}
		if t.Op == "=" && t.Value.Str() != "" {
			text = g.comparable(t.Key)
		}
		return fmt.Sprintf("("+op+" AND %s)", text, g.arg(t.Value.Str()), isKind(telemetry.KindString))
	case telemetry.KindBool:
		if t.Op != "=" && t.Op != "!=" {
			return "false"
		}
		return fmt.Sprintf("((%s = %s) = %s AND %s)", text, g.arg(fmt.Sprint(t.Value.Bool())), g.arg(t.Op == "="), isKind(telemetry.KindBool))
	case telemetry.KindDouble:
		return fmt.Sprintf("(%s AND %s)", number("TRY_CAST("+text+" AS DOUBLE)"), isKind(telemetry.KindInt, telemetry.KindDouble))
	}
	return "false"
}
