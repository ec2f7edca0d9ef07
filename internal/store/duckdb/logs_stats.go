package duckdb

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// LogStats implements store.LogReader. Records kept a row each are aggregated by one query
// over the groups' time range, its values bound, and a count of the range when Where leaves
// records out; lines kept in blocks (logs_blocks.go) are aggregated as if they were rows
// (logs_blockstats.go), and both answers merge into one (logs_statsbuckets.go).
func (s *Store) LogStats(ctx context.Context, q store.LogStatsQuery) (*store.LogStatsResult, error) {
	var b sqlBuilder
	if len(q.Groups) > 0 {
		b.whereIn("log_group", q.Groups)
	}
	if !q.Start.IsZero() {
		b.where("time_ns >= %s", q.Start.UnixNano())
	}
	if !q.End.IsZero() {
		b.where("time_ns < %s", q.End.UnixNano())
	}
	res := &store.LogStatsResult{}
	if q.Where != nil {
		// Only a condition on messages needs the structured bodies counted.
		var structured int64
		count := "SELECT count(*), 0 FROM logs"
		if testsMessage(*q.Where) {
			count = fmt.Sprintf("SELECT count(*), count(*) FILTER (WHERE body_kind IN (%d, %d)) FROM logs", telemetry.KindArray, telemetry.KindMap)
		}
		if err := s.db.QueryRowContext(ctx, count+b.clause(), b.args...).Scan(&res.Scanned, &structured); err != nil {
			return nil, fmt.Errorf("log stats: %w", err)
		}
		if structured > 0 {
			return nil, store.ErrStructuredBodies
		}
		cond, err := logCondSQL(&b, *q.Where)
		if err != nil {
			return nil, err
		}
		b.conds = append(b.conds, cond)
	}
	cols, err := groupKeysSQL(&b, q, "time_ns")
	if err != nil {
		return nil, err
	}
	cols = append(cols, "count(*)")
	if q.Ordered {
		cols = append(cols, "max(time_ns)", "max_by(id, (time_ns, id))")
	}
	for _, a := range q.Aggregates {
		if a.Fn != "count" {
			col, err := logAggregateSQL(a)
			if err != nil {
				return nil, err
			}
			cols = append(cols, col)
		}
	}
	acc := newStatsBuckets(q)
	text := "SELECT " + strings.Join(cols, ", ") + " FROM logs" + b.clause()
	if len(q.By) > 0 {
		text += " GROUP BY ALL"
	}
	if err := s.addStatsRows(ctx, acc, text, b.args); err != nil {
		return nil, err
	}
	blockScanned, err := s.blockStats(ctx, q, acc)
	if err != nil {
		return nil, err
	}
	res.Buckets, res.Matched = acc.result()
	res.Scanned += blockScanned
	if q.Where == nil {
		res.Scanned = res.Matched
	}
	res.ScannedBytes, err = s.scannedBytes(ctx, q.Groups, res.Scanned)
	return res, err
}

// addStatsRows runs an aggregate query whose rows hold a bucket's keys, its record count,
// the time and id of its newest record when the buckets are ordered, and then the values of
// its aggregates other than count (logAggregateSQL's), and adds them to acc.
func (s *Store) addStatsRows(ctx context.Context, acc *statsBuckets, text string, args []any) error {
	rows, err := s.db.QueryContext(ctx, text, args...)
	if err != nil {
		return fmt.Errorf("log stats: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("log stats: %w", err)
	}
	values := make([]any, len(cols))
	dest := make([]any, len(cols))
	for i := range values {
		dest[i] = &values[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("log stats: %w", err)
		}
		acc.addRow(values)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("log stats: %w", err)
	}
	return nil
}

// groupKeysSQL is the keys of q's groupings, a time being the nanoseconds in column ns.
func groupKeysSQL(b *sqlBuilder, q store.LogStatsQuery, ns string) ([]string, error) {
	keys := make([]string, len(q.By))
	for i, g := range q.By {
		if g.Field == store.LogMessage {
			return nil, errors.New("log stats: grouping by messages")
		}
		if g.BinMillis > 0 && g.Field == store.LogStreamName {
			return nil, errors.New("log stats: bins of a text field")
		}
		key, err := logFieldSQL(g.Field)
		if err != nil {
			return nil, err
		}
		if g.Field == store.LogTime {
			key = millisSQL(ns)
		}
		switch {
		case intBins(q, g):
			// Integer division floors times that cannot be negative, and costs least.
			key = fmt.Sprintf("%s // %s * %s", ns, b.arg(g.BinMillis*1e6), b.arg(g.BinMillis))
		case g.BinMillis > 0:
			// fdiv floors a float division, as logsearch's bin() does.
			key = fmt.Sprintf("fdiv(%s, %s) * %[2]s", key, b.arg(float64(g.BinMillis)))
		}
		keys[i] = key
	}
	return keys, nil
}

// intBins says whether g's bins are computed by integer division: bins of the record's time
// when the range starts after 1970, which keeps the times from being negative.
func intBins(q store.LogStatsQuery, g store.LogGrouping) bool {
	return g.BinMillis > 0 && g.BinMillis <= math.MaxInt64/1_000_000 && g.Field == store.LogTime && !q.Start.IsZero() && q.Start.UnixNano() >= 0
}

// scannedBytes estimates the body bytes of records of groups from their streams' average.
func (s *Store) scannedBytes(ctx context.Context, groups []string, records int64) (int64, error) {
	if err := s.streamsSaved(ctx); err != nil {
		return 0, err
	}
	var b sqlBuilder
	if len(groups) > 0 {
		b.whereIn("log_group", groups)
	}
	var bytes, stored int64
	err := s.db.QueryRowContext(ctx, "SELECT coalesce(sum(stored_bytes), 0), coalesce(sum(records), 0) FROM log_streams"+b.clause(), b.args...).
		Scan(&bytes, &stored)
	if err != nil || stored == 0 {
		return 0, err
	}
	return int64(float64(records) * float64(bytes) / float64(stored)), nil
}

// testsMessage says whether a condition tests records' messages.
func testsMessage(c store.LogCond) bool {
	return c.Field == store.LogMessage || slices.ContainsFunc(c.Conds, testsMessage)
}

// millisSQL is the epoch milliseconds of the nanoseconds in column ns.
func millisSQL(ns string) string {
	return "(" + ns + " // 1000000)"
}

// logFieldSQL is a field's value: epoch milliseconds for times. A message is the body as
// stored, which is its text unless the body is an array or a map.
func logFieldSQL(f store.LogField) (string, error) {
	switch f {
	case store.LogMessage:
		return "body", nil
	case store.LogTime:
		return millisSQL("time_ns"), nil
	case store.LogIngestTime:
		return millisSQL("observed_ns"), nil
	case store.LogStreamName:
		return "stream", nil
	}
	return "", fmt.Errorf("log stats: unknown field %d", f)
}

// logAggregateSQL is an aggregate other than count as SQL: count_distinct is the list of
// distinct values, which merge with those of block lines.
func logAggregateSQL(a store.LogAggregate) (string, error) {
	if a.Field == store.LogMessage {
		return "", errors.New("log stats: aggregating messages")
	}
	field, err := logFieldSQL(a.Field)
	if err != nil {
		return "", err
	}
	switch a.Fn {
	case "count_distinct":
		return "list(DISTINCT " + field + ")", nil
	case "min", "max":
		if a.Field == store.LogStreamName {
			return "", fmt.Errorf("log stats: %s of a text field", a.Fn)
		}
		return a.Fn + "(" + field + ")", nil
	}
	return "", fmt.Errorf("log stats: unknown aggregate %q", a.Fn)
}

// logCondSQL is a condition as SQL, its values bound in b.
func logCondSQL(b *sqlBuilder, c store.LogCond) (string, error) {
	switch c.Op {
	case "and", "or":
		parts := make([]string, len(c.Conds))
		for i, sub := range c.Conds {
			var err error
			if parts[i], err = logCondSQL(b, sub); err != nil {
				return "", err
			}
		}
		if len(parts) == 0 {
			return "", fmt.Errorf("log stats: %s of no conditions", c.Op)
		}
		return "(" + strings.Join(parts, " "+strings.ToUpper(c.Op)+" ") + ")", nil
	case "not":
		if len(c.Conds) != 1 {
			return "", fmt.Errorf("log stats: not takes one condition")
		}
		inner, err := logCondSQL(b, c.Conds[0])
		return "(NOT " + inner + ")", err
	}
	field, err := logFieldSQL(c.Field)
	if err != nil {
		return "", err
	}
	bad := fmt.Errorf("log stats: %s of field %d with values %v", c.Op, c.Field, c.Values)
	text := c.Field == store.LogStreamName || c.Field == store.LogMessage
	switch c.Op {
	case "=", "!=", "<", "<=", ">", ">=":
		if len(c.Values) != 1 {
			return "", bad
		}
		if s, ok := c.Values[0].(string); ok && text {
			return field + " " + c.Op + " " + b.arg(s), nil
		}
		if f, ok := c.Values[0].(float64); ok && !text {
			return "CAST(" + field + " AS DOUBLE) " + c.Op + " " + b.arg(f), nil
		}
	case "in":
		ph := make([]string, len(c.Values))
		for i, v := range c.Values {
			s, ok := v.(string)
			if !ok || !text {
				return "", bad
			}
			ph[i] = b.arg(s)
		}
		if len(ph) == 0 {
			return "false", nil
		}
		return field + " IN (" + strings.Join(ph, ", ") + ")", nil
	case "contains":
		if len(c.Values) == 1 && text {
			if s, ok := c.Values[0].(string); ok {
				return "contains(" + field + ", " + b.arg(s) + ")", nil
			}
		}
	}
	return "", bad
}
