package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

const occurrenceColumns = "id, item_id, project, uuid, time_ns, received_ns, environment, level, fingerprint, grouping, title, class, code_version, framework, platform, language, context, host, person, user_ip, browser, os, trace_hi, trace_lo, span_id, protocol, key_id, data, report"

func scanOccurrence(rows *sql.Rows) (store.StoredOccurrence, error) {
	var so store.StoredOccurrence
	o := &so.Occurrence
	var hi, lo, span int64
	var report []byte
	err := rows.Scan(&so.ID, &so.ItemID, &o.Project, &o.UUID, &o.TimeUnixNano, &o.ReceivedUnixNano, &o.Environment, &o.Level,
		&o.Fingerprint, &o.Grouping, &o.Title, &o.Class, &o.CodeVersion, &o.Framework, &o.Platform, &o.Language, &o.Context,
		&o.Host, &o.PersonID, &o.UserIP, &o.Browser, &o.OS, &hi, &lo, &span, &o.Ingest.Protocol, &o.Ingest.KeyID, &o.Data, &report)
	if err != nil {
		return so, err
	}
	if report != nil {
		if o.Grouping, o.Data, err = decompressReport(report); err != nil {
			return so, fmt.Errorf("occurrence %d: %w", so.ID, err)
		}
	}
	o.TraceID = telemetry.TraceIDFromParts(uint64(hi), uint64(lo))
	o.SpanID = telemetry.SpanIDFromUint64(uint64(span))
	return so, err
}

// Occurrences implements store.ItemReader.
func (s *Store) Occurrences(ctx context.Context, q store.OccurrenceQuery) ([]store.StoredOccurrence, error) {
	var conds []string
	var args []any
	add := func(cond string, values ...any) { conds = append(conds, cond); args = append(args, values...) }
	if q.Project != "" {
		add("project = ?", q.Project)
	}
	if q.ItemID != 0 {
		add("item_id = ?", q.ItemID)
	}
	switch {
	case q.UUID != "" && q.Project != "":
		add("uuid_hash = ? AND uuid = ?", uuidHash(q.Project, q.UUID), q.UUID)
	case q.UUID != "":
		add("uuid = ?", q.UUID)
	}
	if !q.TraceID.IsZero() {
		add("trace_hi = ? AND trace_lo = ?", int64(q.TraceID.High()), int64(q.TraceID.Low()))
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	args = append(args, limit(q.Limit), max(q.Offset, 0))
	rows, err := s.db.QueryContext(ctx, "SELECT "+occurrenceColumns+" FROM error_occurrences"+where+" ORDER BY time_ns DESC, id DESC LIMIT ? OFFSET ?", args...)
	if err != nil {
		return nil, fmt.Errorf("occurrences: %w", err)
	}
	defer rows.Close()
	var out []store.StoredOccurrence
	for rows.Next() {
		so, err := scanOccurrence(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, so)
	}
	return out, rows.Err()
}

// Occurrence implements store.ItemReader.
func (s *Store) Occurrence(ctx context.Context, id int64) (store.StoredOccurrence, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+occurrenceColumns+" FROM error_occurrences WHERE id = ?", id)
	if err != nil {
		return store.StoredOccurrence{}, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return store.StoredOccurrence{}, err
		}
		return store.StoredOccurrence{}, fmt.Errorf("occurrence %d: %w", id, store.ErrNotFound)
	}
	return scanOccurrence(rows)
}

// Versions implements store.ItemReader.
func (s *Store) Versions(ctx context.Context, project string) ([]store.Version, error) {
	rows, err := s.db.QueryContext(ctx, sqlFile("versions")[0], project)
	if err != nil {
		return nil, fmt.Errorf("versions: %w", err)
	}
	defer rows.Close()
	var out []store.Version
	for rows.Next() {
		var v store.Version
		var first, last int64
		if err := rows.Scan(&v.Version, &first, &last, &v.Occurrences, &v.New, &v.Reactivated, &v.Resolved); err != nil {
			return nil, err
		}
		v.FirstSeen, v.LastSeen = nsTime(first), nsTime(last)
		out = append(out, v)
	}
	return out, rows.Err()
}
