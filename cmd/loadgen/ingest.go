package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

type ingestOptions struct {
	endpoint        string
	spansPerRequest int
	senders         int
	duration        time.Duration
	totalSpans      int64
	timeSpread      time.Duration
	spreadOrder     string // "sequential" or "random"
	jitter          time.Duration
	pool            int
	seed            uint64
	gzip            bool
	timeout         time.Duration
	maxRetries      int
	pid             int
	dataDir         string
	settle          time.Duration
	traceIDsOut     string
	jsonOut         bool
	jsonFile        string
	dryRun          bool
	quiet           bool
}

// ingestReport is the final report; --json prints it as it is.
type ingestReport struct {
	Mode            string  `json:"mode"` // sustained, fill or dry-run
	Endpoint        string  `json:"endpoint"`
	Senders         int     `json:"senders"`
	SpansPerRequest int     `json:"spans_per_request"`
	TimeSpread      string  `json:"time_spread"`
	SpreadOrder     string  `json:"spread_order,omitempty"`
	Gzip            bool    `json:"gzip"`
	Seed            uint64  `json:"seed"`
	RequestBytes    int     `json:"request_bytes_mean"`
	AckedSpans      int64   `json:"acked_spans"`
	AckedRequests   int64   `json:"acked_requests"`
	DurationSeconds float64 `json:"duration_seconds"`

	SpansPerSecMedian float64   `json:"spans_per_sec_median"` // over full 1-second windows
	SpansPerSecMean   float64   `json:"spans_per_sec_mean"`   // acked spans / duration
	SpansPerSecMin    float64   `json:"spans_per_sec_min"`
	SpansPerSecMax    float64   `json:"spans_per_sec_max"`
	Windows           []float64 `json:"windows_spans_per_sec"`

	Latency latencyReport `json:"request_latency_ms"` // of acknowledged attempts

	Throttled    int64    `json:"throttled"` // 429 and 503 answers, each retried
	Errors       int64    `json:"errors"`    // failed attempts: transport errors and other statuses
	Dropped      int64    `json:"dropped"`   // requests given up after errors
	Abandoned    int64    `json:"abandoned"` // throttled requests still waiting when the run ended
	Rejected     int64    `json:"rejected"`  // spans refused in partial successes (not counted as acked)
	ErrorSamples []string `json:"error_samples,omitempty"`

	GenerateMSPerRequest float64 `json:"generate_ms_per_request"` // rewriting (and compressing) a template
	LoadgenCPUSeconds    float64 `json:"loadgen_cpu_seconds"`
	LoadgenCores         float64 `json:"loadgen_cores"` // loadgen CPU / duration

	Lookout *procReport `json:"lookout,omitempty"`
	Data    *diskReport `json:"data,omitempty"`
}

type latencyReport struct {
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

type procReport struct {
	PID          int     `json:"pid"`
	PeakRSSBytes int64   `json:"peak_rss_bytes"` // VmHWM
	RSSBytes     int64   `json:"rss_bytes"`      // VmRSS at the end
	CPUSeconds   float64 `json:"cpu_seconds"`    // during the run
	Cores        float64 `json:"cores"`          // CPU seconds / duration
}

// run state shared by senders and the monitor.
type ingestRun struct {
	opts      ingestOptions
	templates []*template
	url       string
	client    *http.Client
	start     time.Time
	deadline  time.Time // sustained mode
	requests  int64     // fill mode: requests to send

	nextSeq       atomic.Uint64
	ackedSpans    atomic.Int64
	ackedRequests atomic.Int64
	throttled     atomic.Int64
	errors        atomic.Int64
	dropped       atomic.Int64
	abandoned     atomic.Int64
	rejected      atomic.Int64
	bodyBytes     atomic.Int64
	genNanos      atomic.Int64
	generated     atomic.Int64

	mu           sync.Mutex
	errorSamples []string
	latencies    []time.Duration
	idsOut       *bufio.Writer
}

func runIngest(ctx context.Context, o ingestOptions, stdout, stderr io.Writer) error {
	if o.spansPerRequest < 1 || o.senders < 1 || o.pool < 1 {
		return errors.New("--spans-per-request, --senders and --pool must be positive")
	}
	if (o.duration > 0) == (o.totalSpans > 0) {
		return errors.New("give exactly one of --duration (sustained) and --total-spans (fill)")
	}
	if o.spreadOrder != "sequential" && o.spreadOrder != "random" {
		return fmt.Errorf("--spread-order %q: want sequential or random", o.spreadOrder)
	}
	r := &ingestRun{opts: o, url: strings.TrimRight(o.endpoint, "/") + "/v1/traces"}
	r.client = &http.Client{
		Timeout: o.timeout,
		Transport: &http.Transport{
			MaxIdleConns:        o.senders * 2,
			MaxIdleConnsPerHost: o.senders * 2,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}

	t0 := time.Now()
	r.templates = make([]*template, o.pool)
	var wg sync.WaitGroup
	errs := make([]error, o.pool)
	for i := range r.templates {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.templates[i], errs[i] = buildTemplate(o.seed, i, o.spansPerRequest)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	var poolBytes int
	for _, t := range r.templates {
		poolBytes += len(t.body)
	}
	if !o.quiet {
		fmt.Fprintf(stderr, "loadgen: %d request templates of %d spans (%.0f KiB each, %d bytes/span) built in %v; seed %d\n",
			o.pool, o.spansPerRequest, float64(poolBytes)/float64(o.pool)/1024, poolBytes/o.pool/o.spansPerRequest,
			time.Since(t0).Round(time.Millisecond), o.seed)
	}

	if o.traceIDsOut != "" {
		f, err := os.Create(o.traceIDsOut)
		if err != nil {
			return err
		}
		defer f.Close()
		r.idsOut = bufio.NewWriter(f)
	}
	if o.totalSpans > 0 {
		r.requests = (o.totalSpans + int64(o.spansPerRequest) - 1) / int64(o.spansPerRequest)
	}

	var proc0 procSample
	if o.pid > 0 {
		var err error
		if proc0, err = sampleProc(o.pid); err != nil {
			return fmt.Errorf("--pid: %w", err)
		}
	}
	cpu0 := selfCPU()
	r.start = time.Now()
	if o.duration > 0 {
		r.deadline = r.start.Add(o.duration)
	}
	// stopWaiting ends throttle waits at the deadline of a sustained run.
	stopWaiting := ctx
	if o.duration > 0 {
		var cancel context.CancelFunc
		stopWaiting, cancel = context.WithDeadline(ctx, r.deadline)
		defer cancel()
	}

	done := make(chan struct{})
	for i := 0; i < o.senders; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.sender(ctx, stopWaiting, uint64(i))
		}()
	}
	go func() { wg.Wait(); close(done) }()
	windows := r.monitor(done, stderr)
	end := time.Now()
	elapsed := end.Sub(r.start)
	cpu1 := selfCPU()

	if r.idsOut != nil {
		if err := r.idsOut.Flush(); err != nil {
			return err
		}
	}

	rep := &ingestReport{
		Mode: "sustained", Endpoint: o.endpoint, Senders: o.senders, SpansPerRequest: o.spansPerRequest,
		TimeSpread: "0s (now)", Gzip: o.gzip, Seed: o.seed,
		AckedSpans: r.ackedSpans.Load(), AckedRequests: r.ackedRequests.Load(),
		DurationSeconds: elapsed.Seconds(), Windows: windows,
		Throttled: r.throttled.Load(), Errors: r.errors.Load(), Dropped: r.dropped.Load(), Abandoned: r.abandoned.Load(),
		Rejected:     r.rejected.Load(),
		ErrorSamples: r.errorSamples,
	}
	if o.totalSpans > 0 {
		rep.Mode = "fill"
	}
	if o.dryRun {
		rep.Mode = "dry-run"
	}
	if o.timeSpread > 0 {
		rep.TimeSpread, rep.SpreadOrder = o.timeSpread.String(), o.spreadOrder
	}
	if n := r.generated.Load(); n > 0 {
		rep.RequestBytes = int(r.bodyBytes.Load() / n)
		rep.GenerateMSPerRequest = float64(r.genNanos.Load()) / float64(n) / 1e6
	}
	rep.SpansPerSecMean = float64(rep.AckedSpans) / elapsed.Seconds()
	if len(windows) > 0 {
		rep.SpansPerSecMedian = median(windows)
		rep.SpansPerSecMin, rep.SpansPerSecMax = slices.Min(windows), slices.Max(windows)
	} else {
		rep.SpansPerSecMedian = rep.SpansPerSecMean // a run shorter than a second
	}
	rep.Latency = latencies(r.latencies)
	rep.LoadgenCPUSeconds = (cpu1 - cpu0).Seconds()
	rep.LoadgenCores = rep.LoadgenCPUSeconds / elapsed.Seconds()

	if o.pid > 0 {
		p1, err := sampleProc(o.pid)
		if err != nil {
			return fmt.Errorf("--pid: %w", err)
		}
		cpu := (p1.cpu - proc0.cpu).Seconds()
		rep.Lookout = &procReport{PID: o.pid, PeakRSSBytes: p1.peakRSS, RSSBytes: p1.rss, CPUSeconds: cpu, Cores: cpu / elapsed.Seconds()}
	}
	if o.dataDir != "" {
		if o.settle > 0 {
			if !o.quiet {
				fmt.Fprintf(stderr, "loadgen: waiting %v before measuring %s\n", o.settle, o.dataDir)
			}
			time.Sleep(o.settle)
			if o.pid > 0 { // the peak may have moved while lookout settled
				if p, err := sampleProc(o.pid); err == nil {
					rep.Lookout.PeakRSSBytes = p.peakRSS
				}
			}
		}
		d, err := measureDisk(o.dataDir, rep.AckedSpans)
		if err != nil {
			return err
		}
		rep.Data = d
	}
	if err := writeJSONFile(o.jsonFile, rep); err != nil {
		return err
	}
	if o.jsonOut {
		return writeJSON(stdout, rep)
	}
	printIngestReport(stdout, rep)
	return nil
}

// sender sends requests until the run is over.
func (r *ingestRun) sender(ctx, stopWaiting context.Context, id uint64) {
	o := r.opts
	rng := rand.New(rand.NewPCG(o.seed^0x5eed, id))
	var buf []byte
	var zbuf bytes.Buffer
	var zw *gzip.Writer
	if o.gzip {
		zw, _ = gzip.NewWriterLevel(&zbuf, gzip.BestSpeed)
	}
	ends := make([]int64, 0, o.spansPerRequest)
	var lats []time.Duration
	defer func() {
		r.mu.Lock()
		r.latencies = append(r.latencies, lats...)
		r.mu.Unlock()
	}()
	for ctx.Err() == nil {
		now := time.Now()
		var progress float64
		if o.duration > 0 {
			if !now.Before(r.deadline) {
				return
			}
			progress = float64(now.Sub(r.start)) / float64(o.duration)
		}
		seq := r.nextSeq.Add(1)
		if o.totalSpans > 0 {
			if int64(seq) > r.requests {
				return
			}
			progress = float64(seq-1) / float64(r.requests)
		}

		g0 := time.Now()
		t := r.templates[rng.IntN(len(r.templates))]
		ends = ends[:0]
		for range t.traceSpans {
			ends = append(ends, r.traceEnd(rng, now, progress))
		}
		buf = t.materialize(buf, o.seed, seq, ends)
		body := buf
		if zw != nil {
			zbuf.Reset()
			zw.Reset(&zbuf)
			zw.Write(buf)
			zw.Close()
			body = zbuf.Bytes()
		}
		r.genNanos.Add(int64(time.Since(g0)))
		r.generated.Add(1)
		r.bodyBytes.Add(int64(len(body)))

		if o.dryRun {
			r.acked(t, seq, 0)
			continue
		}
		for attempt := 0; ; attempt++ {
			a0 := time.Now()
			status, retryAfter, rejected, err := r.post(ctx, body)
			lat := time.Since(a0)
			if err == nil && status == http.StatusOK {
				lats = append(lats, lat)
				r.acked(t, seq, rejected)
				break
			}
			if ctx.Err() != nil {
				return
			}
			var wait time.Duration
			if err == nil && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
				r.throttled.Add(1)
				wait = retryAfter
				if wait <= 0 {
					wait = backoff(attempt)
				}
			} else {
				r.errors.Add(1)
				if err != nil {
					r.sample(err.Error())
				} else {
					r.sample("HTTP " + strconv.Itoa(status))
				}
				// Other 4xx answers are permanent (OTLP/HTTP says not to retry them).
				if attempt >= o.maxRetries || (err == nil && status >= 400 && status < 500) {
					r.dropped.Add(1)
					break
				}
				wait = backoff(attempt)
			}
			select {
			case <-time.After(wait):
			case <-stopWaiting.Done():
				r.abandoned.Add(1)
				return
			}
		}
	}
}

// traceEnd picks when a trace of this request ended. Without a spread, within jitter before
// now, as an SDK's batch holds spans of the last few seconds. With a spread and the sequential
// order, the run replays the last spread of time in order: the request at progress p (0..1)
// ends at now - spread*(1-p), less the jitter. With the random order, anywhere in the spread.
func (r *ingestRun) traceEnd(rng *rand.Rand, now time.Time, progress float64) int64 {
	o := r.opts
	end := now.UnixNano()
	switch {
	case o.timeSpread > 0 && o.spreadOrder == "random":
		return end - rng.Int64N(int64(o.timeSpread))
	case o.timeSpread > 0:
		end -= int64(float64(o.timeSpread) * (1 - progress))
	}
	if o.jitter > 0 {
		end -= rng.Int64N(int64(o.jitter))
	}
	return end
}

func (r *ingestRun) acked(t *template, seq uint64, rejected int64) {
	r.ackedSpans.Add(int64(t.spans) - rejected)
	r.rejected.Add(rejected)
	r.ackedRequests.Add(1)
	if r.idsOut != nil {
		hi, lo := traceID(r.opts.seed, seq, 0)
		r.mu.Lock()
		fmt.Fprintf(r.idsOut, "%016x%016x %d\n", hi, lo, t.traceSpans[0])
		r.mu.Unlock()
	}
}

func (r *ingestRun) sample(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errorSamples) < 5 && !slices.Contains(r.errorSamples, msg) {
		r.errorSamples = append(r.errorSamples, msg)
	}
}

func backoff(attempt int) time.Duration {
	return min(100*time.Millisecond<<min(attempt, 5), 2*time.Second)
}

// post sends one export request and returns the status, the Retry-After it asked for, and
// the spans rejected by a partial success.
func (r *ingestRun) post(ctx context.Context, body []byte) (int, time.Duration, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(body))
	if err != nil {
		return 0, 0, 0, err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	if r.opts.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, parseRetryAfter(resp.Header.Get("Retry-After")), 0, nil
	}
	// A 200 may still reject some spans (OTLP partial success).
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, 0, err
	}
	var rejected int64
	if len(b) > 0 {
		var out collectortrace.ExportTraceServiceResponse
		if err := proto.Unmarshal(b, &out); err != nil {
			return 0, 0, 0, fmt.Errorf("undecodable response: %w", err)
		}
		if ps := out.GetPartialSuccess(); ps.GetRejectedSpans() > 0 {
			rejected = ps.GetRejectedSpans()
			r.sample("partial success: " + ps.GetErrorMessage())
		}
	}
	return resp.StatusCode, 0, rejected, nil
}

func parseRetryAfter(s string) time.Duration {
	if s == "" {
		return 0
	}
	if secs, err := strconv.Atoi(s); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(s); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// monitor prints a progress line every second until done, and returns the acknowledged spans
// per second of every full one-second window.
func (r *ingestRun) monitor(done <-chan struct{}, stderr io.Writer) []float64 {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var windows []float64
	prevT, prevAcked := r.start, int64(0)
	var prevProc procSample
	if r.opts.pid > 0 {
		prevProc, _ = sampleProc(r.opts.pid)
	}
	prevCPU := selfCPU()
	for {
		select {
		case <-done:
			return windows
		case now := <-tick.C:
			acked := r.ackedSpans.Load()
			dt := now.Sub(prevT).Seconds()
			rate := float64(acked-prevAcked) / dt
			windows = append(windows, rate)
			if !r.opts.quiet {
				cpu := selfCPU()
				line := fmt.Sprintf("%5.0fs  %8.0f spans/s  total %11s  throttled %d  errors %d  loadgen %.2f cores",
					now.Sub(r.start).Seconds(), rate, group(acked), r.throttled.Load(), r.errors.Load(), (cpu-prevCPU).Seconds()/dt)
				prevCPU = cpu
				if r.opts.pid > 0 {
					if p, err := sampleProc(r.opts.pid); err == nil {
						line += fmt.Sprintf("  lookout %.2f cores, RSS %d MiB", (p.cpu-prevProc.cpu).Seconds()/dt, p.rss>>20)
						prevProc = p
					}
				}
				fmt.Fprintln(stderr, line)
			}
			prevT, prevAcked = now, acked
		}
	}
}

// selfCPU is the CPU time loadgen has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func printIngestReport(w io.Writer, r *ingestReport) {
	fmt.Fprintf(w, "ingest report (%s)\n", r.Mode)
	fmt.Fprintf(w, "  endpoint            %s, %d senders, %d spans/request, %d bytes/request (%d bytes/span)%s\n",
		r.Endpoint, r.Senders, r.SpansPerRequest, r.RequestBytes, r.RequestBytes/max(r.SpansPerRequest, 1), map[bool]string{true: ", gzip"}[r.Gzip])
	spread := r.TimeSpread
	if r.SpreadOrder != "" {
		spread += " (" + r.SpreadOrder + ")"
	}
	fmt.Fprintf(w, "  span times          %s; seed %d\n", spread, r.Seed)
	fmt.Fprintf(w, "  acknowledged        %s spans in %s requests over %.1fs\n", group(r.AckedSpans), group(r.AckedRequests), r.DurationSeconds)
	fmt.Fprintf(w, "  spans/s             median %.0f, mean %.0f (1s windows: %d, min %.0f, max %.0f)\n",
		r.SpansPerSecMedian, r.SpansPerSecMean, len(r.Windows), r.SpansPerSecMin, r.SpansPerSecMax)
	fmt.Fprintf(w, "  request latency     p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms\n", r.Latency.P50, r.Latency.P95, r.Latency.P99, r.Latency.Max)
	fmt.Fprintf(w, "  throttled           %d answers (429/503, retried)\n", r.Throttled)
	fmt.Fprintf(w, "  errors              %d failed attempts, %d requests dropped, %d abandoned at the end, %d spans rejected\n", r.Errors, r.Dropped, r.Abandoned, r.Rejected)
	for _, s := range r.ErrorSamples {
		fmt.Fprintf(w, "                      e.g. %s\n", s)
	}
	fmt.Fprintf(w, "  loadgen cost        %.3f ms to make a request; %.1f CPU s (%.2f cores)\n", r.GenerateMSPerRequest, r.LoadgenCPUSeconds, r.LoadgenCores)
	if p := r.Lookout; p != nil {
		fmt.Fprintf(w, "  lookout (pid %d)  peak RSS %d MiB (VmHWM), RSS now %d MiB, %.1f CPU s during the run (%.2f cores)\n",
			p.PID, p.PeakRSSBytes>>20, p.RSSBytes>>20, p.CPUSeconds, p.Cores)
	}
	if d := r.Data; d != nil {
		printDisk(w, d)
	}
}
