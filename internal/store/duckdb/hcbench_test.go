package duckdb

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"lookout/internal/query"
)

// BenchmarkHoneycombQueries runs the Honeycomb query targets on a copy of a filled data
// directory (scripts/bench keeps one with BENCH_KEEP=1; lookout must not be running on it):
//
//	LOOKOUT_BENCH_DATA=/path/to/data go test ./internal/store/duckdb -run '^$' -bench HoneycombQueries
//
// The queries cover the whole time range the store holds, whatever the clock says now.
// LOOKOUT_EXPLAIN=1 prints each query's plan with its timings first.
func BenchmarkHoneycombQueries(b *testing.B) {
	dir := os.Getenv("LOOKOUT_BENCH_DATA")
	if dir == "" {
		b.Skip("set LOOKOUT_BENCH_DATA to a filled data directory")
	}
	ctx := context.Background()
	s, err := Open(ctx, DefaultConfig(dir))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var lo, hi int64
	if err := s.db.QueryRowContext(ctx, "SELECT min(start_ns), max(start_ns) FROM spans").Scan(&lo, &hi); err != nil {
		b.Fatal(err)
	}
	resolve := func(sp query.Spec) *query.Query {
		sp.StartTime, sp.EndTime = time.Unix(0, lo).Unix(), time.Unix(0, hi).Unix()+1
		q, err := sp.Resolve(time.Now())
		if err != nil {
			b.Fatal(err)
		}
		return q
	}
	// The most frequent route, so the COUNT is not trivially empty.
	top := s.mustRun(b, resolve(query.Spec{Breakdowns: []string{"http.route"}, Filters: []query.Filter{{Column: "http.route", Op: "exists"}}, Limit: 1}))
	route := top.Results[0].Data["http.route"]
	queries := map[string]*query.Query{
		"P99ByServiceRoute": resolve(query.Spec{Calculations: []query.Calculation{{Op: "P99", Column: "duration_ms"}}, Breakdowns: []string{"service.name", "http.route"}, Granularity: 60}),
		"CountWhereAttr":    resolve(query.Spec{Filters: []query.Filter{{Column: "http.route", Op: "=", Value: route}}}),
		"Heatmap":           resolve(query.Spec{Calculations: []query.Calculation{{Op: "HEATMAP", Column: "duration_ms"}}}),
	}
	for name, q := range queries {
		b.Run(name, func(b *testing.B) {
			if os.Getenv("LOOKOUT_EXPLAIN") != "" {
				s.explain(b, q)
			}
			for b.Loop() {
				s.mustRun(b, q)
			}
		})
	}
	b.Run("BubbleUpErrors", func(b *testing.B) {
		q := resolve(query.Spec{})
		sel := query.Selection{Filters: []query.Filter{{Column: "error", Op: "=", Value: true}}}
		for b.Loop() {
			if _, err := s.BubbleUp(ctx, q, nil, sel); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func (s *Store) mustRun(b *testing.B, q *query.Query) *query.Result {
	res, err := s.RunQuery(context.Background(), q, nil)
	if err != nil {
		b.Fatal(err)
	}
	return res
}

// explain runs q once, writing each of its statements' plan, with timings, to a file.
func (s *Store) explain(b *testing.B, q *query.Query) {
	var plans []string
	statementHook = func(text string, args []any) {
		rows, err := s.db.Query("EXPLAIN ANALYZE "+text, args...)
		if err != nil {
			b.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var k, v string
			rows.Scan(&k, &v)
			plans = append(plans, v)
		}
	}
	defer func() { statementHook = nil }()
	s.mustRun(b, q)
	file := os.TempDir() + "/lookout-explain-" + strings.ReplaceAll(b.Name(), "/", "-") + ".txt"
	if err := os.WriteFile(file, []byte(strings.Join(plans, "\n")), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Log("plans in ", file)
}
