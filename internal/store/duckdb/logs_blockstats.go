package duckdb

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"lookout/internal/store"
)

// blockStats adds to acc the lines kept in blocks of q's groups and range, and returns how
// many there are. When the query needs nothing of a line but its bucket (wholeBlocks), the
// blocks whose lines all share one and are all in range are counted from their rows alone,
// and only those that hold one of the edges between buckets or of the range are decoded
// (blockEdges); else every block of the range is, and each of their lines is tested and added
// as a row of logs would be.
func (s *Store) blockStats(ctx context.Context, q store.LogStatsQuery, acc *statsBuckets) (int64, error) {
	groups := q.Groups
	if len(groups) == 0 {
		groups = nil // any group
	}
	lines := newLineStats(q, acc)
	edges, ok := blockEdges(q)
	if !wholeBlocks(q) || !ok {
		var b sqlBuilder
		blockConds(&b, groups, nil, "", q.Start, q.End)
		err := s.eachLogBlock(ctx, &b, lines.addBlock)
		return lines.scanned, err
	}
	var b sqlBuilder
	blockConds(&b, groups, nil, "", q.Start, q.End)
	b.conds = append(b.conds, wholeBlockSQL(&b, q))
	var scanned int64
	if q.Where != nil {
		if err := s.db.QueryRowContext(ctx, "SELECT CAST(coalesce(sum(lines), 0) AS BIGINT) FROM log_blocks"+b.clause(), b.args...).Scan(&scanned); err != nil {
			return 0, fmt.Errorf("log stats: %w", err)
		}
		cond, err := logCondSQL(&b, *q.Where) // of streams alone, which blocks have too
		if err != nil {
			return 0, err
		}
		b.conds = append(b.conds, cond)
	}
	cols, err := groupKeysSQL(&b, q, "first_ns")
	if err != nil {
		return 0, err
	}
	cols = append(cols, "CAST(sum(lines) AS BIGINT)")
	if q.Ordered {
		// Not the id of the newest line, which only the data holds, but buckets of times
		// alone never share an instant, so that their newest times order them.
		cols = append(cols, "max(last_ns)", "max_by(last_id, (last_ns, last_id))")
	}
	text := "SELECT " + strings.Join(cols, ", ") + " FROM log_blocks" + b.clause()
	if len(q.By) > 0 {
		text += " GROUP BY ALL"
	}
	if err := s.addStatsRows(ctx, acc, text, b.args); err != nil {
		return 0, err
	}
	if err := s.eachEdgeBlock(ctx, groups, edges, lines.addBlock); err != nil {
		return 0, err
	}
	return scanned + lines.scanned, nil
}

// eachEdgeBlock decodes the blocks of groups (nil: any) that hold one of edges (in order),
// in no particular order, and hands each to fn, as eachLogBlock does. Each is found once, by
// the first edge after its first line, in one statement of a part an edge.
func (s *Store) eachEdgeBlock(ctx context.Context, groups []string, edges []int64, fn func(*logBlock) error) error {
	if len(edges) == 0 {
		return nil
	}
	var args []any
	parts := make([]string, len(edges))
	for i, edge := range edges {
		b := sqlBuilder{args: args}
		blockConds(&b, groups, nil, "", time.Time{}, time.Time{})
		if i > 0 {
			b.where("first_ns >= %s", edges[i-1])
		}
		b.where("first_ns < %s AND last_ns >= %[1]s", edge)
		parts[i], args = "SELECT "+blockColumns+" FROM log_blocks"+b.clause(), b.args
	}
	return s.decodeBlocks(ctx, strings.Join(parts, " UNION ALL "), args, fn)
}

// maxBlockEdges bounds the edges blockStats looks for blocks at, a part of a statement each.
const maxBlockEdges = 1000

// blockEdges returns the times where the lines of one block may fall in different buckets of
// q or out of its range, in order: the range's bounds, and the edges of its bins of time
// between them. It returns false when they are too many, or when a grouping by time has no
// range, or one that starts before 1970 (whose bins groupKeysSQL computes otherwise).
func blockEdges(q store.LogStatsQuery) ([]int64, bool) {
	var edges []int64
	if !q.Start.IsZero() {
		edges = append(edges, q.Start.UnixNano())
	}
	if !q.End.IsZero() {
		edges = append(edges, q.End.UnixNano())
	}
	for _, g := range q.By {
		if g.Field != store.LogTime {
			continue
		}
		bin := max(g.BinMillis, 1) // a millisecond is the bin of times themselves
		if q.Start.IsZero() || q.End.IsZero() || q.Start.UnixNano() < 0 || bin > math.MaxInt64/1_000_000 {
			return nil, false
		}
		start, end, step := q.Start.UnixNano(), q.End.UnixNano(), bin*1_000_000
		for e := start - start%step; end-e > step; {
			e += step
			if edges = append(edges, e); len(edges) > maxBlockEdges {
				return nil, false
			}
		}
	}
	slices.Sort(edges)
	return slices.Compact(edges), true
}

// wholeBlocks says whether q can count blocks whole: when it counts the lines that meet a
// condition on their stream alone, in buckets of their stream or time. A block tells the time
// of its newest line but not its id, so buckets ordered by their newest line must be of times
// alone.
func wholeBlocks(q store.LogStatsQuery) bool {
	if q.Where != nil && !testsStreamsAlone(*q.Where) {
		return false
	}
	for _, g := range q.By {
		if g.Field != store.LogTime && (g.Field != store.LogStreamName || q.Ordered) {
			return false
		}
	}
	for _, a := range q.Aggregates {
		if a.Fn != "count" {
			return false
		}
	}
	return true
}

// testsStreamsAlone says whether a condition tests nothing but records' streams.
func testsStreamsAlone(c store.LogCond) bool {
	switch c.Op {
	case "and", "or", "not":
		for _, sub := range c.Conds {
			if !testsStreamsAlone(sub) {
				return false
			}
		}
		return true
	}
	return c.Field == store.LogStreamName
}

// wholeBlockSQL is the condition that a block's lines are all in q's range and share the
// keys of q's time groupings (those of its first and last time), its values bound in b.
func wholeBlockSQL(b *sqlBuilder, q store.LogStatsQuery) string {
	conds := []string{"true"}
	if !q.Start.IsZero() {
		conds = append(conds, "first_ns >= "+b.arg(q.Start.UnixNano()))
	}
	if !q.End.IsZero() {
		conds = append(conds, "last_ns < "+b.arg(q.End.UnixNano()))
	}
	for _, g := range q.By {
		if g.Field == store.LogTime {
			one := store.LogStatsQuery{Start: q.Start, By: []store.LogGrouping{g}}
			first, _ := groupKeysSQL(b, one, "first_ns")
			last, _ := groupKeysSQL(b, one, "last_ns")
			conds = append(conds, first[0]+" = "+last[0])
		}
	}
	return "(" + strings.Join(conds, " AND ") + ")"
}
