package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	duckdbdriver "github.com/duckdb/duckdb-go/v2"

	"lookout/internal/telemetry"
)

const (
	// graphBucket is the width of the buckets of start times whose calls the service graph's
	// cache keeps counted.
	graphBucket = int64(time.Minute)
	// graphReach is how far from a span's start its parent, and the segments that answer its
	// call, are looked for (sql/service_calls.sql): a bucket's counts depend on the spans that
	// started within graphReach of it.
	graphReach = int64(15 * time.Minute)
)

// graphCache keeps the service graph's counts a bucket at a time in the graph_* tables, so
// that a graph over a long range sums the counts of its whole buckets and counts from the
// spans only the rest.
//
// Writers report the start times they stored or deleted (changed); the buckets within reach
// of them are deleted from the tables before the tables are next read, and at every
// checkpoint (flush), so that the database file never holds counts older than its spans. A
// bucket counted while spans within its reach were written is not kept.
type graphCache struct {
	db *sql.DB

	mu      sync.Mutex    // guards the fields below it
	stale   []bucketRange // buckets to delete at the next flush
	filling bool          // counts are being made to keep
	during  []bucketRange // buckets changed since those counts began

	tables sync.Mutex // serialises the statements on the graph_* tables
	fill   sync.Mutex // one graph at a time fills the cache
}

// bucketRange is the buckets first to last, both included.
type bucketRange struct{ first, last int64 }

func newGraphCache(ctx context.Context, db *sql.DB) (*graphCache, error) {
	for _, stmt := range sqlFile("graph_cache") {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return nil, fmt.Errorf("create service graph tables: %w", err)
		}
	}
	return &graphCache{db: db}, nil
}

// written notes that spans were stored.
func (c *graphCache) written(spans []telemetry.Span) {
	if len(spans) == 0 {
		return
	}
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for i := range spans {
		lo, hi = min(lo, spans[i].StartUnixNano), max(hi, spans[i].StartUnixNano)
	}
	c.changed(lo, hi)
}

// changed notes that spans that started in [from, to] were stored or deleted.
func (c *graphCache) changed(from, to int64) {
	r := bucketRange{floorDiv(saturatingAdd(from, -graphReach), graphBucket), floorDiv(saturatingAdd(to, graphReach), graphBucket)}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stale = addRange(c.stale, r)
	if c.filling {
		c.during = addRange(c.during, r)
	}
}

// flush deletes the counts of the buckets changed since the last flush.
func (c *graphCache) flush(ctx context.Context) error {
	c.tables.Lock()
	defer c.tables.Unlock()
	return c.flushLocked(ctx)
}

func (c *graphCache) flushLocked(ctx context.Context) error {
	c.mu.Lock()
	stale := c.stale
	c.stale = nil
	c.mu.Unlock()
	if len(stale) == 0 {
		return nil
	}
	err := c.inTransaction(ctx, func(conn *sql.Conn) error {
		for _, r := range stale {
			for _, stmt := range sqlFile("graph_stale") {
				if _, err := conn.ExecContext(ctx, stmt, r.first, r.last); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		c.mu.Lock()
		for _, r := range stale {
			c.stale = addRange(c.stale, r)
		}
		c.mu.Unlock()
		return fmt.Errorf("forget stale service graph counts: %w", err)
	}
	return nil
}

func (c *graphCache) inTransaction(ctx context.Context, fn func(conn *sql.Conn) error) error {
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return inTransaction(ctx, conn, fn)
}

// read adds the counts kept for buckets [first, last) to t, after a flush, and returns
// which of those buckets they cover.
func (c *graphCache) read(ctx context.Context, keys, first, last int64, t *callTally) (map[int64]bool, error) {
	c.tables.Lock()
	defer c.tables.Unlock()
	if err := c.flushLocked(ctx); err != nil {
		return nil, err
	}
	kept := map[int64]bool{}
	rows, err := c.db.QueryContext(ctx, "SELECT bucket FROM graph_buckets WHERE keys = $1 AND bucket >= $2 AND bucket < $3", keys, first, last)
	if err != nil {
		return nil, fmt.Errorf("service graph buckets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b int64
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		kept[b] = true
	}
	if err := rows.Err(); err != nil || len(kept) == 0 {
		return kept, err
	}
	stmts := sqlFile("graph_cached")
	if err := t.scanCalls(c.db.QueryContext(ctx, stmts[0], keys, first, last)); err != nil {
		return nil, fmt.Errorf("service graph counts: %w", err)
	}
	if err := t.scanOrigins(c.db.QueryContext(ctx, stmts[1], keys, first, last)); err != nil {
		return nil, fmt.Errorf("service graph origins: %w", err)
	}
	return kept, nil
}

// begin is called before counting buckets to keep.
func (c *graphCache) begin() {
	c.mu.Lock()
	c.filling, c.during = true, nil
	c.mu.Unlock()
}

// keep stores the counts of buckets [first, last) made since begin, but for the buckets
// changed meanwhile.
func (c *graphCache) keep(ctx context.Context, keys, first, last int64, counts *bucketCounts) error {
	c.tables.Lock()
	defer c.tables.Unlock()
	c.mu.Lock()
	during := c.during
	c.filling, c.during = false, nil
	c.mu.Unlock()
	changed := func(b int64) bool {
		return slices.ContainsFunc(during, func(r bucketRange) bool { return r.first <= b && b <= r.last })
	}
	var buckets []int64
	for b := first; b < last; b++ {
		if !changed(b) {
			buckets = append(buckets, b)
		}
	}
	if len(buckets) == 0 {
		return nil
	}
	calls := slices.DeleteFunc(slices.Clone(counts.calls), func(r bucketCall) bool { return changed(r.bucket) })
	origins := slices.DeleteFunc(slices.Clone(counts.origins), func(r bucketOrigin) bool { return changed(r.bucket) })
	err := c.inTransaction(ctx, func(conn *sql.Conn) error {
		return conn.Raw(func(dc any) error {
			conn := dc.(driver.Conn)
			err := appendRows(conn, "", "graph_buckets", nil, len(buckets), func(app *duckdbdriver.Appender, i int) error {
				return app.AppendRow(keys, buckets[i])
			})
			if err == nil {
				err = appendRows(conn, "", "graph_calls", nil, len(calls), func(app *duckdbdriver.Appender, i int) error {
					r := &calls[i]
					return app.AppendRow(keys, r.bucket, r.Caller.Name, r.Callee.Name, r.Callee.Type, r.Callee.Inferred, r.ResponseMillis,
						r.OK, r.Errors, r.Throttles, r.Faults, r.Total, r.ResponseNanos, r.Start, r.End)
				})
			}
			if err == nil {
				err = appendRows(conn, "", "graph_origins", nil, len(origins), func(app *duckdbdriver.Appender, i int) error {
					r := &origins[i]
					return app.AppendRow(keys, r.bucket, r.service, r.origin, r.segments)
				})
			}
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("keep service graph counts: %w", err)
	}
	return nil
}

// addRange adds r to a list of ranges, merging it with those it overlaps or touches.
func addRange(list []bucketRange, r bucketRange) []bucketRange {
	out := list[:0]
	for _, o := range list {
		if o.last+1 < r.first || r.last+1 < o.first {
			out = append(out, o)
			continue
		}
		r = bucketRange{min(r.first, o.first), max(r.last, o.last)}
	}
	return append(out, r)
}

// floorDiv is a / b rounded down (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// saturatingAdd is a + b, held within int64.
func saturatingAdd(a, b int64) int64 {
	switch {
	case b > 0 && a > math.MaxInt64-b:
		return math.MaxInt64
	case b < 0 && a < math.MinInt64-b:
		return math.MinInt64
	}
	return a + b
}
