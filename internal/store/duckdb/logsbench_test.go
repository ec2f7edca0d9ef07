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
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM logs WHERE log_group = 'bench'").Scan(&stored); err != nil {
		b.Fatal(err)
	}
	if stored == 0 {
		fillBenchLogs(b, s, lines)
	}
	return s
}

// fillBenchLogs appends lines records straight through SQL, in chunks, then counts what the
// streams hold as the write path would have. The lines vary as BenchmarkPutLogEvents' do;
// one in 12 is a 500 on /api/activities/notifications, and one in 200,000 says UNAVAILABLE.
func fillBenchLogs(b *testing.B, s *Store, lines int) {
	ctx := context.Background()
	if err := s.CreateLogGroup(ctx, "bench", nil); err != nil {
		b.Fatal(err)
	}
	// One record through the write path, for the resource the rest share.
	first := telemetry.LogRecord{ID: 1 << 62, TimeUnixNano: benchLogStart.UnixNano(), ObservedTimeUnixNano: benchLogStart.UnixNano(),
		Group: "bench", Stream: "host-0", Body: telemetry.StringValue("lookout bench starts"), Ingest: telemetry.IngestInfo{Protocol: "cwlogs"},
		Resource: &telemetry.Resource{Attributes: []telemetry.KeyValue{{Key: "cloud.provider", Value: telemetry.StringValue("aws")}}}}
	if err := s.WriteLogs(ctx, []telemetry.LogRecord{first}); err != nil {
		b.Fatal(err)
	}
	var resID int64
	if err := s.db.QueryRowContext(ctx, "SELECT resource_id FROM logs WHERE id = $1", first.ID).Scan(&resID); err != nil {
		b.Fatal(err)
	}
	step := benchLogSpan.Nanoseconds() / int64(lines)
	const chunk = 2_500_000
	began := time.Now()
	for lo := 0; lo < lines; lo += chunk {
		hi := min(lo+chunk, lines)
		_, err := s.db.ExecContext(ctx, `INSERT INTO logs SELECT n + 1, $1 + n * $2, $1 + n * $2 + 2000000000, 'bench', 'host-' || (n % `+fmt.Sprint(benchLogStreams)+`),
    9, NULL, NULL, `+fmt.Sprint(int(telemetry.KindString))+`,
    printf('[2026-Nov-30 %02d:%02d] 172.18.%d.%d GET http %s?page=%d&user=u%05d %s bytes=%d ms=%d ua="python-requests/2.31.0" req=%08x',
        (n // 12500000) % 24, n % 60, n % 7, n % 250,
        ['/api/activities/home', '/api/activities/notifications', '/api/messages/groups', '/api/profile/update'][n % 4 + 1],
        n % 13, n % 40000,
        CASE WHEN (n * 7919) % 200000 = 3 THEN '503 SERVICE UNAVAILABLE'
             ELSE ['200 OK', '200 OK', '200 OK', '304 NOT MODIFIED', '404 NOT FOUND', '500 INTERNAL SERVER ERROR'][n % 6 + 1] END,
        200 + n % 9000, n % 700, (n * 2654435761) % 4294967296),
    0, 0, 0, 0, $3, NULL, NULL, 'cwlogs', NULL, NULL, []::VARCHAR[], []::UTINYINT[], []::VARCHAR[], NULL
FROM range($4::BIGINT, $5::BIGINT) t(n)`, benchLogStart.UnixNano(), step, resID, lo, hi)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("filled %d lines in %v", hi, time.Since(began).Round(time.Second))
	}
	for i := range benchLogStreams {
		s.CreateLogStream(ctx, "bench", fmt.Sprintf("host-%d", i)) // host-0 exists already
	}
	if _, err := s.db.ExecContext(ctx, sqlFile("logs_stream_stats")[1], "bench"); err != nil {
		b.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLogStats times Logs Insights' stats count(*) by bin(1m) over an hour of the bench
// lines, another hour each time, in the store (fills LOOKOUT_BENCH_LOGS first when empty):
//
//	LOOKOUT_BENCH_LOGS=/path/to/dir go test ./internal/store/duckdb -run '^$' -bench LogStats -benchtime 20x
//
// BenchmarkLogReads50M in internal/ingest/cwlogs reads the same lines through the API.
func BenchmarkLogStats(b *testing.B) {
	s := benchLogStore(b)
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		from := benchLogStart.Add(time.Duration(i%180) * time.Minute)
		res, err := s.LogStats(ctx, store.LogStatsQuery{Groups: []string{"bench"}, Start: from, End: from.Add(time.Hour),
			By: []store.LogGrouping{{Field: store.LogTime, BinMillis: 60_000}}, Aggregates: []store.LogAggregate{{Fn: "count"}}})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Buckets) != 60 {
			b.Fatalf("%d buckets, want one a minute", len(res.Buckets))
		}
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
