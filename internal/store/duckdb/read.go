package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// Trace implements store.TraceReader.
func (s *Store) Trace(ctx context.Context, id telemetry.TraceID) ([]telemetry.Span, error) {
	var lo, hi sql.NullInt64
	if err := s.db.QueryRowContext(ctx, sqlFile("trace_range")[0], int64(id.Low()), int64(id.High())).Scan(&lo, &hi); err != nil {
		return nil, fmt.Errorf("trace range: %w", err)
	}
	if !lo.Valid {
		return nil, fmt.Errorf("trace %s: %w", id, store.ErrNotFound)
	}
	rows, err := s.db.QueryContext(ctx, withAttrColumns(sqlFile("trace_spans")[0], s.attrColumns()), lo.Int64, hi.Int64, int64(id.Low()), int64(id.High()))
	if err != nil {
		return nil, fmt.Errorf("trace spans: %w", err)
	}
	defer rows.Close()
	var spans []telemetry.Span
	for rows.Next() {
		sp, err := s.scanSpan(ctx, rows)
		if err != nil {
			return nil, err
		}
		spans = append(spans, sp)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(spans) == 0 { // indexed, then deleted by retention
		return nil, fmt.Errorf("trace %s: %w", id, store.ErrNotFound)
	}
	return spans, nil
}

func (s *Store) scanSpan(ctx context.Context, rows *sql.Rows) (telemetry.Span, error) {
	var (
		sp                                         telemetry.Span
		traceHi, traceLo, spanID, parentID, resID  int64
		keysetID                                   int64
		duration                                   int64
		kind, status                               uint8
		statusMsg, traceState, scopeName, scopeVer sql.NullString
		dataset, keyID, extraText                  sql.NullString
		attrValues                                 []any
	)
	names, err := rows.Columns()
	if err != nil {
		return sp, err
	}
	columns := make([]sql.NullString, len(names)-spanBaseColumns) // attribute columns, after the others
	dest := []any{&traceHi, &traceLo, &spanID, &parentID, &sp.StartUnixNano, &duration, &sp.Name,
		&kind, &status, &statusMsg, &traceState, &sp.Flags, &sp.InProgress, &sp.SampleRate, &resID,
		&scopeName, &scopeVer, &sp.Ingest.Protocol, &dataset, &keyID, &keysetID, &attrValues, &extraText}
	for i := range columns {
		dest = append(dest, &columns[i])
	}
	if err := rows.Scan(dest...); err != nil {
		return sp, fmt.Errorf("scan span: %w", err)
	}
	sp.TraceID = telemetry.TraceIDFromParts(uint64(traceHi), uint64(traceLo))
	sp.SpanID = telemetry.SpanIDFromUint64(uint64(spanID))
	sp.ParentSpanID = telemetry.SpanIDFromUint64(uint64(parentID))
	sp.EndUnixNano = sp.StartUnixNano + duration
	sp.Kind = telemetry.SpanKind(kind)
	sp.Status = telemetry.Status{Code: telemetry.StatusCode(status), Message: statusMsg.String}
	sp.TraceState = traceState.String
	sp.Ingest.Dataset, sp.Ingest.KeyID = dataset.String, keyID.String
	ks, err := s.keyset(ctx, keysetID)
	if err != nil {
		return sp, err
	}
	// Put the values of attribute columns back among the list's, in key order.
	values := make([]any, len(ks.keys))
	next := 0
	for i := range ks.keys {
		if slot := asInt64(ks.slots[i]); slot >= 0 {
			if slot >= int64(len(columns)) {
				return sp, fmt.Errorf("span %s: key set %d names attribute column %d of %d", sp.SpanID, keysetID, slot, len(columns))
			}
			values[i] = columns[slot].String
			continue
		}
		if next >= len(attrValues) {
			return sp, fmt.Errorf("span %s: %d attribute values for key set %d", sp.SpanID, len(attrValues), keysetID)
		}
		values[i] = attrValues[next]
		next++
	}
	sp.Attributes = decodeAttrs(ks.keys, ks.kinds, values)
	if scopeName.Valid {
		sp.Scope = &telemetry.Scope{Name: scopeName.String, Version: scopeVer.String}
	}
	if extraText.Valid {
		if err := decodeExtra(&sp, extraText.String); err != nil {
			return sp, fmt.Errorf("span %s: extra fields: %w", sp.SpanID, err)
		}
	}
	if sp.Resource, err = s.resource(ctx, resID); err != nil {
		return sp, err
	}
	return sp, nil
}

// idCache holds catalogue rows (resources, key sets) read by id: they never change once
// written, so a cached row is never stale.
type idCache[V any] struct {
	mu sync.Mutex
	m  map[int64]V
}

// get returns the row with id, loading it on a miss. The cache is emptied when it grows
// past 100,000 rows, to bound its memory.
func (c *idCache[V]) get(id int64, load func() (V, error)) (V, error) {
	c.mu.Lock()
	v, ok := c.m[id]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) > 100_000 {
		c.m = map[int64]V{}
	}
	c.m[id] = v
	c.mu.Unlock()
	return v, nil
}

// resource returns a stored resource.
func (s *Store) resource(ctx context.Context, id int64) (*telemetry.Resource, error) {
	return s.resources.get(id, func() (*telemetry.Resource, error) {
		var (
			dropped             uint32
			keys, kinds, values []any
		)
		if err := s.db.QueryRowContext(ctx, sqlFile("resource")[0], id).Scan(&dropped, &keys, &kinds, &values); err != nil {
			return nil, fmt.Errorf("resource %d: %w", id, err)
		}
		return &telemetry.Resource{Attributes: decodeAttrs(keys, kinds, values), DroppedAttributesCount: dropped}, nil
	})
}

// keysetEntry is a stored key set: keys, kinds and each value's attribute column (or -1).
type keysetEntry struct {
	keys, kinds, slots []any
}

// keyset returns a stored key set.
func (s *Store) keyset(ctx context.Context, id int64) (*keysetEntry, error) {
	return s.keysets.get(id, func() (*keysetEntry, error) {
		ks := &keysetEntry{}
		if err := s.db.QueryRowContext(ctx, sqlFile("keyset")[0], id).Scan(&ks.keys, &ks.kinds, &ks.slots); err != nil {
			return nil, fmt.Errorf("key set %d: %w", id, err)
		}
		return ks, nil
	})
}

// FindTraceIDs implements store.TraceReader.
func (s *Store) FindTraceIDs(ctx context.Context, q store.TraceQuery) ([]telemetry.TraceID, error) {
	sqlText, args := findTracesSQL(q, s.attrSnapshot())
	return s.traceIDs(ctx, "find traces", sqlText, args)
}

// traceIDs runs a query whose rows are (trace_hi, trace_lo, last) and returns the trace ids
// in its order; what names the query in errors.
func (s *Store) traceIDs(ctx context.Context, what, sqlText string, args []any) ([]telemetry.TraceID, error) {
	rows, err := s.db.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var ids []telemetry.TraceID
	for rows.Next() {
		var hi, lo, last int64
		if err := rows.Scan(&hi, &lo, &last); err != nil {
			return nil, err
		}
		ids = append(ids, telemetry.TraceIDFromParts(uint64(hi), uint64(lo)))
	}
	return ids, rows.Err()
}

// findTracesSQL builds the search query. Every value the user gave is a bound parameter;
// only fixed SQL text is concatenated.
func findTracesSQL(q store.TraceQuery, meta attrMeta) (string, []any) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, bindable(v))
		return fmt.Sprintf("$%d", len(args))
	}
	if !q.Start.IsZero() {
		where = append(where, "s.start_ns >= "+arg(q.Start.UnixNano()))
	}
	if !q.End.IsZero() {
		where = append(where, "s.start_ns <= "+arg(q.End.UnixNano()))
	}
	if q.Service != "" {
		where = append(where, "s.service = "+arg(q.Service))
	}
	if q.Operation != "" {
		where = append(where, "s.name = "+arg(q.Operation))
	}
	if q.MinDuration > 0 {
		where = append(where, "s.duration_ns >= "+arg(int64(q.MinDuration)))
	}
	if q.MaxDuration > 0 {
		where = append(where, "s.duration_ns <= "+arg(int64(q.MaxDuration)))
	}
	attrs := &attrJoins{arg: arg, meta: &meta, alias: "s"}
	for _, key := range sortedKeys(q.Attributes) {
		value := q.Attributes[key]
		// The span's own attribute decides; without one, its resource's.
		attr := attrs.spanAttr(key).text
		switch key {
		case "error":
			where = append(where, fmt.Sprintf("((s.status_code = 2) = (%s = 'true') OR %s = %s)", arg(value), attr, arg(value)))
		case "span.kind":
			where = append(where, fmt.Sprintf("(%s OR %s = %s)", kindCondition(value, arg), attr, arg(value)))
		case "otel.status_code":
			where = append(where, fmt.Sprintf("(s.status_code = %s OR %s = %s)", arg(statusCode(value)), attr, arg(value)))
		default:
			where = append(where, fmt.Sprintf("%s = %s", attr, arg(value)))
		}
	}
	limit := q.Limit
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	limit = min(limit, store.MaxLimit)
	var b strings.Builder
	b.WriteString("SELECT s.trace_hi, s.trace_lo, max(s.start_ns) AS last FROM spans s")
	b.WriteString(attrs.sql())
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	b.WriteString(" GROUP BY s.trace_hi, s.trace_lo ORDER BY last DESC, s.trace_hi, s.trace_lo LIMIT " + arg(limit))
	return b.String(), args
}

func kindCondition(value string, arg func(any) string) string {
	for k := telemetry.SpanKindUnspecified; k <= telemetry.SpanKindConsumer; k++ {
		if strings.EqualFold(k.String(), value) {
			return "s.kind = " + arg(uint8(k))
		}
	}
	return "false"
}

func statusCode(value string) int {
	switch strings.ToUpper(value) {
	case "OK":
		return int(telemetry.StatusOK)
	case "ERROR":
		return int(telemetry.StatusError)
	case "UNSET":
		return int(telemetry.StatusUnset)
	}
	return -1
}

// Services implements store.TraceReader.
func (s *Store) Services(ctx context.Context) ([]string, error) {
	return queryStrings(ctx, s.db, "SELECT DISTINCT service FROM operations ORDER BY service")
}

// Operations implements store.TraceReader.
func (s *Store) Operations(ctx context.Context, service string) ([]store.Operation, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT DISTINCT name, kind FROM operations WHERE service = $1 ORDER BY name, kind", service)
	if err != nil {
		return nil, fmt.Errorf("operations: %w", err)
	}
	defer rows.Close()
	var ops []store.Operation
	for rows.Next() {
		var op store.Operation
		if err := rows.Scan(&op.Name, &op.SpanKind); err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return ops, rows.Err()
}

// Dependencies implements store.TraceReader.
func (s *Store) Dependencies(ctx context.Context, start, end time.Time) ([]store.Dependency, error) {
	rows, err := s.db.QueryContext(ctx, sqlFile("dependencies")[0], start.UnixNano(), end.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("dependencies: %w", err)
	}
	defer rows.Close()
	var deps []store.Dependency
	for rows.Next() {
		var d store.Dependency
		if err := rows.Scan(&d.Parent, &d.Child, &d.CallCount); err != nil {
			return nil, err
		}
		deps = append(deps, d)
	}
	return deps, rows.Err()
}

// MissingParents implements store.TraceReader.
func (s *Store) MissingParents(ctx context.Context, start, end time.Time, lookaround time.Duration) ([]store.MissingParents, error) {
	rows, err := s.db.QueryContext(ctx, sqlFile("missing_parents")[0], start.UnixNano(), end.UnixNano(), lookaround.Nanoseconds())
	if err != nil {
		return nil, fmt.Errorf("missing parents: %w", err)
	}
	defer rows.Close()
	var out []store.MissingParents
	for rows.Next() {
		var m store.MissingParents
		var hi, lo int64
		if err := rows.Scan(&m.Service, &m.Spans, &m.ExampleName, &hi, &lo); err != nil {
			return nil, err
		}
		m.Example = telemetry.TraceIDFromParts(uint64(hi), uint64(lo))
		out = append(out, m)
	}
	return out, rows.Err()
}

// DeleteBefore implements store.Retainer.
func (s *Store) DeleteBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	s.spanWrites.Lock()
	defer s.spanWrites.Unlock()
	defer s.lockWriters()()
	defer s.graphs.changed(math.MinInt64, cutoff.UnixNano())
	w := s.writers[0]
	var deleted int64
	err := inTransaction(ctx, w.conn, func(conn *sql.Conn) error {
		for _, stmt := range sqlFile("delete_before") {
			var args []any
			if strings.Contains(stmt, "$1") {
				args = []any{cutoff.UnixNano()}
			}
			res, err := conn.ExecContext(ctx, stmt, args...)
			if err != nil {
				return fmt.Errorf("retention: %w", err)
			}
			if strings.HasPrefix(stmt, "DELETE FROM spans ") || strings.HasPrefix(stmt, "DELETE FROM logs ") {
				n, _ := res.RowsAffected()
				deleted += n
			}
		}
		cut := sqlFile("logs_blocks_cut")
		lines, err := s.cutBlocks(ctx, conn, cut[2], cut[3], cutoff.UnixNano())
		deleted += lines
		return err
	})
	if err != nil {
		return 0, err
	}
	return deleted, s.cat.loadOperations(ctx, s.db)
}

func queryStrings(ctx context.Context, db *sql.DB, q string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Datasets implements store.DatasetReader.
func (s *Store) Datasets(ctx context.Context) ([]store.Dataset, error) {
	rows, err := s.db.QueryContext(ctx, sqlFile("datasets")[0])
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	defer rows.Close()
	var out []store.Dataset
	for rows.Next() {
		var d store.Dataset
		var last int64
		if err := rows.Scan(&d.Name, &last); err != nil {
			return nil, err
		}
		d.LastWritten = time.Unix(0, last)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Columns implements store.DatasetReader.
func (s *Store) Columns(ctx context.Context, dataset string) ([]store.Column, error) {
	rows, err := s.db.QueryContext(ctx, sqlFile("columns")[0], dataset)
	if err != nil {
		return nil, fmt.Errorf("columns: %w", err)
	}
	defer rows.Close()
	var out []store.Column
	for rows.Next() {
		var c store.Column
		var kind uint8
		if err := rows.Scan(&c.Name, &kind); err != nil {
			return nil, err
		}
		c.Kind = telemetry.ValueKind(kind)
		out = append(out, c)
	}
	return out, rows.Err()
}
