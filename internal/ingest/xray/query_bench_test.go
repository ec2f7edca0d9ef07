package xray

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"lookout/internal/store/duckdb"
)

// BenchmarkXRayQueries measures GetTraceSummaries with a service-scoped clause and an
// annotation, its first page for a filter most traces match, and GetServiceGraph, over an
// hour of 10M X-Ray-shaped spans. The store is kept in the directory LOOKOUT_XRAY_BENCH_DATA
// names and filled on the first run (minutes):
//
//	LOOKOUT_XRAY_BENCH_DATA=/tmp/xray-bench go test ./internal/ingest/xray -run '^$' -bench XRayQueries -benchtime 20x
//
// Each request moves the range by a second, so that no answer is the one before. The p50
// latency of each call is reported beside the mean.
func BenchmarkXRayQueries(b *testing.B) {
	dir := os.Getenv("LOOKOUT_XRAY_BENCH_DATA")
	if dir == "" {
		b.Skip("set LOOKOUT_XRAY_BENCH_DATA to a directory to keep the filled store in")
	}
	ctx := context.Background()
	s, err := duckdb.Open(ctx, duckdb.DefaultConfig(dir))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	services, err := s.Services(ctx)
	if err != nil {
		b.Fatal(err)
	}
	// The fill's hour ends at a fixed time, so that a kept store is read the same way.
	end := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	if len(services) == 0 {
		b.Log("filling the store with 10M spans")
		if err := fillTraces(ctx, s, 10_000_000, 1000, end.Add(-time.Hour), time.Hour); err != nil {
			b.Fatal(err)
		}
		if err := s.Checkpoint(ctx); err != nil {
			b.Fatal(err)
		}
	}
	a := NewAPI(APIConfig{Traces: s})
	call := func(b *testing.B, op operation, body map[string]any) map[string]any {
		text, _ := json.Marshal(body)
		out, aerr := op(ctx, text)
		if aerr != nil {
			b.Fatal(aerr)
		}
		return out.(map[string]any)
	}
	run := func(name string, op operation, body func(i int) map[string]any, check func(b *testing.B, out map[string]any)) {
		b.Run(name, func(b *testing.B) {
			var took []time.Duration
			i := 0
			for b.Loop() {
				began := time.Now()
				out := call(b, op, body(i))
				took = append(took, time.Since(began))
				if i == 0 {
					check(b, out)
				}
				i++
			}
			b.ReportMetric(float64(took[0].Milliseconds()), "first-ms") // counts what the store keeps counted
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Milliseconds()), "p50-ms")
		})
	}
	hour := func(i int) (float64, float64) {
		e := end.Add(-time.Duration(i) * time.Second)
		return float64(e.Add(-time.Hour).Unix()), float64(e.Unix())
	}
	run("GetTraceSummaries", a.getTraceSummaries, func(i int) map[string]any {
		from, to := hour(i)
		return map[string]any{"StartTime": from, "EndTime": to,
			"FilterExpression": `service("backend-flask") { fault } AND annotation.user = "andrew"`}
	}, func(b *testing.B, out map[string]any) {
		n := len(out["TraceSummaries"].([]any))
		if n == 0 {
			b.Fatal("no trace matches")
		}
		b.Logf("%d summaries, %v traces processed", n, out["TracesProcessedCount"])
	})
	// A filter most traces match: the first page of a hundred, and the token of the next.
	run("GetTraceSummariesFirstPage", a.getTraceSummaries, func(i int) map[string]any {
		from, to := hour(i)
		return map[string]any{"StartTime": from, "EndTime": to, "FilterExpression": `service("backend-flask")`}
	}, func(b *testing.B, out map[string]any) {
		if n := len(out["TraceSummaries"].([]any)); n != summariesPage || out["NextToken"] == nil {
			b.Fatalf("%d summaries, next token %v", n, out["NextToken"])
		}
	})
	run("GetServiceGraph", a.getServiceGraph, func(i int) map[string]any {
		from, to := hour(i)
		return map[string]any{"StartTime": from, "EndTime": to}
	}, func(b *testing.B, out map[string]any) {
		var calls []string
		for _, svc := range out["Services"].([]any) {
			svc := svc.(map[string]any)
			for _, e := range svc["Edges"].([]any) {
				st := e.(map[string]any)["SummaryStatistics"].(map[string]any)
				calls = append(calls, fmt.Sprintf("%s→%v: %v", svc["Name"], e.(map[string]any)["ReferenceId"], st["TotalCount"]))
			}
		}
		b.Logf("%d services; calls %v", len(out["Services"].([]any)), calls)
	})
}
