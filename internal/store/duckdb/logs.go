package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	duckdbdriver "github.com/duckdb/duckdb-go/v2"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// WriteLogs implements store.LogWriter: records whose id is stored already are skipped, and
// the rest appended to the logs table in one transaction, after any resource they name, with
// their groups and streams (logs_catalogue.go). Like WriteSpans, it checkpoints every
// checkpointAfter records, which bounds what DuckDB holds uncompressed.
func (s *Store) WriteLogs(ctx context.Context, logs []telemetry.LogRecord) error {
	if len(logs) == 0 {
		return nil
	}
	written, err := s.writeLogs(ctx, logs)
	if err != nil {
		return err
	}
	if s.unsaved.Add(int64(written)) >= checkpointAfter {
		// The records are stored whatever becomes of the checkpoint, which the next one retries.
		if err := s.Checkpoint(ctx); err != nil {
			s.log.Warn("checkpoint failed", "err", err)
		}
	}
	return nil
}

// writeLogs appends the fresh records of logs and returns how many there were.
func (s *Store) writeLogs(ctx context.Context, logs []telemetry.LogRecord) (int, error) {
	e := s.cat.resourceEntries(logs)
	w := s.writers[0]
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(e.newResources) > 0 {
		if err := w.writeCatalogue(ctx, e); err != nil {
			return 0, fmt.Errorf("store resources: %w", err)
		}
		s.cat.stored(e)
	}
	fresh, err := w.freshLogs(ctx, logs)
	if err != nil || len(fresh) == 0 {
		return 0, err
	}
	if _, err := w.conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return 0, err
	}
	columns, row := []string(nil), logRow
	if !slices.ContainsFunc(fresh, notPlain) {
		columns, row = plainLogColumns, plainLogRow
	}
	err = w.conn.Raw(func(dc any) error {
		return appendRows(dc.(driver.Conn), "", "logs", columns, len(fresh), func(app *duckdbdriver.Appender, i int) error {
			return app.AppendRow(row(fresh[i], e.resources[fresh[i].Resource])...)
		})
	})
	if err == nil {
		err = noteWritten(ctx, w.conn, fresh, time.Now().UnixNano())
	}
	if err == nil {
		_, err = w.conn.ExecContext(ctx, "COMMIT")
	}
	if err != nil {
		w.conn.ExecContext(context.Background(), "ROLLBACK")
		return 0, fmt.Errorf("append log records: %w", err)
	}
	return len(fresh), nil
}

// freshLogs returns the records whose id is neither stored nor repeated earlier in logs.
func (w *writer) freshLogs(ctx context.Context, logs []telemetry.LogRecord) ([]*telemetry.LogRecord, error) {
	lo, hi := logs[0].ID, logs[0].ID
	increasing := true // as the ingest pipeline numbers a batch: no id can repeat
	for i := range logs {
		lo, hi = min(lo, logs[i].ID), max(hi, logs[i].ID)
		increasing = increasing && (i == 0 || logs[i].ID > logs[i-1].ID)
	}
	rows, err := w.conn.QueryContext(ctx, sqlFile("logs_known")[0], lo, hi)
	if err != nil {
		return nil, fmt.Errorf("stored log ids: %w", err)
	}
	seen := map[uint64]bool{}
	for rows.Next() {
		var id uint64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		seen[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	fresh := make([]*telemetry.LogRecord, 0, len(logs))
	for i := range logs {
		if !seen[logs[i].ID] {
			if !increasing {
				seen[logs[i].ID] = true
			}
			fresh = append(fresh, &logs[i])
		}
	}
	return fresh, nil
}

// resourceEntries looks up the catalogue ids of the resources of log records, giving new
// ones an id at once.
func (c *catalogue) resourceEntries(logs []telemetry.LogRecord) *entries {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := &entries{resources: map[*telemetry.Resource]int64{}}
	for i := range logs {
		r := logs[i].Resource
		if _, ok := e.resources[r]; ok {
			continue
		}
		hash := resourceHash(r)
		id, ok := c.resources[hash]
		for _, nr := range e.newResources {
			if nr.hash == hash {
				id, ok = nr.id, true
			}
		}
		if !ok {
			id = c.nextID
			c.nextID++
			e.newResources = append(e.newResources, newResource{id: id, hash: hash, resource: r})
		}
		e.resources[r] = id
	}
	return e
}

// logRow is a log record as a row of the logs table, in its column order.
func logRow(r *telemetry.LogRecord, resourceID int64) []driver.Value {
	a := encodeAttrs(r.Attributes)
	var scopeName, scopeVersion any
	if r.Scope != nil {
		scopeName, scopeVersion = validUTF8(r.Scope.Name), validUTF8(r.Scope.Version)
	}
	return []driver.Value{r.ID, r.TimeUnixNano, r.ObservedTimeUnixNano, validUTF8(r.Group), validUTF8(r.Stream),
		uint8(r.Severity), nullable(r.SeverityText), nullable(r.EventName), uint8(r.Body.Kind()), validUTF8(r.Body.Encode()),
		int64(r.TraceID.High()), int64(r.TraceID.Low()), int64(r.SpanID.Uint64()), r.Flags,
		resourceID, scopeName, scopeVersion, validUTF8(r.Ingest.Protocol), nullable(r.Ingest.Dataset), nullable(r.Ingest.KeyID),
		a.keys, a.kinds, a.values, logExtra(r)}
}

// plainLogColumns are the columns of the logs table a plain record sets: the others keep
// their defaults, which stand for what such a record leaves empty. Lines such as CloudWatch
// Logs events are plain, and leaving out half the columns (three of them lists) saves the
// appender two thirds of its work.
var plainLogColumns = []string{"id", "time_ns", "observed_ns", "log_group", "stream", "body_kind", "body",
	"trace_hi", "trace_lo", "span_id", "resource_id", "protocol"}

// notPlain says whether a record sets a column outside plainLogColumns.
func notPlain(r *telemetry.LogRecord) bool {
	return r.Severity != 0 || r.SeverityText != "" || r.EventName != "" || r.Flags != 0 || r.Scope != nil ||
		r.Ingest.Dataset != "" || r.Ingest.KeyID != "" || len(r.Attributes) > 0 || r.DroppedAttributesCount != 0
}

// plainLogRow is a plain record as a row of plainLogColumns.
func plainLogRow(r *telemetry.LogRecord, resourceID int64) []driver.Value {
	return []driver.Value{r.ID, r.TimeUnixNano, r.ObservedTimeUnixNano, validUTF8(r.Group), validUTF8(r.Stream),
		uint8(r.Body.Kind()), validUTF8(r.Body.Encode()), int64(r.TraceID.High()), int64(r.TraceID.Low()), int64(r.SpanID.Uint64()),
		resourceID, validUTF8(r.Ingest.Protocol)}
}

// nullable is text for a column where NULL stands for empty.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return validUTF8(s)
}

// logExtra is the extra column of a log record: the fields most records leave empty.
func logExtra(r *telemetry.LogRecord) any {
	e := extra{DroppedAttrs: r.DroppedAttributesCount}
	if r.Scope != nil {
		e.ScopeAttrs, e.ScopeDropped = toJSONAttrs(r.Scope.Attributes), r.Scope.DroppedAttributesCount
	}
	if e.DroppedAttrs == 0 && e.ScopeAttrs == nil && e.ScopeDropped == 0 {
		return nil
	}
	b, _ := json.Marshal(e) // plain structs of strings and numbers: cannot fail
	return string(b)
}

const logColumns = "id, time_ns, observed_ns, log_group, stream, severity, severity_text, event_name, body_kind, body, trace_hi, trace_lo, span_id, flags, resource_id, scope_name, scope_version, protocol, dataset, key_id, attr_keys, attr_kinds, attr_values, extra"

// Logs implements store.LogReader.
func (s *Store) Logs(ctx context.Context, q store.LogQuery) ([]telemetry.LogRecord, error) {
	var b sqlBuilder
	if groups := appendNonEmpty(q.Groups, q.Group); groups != nil {
		b.whereIn("log_group", groups)
	}
	if streams := appendNonEmpty(q.Streams, q.Stream); streams != nil {
		b.whereIn("stream", streams)
	}
	if q.StreamPrefix != "" {
		b.where("starts_with(stream, %s)", q.StreamPrefix)
	}
	if !q.TraceID.IsZero() {
		b.where("trace_hi = %s AND trace_lo = %s", int64(q.TraceID.High()), int64(q.TraceID.Low()))
	}
	if !q.Start.IsZero() {
		b.where("time_ns >= %s", q.Start.UnixNano())
	}
	if !q.End.IsZero() {
		b.where("time_ns < %s", q.End.UnixNano())
	}
	for _, text := range q.Contains {
		// Other bodies are kept in a tagged form that need not hold the text as it reads.
		b.where(fmt.Sprintf("(body_kind <> %d OR contains(body, %%s))", telemetry.KindString), text)
	}
	order, after := "time_ns, id", ">"
	if q.Descending {
		order, after = "time_ns DESC, id DESC", "<"
	}
	if q.After != nil {
		b.where("(time_ns, id) "+after+" (%s, %s)", q.After.TimeUnixNano, q.After.ID)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	rows, err := s.db.QueryContext(ctx, "SELECT "+logColumns+" FROM logs"+b.clause()+" ORDER BY "+order+b.page(0, limit), b.args...)
	if err != nil {
		return nil, fmt.Errorf("logs: %w", err)
	}
	defer rows.Close()
	var out []telemetry.LogRecord
	for rows.Next() {
		r, err := s.scanLog(ctx, rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// appendNonEmpty is list with s added when s is not empty; nil when both are empty.
func appendNonEmpty(list []string, s string) []string {
	if s != "" {
		return append(list[:len(list):len(list)], s)
	}
	return list
}

func (s *Store) scanLog(ctx context.Context, rows *sql.Rows) (telemetry.LogRecord, error) {
	var (
		r                                       telemetry.LogRecord
		sevText, eventName, scopeName, scopeVer sql.NullString
		dataset, keyID, extraText               sql.NullString
		severity, bodyKind                      uint8
		body                                    string
		traceHi, traceLo, spanID, resID         int64
		keys, kinds, values                     []any
	)
	err := rows.Scan(&r.ID, &r.TimeUnixNano, &r.ObservedTimeUnixNano, &r.Group, &r.Stream, &severity, &sevText, &eventName,
		&bodyKind, &body, &traceHi, &traceLo, &spanID, &r.Flags, &resID, &scopeName, &scopeVer, &r.Ingest.Protocol,
		&dataset, &keyID, &keys, &kinds, &values, &extraText)
	if err != nil {
		return r, err
	}
	r.Severity, r.SeverityText, r.EventName = telemetry.Severity(severity), sevText.String, eventName.String
	if r.Body, err = telemetry.ParseValue(telemetry.ValueKind(bodyKind), body); err != nil {
		r.Body = telemetry.StringValue(body)
	}
	r.TraceID = telemetry.TraceIDFromParts(uint64(traceHi), uint64(traceLo))
	r.SpanID = telemetry.SpanIDFromUint64(uint64(spanID))
	r.Ingest.Dataset, r.Ingest.KeyID = dataset.String, keyID.String
	r.Attributes = decodeAttrs(keys, kinds, values)
	if scopeName.Valid {
		r.Scope = &telemetry.Scope{Name: scopeName.String, Version: scopeVer.String}
	}
	if extraText.Valid {
		var e extra
		if err := json.Unmarshal([]byte(extraText.String), &e); err != nil {
			return r, fmt.Errorf("log record %d: extra fields: %w", r.ID, err)
		}
		r.DroppedAttributesCount = e.DroppedAttrs
		if r.Scope != nil {
			r.Scope.Attributes, r.Scope.DroppedAttributesCount = fromJSONAttrs(e.ScopeAttrs), e.ScopeDropped
		}
	}
	r.Resource, err = s.resource(ctx, resID)
	return r, err
}
