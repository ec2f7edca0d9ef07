package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"lookout/internal/server"
)

// BenchmarkDependencies asks lookout for Jaeger's /api/dependencies over the hour of 10M
// X-Ray-shaped spans that BenchmarkXRayQueries (internal/ingest/xray) keeps in
// LOOKOUT_XRAY_BENCH_DATA; run that one first to fill it. Each request moves the hour by a
// second, so that no answer is the one before. It reports the process's CPU a request
// (lookout's and the client's) and the p50 latency.
func BenchmarkDependencies(b *testing.B) {
	dir := os.Getenv("LOOKOUT_XRAY_BENCH_DATA")
	if dir == "" {
		b.Skip("set LOOKOUT_XRAY_BENCH_DATA to a store filled by BenchmarkXRayQueries")
	}
	srv := start(b, func(c *server.Config) { c.DataDir = dir })
	end := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC) // the end of the fill's hour
	var took []time.Duration
	i := 0
	cpu := cpuTime(syscall.RUSAGE_SELF)
	for b.Loop() {
		began := time.Now()
		resp, err := apiClient.Get(fmt.Sprintf("http://%s/api/dependencies?endTs=%d&lookback=3600000", srv.Addrs().UI, end.Add(-time.Duration(i)*time.Second).UnixMilli()))
		if err != nil {
			b.Fatal(err)
		}
		var deps struct {
			Data []struct{ Parent, Child string }
		}
		err = json.NewDecoder(resp.Body).Decode(&deps)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || len(deps.Data) == 0 {
			b.Fatalf("status %d, %d links, %v", resp.StatusCode, len(deps.Data), err)
		}
		took = append(took, time.Since(began))
		if i == 0 {
			b.Logf("links %v", deps.Data)
		}
		i++
	}
	b.ReportMetric((cpuTime(syscall.RUSAGE_SELF)-cpu).Seconds()/float64(i), "cpu-s/op")
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Milliseconds()), "p50-ms")
}
