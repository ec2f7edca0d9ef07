package cwlogs_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"lookout/internal/server"
)

const benchBatch = 1000 // lines a PutLogEvents, as watchtower sends at most 10,000

// benchLine is a realistic access log line of about 200 bytes, varied by n.
func benchLine(n int) string {
	paths := []string{"/api/activities/home", "/api/activities/notifications", "/api/messages/groups", "/api/profile/update"}
	status := []string{"200 OK", "200 OK", "200 OK", "304 NOT MODIFIED", "404 NOT FOUND", "500 INTERNAL SERVER ERROR"}
	return fmt.Sprintf(`[2026-Nov-30 02:%02d] 172.18.%d.%d GET http %s?page=%d&user=u%05d %s bytes=%d ms=%d ua="python-requests/2.31.0" req=%08x`,
		n%60, n%7, n%250, paths[n%len(paths)], n%13, n%40000, status[n%len(status)], 200+n%9000, n%700, n*2654435761)
}

// putBody is a PutLogEvents request body of benchBatch lines.
func putBody(group, stream string, at time.Time, seed int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"logGroupName":%q,"logStreamName":%q,"logEvents":[`, group, stream)
	for i := range benchBatch {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"timestamp":%d,"message":%q}`, at.UnixMilli(), benchLine(seed+i))
	}
	b.WriteString("]}")
	return []byte(b.String())
}

func post(tb testing.TB, endpoint string, body []byte) {
	req, _ := http.NewRequest(http.MethodPost, endpoint+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Logs_20140328.PutLogEvents")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("PutLogEvents: %s", resp.Status)
	}
}

// BenchmarkPutLogEvents: 8 senders of batches of 1,000 lines of about 200 bytes, each
// acknowledged once durable. Reports lines/s and, after loading, the store's bytes a line.
func BenchmarkPutLogEvents(b *testing.B) {
	dir := b.TempDir()
	l := start(b, func(c *server.Config) { c.DataDir = dir; c.Store.DuckDB.MemoryLimit = "256MB" })
	c := client(l, "test", "test")
	ctx := context.Background()
	must2(b, second(c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("bench")})))
	const senders = 8
	bodies := make([][]byte, senders)
	for s := range bodies {
		name := fmt.Sprintf("host-%d//usr/local/bin/flask/app/%d", s, s)
		must2(b, second(c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("bench"), LogStreamName: aws.String(name)})))
		bodies[s] = putBody("bench", name, time.Now(), s*benchBatch)
	}
	var next atomic.Int32
	b.SetParallelism((senders + 1) / 2) // × GOMAXPROCS (2 here) senders
	b.SetBytes(int64(len(bodies[0])))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		body := bodies[int(next.Add(1)-1)%senders]
		for pb.Next() {
			post(b, l.endpoint(), body)
		}
	})
	b.StopTimer()
	lines := float64(b.N * benchBatch)
	b.ReportMetric(lines/b.Elapsed().Seconds(), "lines/s")
	ctxStop, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := l.Shutdown(ctxStop); err != nil {
		b.Fatal(err)
	}
	var size int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(p, "ingest-log") {
			if info, err := d.Info(); err == nil {
				size += info.Size()
			}
		}
		return nil
	})
	b.ReportMetric(float64(size)/lines, "store-bytes/line")
}

// BenchmarkFilterTerm: the first page (100 lines) of a term filter pattern that matches one
// line in 12 (500s on one path), over 200,000 stored lines.
func BenchmarkFilterTerm(b *testing.B) {
	l := start(b, func(c *server.Config) { c.Store.DuckDB.MemoryLimit = "256MB" })
	c := client(l, "test", "test")
	ctx := context.Background()
	must2(b, second(c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("bench")})))
	must2(b, second(c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("bench"), LogStreamName: aws.String("s")})))
	const stored = 200_000
	at := time.Now().Add(-time.Hour)
	for n := 0; n < stored; n += benchBatch {
		post(b, l.endpoint(), putBody("bench", "s", at.Add(time.Duration(n)*time.Millisecond), n))
	}
	waitForLine(b, c, at.Add((stored-benchBatch)*time.Millisecond))
	b.ResetTimer()
	for range b.N {
		out, err := c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("bench"),
			FilterPattern: aws.String(`"/api/activities/notifications" "500 INTERNAL"`), Limit: aws.Int32(100)})
		must2(b, err)
		if len(out.Events) != 100 {
			b.Fatalf("%d events on the first page", len(out.Events))
		}
	}
}

// waitForLine waits until the pipeline has loaded the line written at (the last one).
func waitForLine(b *testing.B, c *cloudwatchlogs.Client, at time.Time) {
	b.Helper()
	ctx := context.Background()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		out, err := c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("bench"),
			StartTime: aws.Int64(at.UnixMilli()), Limit: aws.Int32(1)})
		must2(b, err)
		if len(out.Events) > 0 {
			return
		}
	}
	b.Fatal("the lines were not loaded within 2 minutes")
}

func must2(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkLogReads50M times the read targets over the 50M lines of group "bench" that
// BenchmarkLogReads in internal/store/duckdb fills (4 hours from 2026-11-30 00:00 UTC) in
// the directory LOOKOUT_BENCH_LOGS; lookout must not be running on it. Each request reads
// another part of the lines, so that caches do not flatter it. Reports the median and the
// process's peak RSS.
func BenchmarkLogReads50M(b *testing.B) {
	dir := os.Getenv("LOOKOUT_BENCH_LOGS")
	if dir == "" {
		b.Skip("set LOOKOUT_BENCH_LOGS to the directory BenchmarkLogReads in internal/store/duckdb fills")
	}
	l := start(b, func(c *server.Config) { c.DataDir = dir })
	c := client(l, "test", "test")
	ctx := context.Background()
	begin := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	timed := func(b *testing.B, read func(i int)) {
		var took []time.Duration
		cpu0 := cpuTime()
		for i := 0; b.Loop(); i++ {
			t0 := time.Now()
			read(i)
			took = append(took, time.Since(t0))
		}
		b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		slices.Sort(took)
		b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MB")
	}
	for name, pattern := range map[string]string{"common": `"/api/activities/notifications" "500 INTERNAL"`, "rare": "UNAVAILABLE"} {
		b.Run("FilterFirstPage/"+name, func(b *testing.B) {
			var events int
			timed(b, func(i int) {
				from := begin.Add(time.Duration(i%180) * time.Minute) // a page from another minute each time
				out, err := c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("bench"),
					FilterPattern: aws.String(pattern), StartTime: aws.Int64(from.UnixMilli()), Limit: aws.Int32(100)})
				must2(b, err)
				events += len(out.Events)
			})
			b.ReportMetric(float64(events)/float64(b.N), "events/page")
		})
	}
	b.Run("InsightsCountByMinute", func(b *testing.B) {
		timed(b, func(i int) {
			from := begin.Add(time.Duration(i%180) * time.Minute) // an hour from another minute each time
			started, err := c.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{LogGroupName: aws.String("bench"),
				QueryString: aws.String("stats count(*) by bin(1m)"), StartTime: aws.Int64(from.Unix()), EndTime: aws.Int64(from.Add(time.Hour).Unix() - 1)})
			must2(b, err)
			for {
				res, err := c.GetQueryResults(ctx, &cloudwatchlogs.GetQueryResultsInput{QueryId: started.QueryId})
				must2(b, err)
				if res.Status == types.QueryStatusComplete {
					if len(res.Results) != 60 {
						b.Fatalf("%d rows, want one a minute", len(res.Results))
					}
					break
				}
				if res.Status != types.QueryStatusRunning {
					b.Fatalf("query %s", res.Status)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	})
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is the process's peak resident set size in bytes (Linux), 0 when unknown.
func peakRSS() int64 {
	status, _ := os.ReadFile("/proc/self/status")
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
