package duckdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"lookout/internal/store"
)

// The log catalogue's changes are written by the logs' writer and made durable by a
// checkpoint before they return: the database keeps no log of its own, and these changes
// are not in lookout's ingest log. They are rare (a group or stream per process), so the
// checkpoint's cost does not matter.

// change runs fn in a transaction on the logs' writer, after saving the streams' tally, then
// checkpoints.
func (s *Store) change(ctx context.Context, fn func(conn *sql.Conn) error) error {
	w := s.writers[0]
	w.mu.Lock()
	err := s.saveStreams(ctx, w.conn)
	if err == nil {
		err = inTransaction(ctx, w.conn, fn)
	}
	w.mu.Unlock()
	if err != nil {
		return err
	}
	return s.Checkpoint(ctx)
}

// inTransaction runs fn in a transaction on conn. Whatever fails, fn or the commit (ctx may
// end in between), the transaction is rolled back, so that the connection is never left in
// one for the next writer.
func inTransaction(ctx context.Context, conn *sql.Conn, fn func(conn *sql.Conn) error) error {
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	err := fn(conn)
	if err == nil {
		_, err = conn.ExecContext(ctx, "COMMIT")
	}
	if err != nil {
		conn.ExecContext(context.Background(), "ROLLBACK")
	}
	return err
}

// execFile runs the statements of an embedded .sql file, each with the arguments its
// placeholders name, and returns the rows the first one affected.
func execFile(ctx context.Context, conn *sql.Conn, name string, args ...any) (int64, error) {
	var first int64
	for i, stmt := range sqlFile(name) {
		n := 0
		for n < len(args) && strings.Contains(stmt, fmt.Sprintf("$%d", n+1)) {
			n++
		}
		res, err := conn.ExecContext(ctx, stmt, args[:n]...)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		if i == 0 {
			first, _ = res.RowsAffected()
		}
	}
	return first, nil
}

// CreateLogGroup implements store.LogCatalogue.
func (s *Store) CreateLogGroup(ctx context.Context, name string, tags map[string]string) error {
	return s.change(ctx, func(conn *sql.Conn) error {
		res, err := conn.ExecContext(ctx, "INSERT INTO log_groups (name, created_ns, tags) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
			name, time.Now().UnixNano(), tagsJSON(tags))
		if err != nil {
			return fmt.Errorf("create log group: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("log group %q: %w", name, store.ErrExists)
		}
		return nil
	})
}

// DeleteLogGroup implements store.LogCatalogue.
func (s *Store) DeleteLogGroup(ctx context.Context, name string) error {
	return s.change(ctx, func(conn *sql.Conn) error {
		if err := groupExists(ctx, conn, name); err != nil {
			return err
		}
		_, err := execFile(ctx, conn, "logs_group_delete", name)
		return err
	})
}

func groupExists(ctx context.Context, conn *sql.Conn, name string) error {
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM log_groups WHERE name = $1", name).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("log group %q: %w", name, store.ErrNotFound)
	}
	return nil
}

// SetLogRetention implements store.LogCatalogue.
func (s *Store) SetLogRetention(ctx context.Context, group string, days int) error {
	var retention any
	if days > 0 {
		retention = days
	}
	err := s.change(ctx, func(conn *sql.Conn) error {
		res, err := conn.ExecContext(ctx, "UPDATE log_groups SET retention_days = $2 WHERE name = $1", group, retention)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("log group %q: %w", group, store.ErrNotFound)
		}
		return nil
	})
	if err == nil && days > 0 {
		_, err = s.ExpireLogs(ctx, time.Now())
	}
	return err
}

// TagLogGroup implements store.LogCatalogue.
func (s *Store) TagLogGroup(ctx context.Context, group string, set map[string]string, remove []string) error {
	return s.change(ctx, func(conn *sql.Conn) error {
		var text sql.NullString
		err := conn.QueryRowContext(ctx, "SELECT tags FROM log_groups WHERE name = $1", group).Scan(&text)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("log group %q: %w", group, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		tags, err := parseTags(text)
		if err != nil {
			return err
		}
		if tags == nil {
			tags = map[string]string{}
		}
		maps.Copy(tags, set)
		for _, k := range remove {
			delete(tags, k)
		}
		_, err = conn.ExecContext(ctx, "UPDATE log_groups SET tags = $2 WHERE name = $1", group, tagsJSON(tags))
		return err
	})
}

// CreateLogStream implements store.LogCatalogue.
func (s *Store) CreateLogStream(ctx context.Context, group, stream string) error {
	return s.change(ctx, func(conn *sql.Conn) error {
		if err := groupExists(ctx, conn, group); err != nil {
			return err
		}
		res, err := conn.ExecContext(ctx, "INSERT INTO log_streams (log_group, name, created_ns, records, stored_bytes) VALUES ($1, $2, $3, 0, 0) ON CONFLICT DO NOTHING",
			group, stream, time.Now().UnixNano())
		if err != nil {
			return fmt.Errorf("create log stream: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("log stream %q: %w", stream, store.ErrExists)
		}
		return nil
	})
}

// DeleteLogStream implements store.LogCatalogue.
func (s *Store) DeleteLogStream(ctx context.Context, group, stream string) error {
	return s.change(ctx, func(conn *sql.Conn) error {
		var n int
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM log_streams WHERE log_group = $1 AND name = $2", group, stream).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("log stream %q: %w", stream, store.ErrNotFound)
		}
		_, err := execFile(ctx, conn, "logs_stream_delete", group, stream)
		return err
	})
}

// NoteMissingStream implements store.LogCatalogue. The note is informative, so it is not
// checkpointed on its own.
func (s *Store) NoteMissingStream(ctx context.Context, group, stream string, at time.Time) error {
	w := s.writers[0]
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := s.saveStreams(ctx, w.conn); err != nil { // the group may exist only in the tally
		return err
	}
	_, err := w.conn.ExecContext(ctx, "UPDATE log_groups SET missing_stream = $2, missing_ns = $3 WHERE name = $1", group, stream, at.UnixNano())
	return err
}

// ExpireLogs implements store.LogCatalogue.
func (s *Store) ExpireLogs(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.change(ctx, func(conn *sql.Conn) error {
		rows, err := execFile(ctx, conn, "logs_expire", now.UnixNano())
		if err != nil {
			return err
		}
		cut := sqlFile("logs_blocks_cut")
		lines, err := s.cutBlocks(ctx, conn, cut[0], cut[1], now.UnixNano())
		if n = rows + lines; err != nil || n == 0 {
			return err
		}
		groups, err := queryStrings(ctx, s.db, "SELECT name FROM log_groups WHERE retention_days IS NOT NULL")
		for _, g := range groups {
			if err == nil {
				_, err = execFile(ctx, conn, "logs_stream_stats", g)
			}
		}
		return err
	})
	return n, err
}

// LogGroups implements store.LogCatalogue.
func (s *Store) LogGroups(ctx context.Context, q store.LogGroupQuery) ([]store.LogGroup, error) {
	if err := s.streamsSaved(ctx); err != nil {
		return nil, err
	}
	var b sqlBuilder
	if q.Prefix != "" {
		b.where("starts_with(g.name, %s)", q.Prefix)
	}
	if q.Contains != "" {
		b.where("contains(g.name, %s)", q.Contains)
	}
	if q.Names != nil {
		b.whereIn("g.name", q.Names)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT g.name, g.created_ns, g.retention_days, g.tags, g.missing_stream, g.missing_ns,
		count(st.name), coalesce(sum(st.records), 0), coalesce(sum(st.stored_bytes), 0), max(st.last_ns)
		FROM log_groups g LEFT JOIN log_streams st ON st.log_group = g.name`+b.clause()+`
		GROUP BY ALL ORDER BY g.name`+b.page(q.Offset, q.Limit), b.args...)
	if err != nil {
		return nil, fmt.Errorf("log groups: %w", err)
	}
	defer rows.Close()
	var out []store.LogGroup
	for rows.Next() {
		var (
			g                    store.LogGroup
			created              int64
			retention            sql.NullInt64
			tags, missing        sql.NullString
			missingAt, lastEvent sql.NullInt64
		)
		if err := rows.Scan(&g.Name, &created, &retention, &tags, &missing, &missingAt, &g.Streams, &g.Records, &g.StoredBytes, &lastEvent); err != nil {
			return nil, err
		}
		g.Created, g.RetentionDays, g.MissingStream = time.Unix(0, created), int(retention.Int64), missing.String
		g.LastEvent, g.MissingAt = unixOrZero(lastEvent), unixOrZero(missingAt)
		if g.Tags, err = parseTags(tags); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// LogStreams implements store.LogCatalogue.
func (s *Store) LogStreams(ctx context.Context, q store.LogStreamQuery) ([]store.LogStream, error) {
	if err := s.streamsSaved(ctx); err != nil {
		return nil, err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := groupExists(ctx, conn, q.Group); err != nil {
		return nil, err
	}
	var b sqlBuilder
	b.where("log_group = %s", q.Group)
	if q.Name != "" {
		b.where("name = %s", q.Name)
	}
	if q.Prefix != "" {
		b.where("starts_with(name, %s)", q.Prefix)
	}
	dir := ""
	if q.Descending {
		dir = " DESC"
	}
	order := "name" + dir
	if q.ByLastEvent {
		order = "coalesce(last_ns, 0)" + dir + ", name" + dir
	}
	rows, err := conn.QueryContext(ctx, `SELECT log_group, name, created_ns, first_ns, last_ns, last_ingest_ns, records, stored_bytes
		FROM log_streams`+b.clause()+" ORDER BY "+order+b.page(q.Offset, q.Limit), b.args...)
	if err != nil {
		return nil, fmt.Errorf("log streams: %w", err)
	}
	defer rows.Close()
	var out []store.LogStream
	for rows.Next() {
		var (
			st                  store.LogStream
			created             int64
			first, last, ingest sql.NullInt64
		)
		if err := rows.Scan(&st.Group, &st.Name, &created, &first, &last, &ingest, &st.Records, &st.StoredBytes); err != nil {
			return nil, err
		}
		st.Created, st.FirstEvent, st.LastEvent, st.LastIngestion = time.Unix(0, created), unixOrZero(first), unixOrZero(last), unixOrZero(ingest)
		out = append(out, st)
	}
	return out, rows.Err()
}

func unixOrZero(ns sql.NullInt64) time.Time {
	if !ns.Valid {
		return time.Time{}
	}
	return time.Unix(0, ns.Int64)
}

func tagsJSON(tags map[string]string) any {
	if len(tags) == 0 {
		return nil
	}
	b, _ := json.Marshal(tags) // strings only: cannot fail
	return string(b)
}

func parseTags(text sql.NullString) (map[string]string, error) {
	if !text.Valid {
		return nil, nil
	}
	var tags map[string]string
	if err := json.Unmarshal([]byte(text.String), &tags); err != nil {
		return nil, fmt.Errorf("log group tags: %w", err)
	}
	return tags, nil
}

// sqlBuilder collects the conditions of a query and binds their values.
type sqlBuilder struct {
	conds []string
	args  []any
}

// arg binds v and returns its placeholder.
func (b *sqlBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return fmt.Sprintf("$%d", len(b.args))
}

// where adds a condition; each %s in format becomes the placeholder of the next value.
func (b *sqlBuilder) where(format string, values ...any) {
	ph := make([]any, len(values))
	for i, v := range values {
		ph[i] = b.arg(v)
	}
	b.conds = append(b.conds, fmt.Sprintf(format, ph...))
}

// whereIn adds "column is one of values" (false for none).
func (b *sqlBuilder) whereIn(column string, values []string) {
	if len(values) == 0 {
		b.conds = append(b.conds, "false")
		return
	}
	ph := make([]string, len(values))
	for i, v := range values {
		ph[i] = b.arg(v)
	}
	b.conds = append(b.conds, column+" IN ("+strings.Join(ph, ", ")+")")
}

func (b *sqlBuilder) clause() string {
	if len(b.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(b.conds, " AND ")
}

// page is the LIMIT and OFFSET clause; limit 0 means none.
func (b *sqlBuilder) page(offset, limit int) string {
	out := ""
	if limit > 0 {
		out += " LIMIT " + b.arg(limit)
	}
	if offset > 0 {
		out += " OFFSET " + b.arg(offset)
	}
	return out
}

var _ store.LogCatalogue = (*Store)(nil)
