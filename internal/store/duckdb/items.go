package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"lookout/internal/store"
	"lookout/internal/triage"
)

const itemColumns = "id, project, counter, environment, fingerprint, grouping, title, level, class, framework, platform, language, status, resolved_in_version, assigned_to, title_locked, level_locked, total, first_ns, last_ns, first_occurrence, last_occurrence, last_activated_ns, last_resolved_ns"

// querier is a database, one of its connections, or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func scanItem(rows *sql.Rows, extra ...any) (store.Item, error) {
	var it store.Item
	var status string
	var first, last, activated, resolved int64
	dest := append([]any{&it.ID, &it.Project, &it.Counter, &it.Environment, &it.Fingerprint, &it.Grouping, &it.Title, &it.Level,
		&it.Class, &it.Framework, &it.Platform, &it.Language, &status, &it.ResolvedInVersion, &it.AssignedTo, &it.TitleLocked,
		&it.LevelLocked, &it.Total, &first, &last, &it.FirstOccurrence, &it.LastOccurrence, &activated, &resolved}, extra...)
	err := rows.Scan(dest...)
	it.Status = triage.Status(status)
	it.FirstSeen, it.LastSeen, it.LastActivated, it.LastResolved = nsTime(first), nsTime(last), nsTime(activated), nsTime(resolved)
	return it, err
}

// queryItems reads the items that satisfy cond (all when it is empty), in no order.
func queryItems(ctx context.Context, q querier, cond string, args ...any) ([]store.Item, error) {
	where := ""
	if cond != "" {
		where = " WHERE " + cond
	}
	rows, err := q.QueryContext(ctx, "SELECT "+itemColumns+" FROM error_items"+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Item
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// Items implements store.ItemReader.
func (s *Store) Items(ctx context.Context, q store.ItemQuery) ([]store.Item, int, error) {
	var conds []string
	var args []any
	in := func(column string, values []string) {
		if len(values) == 0 {
			return
		}
		conds = append(conds, column+" IN ("+placeholders(len(values))+")")
		for _, v := range values {
			args = append(args, v)
		}
	}
	if q.Project != "" {
		in("project", []string{q.Project})
	}
	statuses := make([]string, len(q.Statuses))
	for i, st := range q.Statuses {
		statuses[i] = string(st)
	}
	in("status", statuses)
	in("level", q.Levels)
	in("environment", q.Environments)
	if q.Text != "" {
		conds = append(conds, "contains(lower(title), lower(?))")
		args = append(args, q.Text)
	}
	if len(q.IDs) > 0 {
		conds = append(conds, "id IN ("+placeholders(len(q.IDs))+")")
		args = append(args, int64Args(q.IDs)...)
	}
	if !q.TraceID.IsZero() {
		conds = append(conds, "id IN (SELECT item_id FROM error_occurrences WHERE trace_hi = ? AND trace_lo = ?)")
		args = append(args, int64(q.TraceID.High()), int64(q.TraceID.Low()))
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	order := "last_ns DESC, id DESC"
	switch q.Sort {
	case store.SortCount:
		order = "total DESC, last_ns DESC, id DESC"
	case store.SortFirstSeen:
		order = "first_ns DESC, id DESC"
	}
	args = append(args, limit(q.Limit), max(q.Offset, 0))
	rows, err := s.db.QueryContext(ctx, "SELECT "+itemColumns+", count(*) OVER () FROM error_items"+where+" ORDER BY "+order+" LIMIT ? OFFSET ?", args...)
	if err != nil {
		return nil, 0, fmt.Errorf("items: %w", err)
	}
	defer rows.Close()
	var items []store.Item
	total := 0
	for rows.Next() {
		it, err := scanItem(rows, &total)
		if err != nil {
			return nil, 0, err
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if len(items) == 0 && q.Offset > 0 { // a page past the end still tells how many there are
		var n int
		err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM error_items"+where, args[:len(args)-2]...).Scan(&n)
		return nil, n, err
	}
	return items, total, s.countPeople(ctx, items)
}

func limit(n int) int {
	if n <= 0 {
		return store.DefaultLimit
	}
	return min(n, store.MaxLimit)
}

// countPeople fills in the distinct people among each item's occurrences.
func (s *Store) countPeople(ctx context.Context, items []store.Item) error {
	if len(items) == 0 {
		return nil
	}
	ids := make([]int64, len(items))
	for i := range items {
		ids[i] = items[i].ID
	}
	rows, err := s.db.QueryContext(ctx, "SELECT item_id, count(DISTINCT person) FROM error_occurrences WHERE person <> '' AND item_id IN ("+placeholders(len(ids))+") GROUP BY item_id", int64Args(ids)...)
	if err != nil {
		return fmt.Errorf("people: %w", err)
	}
	defer rows.Close()
	people := map[int64]int64{}
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		people[id] = n
	}
	for i := range items {
		items[i].People = people[items[i].ID]
	}
	return rows.Err()
}

// Item implements store.ItemReader.
func (s *Store) Item(ctx context.Context, id int64) (store.Item, error) {
	return s.oneItem(ctx, "id = ?", id)
}

// ItemByCounter implements store.ItemReader.
func (s *Store) ItemByCounter(ctx context.Context, project string, counter int64) (store.Item, error) {
	return s.oneItem(ctx, "project = ? AND counter = ?", project, counter)
}

func (s *Store) oneItem(ctx context.Context, cond string, args ...any) (store.Item, error) {
	items, err := queryItems(ctx, s.db, cond, args...)
	if err != nil {
		return store.Item{}, err
	}
	if len(items) == 0 {
		return store.Item{}, fmt.Errorf("item: %w", store.ErrNotFound)
	}
	err = s.countPeople(ctx, items)
	return items[0], err
}

// ItemEvents implements store.ItemReader.
func (s *Store) ItemEvents(ctx context.Context, item int64) ([]store.ItemEvent, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT time_ns, kind, version, by_whom, detail FROM error_events WHERE item_id = ? ORDER BY time_ns, rowid", item)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.ItemEvent
	for rows.Next() {
		e := store.ItemEvent{ItemID: item}
		var t int64
		var kind string
		if err := rows.Scan(&t, &kind, &e.Version, &e.By, &e.Detail); err != nil {
			return nil, err
		}
		e.Time, e.Kind = nsTime(t), triage.EventKind(kind)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Environments implements store.ItemReader.
func (s *Store) Environments(ctx context.Context, project string) ([]string, error) {
	return queryStrings(ctx, s.db, "SELECT DISTINCT environment FROM error_items WHERE project = ? ORDER BY environment", project)
}

// Projects implements store.ItemReader.
func (s *Store) Projects(ctx context.Context) ([]string, error) {
	return queryStrings(ctx, s.db, "SELECT project FROM error_items UNION SELECT project FROM deploys ORDER BY project")
}

// OccurrenceCounts implements store.ItemReader.
func (s *Store) OccurrenceCounts(ctx context.Context, q store.CountQuery) (map[int64][]int64, error) {
	if q.Step <= 0 || q.Buckets <= 0 {
		return nil, errors.New("occurrence counts need a step and a number of buckets")
	}
	start := q.Start.UnixNano()
	end := q.Start.Add(time.Duration(q.Buckets) * q.Step).UnixNano()
	cond, args := "project = ?", []any{q.Project}
	if q.Items != nil {
		if len(q.Items) == 0 {
			return map[int64][]int64{}, nil
		}
		cond, args = "item_id IN ("+placeholders(len(q.Items))+")", int64Args(q.Items)
	}
	args = append([]any{start, int64(q.Step)}, args...)
	args = append(args, start, end)
	rows, err := s.db.QueryContext(ctx, "SELECT item_id, (time_ns - ?) // ? AS bucket, count(*) FROM error_occurrences WHERE "+cond+
		" AND time_ns >= ? AND time_ns < ? GROUP BY ALL", args...)
	if err != nil {
		return nil, fmt.Errorf("occurrence counts: %w", err)
	}
	defer rows.Close()
	out := map[int64][]int64{}
	for _, id := range q.Items {
		out[id] = make([]int64, q.Buckets)
	}
	for rows.Next() {
		var id, bucket, n int64
		if err := rows.Scan(&id, &bucket, &n); err != nil {
			return nil, err
		}
		if out[id] == nil {
			out[id] = make([]int64, q.Buckets)
		}
		if bucket >= 0 && bucket < int64(q.Buckets) {
			out[id][bucket] = n
		}
	}
	return out, rows.Err()
}

// breakdownColumns are the columns behind each breakdown field; only these are ever named
// in SQL.
var breakdownColumns = map[store.BreakdownField]string{
	store.ByCodeVersion: "code_version", store.ByHost: "host", store.ByBrowser: "browser", store.ByOS: "os",
	store.ByEnvironment: "environment", store.ByContext: "context", store.ByPerson: "person", store.ByUserIP: "user_ip",
}

// Breakdown implements store.ItemReader.
func (s *Store) Breakdown(ctx context.Context, item int64, field store.BreakdownField, n int) ([]store.ValueCount, error) {
	col, ok := breakdownColumns[field]
	if !ok {
		return nil, fmt.Errorf("no breakdown by %q", field)
	}
	rows, err := s.db.QueryContext(ctx, "SELECT "+col+", count(*) AS n FROM error_occurrences WHERE item_id = ? GROUP BY 1 ORDER BY n DESC, 1 LIMIT ?", item, limit(n))
	if err != nil {
		return nil, fmt.Errorf("breakdown: %w", err)
	}
	defer rows.Close()
	var out []store.ValueCount
	for rows.Next() {
		var vc store.ValueCount
		if err := rows.Scan(&vc.Value, &vc.Count); err != nil {
			return nil, err
		}
		out = append(out, vc)
	}
	return out, rows.Err()
}
