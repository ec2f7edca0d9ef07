package duckdb

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// Bench log data: benchLogLines access-log lines of about 200 bytes over benchLogSpan, in
// time order across benchLogStreams streams of the group "bench", as PutLogEvents files them.
const (
	benchLogLines   = 50_000_000
	benchLogSpan    = 4 * time.Hour
	benchLogStreams = 8
)

// benchLogStart is when the bench lines begin.
var benchLogStart = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

// benchLogStore opens the store in LOOKOUT_BENCH_LOGS (a directory kept between runs), filling
// it first when it holds no bench lines; that takes a while. LOOKOUT_BENCH_LOG_LINES lowers the
// number of lines (a smaller fill, in another directory).
func benchLogStore(b *testing.B) *Store {
	dir := os.Getenv("LOOKOUT_BENCH_LOGS")
	if dir == "" {
		b.Skip("set LOOKOUT_BENCH_LOGS to a directory to keep the bench log store in")
	}
	lines := benchLogLines
	if n, err := strconv.Atoi(os.Getenv("LOOKOUT_BENCH_LOG_LINES")); err == nil {
		lines = n
	}
	ctx := context.Background()
	s, err := Open(ctx, DefaultConfig(dir))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	var stored int64
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM log_blocks WHERE log_group = 'bench'").Scan(&stored); err != nil {
		b.Fatal(err)
	}
	if stored == 0 {
		fillBenchLogs(b, s, lines)
	}
	return s
}

// fillBenchLogs writes lines records as the ingest pipeline's loader hands over PutLogEvents
// requests that fall behind: a write of 1,000 lines of each stream, which the store keeps in
// blocks. The lines vary as BenchmarkPutLogEvents' do; one in 12 is a 500 on
// /api/activities/notifications, and one in 200,000 says UNAVAILABLE.
func fillBenchLogs(b *testing.B, s *Store, lines int) {
	ctx := context.Background()
	res := &telemetry.Resource{Attributes: []telemetry.KeyValue{{Key: "cloud.provider", Value: telemetry.StringValue("aws")}}}
	paths := []string{"/api/activities/home", "/api/activities/notifications", "/api/messages/groups", "/api/profile/update"}
	statuses := []string{"200 OK", "200 OK", "200 OK", "304 NOT MODIFIED", "404 NOT FOUND", "500 INTERNAL SERVER ERROR"}
	streams := make([]string, benchLogStreams)
	for i := range streams {
		streams[i] = fmt.Sprintf("host-%d", i)
	}
	step := benchLogSpan.Nanoseconds() / int64(lines)
	const write = 1000 * benchLogStreams
	batch := make([]telemetry.LogRecord, 0, write)
	var line []byte
	began := time.Now()
	for n := range lines {
		status := statuses[n%6]
		if n*7919%200_000 == 3 {
			status = "503 SERVICE UNAVAILABLE"
		}
		line = fmt.Appendf(line[:0], "[2026-Nov-30 %02d:%02d] 172.18.%d.%d GET http %s?page=%d&user=u%05d %s bytes=%d ms=%d ua=\"python-requests/2.31.0\" req=%08x",
			n/12_500_000%24, n%60, n%7, n%250, paths[n%4], n%13, n%40000, status, 200+n%9000, n%700, uint32(n*2654435761))
		t := benchLogStart.UnixNano() + int64(n)*step
		batch = append(batch, telemetry.LogRecord{ID: uint64(n) + 1, TimeUnixNano: t, ObservedTimeUnixNano: t + 2e9, Group: "bench",
			Stream: streams[n%benchLogStreams], Body: telemetry.StringValue(string(line)), Resource: res,
			Ingest: telemetry.IngestInfo{Protocol: "cwlogs"}})
		if len(batch) == write || n == lines-1 {
			if err := s.WriteLogs(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
			if (n+1)%2_500_000 < write {
				b.Logf("filled %d lines in %v", n+1, time.Since(began).Round(time.Second))
			}
		}
	}
	if err := s.Checkpoint(ctx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLogStats times Logs Insights' stats count(*) by bin(1m) over an hour of the bench
// lines, another hour each time, in the store (fills LOOKOUT_BENCH_LOGS first when empty),
// and the same count of the lines that hold " 500 ", which reads every line. Reports the CPU
// a line of the hour cost (DuckDB's threads included):
//
//	LOOKOUT_BENCH_LOGS=/path/to/dir go test ./internal/store/duckdb -run '^$' -bench LogStats -benchtime 20x
//
// BenchmarkLogReads50M in internal/ingest/cwlogs reads the same lines through the API.
func BenchmarkLogStats(b *testing.B) {
	s := benchLogStore(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name  string
		where *store.LogCond
	}{
		{"count", nil},
		{"count 500s", &store.LogCond{Op: "contains", Field: store.LogMessage, Values: []any{" 500 "}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var lines int64
			cpu0 := cpuTime()
			for i := 0; b.Loop(); i++ {
				from := benchLogStart.Add(time.Duration(i%180) * time.Minute)
				res, err := s.LogStats(ctx, store.LogStatsQuery{Groups: []string{"bench"}, Start: from, End: from.Add(time.Hour), Where: bc.where,
					By: []store.LogGrouping{{Field: store.LogTime, BinMillis: 60_000}}, Aggregates: []store.LogAggregate{{Fn: "count"}}})
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Buckets) != 60 {
					b.Fatalf("%d buckets, want one a minute", len(res.Buckets))
				}
				lines += res.Scanned
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(lines), "cpu-ns/line")
		})
	}
}

// BenchmarkWriteLogs writes PutLogEvents-sized requests of plain lines, as the ingest
// pipeline's loader hands them over: one request a write when it keeps up, several of
// different streams when it falls behind. Each op is one write; the store checkpoints of its
// own accord, and once more at the end. Reports the CPU a line spent in WriteLogs (DuckDB's
// threads included, making the lines not), the lines a second of that CPU's wall time, and
// the database blocks in use a line.
func BenchmarkWriteLogs(b *testing.B) {
	for _, requests := range []int{1, 8} {
		b.Run(fmt.Sprintf("requests=%d", requests), func(b *testing.B) { benchmarkWriteLogs(b, requests) })
	}
}

func benchmarkWriteLogs(b *testing.B, requests int) {
	const perRequest = 1000
	ctx := context.Background()
	s, err := Open(ctx, DefaultConfig(b.TempDir()))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	res := &telemetry.Resource{Attributes: telemetry.Attributes{{Key: telemetry.ServiceNameKey, Value: telemetry.StringValue("bench")}}}
	logs := make([]telemetry.LogRecord, requests*perRequest)
	var cpu, wall time.Duration
	var id uint64 = 1
	start := time.Now().UnixNano()
	var line []byte
	for i := 0; b.Loop(); i++ {
		for j := range logs {
			n := i*len(logs) + j
			line = fmt.Appendf(line[:0], "[2026-Nov-30 02:%02d] 172.18.%d.%d GET http /api/activities/home?page=%d&user=u%05d 200 OK bytes=%d ms=%d ua=\"python-requests/2.31.0\" req=%08x",
				n%60, n%7, n%250, n%13, n%40000, 200+n%9000, n%700, uint32(n*2654435761))
			stream := (i*requests + j/perRequest) % benchLogStreams
			logs[j] = telemetry.LogRecord{ID: id, TimeUnixNano: start + int64(n)*1000, ObservedTimeUnixNano: start + int64(n)*1000 + 1e9,
				Group: "bench", Stream: fmt.Sprintf("host-%d//usr/local/bin/flask/app/%d", stream, stream),
				Body: telemetry.StringValue(string(line)), Resource: res, Ingest: telemetry.IngestInfo{Protocol: "cloudwatch-logs"}}
			id++
		}
		cpu0, wall0 := cpuTime(), time.Now()
		if err := s.WriteLogs(ctx, logs); err != nil {
			b.Fatal(err)
		}
		cpu, wall = cpu+cpuTime()-cpu0, wall+time.Since(wall0)
	}
	cpu0, wall0 := cpuTime(), time.Now()
	if err := s.Checkpoint(ctx); err != nil {
		b.Fatal(err)
	}
	cpu, wall = cpu+cpuTime()-cpu0, wall+time.Since(wall0)
	lines := float64(b.N * len(logs))
	b.ReportMetric(float64(cpu.Nanoseconds())/1000/lines, "cpu-µs/line")
	b.ReportMetric(lines/wall.Seconds(), "lines/s")
	var blockSize, usedBlocks int64
	if err := s.db.QueryRowContext(ctx, "SELECT block_size, used_blocks FROM pragma_database_size() WHERE database_name = current_database()").Scan(&blockSize, &usedBlocks); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(blockSize*usedBlocks)/lines, "disk-B/line")
}
