package cwlogs_test

import (
	"bytes"
	"context"
	"database/sql"
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
	_ "github.com/duckdb/duckdb-go/v2" // reads the file the benchmark leaves

	"lookout/internal/server"
)

const benchBatch = 1000 // lines a PutLogEvents, as watchtower sends at most 10,000

// appendLine appends a realistic access log line of about 200 bytes, varied by n, as the
// contents of a JSON string.
func appendLine(b []byte, n int) []byte {
	paths := [...]string{"/api/activities/home", "/api/activities/notifications", "/api/messages/groups", "/api/profile/update"}
	status := [...]string{"200 OK", "200 OK", "200 OK", "304 NOT MODIFIED", "404 NOT FOUND", "500 INTERNAL SERVER ERROR"}
	b = append(b, "[2026-Nov-30 02:"...)
	b = appendPadded(b, int64(n%60), 10, 2)
	b = append(b, "] 172.18."...)
	b = strconv.AppendInt(b, int64(n%7), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(n%250), 10)
	b = append(b, " GET http "...)
	b = append(b, paths[n%len(paths)]...)
	b = append(b, "?page="...)
	b = strconv.AppendInt(b, int64(n%13), 10)
	b = append(b, "&user=u"...)
	b = appendPadded(b, int64(n%40000), 10, 5)
	b = append(b, ' ')
	b = append(b, status[n%len(status)]...)
	b = append(b, " bytes="...)
	b = strconv.AppendInt(b, int64(200+n%9000), 10)
	b = append(b, " ms="...)
	b = strconv.AppendInt(b, int64(n%700), 10)
	b = append(b, ` ua=\"python-requests/2.31.0\" req=`...)
	return appendPadded(b, int64(n)*2654435761, 16, 8)
}

// appendPadded appends v in base, zero-padded to width digits.
func appendPadded(b []byte, v int64, base, width int) []byte {
	digits := strconv.FormatInt(v, base)
	for range width - len(digits) {
		b = append(b, '0')
	}
	return append(b, digits...)
}

// putBody is a PutLogEvents request body of benchBatch lines, numbered from seed onwards and
// written a millisecond apart up to at.
func putBody(group, stream string, at time.Time, seed int) []byte {
	b := make([]byte, 0, 256*benchBatch)
	b = fmt.Appendf(b, `{"logGroupName":%q,"logStreamName":%q,"logEvents":[`, group, stream)
	first := at.UnixMilli() - benchBatch + 1
	for i := range benchBatch {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"timestamp":`...)
		b = strconv.AppendInt(b, first+int64(i), 10)
		b = append(b, `,"message":"`...)
		b = appendLine(b, seed+i)
		b = append(b, `"}`...)
	}
	return append(b, "]}"...)
}

// post sends a PutLogEvents body; told to retry (503), it waits as the answer says and
// sends it again, as clients do, and reports how many times it had to.
func post(tb testing.TB, endpoint string, body []byte) (retries int) {
	for {
		req, _ := http.NewRequest(http.MethodPost, endpoint+"/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "Logs_20140328.PutLogEvents")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			tb.Fatal(err)
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			return retries
		case http.StatusServiceUnavailable:
			wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			time.Sleep(time.Duration(max(wait, 1)) * time.Second)
			retries++
		default:
			tb.Fatalf("PutLogEvents: %s", resp.Status)
		}
	}
}

// BenchmarkPutLogEvents: 8 senders of batches of 1,000 lines of about 200 bytes, each
// acknowledged once durable, every batch with lines of its own. Reports the lines
// acknowledged a second, the lines a second until all are loaded and checkpointed (the
// sustained rate, once the pipeline's memory bound makes senders wait for the store), the
// process's CPU a line (senders included), its peak RSS and the store's bytes a line. The
// store's memory limit is lookout serve's default (start's), and so is Go's soft limit, so
// that the RSS is the one users get.
func BenchmarkPutLogEvents(b *testing.B) {
	defer server.TuneRuntime()() // as lookout serve runs
	dir := b.TempDir()
	l := start(b, func(c *server.Config) { c.DataDir = dir })
	c := client(l, "test", "test")
	ctx := context.Background()
	must2(b, second(c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("bench")})))
	const senders = 8
	streams := make([]string, senders)
	for s := range streams {
		streams[s] = fmt.Sprintf("host-%d//usr/local/bin/flask/app/%d", s, s)
		must2(b, second(c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("bench"), LogStreamName: aws.String(streams[s])})))
	}
	var nextSender, nextBatch, retries atomic.Int64
	b.SetParallelism((senders + 1) / 2) // × GOMAXPROCS (2 here) senders
	cpuBefore := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		stream := streams[nextSender.Add(1)%senders]
		for pb.Next() {
			retries.Add(int64(post(b, l.endpoint(), putBody("bench", stream, time.Now(), int(nextBatch.Add(1))*benchBatch))))
		}
	})
	acknowledged := b.Elapsed()
	ctxStop, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := l.Shutdown(ctxStop); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	lines := float64(b.N * benchBatch)
	b.ReportMetric(lines/acknowledged.Seconds(), "lines/s")
	b.ReportMetric(lines/b.Elapsed().Seconds(), "stored-lines/s")
	b.ReportMetric(float64((cpuTime()-cpuBefore).Microseconds())/lines, "cpu-µs/line")
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(retries.Load()), "retries")
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
	reportStoreLayout(b, filepath.Join(dir, "lookout.duckdb"), lines)
}

// reportStoreLayout reports the database file's free blocks a line, and logs how DuckDB
// compressed the logs table's columns: what a run that stores more bytes a line differs in.
func reportStoreLayout(b *testing.B, path string, lines float64) {
	db, err := sql.Open("duckdb", path+"?access_mode=READ_ONLY")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var blockSize, freeBlocks int64
	if err := db.QueryRow("SELECT block_size, free_blocks FROM pragma_database_size()").Scan(&blockSize, &freeBlocks); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(blockSize*freeBlocks)/lines, "free-bytes/line")
	rows, err := db.Query(`SELECT column_name, compression, count(*), count(DISTINCT row_group_id)
		FROM pragma_storage_info('logs') WHERE segment_type <> 'VALIDITY' GROUP BY ALL ORDER BY ALL`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var layout []string
	for rows.Next() {
		var column, compression string
		var segments, rowGroups int
		if err := rows.Scan(&column, &compression, &segments, &rowGroups); err != nil {
			b.Fatal(err)
		}
		layout = append(layout, fmt.Sprintf("%s %s: %d segments in %d row groups", column, compression, segments, rowGroups))
	}
	b.Logf("logs table: %s", strings.Join(layout, "; "))
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var u syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// peakRSS is the most memory the process has held resident, in bytes.
func peakRSS() int64 {
	var u syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return u.Maxrss << 10 // kilobytes on Linux
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
	insights := func(b *testing.B, query string, rows int) {
		timed(b, func(i int) {
			from := begin.Add(time.Duration(i%180) * time.Minute) // an hour from another minute each time
			started, err := c.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{LogGroupName: aws.String("bench"),
				QueryString: aws.String(query), StartTime: aws.Int64(from.Unix()), EndTime: aws.Int64(from.Add(time.Hour).Unix() - 1)})
			must2(b, err)
			for {
				res, err := c.GetQueryResults(ctx, &cloudwatchlogs.GetQueryResultsInput{QueryId: started.QueryId})
				must2(b, err)
				if res.Status == types.QueryStatusComplete {
					if len(res.Results) != rows {
						b.Fatalf("%d rows, want %d", len(res.Results), rows)
					}
					break
				}
				if res.Status != types.QueryStatusRunning {
					b.Fatalf("query %s", res.Status)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	b.Run("InsightsCountByMinute", func(b *testing.B) { insights(b, "stats count(*) by bin(1m)", 60) })
	b.Run("InsightsNewest", func(b *testing.B) {
		insights(b, "fields @timestamp, @message | sort @timestamp desc | limit 20", 20)
	})
	b.Run("InsightsNewestMatching", func(b *testing.B) {
		insights(b, `filter @message like "500 INTERNAL" | fields @timestamp, @message | limit 20`, 20)
	})
	b.Run("InsightsStatsOfMatching", func(b *testing.B) { // every match of the hour, counted in the store
		insights(b, `filter @message like "500 INTERNAL" | stats count(*) as n by bin(1m)`, 60)
	})
}
