package duckdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

const logColumns = "id, time_ns, observed_ns, log_group, stream, severity, severity_text, event_name, body_kind, body, trace_hi, trace_lo, span_id, flags, resource_id, scope_name, scope_version, protocol, dataset, key_id, attr_keys, attr_kinds, attr_values, extra"

// Logs implements store.LogReader.
func (s *Store) Logs(ctx context.Context, q store.LogQuery) ([]telemetry.LogRecord, error) {
	if q.Limit <= 0 {
		q.Limit = store.DefaultLimit
	}
	var out []telemetry.LogRecord
	err := s.ScanLogs(ctx, q, q.Limit, func(batch []telemetry.LogRecord) error {
		out = batch
		return nil
	})
	return out, err
}

// ScanLogs implements store.LogReader: the rows of the logs table that match, read by one
// statement, merged in order with the matching lines of the blocks (logs_blocks.go), which
// are read a few at a time as the merge reaches their time.
func (s *Store) ScanLogs(ctx context.Context, q store.LogQuery, batch int, fn func([]telemetry.LogRecord) error) error {
	groups, streams := appendNonEmpty(q.Groups, q.Group), appendNonEmpty(q.Streams, q.Stream)
	var b sqlBuilder
	if groups != nil {
		b.whereIn("log_group", groups)
	}
	if streams != nil {
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
		// The bound on time_ns alone lets zone maps skip the row groups behind the cursor.
		b.where("time_ns "+after+"= %s", q.After.TimeUnixNano)
		// database/sql binds no uint64 above MaxInt64, which keys at the end of an instant hold.
		b.where("(time_ns, id) "+after+" (%s, CAST(%s AS UBIGINT))", q.After.TimeUnixNano, strconv.FormatUint(q.After.ID, 10))
	}
	rows, err := s.db.QueryContext(ctx, "SELECT "+logColumns+" FROM logs"+b.clause()+" ORDER BY "+order+b.page(0, q.Limit), b.args...)
	if err != nil {
		return fmt.Errorf("logs: %w", err)
	}
	defer rows.Close()
	m := &logMerge{q: q}
	err = m.add(&logRun{next: func(r *telemetry.LogRecord) (bool, error) {
		if !rows.Next() {
			return false, rows.Err()
		}
		var err error
		*r, err = s.scanLog(ctx, rows)
		return err == nil, err
	}})
	if err != nil {
		return err
	}
	if q.TraceID.IsZero() { // no block line has a trace
		if m.blocks, err = s.blockIndex(ctx, q, groups, streams); err != nil {
			return err
		}
	}
	out := make([]telemetry.LogRecord, 0, min(batch, 1024))
	for n := 0; q.Limit <= 0 || n < q.Limit; n++ {
		r, ok, err := m.next(ctx, s)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if out = append(out, r); len(out) == batch {
			if err := fn(out); err != nil {
				return err
			}
			out = out[:0:0] // fn may keep the batch
		}
	}
	if len(out) > 0 {
		return fn(out)
	}
	return nil
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
