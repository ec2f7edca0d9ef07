package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"lookout/internal/server"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// rollbarBenchItem is a realistic Rollbar item of about 4 KB: a 30-frame trace with code
// context, a request with headers, a person and server data. Fifty error classes make fifty
// items; the message's numbers vary, as real ones do. The uuid and the timestamp have fixed
// widths so that a sender can give each request its own (see rollbarItemPool).
func rollbarBenchItem(n uint64) []byte {
	frames := make([]map[string]any, 30)
	for i := range frames {
		frames[i] = map[string]any{"filename": fmt.Sprintf("/srv/app/pkg%d/module%d.py", i%7, i), "lineno": 10 + i*3,
			"method": fmt.Sprintf("handler_%d", i), "code": fmt.Sprintf("result = step_%d(request, user)", i)}
	}
	data := map[string]any{
		"environment": "production", "level": "error", "language": "python 3.11.7", "framework": "flask",
		"uuid": fmt.Sprintf("bench-%020d", n), "timestamp": time.Now().Unix(), "code_version": "1.4.2", "context": "/api/orders/<id>",
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

// rollbarItemPool is a pool of distinct items built before the clock starts, so that the
// senders cost little next to lookout. Each request takes one and writes its own uuid and
// timestamp into a copy: no two requests are the same.
type rollbarItemPool struct {
	items          [][]byte
	uuidAt, timeAt []int // where each item's uuid digits and timestamp are
}

func newRollbarItemPool(size int) *rollbarItemPool {
	p := &rollbarItemPool{}
	for n := range uint64(size) {
		item := rollbarBenchItem(n)
		p.items = append(p.items, item)
		p.uuidAt = append(p.uuidAt, bytes.Index(item, []byte(`"uuid":"bench-`))+len(`"uuid":"bench-`))
		p.timeAt = append(p.timeAt, bytes.Index(item, []byte(`"timestamp":`))+len(`"timestamp":`))
	}
	return p
}

// item writes the n-th request's item into buf.
func (p *rollbarItemPool) item(buf []byte, n uint64) []byte {
	i := n % uint64(len(p.items))
	buf = append(buf[:0], p.items[i]...)
	copy(buf[p.uuidAt[i]:], fmt.Appendf(nil, "%020d", n))
	copy(buf[p.timeAt[i]:], strconv.AppendInt(nil, time.Now().Unix(), 10))
	return buf
}

// BenchmarkRollbarItems measures acknowledged (durable) Rollbar occurrences per second end to
// end, grouping included: one item a request, as the SDKs send them, on kept-alive
// connections, into a real lookout on disk, from 8, 64 and 128 concurrent senders. Each
// request waits for its item to be in the ingest log on disk, so the rate grows with the
// senders that share a flush: 8 senders sharing fsyncs of about 10 ms cannot pass about 800
// a second. The senders run in a child process (TestRollbarSenders), so cpu-µs/occurrence is
// lookout's CPU alone, until the store has loaded every item; sender-cpu-µs/occurrence is
// theirs.
func BenchmarkRollbarItems(b *testing.B) {
	for _, senders := range []int{8, 64, 128, 256} {
		b.Run(fmt.Sprintf("senders=%d", senders), func(b *testing.B) { benchRollbarItems(b, senders) })
	}
}

func benchRollbarItems(b *testing.B, senders int) {
	defer server.TuneRuntime()() // as lookout serve runs
	srv := start(b)
	b.SetBytes(int64(len(rollbarBenchItem(0))))
	cmd := exec.Command(os.Args[0], "-test.run=^TestRollbarSenders$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("LOOKOUT_ROLLBAR_SENDERS=%s %d %d", srv.Addrs().HTTP, b.N, senders))
	cmd.Stderr = os.Stderr
	cpu := cpuTime(syscall.RUSAGE_SELF)
	b.ResetTimer()
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("senders: %v\n%s", err, out)
	}
	var acked time.Duration
	for line := range strings.Lines(string(out)) {
		if s, ok := strings.CutPrefix(line, "rollbar senders acked in "); ok {
			acked, err = time.ParseDuration(strings.TrimSpace(s))
		}
	}
	if acked == 0 || err != nil {
		b.Fatalf("senders said no time (%v):\n%s", err, out)
	}
	waitLoaded(b, srv.Addrs().UI)
	b.StopTimer()
	lookoutCPU := cpuTime(syscall.RUSAGE_SELF) - cpu
	sendersCPU := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	b.ReportMetric(float64(b.N)/acked.Seconds(), "occurrences/s")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "loaded/s")
	b.ReportMetric(float64(lookoutCPU.Microseconds())/float64(b.N), "cpu-µs/occurrence")
	b.ReportMetric(float64(sendersCPU.Microseconds())/float64(b.N), "sender-cpu-µs/occurrence")
}

// TestRollbarSenders is BenchmarkRollbarItems's senders, in a process of their own:
// LOOKOUT_ROLLBAR_SENDERS is "address items senders". It prints how long the items took to
// be acknowledged, from the first request. Each sender writes its requests, as an SDK's HTTP
// client would send them, on a kept-alive connection of its own, and reads each answer before
// the next request: a lean client, so that the two cores go to lookout rather than to it.
func TestRollbarSenders(t *testing.T) {
	var addr string
	var items, senders int
	if _, err := fmt.Sscan(os.Getenv("LOOKOUT_ROLLBAR_SENDERS"), &addr, &items, &senders); err != nil {
		t.Skip("run by BenchmarkRollbarItems")
	}
	pool := newRollbarItemPool(1024)
	var seq atomic.Uint64
	var wg sync.WaitGroup
	began := time.Now()
	for range senders {
		wg.Go(func() {
			s, err := dialRollbar(addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer s.conn.Close()
			var buf []byte
			for n := seq.Add(1); n <= uint64(items); n = seq.Add(1) {
				buf = pool.item(buf, n)
				if err := s.post(buf); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(w, "rollbar senders acked in %v\n", time.Since(began))
	w.Flush()
}

// rollbarSender posts items on one kept-alive connection.
type rollbarSender struct {
	conn    net.Conn
	answers *bufio.Reader
	request []byte
}

func dialRollbar(addr string) (*rollbarSender, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &rollbarSender{conn: conn, answers: bufio.NewReader(conn)}, nil
}

// post posts one item until lookout accepts it, retrying when lookout asks to.
func (s *rollbarSender) post(item []byte) error {
	for {
		s.request = fmt.Appendf(s.request[:0], "POST /api/1/item/ HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"+
			"X-Rollbar-Access-Token: bench-token\r\nContent-Length: %d\r\n\r\n", s.conn.RemoteAddr(), len(item))
		s.request = append(s.request, item...)
		if _, err := s.conn.Write(s.request); err != nil {
			return err
		}
		resp, err := http.ReadResponse(s.answers, nil)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			return nil
		case http.StatusServiceUnavailable, http.StatusTooManyRequests:
			time.Sleep(100 * time.Millisecond) // lookout asked to retry
		default:
			return fmt.Errorf("status %d", resp.StatusCode)
		}
	}
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
