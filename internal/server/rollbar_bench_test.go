package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// rollbarBenchItem is a realistic Rollbar item of about 4 KB: a 30-frame trace with code
// context, a request with headers, a person and server data. Fifty error classes make fifty
// items; the message's numbers vary, as real ones do.
func rollbarBenchItem(n uint64) []byte {
	frames := make([]map[string]any, 30)
	for i := range frames {
		frames[i] = map[string]any{"filename": fmt.Sprintf("/srv/app/pkg%d/module%d.py", i%7, i), "lineno": 10 + i*3,
			"method": fmt.Sprintf("handler_%d", i), "code": fmt.Sprintf("result = step_%d(request, user)", i)}
	}
	data := map[string]any{
		"environment": "production", "level": "error", "language": "python 3.11.7", "framework": "flask",
		"uuid": fmt.Sprintf("bench-%d", n), "timestamp": time.Now().Unix(), "code_version": "1.4.2", "context": "/api/orders/<id>",
		"body": map[string]any{"trace": map[string]any{"frames": frames,
			"exception": map[string]any{"class": fmt.Sprintf("OrderError%d", n%50), "message": fmt.Sprintf("order %d not found in shard %x", n, n*7919)}}},
		"request": map[string]any{"method": "POST", "url": fmt.Sprintf("https://shop.example/api/orders/%d?ref=mail", n), "user_ip": "203.0.113.9",
			"headers": map[string]any{"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", "Accept": "application/json",
				"traceparent": fmt.Sprintf("00-%016x%016x-%016x-01", n, n*31+1, n*17+1), "Content-Type": "application/json"}},
		"person": map[string]any{"id": fmt.Sprintf("u%d", n%1000), "username": fmt.Sprintf("user%d", n%1000)},
		"server": map[string]any{"host": fmt.Sprintf("web-%d", n%4), "root": "/srv/app", "pid": 4242},
	}
	b, _ := json.Marshal(map[string]any{"data": data})
	return b
}

// BenchmarkRollbarItems measures acknowledged (durable) Rollbar occurrences per second end to
// end, grouping included: one item a request, as the SDKs send them, into a real lookout on
// disk, from 8, 64 and 128 concurrent senders. Each request waits for its item to be in the
// ingest log on disk, so the rate grows with the senders that share a flush: 8 senders
// sharing fsyncs of about 10 ms cannot pass about 800 a second. cpu-µs/occurrence is the
// whole process's CPU (senders included) until the store has loaded every item.
func BenchmarkRollbarItems(b *testing.B) {
	for _, parallelism := range []int{4, 32, 64} { // × GOMAXPROCS(2) senders
		b.Run(fmt.Sprintf("senders=%d", 2*parallelism), func(b *testing.B) { benchRollbarItems(b, parallelism) })
	}
}

func benchRollbarItems(b *testing.B, parallelism int) {
	srv := start(b)
	url := "http://" + srv.Addrs().HTTP + "/api/1/item/"
	var seq atomic.Uint64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * parallelism * runtime.GOMAXPROCS(0)}}
	b.SetBytes(int64(len(rollbarBenchItem(0))))
	b.SetParallelism(parallelism)
	cpu := cpuTime(syscall.RUSAGE_SELF)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := rollbarBenchItem(seq.Add(1))
			for {
				req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Rollbar-Access-Token", "bench-token")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
				if resp.StatusCode != http.StatusServiceUnavailable && resp.StatusCode != http.StatusTooManyRequests {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				time.Sleep(100 * time.Millisecond) // lookout asked to retry
			}
		}
	})
	acked := b.Elapsed()
	waitLoaded(b, srv.Addrs().UI)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/acked.Seconds(), "occurrences/s")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "loaded/s")
	b.ReportMetric(float64((cpuTime(syscall.RUSAGE_SELF)-cpu).Microseconds())/float64(b.N), "cpu-µs/occurrence")
}

// waitLoaded waits until the pipeline holds nothing that is not in the store.
func waitLoaded(b *testing.B, ui string) {
	for {
		resp, err := http.Get("http://" + ui + "/metrics")
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), "\nlookout_pipeline_pending_bytes 0\n") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
