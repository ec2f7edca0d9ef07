package duckdb

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"lookout/internal/store"
)

// fillBuckets is the most buckets one statement counts to keep: fewer make the joins of
// sql/service_calls.sql small enough for DuckDB's memory, more read the reach around them
// fewer times.
const fillBuckets = 10

// ServiceCalls implements store.SegmentReader. The counts of whole buckets of the range come
// from the cache, which counts those it lacks once every span that falls within their reach
// should have arrived (graphReach after their end); the rest of the range is counted from
// the spans.
func (s *Store) ServiceCalls(ctx context.Context, q store.ServiceCallQuery) ([]store.ServiceCalls, error) {
	from, to, err := s.spanExtent(ctx, q.Start.UnixNano(), q.End.UnixNano())
	if err != nil || from >= to {
		return nil, err
	}
	keys := keysID(q.Keys)
	first, last := floorDiv(from, graphBucket), floorDiv(to, graphBucket) // whole buckets [first, last)
	if first*graphBucket < from {
		first++
	}
	closed := floorDiv(time.Now().UnixNano()-graphReach, graphBucket) // buckets before it may be kept
	t := newCallTally()

	s.graphs.fill.Lock()
	defer s.graphs.fill.Unlock()
	kept := map[int64]bool{}
	if first < last {
		if kept, err = s.graphs.read(ctx, keys, first, last, t); err != nil {
			return nil, err
		}
	}
	for _, p := range graphPieces(from, to, kept, closed) {
		if !p.keep {
			if err := s.countCalls(ctx, q.Keys, p.from, p.to, t, nil); err != nil {
				return nil, err
			}
			continue
		}
		s.graphs.begin()
		counts := &bucketCounts{}
		if err := s.countCalls(ctx, q.Keys, p.from, p.to, t, counts); err != nil {
			return nil, err
		}
		if err := s.graphs.keep(ctx, keys, floorDiv(p.from, graphBucket), floorDiv(p.to, graphBucket), counts); err != nil {
			return nil, err
		}
	}
	return t.result(), nil
}

// CountServiceCalls implements store.SegmentReader: ServiceCalls over the whole buckets from
// since's to the first not yet closed keeps those it lacks.
func (s *Store) CountServiceCalls(ctx context.Context, keys store.SegmentKeys, since time.Time) error {
	from, to := floorDiv(since.UnixNano(), graphBucket)*graphBucket, floorDiv(time.Now().UnixNano()-graphReach, graphBucket)*graphBucket
	if from >= to {
		return nil
	}
	_, err := s.ServiceCalls(ctx, store.ServiceCallQuery{Keys: keys, Start: time.Unix(0, from), End: time.Unix(0, to)})
	return err
}

// spanExtent narrows [from, to) to whole buckets around the spans that started in it, as
// far as trace_index tells (a smaller table than the spans), so that a range of months where
// a day has spans does not count every empty minute.
func (s *Store) spanExtent(ctx context.Context, from, to int64) (int64, int64, error) {
	var lo, hi sql.NullInt64
	err := s.db.QueryRowContext(ctx, "SELECT min(start_ns), max(end_ns) FROM trace_index WHERE end_ns >= $1 AND start_ns < $2", from, to).Scan(&lo, &hi)
	if err != nil || !lo.Valid {
		return 0, 0, err
	}
	return max(from, floorDiv(lo.Int64, graphBucket)*graphBucket), min(to, saturatingAdd(floorDiv(hi.Int64, graphBucket)*graphBucket, graphBucket)), nil
}

// graphPiece is a part of a graph's range to count from the spans: whole buckets to keep
// counted, or start times to count only.
type graphPiece struct {
	from, to int64
	keep     bool
}

// graphPieces splits [from, to), but for the kept buckets, into pieces: runs of at most
// fillBuckets whole buckets before closed, to keep, and runs of the rest.
func graphPieces(from, to int64, kept map[int64]bool, closed int64) []graphPiece {
	var out []graphPiece
	for at := from; at < to; {
		b := floorDiv(at, graphBucket)
		end := min(saturatingAdd(b*graphBucket, graphBucket), to)
		whole := at == b*graphBucket && end-at == graphBucket
		if whole && kept[b] {
			at = end
			continue
		}
		keep := whole && b < closed
		if n := len(out); n > 0 && out[n-1].to == at && out[n-1].keep == keep && (!keep || at-out[n-1].from < fillBuckets*graphBucket) {
			out[n-1].to = end
		} else {
			out = append(out, graphPiece{at, end, keep})
		}
		at = end
	}
	return out
}

// countCalls adds to t the calls of the spans that started in [from, to), and to counts, if
// not nil, the same by bucket.
func (s *Store) countCalls(ctx context.Context, keys store.SegmentKeys, from, to int64, t *callTally, counts *bucketCounts) error {
	// Parents and answers are looked for within the traces' time spans, mostly much less
	// than the reach around the range.
	var lo, hi sql.NullInt64
	if err := s.db.QueryRowContext(ctx, sqlFile("trace_bounds")[0], from, to, graphReach).Scan(&lo, &hi); err != nil {
		return fmt.Errorf("traces' time spans: %w", err)
	}
	if !lo.Valid {
		return nil // no span started in the range
	}
	lo.Int64, hi.Int64 = max(lo.Int64, saturatingAdd(from, -graphReach)), min(hi.Int64, saturatingAdd(to, graphReach-1))
	text, args := graphSQL(keys, s.attrSnapshot(), "service_calls", from, to, graphReach, graphBucket, lo.Int64, hi.Int64)
	rows, err := s.db.QueryContext(ctx, text, args...)
	if err != nil {
		return fmt.Errorf("service calls: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r bucketCall
		if err := rows.Scan(&r.bucket, &r.Caller.Name, &r.Callee.Name, &r.Callee.Type, &r.Callee.Inferred, &r.ResponseMillis,
			&r.OK, &r.Errors, &r.Throttles, &r.Faults, &r.Total, &r.ResponseNanos, &r.Start, &r.End); err != nil {
			return err
		}
		t.addCalls(r.ServiceCalls)
		if counts != nil {
			counts.calls = append(counts.calls, r)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	text, args = graphSQL(keys, s.attrSnapshot(), "service_origins", from, to, graphBucket)
	rows, err = s.db.QueryContext(ctx, text, args...)
	if err != nil {
		return fmt.Errorf("service origins: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r bucketOrigin
		if err := rows.Scan(&r.bucket, &r.service, &r.origin, &r.segments); err != nil {
			return err
		}
		t.addOrigin(r.service, r.origin, r.segments)
		if counts != nil {
			counts.origins = append(counts.origins, r)
		}
	}
	return rows.Err()
}

// graphSQL is one of the service graph's statements with its markers replaced, and its
// arguments: args, then the values the markers bind.
func graphSQL(keys store.SegmentKeys, meta attrMeta, file string, args ...any) (string, []any) {
	g := newSegmentSQL(keys, meta, args...)
	text := sqlFile(file)[0]
	// Each expression binds its values when made: only those the statement holds are made,
	// the joins last, once the others have said which attributes they read.
	for _, m := range []struct {
		marker string
		expr   func() string
	}{
		{"{{SEGMENT}}", g.isSegment}, {"{{ORIGIN}}", g.origin}, {"{{OUTCOME}}", g.outcome},
		{"{{CALLEE_NAME}}", g.calleeName}, {"{{CALLEE_TYPE}}", g.calleeType}, {"{{JOINS}}", g.joins},
	} {
		if strings.Contains(text, m.marker) {
			text = strings.ReplaceAll(text, m.marker, m.expr())
		}
	}
	return text, g.args
}

// keysID identifies a set of segment keys in the cache's tables.
func keysID(k store.SegmentKeys) int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%#v", k)
	return int64(h.Sum64())
}

// bucketCounts are the counts of service_calls.sql and service_origins.sql by bucket.
type bucketCounts struct {
	calls   []bucketCall
	origins []bucketOrigin
}

// bucketCall is the calls of one bucket from one caller to one callee with one response
// time; the caller's type is not known yet.
type bucketCall struct {
	bucket int64
	store.ServiceCalls
}

// bucketOrigin is how many segments of a service that started in a bucket have an origin.
type bucketOrigin struct {
	bucket          int64
	service, origin string
	segments        int64
}

// callTally sums calls and origins counted apart.
type callTally struct {
	calls   map[callKey]*store.ServiceCalls
	origins map[string]map[string]int64 // by service, by origin
}

type callKey struct {
	caller string
	callee store.GraphNode
	ms     int64
}

func newCallTally() *callTally {
	return &callTally{calls: map[callKey]*store.ServiceCalls{}, origins: map[string]map[string]int64{}}
}

func (t *callTally) addCalls(c store.ServiceCalls) {
	k := callKey{c.Caller.Name, c.Callee, c.ResponseMillis}
	sum, ok := t.calls[k]
	if !ok {
		t.calls[k] = &c
		return
	}
	sum.OK += c.OK
	sum.Errors += c.Errors
	sum.Throttles += c.Throttles
	sum.Faults += c.Faults
	sum.Total += c.Total
	sum.ResponseNanos += c.ResponseNanos
	sum.Start, sum.End = min(sum.Start, c.Start), max(sum.End, c.End)
}

func (t *callTally) addOrigin(service, origin string, segments int64) {
	if t.origins[service] == nil {
		t.origins[service] = map[string]int64{}
	}
	t.origins[service][origin] += segments
}

// scanCalls adds the rows of graph_cached.sql's calls.
func (t *callTally) scanCalls(rows *sql.Rows, err error) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var c store.ServiceCalls
		if err := rows.Scan(&c.Caller.Name, &c.Callee.Name, &c.Callee.Type, &c.Callee.Inferred, &c.ResponseMillis,
			&c.OK, &c.Errors, &c.Throttles, &c.Faults, &c.Total, &c.ResponseNanos, &c.Start, &c.End); err != nil {
			return err
		}
		t.addCalls(c)
	}
	return rows.Err()
}

// scanOrigins adds the rows of graph_cached.sql's origins.
func (t *callTally) scanOrigins(rows *sql.Rows, err error) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var service, origin string
		var n int64
		if err := rows.Scan(&service, &origin, &n); err != nil {
			return err
		}
		t.addOrigin(service, origin, n)
	}
	return rows.Err()
}

// result is the calls, each caller typed by its most frequent origin (the first in text
// order of those as frequent).
func (t *callTally) result() []store.ServiceCalls {
	types := map[string]string{}
	for service, counts := range t.origins {
		best, most := "", int64(-1)
		for origin, n := range counts {
			if n > most || n == most && cmp.Less(origin, best) {
				best, most = origin, n
			}
		}
		types[service] = best
	}
	out := make([]store.ServiceCalls, 0, len(t.calls))
	for _, c := range t.calls {
		if c.Caller.Name != "" {
			c.Caller.Type = types[c.Caller.Name]
		}
		out = append(out, *c)
	}
	return out
}
