package cwlogs_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

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
