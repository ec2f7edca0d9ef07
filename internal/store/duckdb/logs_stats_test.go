package duckdb

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// statsRecords are random plain text lines of two groups, written as a client would, in
// batches of lines of several streams whose times overlap those of the batches around them.
// The first batches are before 1970, which the ingest path lets through.
func statsRecords(rng *rand.Rand) []telemetry.LogRecord {
	res := &telemetry.Resource{Attributes: telemetry.Attributes{{Key: telemetry.ServiceNameKey, Value: telemetry.StringValue("stats")}}}
	streams := []string{"a", "b/x", "B", "é/1", "b"}
	words := []string{"GET /home 200", "GET /api 500", "POST /api 201", "error: timeout", "", "é ok", "GET /home 200 slow"}
	base := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC).UnixNano()
	var out []telemetry.LogRecord
	for batch := range 60 {
		from := base + int64(batch-4)*20e9 // batches 20 s apart over 40 s each
		if batch < 4 {
			from = int64(batch-2) * 20e9
		}
		for range 1 + rng.IntN(80) {
			t := from + rng.Int64N(40e9)
			switch rng.IntN(4) {
			case 0:
				t -= t % 1e6 // on a millisecond
			case 1:
				t -= t % 1e9 // on a second, which other records share
			}
			out = append(out, telemetry.LogRecord{ID: uint64(len(out)) + 1, TimeUnixNano: t, ObservedTimeUnixNano: t + rng.Int64N(3e9) - 1e9,
				Group: []string{"g1", "g2"}[rng.IntN(2)], Stream: streams[rng.IntN(len(streams))],
				Body: telemetry.StringValue(words[rng.IntN(len(words))]), Resource: res, Ingest: telemetry.IngestInfo{Protocol: "cloudwatch"}})
		}
	}
	return out
}

// openStatsStore is a store holding records, those that asRow picks with a severity, which
// keeps them rows of logs, and the others (plain lines) in blocks, written in their batches.
func openStatsStore(t *testing.T, records []telemetry.LogRecord, asRow func(i int) bool) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, Config{MemoryLimit: "256MB", Threads: 1, Writers: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	records = slices.Clone(records)
	for i := range records {
		if asRow(i) {
			records[i].Severity = 9
		}
	}
	for lo := 0; lo < len(records); {
		hi := min(lo+1+int(records[lo].ID*7919%600), len(records)) // writes of 1 to 600 records
		if err := s.WriteLogs(ctx, records[lo:hi]); err != nil {
			t.Fatal(err)
		}
		lo = hi
	}
	return s
}

// storedAs is how many records s holds a row each and how many lines in blocks.
func storedAs(t *testing.T, s *Store) (rows, lines int64) {
	t.Helper()
	err := s.db.QueryRow("SELECT (SELECT count(*) FROM logs), (SELECT coalesce(sum(lines), 0)::BIGINT FROM log_blocks)").Scan(&rows, &lines)
	if err != nil {
		t.Fatal(err)
	}
	return rows, lines
}

// TestLogStatsOverBlocks answers LogStats queries of every shape over the same records kept
// as block lines, as rows, and some as either, and expects the same answers of each: block
// lines count as rows of logs would.
func TestLogStatsOverBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	records := statsRecords(rng)
	rows := openStatsStore(t, records, func(int) bool { return true })
	blocks := openStatsStore(t, records, func(int) bool { return false })
	mixed := openStatsStore(t, records, func(i int) bool { return i%3 == 0 || records[i].Stream == "b" })
	n := int64(len(records))
	for name, s := range map[string]*Store{"rows": rows, "blocks": blocks, "mixed": mixed} {
		r, l := storedAs(t, s)
		// A write of fewer than minBlockLines of a stream keeps them rows even in the blocks store.
		if r+l != n || name == "rows" && l != 0 || name == "blocks" && r > n/4 || name == "mixed" && (r == 0 || l == 0) {
			t.Fatalf("%s store holds %d rows and %d block lines of %d records", name, r, l, n)
		}
	}
	queries := statsQueries(rng, records)
	answered := 0
	for i, q := range queries {
		want, wantErr := rows.LogStats(context.Background(), q)
		for name, s := range map[string]*Store{"blocks": blocks, "mixed": mixed} {
			got, err := s.LogStats(context.Background(), q)
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("query %d %+v over %s: error %v, want %v", i, q, name, err, wantErr)
			}
			if err == nil && !sameStats(q, got, want) {
				t.Errorf("query %d %s over %s:\n got %+v\nwant %+v", i, describeStats(q), name, got, want)
			}
		}
		if wantErr == nil && want.Matched > 0 {
			answered++
		}
	}
	// The queries are not all trivially empty.
	if answered < len(queries)/2 {
		t.Errorf("%d of %d queries matched records", answered, len(queries))
	}
}

// sameStats says whether two answers to q agree, in the order q asks for.
func sameStats(q store.LogStatsQuery, a, b *store.LogStatsResult) bool {
	if !q.Ordered {
		a, b = sortedStats(a), sortedStats(b)
	}
	return reflect.DeepEqual(a, b)
}

func sortedStats(r *store.LogStatsResult) *store.LogStatsResult {
	c := *r
	c.Buckets = slices.Clone(r.Buckets)
	slices.SortFunc(c.Buckets, func(a, b store.LogBucket) int {
		ka, kb := fmt.Sprint(a.Key), fmt.Sprint(b.Key)
		if ka < kb {
			return -1
		}
		if ka > kb {
			return 1
		}
		return 0
	})
	return &c
}

func describeStats(q store.LogStatsQuery) string {
	w := "nil"
	if q.Where != nil {
		w = fmt.Sprintf("%+v", *q.Where)
	}
	return fmt.Sprintf("groups %v [%d, %d) where %s by %+v aggs %+v ordered %v", q.Groups, q.Start.UnixNano(), q.End.UnixNano(), w, q.By, q.Aggregates, q.Ordered)
}

// statsQueries is a table of LogStatsQuery shapes: each op on each field, and, or and not,
// every aggregate and grouping, bins with and without a start, ordered or not, over groups
// and ranges that cut blocks, before and after 1970.
func statsQueries(rng *rand.Rand, records []telemetry.LogRecord) []store.LogStatsQuery {
	fields := []store.LogField{store.LogTime, store.LogIngestTime, store.LogStreamName, store.LogMessage}
	someRecord := func() *telemetry.LogRecord { return &records[rng.IntN(len(records))] }
	var conds []store.LogCond
	for _, f := range fields {
		text := f == store.LogStreamName || f == store.LogMessage
		for _, op := range []string{"=", "!=", "<", "<=", ">", ">="} {
			r := someRecord()
			v := any(float64(r.TimeUnixNano / 1e6))
			switch f {
			case store.LogIngestTime:
				v = float64(r.ObservedTimeUnixNano/1e6) + 0.5
			case store.LogStreamName:
				v = r.Stream
			case store.LogMessage:
				v = r.Body.AsString()
			}
			conds = append(conds, store.LogCond{Op: op, Field: f, Values: []any{v}})
		}
		if text {
			r, o := someRecord(), someRecord()
			conds = append(conds,
				store.LogCond{Op: "in", Field: f, Values: []any{r.Stream, o.Body.AsString(), "x"}},
				store.LogCond{Op: "in", Field: f, Values: []any{}},
				store.LogCond{Op: "contains", Field: f, Values: []any{"b"}},
				store.LogCond{Op: "contains", Field: f, Values: []any{""}},
				store.LogCond{Op: "contains", Field: f, Values: []any{"é"}})
		}
	}
	// Times before 1970 and numbers that are not times.
	conds = append(conds,
		store.LogCond{Op: ">", Field: store.LogTime, Values: []any{-1.5}},
		store.LogCond{Op: "<=", Field: store.LogTime, Values: []any{0.0}},
		store.LogCond{Op: "<", Field: store.LogTime, Values: []any{math.NaN()}},
		store.LogCond{Op: "!=", Field: store.LogIngestTime, Values: []any{math.NaN()}},
		store.LogCond{Op: ">=", Field: store.LogTime, Values: []any{math.NaN()}},
		store.LogCond{Op: "<", Field: store.LogIngestTime, Values: []any{math.Inf(1)}})
	for range 40 {
		op := []string{"and", "or", "not"}[rng.IntN(3)]
		c := store.LogCond{Op: op}
		for range 1 + rng.IntN(3) {
			c.Conds = append(c.Conds, conds[rng.IntN(len(conds))])
			if op == "not" {
				break
			}
		}
		conds = append(conds, c)
	}
	groupings := []store.LogGrouping{{Field: store.LogTime, BinMillis: 60_000}, {Field: store.LogTime, BinMillis: 7_000},
		{Field: store.LogTime, BinMillis: 1}, {Field: store.LogTime}, {Field: store.LogStreamName}, {Field: store.LogIngestTime},
		{Field: store.LogIngestTime, BinMillis: 3_000}}
	aggregates := []store.LogAggregate{{Fn: "count"}}
	for _, f := range fields[:3] {
		aggregates = append(aggregates, store.LogAggregate{Fn: "count_distinct", Field: f})
		if f != store.LogStreamName {
			aggregates = append(aggregates, store.LogAggregate{Fn: "min", Field: f}, store.LogAggregate{Fn: "max", Field: f})
		}
	}
	ranges := func() (time.Time, time.Time) {
		at := func() time.Time {
			switch rng.IntN(4) {
			case 0:
				return time.Unix(0, someRecord().TimeUnixNano) // a bound a record is on
			case 1:
				return time.Unix(0, someRecord().TimeUnixNano+1) // and the next instant
			}
			return time.Unix(0, someRecord().TimeUnixNano+rng.Int64N(2e9)-1e9)
		}
		switch rng.IntN(6) {
		case 0:
			return time.Time{}, time.Time{}
		case 1:
			return at(), time.Time{}
		case 2:
			return time.Time{}, at()
		case 3:
			return time.Unix(0, 0), at() // from 1970 exactly
		case 4:
			return time.Unix(0, -30e9), at() // before 1970
		}
		a, b := at(), at()
		if b.Before(a) {
			a, b = b, a
		}
		return a, b
	}
	groupsOf := [][]string{nil, {"g1"}, {"g2", "nope"}, {"g1", "g2"}}
	var out []store.LogStatsQuery
	// Each condition once, counted by stream and bins; then shapes at random.
	for i := range conds {
		start, end := ranges()
		out = append(out, store.LogStatsQuery{Groups: groupsOf[i%len(groupsOf)], Start: start, End: end, Where: &conds[i],
			By: []store.LogGrouping{groupings[i%2], groupings[4]}, Aggregates: aggregates[:1], Ordered: i%2 == 0})
	}
	for i := range 400 {
		q := store.LogStatsQuery{Groups: groupsOf[rng.IntN(len(groupsOf))], Ordered: rng.IntN(2) == 0}
		q.Start, q.End = ranges()
		if rng.IntN(3) > 0 {
			q.Where = &conds[rng.IntN(len(conds))]
		}
		if i%4 == 0 { // the shapes whole blocks answer: counts by times and streams
			q.Where = nil
			if rng.IntN(2) == 0 {
				q.Where = &store.LogCond{Op: "not", Conds: []store.LogCond{{Op: "=", Field: store.LogStreamName, Values: []any{someRecord().Stream}}}}
			}
		}
		for range rng.IntN(3) {
			q.By = append(q.By, groupings[rng.IntN(len(groupings))])
		}
		for range rng.IntN(4) {
			q.Aggregates = append(q.Aggregates, aggregates[rng.IntN(len(aggregates))])
		}
		if i%4 == 0 {
			q.Aggregates = aggregates[:rng.IntN(2)]
			q.By = slices.DeleteFunc(q.By, func(g store.LogGrouping) bool { return g.Field == store.LogIngestTime })
		}
		out = append(out, q)
	}
	return out
}

// TestLogStatsOrderedByNewestLine orders buckets of streams whose newest lines share an
// instant: their ids decide, which a block's newest line need not have the highest of.
func TestLogStatsOrderedByNewestLine(t *testing.T) {
	res := &telemetry.Resource{Attributes: telemetry.Attributes{{Key: telemetry.ServiceNameKey, Value: telemetry.StringValue("stats")}}}
	at := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC).UnixNano()
	line := func(id uint64, stream string, t int64) telemetry.LogRecord {
		return telemetry.LogRecord{ID: id, TimeUnixNano: t, ObservedTimeUnixNano: t, Group: "g", Stream: stream,
			Body: telemetry.StringValue("x"), Resource: res, Ingest: telemetry.IngestInfo{Protocol: "cloudwatch"}}
	}
	// Stream a's newest line is id 1, b's id 2, at the same instant; a's block ends with id 3.
	records := []telemetry.LogRecord{line(1, "a", at), line(2, "b", at), line(3, "a", at-1e9)}
	q := store.LogStatsQuery{Groups: []string{"g"}, By: []store.LogGrouping{{Field: store.LogStreamName}}, Aggregates: []store.LogAggregate{{Fn: "count"}}, Ordered: true}
	for name, asRow := range map[string]func(int) bool{"rows": func(int) bool { return true }, "blocks": func(int) bool { return false }} {
		res, err := openStatsStore(t, records, asRow).LogStats(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.LogBucket{{Key: []any{"b"}, Values: []any{int64(1)}}, {Key: []any{"a"}, Values: []any{int64(2)}}}
		if !reflect.DeepEqual(res.Buckets, want) {
			t.Errorf("%s: buckets %v, want %v", name, res.Buckets, want)
		}
	}
}
