package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	collectorlogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// These tests run the real lookout binary as a separate process, so they can kill it.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lookout-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "lookout")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build lookout: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type process struct {
	cmd      *exec.Cmd
	http, ui string
	stderr   *bytes.Buffer
}

var addrLine = regexp.MustCompile(`^\s+(OTLP/HTTP|UI)\s+http://(\S+)`)

// launch starts lookout serve on free ports and waits until it listens.
func launch(t *testing.T, dataDir string, flags ...string) *process {
	t.Helper()
	args := append([]string{"serve", "--data", dataDir, "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--ui", "127.0.0.1:0", "--xray", "127.0.0.1:0"}, flags...)
	cmd := exec.Command(binary, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, stderr: &bytes.Buffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for (p.http == "" || p.ui == "") && sc.Scan() {
		if m := addrLine.FindStringSubmatch(sc.Text()); m != nil {
			if m[1] == "UI" {
				p.ui = m[2]
			} else {
				p.http = m[2]
			}
		}
	}
	if p.http == "" || p.ui == "" {
		t.Fatalf("lookout did not report its addresses; stderr:\n%s", p.stderr)
	}
	go io.Copy(io.Discard, stdout)
	return p
}

// request builds an OTLP export request of n spans, all in trace number seq.
func request(seq uint64, n int) []byte {
	var tid [16]byte
	copy(tid[:8], []byte("crashtst"))
	for i := 0; i < 8; i++ {
		tid[8+i] = byte(seq >> (8 * (7 - i)))
	}
	now := uint64(time.Now().UnixNano())
	spans := make([]*tracepb.Span, n)
	for i := range spans {
		sid := make([]byte, 8)
		sid[0], sid[6], sid[7] = 0x5a, byte(i>>8), byte(i)+1
		spans[i] = &tracepb.Span{
			TraceId: tid[:], SpanId: sid, Name: "op-" + strconv.Itoa(i%7),
			StartTimeUnixNano: now + uint64(i), EndTimeUnixNano: now + uint64(i) + 5000,
			Attributes: []*commonpb.KeyValue{{Key: "i", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: int64(i)}}}},
		}
	}
	req := &collectortrace.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource:   &resourcepb.Resource{Attributes: []*commonpb.KeyValue{{Key: "service.name", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "crash-test"}}}}},
		ScopeSpans: []*tracepb.ScopeSpans{{Spans: spans}},
	}}}
	b, err := proto.Marshal(req)
	if err != nil {
		panic(err)
	}
	return b
}

// logsRequest builds an OTLP export request of n log records of the service (and so the log
// group) crash-logs-seq.
func logsRequest(seq uint64, n int) []byte {
	now := uint64(time.Now().UnixNano())
	records := make([]*logspb.LogRecord, n)
	for i := range records {
		records[i] = &logspb.LogRecord{TimeUnixNano: now + uint64(i), SeverityText: "INFO",
			Body: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "line " + strconv.Itoa(i)}}}
	}
	req := &collectorlogs.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		Resource:  &resourcepb.Resource{Attributes: []*commonpb.KeyValue{{Key: "service.name", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: logGroup(seq)}}}}},
		ScopeLogs: []*logspb.ScopeLogs{{LogRecords: records}},
	}}}
	b, err := proto.Marshal(req)
	if err != nil {
		panic(err)
	}
	return b
}

func logGroup(seq uint64) string { return "crash-logs-" + strconv.FormatUint(seq, 10) }

// logCount is how many log records of a group lookout returns.
func logCount(t *testing.T, ui, group string) int {
	t.Helper()
	resp, err := http.Get("http://" + ui + "/api/v1/logs?limit=1000&group=" + group)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct{ Data []json.RawMessage }
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	return len(got.Data)
}

// waitReady waits until lookout has loaded what the previous run acknowledged.
func waitReady(t *testing.T, p *process) {
	t.Helper()
	for range 600 {
		if resp, err := http.Get("http://" + p.ui + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("lookout not ready after 30 s; stderr:\n%s", p.stderr)
}

func post(client *http.Client, addr string, body []byte) (*http.Response, error) {
	return postTo(client, addr, "/v1/traces", body)
}

func postTo(client *http.Client, addr, path string, body []byte) (*http.Response, error) {
	resp, err := client.Post("http://"+addr+path, "application/x-protobuf", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, nil
}

func traceHex(seq uint64) string {
	return fmt.Sprintf("%x%016x", []byte("crashtst"), seq)
}

func spanCount(t *testing.T, ui, traceID string) int {
	t.Helper()
	resp, err := http.Get("http://" + ui + "/api/traces/" + traceID)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Data []struct {
			Spans []json.RawMessage `json:"spans"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got.Data) != 1 {
		return 0
	}
	return len(got.Data[0].Spans)
}

// TestCrashLosesNothingAcknowledged kills lookout with SIGKILL while senders are writing
// spans and log records, restarts it on the same data, and checks every acknowledged span
// and log record is there.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	data := t.TempDir()
	p := launch(t, data)
	const spansPerRequest, logsPerRequest = 100, 50
	var (
		seq              atomic.Uint64
		mu               sync.Mutex
		acked, ackedLogs []uint64
		wg               sync.WaitGroup
	)
	ctx, stop := context.WithCancel(context.Background())
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for ctx.Err() == nil {
				n := seq.Add(1)
				logs := w%2 == 1 // two senders of spans, two of log records
				var resp *http.Response
				var err error
				if logs {
					resp, err = postTo(client, p.http, "/v1/logs", logsRequest(n, logsPerRequest))
				} else {
					resp, err = post(client, p.http, request(n, spansPerRequest))
				}
				if err == nil && resp.StatusCode == http.StatusOK {
					mu.Lock()
					if logs {
						ackedLogs = append(ackedLogs, n)
					} else {
						acked = append(acked, n)
					}
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(3 * time.Second)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	stop()
	wg.Wait()
	if len(acked) < 10 || len(ackedLogs) < 10 {
		t.Fatalf("only %d span and %d log requests were acknowledged before the kill; stderr:\n%s", len(acked), len(ackedLogs), p.stderr)
	}

	restarted := launch(t, data)
	waitReady(t, restarted)
	for _, n := range acked {
		if got := spanCount(t, restarted.ui, traceHex(n)); got != spansPerRequest {
			t.Fatalf("trace %d (acknowledged before the kill) has %d spans after restart, want %d", n, got, spansPerRequest)
		}
	}
	for _, n := range ackedLogs {
		if got := logCount(t, restarted.ui, logGroup(n)); got != logsPerRequest {
			t.Fatalf("log group %s (acknowledged before the kill) has %d records after restart, want %d", logGroup(n), got, logsPerRequest)
		}
	}
	t.Logf("%d acknowledged span requests (%d spans) and %d log requests (%d records) all present after kill -9",
		len(acked), len(acked)*spansPerRequest, len(ackedLogs), len(ackedLogs)*logsPerRequest)
}

// TestOverloadAnswers503AndStaysBounded floods lookout beyond what it may hold: it must ask
// senders to retry, keep its memory bounded, and still store every request it acknowledged.
func TestOverloadAnswers503AndStaysBounded(t *testing.T) {
	p := launch(t, t.TempDir(), "--max-pending-bytes", "4MiB")
	const senders, requests, spansPerRequest = 16, 12, 2000
	var (
		throttled, ok atomic.Int64
		retryAfterOK  atomic.Bool
		wg            sync.WaitGroup
	)
	retryAfterOK.Store(true)
	for w := 0; w < senders; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 60 * time.Second}
			for i := 0; i < requests; i++ {
				seq := uint64(w*requests + i + 1)
				body := request(seq, spansPerRequest)
				for attempt := 0; attempt < 200; attempt++ {
					resp, err := post(client, p.http, body)
					if err != nil {
						t.Error(err)
						return
					}
					if resp.StatusCode == http.StatusOK {
						ok.Add(1)
						break
					}
					if resp.StatusCode != http.StatusServiceUnavailable && resp.StatusCode != http.StatusTooManyRequests {
						t.Errorf("status %d", resp.StatusCode)
						return
					}
					throttled.Add(1)
					if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || secs < 1 {
						retryAfterOK.Store(false)
					}
					time.Sleep(50 * time.Millisecond) // shorter than asked, to keep the pressure on
				}
			}
		}()
	}
	wg.Wait()
	if throttled.Load() == 0 {
		t.Fatal("lookout never pushed back")
	}
	if !retryAfterOK.Load() {
		t.Error("a throttling answer lacked a valid Retry-After")
	}
	if ok.Load() != senders*requests {
		t.Fatalf("%d of %d requests were acknowledged", ok.Load(), senders*requests)
	}
	peak := peakRSS(t, p.cmd.Process.Pid)
	t.Logf("%d requests acknowledged, %d throttled answers, peak RSS %d MiB", ok.Load(), throttled.Load(), peak>>20)
	if peak > 600<<20 {
		t.Errorf("peak RSS %d MiB, want under 600 MiB", peak>>20)
	}
	for _, seq := range []uint64{1, senders * requests / 2, senders * requests} {
		deadline := time.Now().Add(30 * time.Second)
		for spanCount(t, p.ui, traceHex(seq)) != spansPerRequest {
			if time.Now().After(deadline) {
				t.Fatalf("trace %d never reached %d spans", seq, spansPerRequest)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// peakRSS reads the high-water mark of a process's resident memory.
func peakRSS(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// TestSIGTERMExitsCleanly checks a graceful stop: exit status 0, and what was acknowledged
// is there after a restart.
func TestSIGTERMExitsCleanly(t *testing.T) {
	data := t.TempDir()
	p := launch(t, data)
	resp, err := post(http.DefaultClient, p.http, request(1, 50))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("post: %v %v", resp, err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("lookout exited with %v after SIGTERM; stderr:\n%s", err, p.stderr)
	}
	restarted := launch(t, data)
	if got := spanCount(t, restarted.ui, traceHex(1)); got != 50 {
		t.Fatalf("after a graceful stop the trace has %d spans, want 50", got)
	}
}

// TestDemoPopulatesUI runs lookout demo and waits for Cruddur, its users' frontend and the
// simulated services to appear.
func TestDemoPopulatesUI(t *testing.T) {
	cmd := exec.Command(binary, "demo", "--data", t.TempDir(), "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--ui", "127.0.0.1:0", "--xray", "127.0.0.1:0", "--cruddur", "127.0.0.1:0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	ui := ""
	for ui == "" && sc.Scan() {
		if m := addrLine.FindStringSubmatch(sc.Text()); m != nil && m[1] == "UI" {
			ui = m[2]
		}
	}
	go io.Copy(io.Discard, out)
	want := []string{"auth", "backend-flask", "cruddur-api", "frontend", "frontend-react-js", "notifications"}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var got struct{ Data []string }
		if resp, err := http.Get("http://" + ui + "/api/services"); err == nil {
			json.NewDecoder(resp.Body).Decode(&got)
			resp.Body.Close()
		}
		if strings.Join(got.Data, ",") == strings.Join(want, ",") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo services = %v, want %v", got.Data, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Ctrl-C stops the demo's senders before the server, so nothing fails on the way out.
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("demo exited with %v; stderr:\n%s", err, &stderr)
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") || strings.Contains(line, "export") {
			t.Errorf("the demo's shutdown was not quiet: %s", line)
		}
	}
}
