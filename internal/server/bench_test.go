package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkEventsAPI measures acknowledged Honeycomb events per second end to end: batches
// of 50 events (libhoney's default) from 8 concurrent senders into a real lookout on disk.
func BenchmarkEventsAPI(b *testing.B) {
	srv := start(b)
	url := "http://" + srv.Addrs().HTTP + "/1/batch/bench"
	var seq atomic.Uint64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	b.SetParallelism(4) // 4 × GOMAXPROCS(2) = 8 senders
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var body bytes.Buffer
		for pb.Next() {
			n := seq.Add(1)
			body.Reset()
			body.WriteByte('[')
			now := time.Now().UTC()
			for i := 0; i < 50; i++ {
				if i > 0 {
					body.WriteByte(',')
				}
				fmt.Fprintf(&body, `{"time":%q,"data":{"trace.trace_id":"%016x%016x","trace.span_id":"%016x","name":"GET /api/cart",`+
					`"service.name":"cart","duration_ms":12.5,"http.method":"GET","http.status_code":200,"user.id":"u%d",`+
					`"request.id":"%016x","cache.hit":%v,"db.rows":%d,"region":"eu-west-1"}}`,
					now.Add(time.Duration(i)*time.Microsecond).Format(time.RFC3339Nano), n, i/10, n<<8|uint64(i)+1, i, n*64+uint64(i), i%2 == 0, i)
			}
			body.WriteByte(']')
			for {
				resp, err := client.Post(url, "application/json", bytes.NewReader(body.Bytes()))
				if err != nil {
					b.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
				time.Sleep(100 * time.Millisecond) // 503: lookout asked to retry
			}
		}
	})
	b.ReportMetric(float64(b.N*50)/b.Elapsed().Seconds(), "events/s")
}
