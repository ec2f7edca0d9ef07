package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

type queryOptions struct {
	ui       string
	n        int
	traceIDs string // file of "<trace id hex> <span count>" lines, as ingest --trace-ids-out writes
	lookback string
	limit    int
	kinds    []string
	seed     uint64
	timeout  time.Duration
	wait     time.Duration // with traceIDs: how long to wait for the last ones to be readable
	jsonOut  bool
	jsonFile string
}

var queryKinds = []string{"services", "trace", "search", "search-op", "search-tag"}

type queryReport struct {
	UI              string       `json:"ui"`
	N               int          `json:"n"`
	Lookback        string       `json:"lookback"`
	Limit           int          `json:"limit"`
	Services        int          `json:"services"`
	KnownTraceIDs   int          `json:"known_trace_ids"`
	TraceIDsFrom    string       `json:"trace_ids_from"`
	WaitedSeconds   float64      `json:"waited_seconds"` // until the last traces sent were readable
	Kinds           []kindReport `json:"kinds"`
	SpanMismatches  int          `json:"span_count_mismatches"` // traces whose span count differs from what was sent
	MissingTraces   int          `json:"missing_traces"`        // known trace ids not found
	MismatchSamples []string     `json:"mismatch_samples,omitempty"`
}

type kindReport struct {
	Kind        string   `json:"kind"`
	Example     string   `json:"example"`
	Count       int      `json:"count"`
	Errors      int      `json:"errors"`
	P50         float64  `json:"p50_ms"`
	P95         float64  `json:"p95_ms"`
	Max         float64  `json:"max_ms"`
	Mean        float64  `json:"mean_ms"`
	First       float64  `json:"first_ms"`     // the first of its kind, possibly cold
	MeanResults float64  `json:"mean_results"` // traces (or services) returned
	MeanSpans   float64  `json:"mean_spans"`   // spans returned
	MeanBytes   float64  `json:"mean_bytes"`
	ErrorSample []string `json:"error_samples,omitempty"`
	lat         []float64
}

type knownTrace struct {
	id    string
	spans int // 0 when unknown
}

type jaegerResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	} `json:"errors"`
}

type jaegerTrace struct {
	TraceID string            `json:"traceID"`
	Spans   []json.RawMessage `json:"spans"`
}

type queryClient struct {
	base   string
	client *http.Client
}

// get fetches path and decodes the Jaeger envelope; it returns the time to the last byte.
func (c *queryClient) get(ctx context.Context, path string) (*jaegerResponse, int, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, 0, 0, err
	}
	t0 := time.Now()
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, 0, time.Since(t0), err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	lat := time.Since(t0)
	if err != nil {
		return nil, 0, lat, err
	}
	var jr jaegerResponse
	if err := json.Unmarshal(body, &jr); err != nil {
		return nil, len(body), lat, fmt.Errorf("HTTP %d, undecodable body: %v", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := ""
		if len(jr.Errors) > 0 {
			msg = ": " + jr.Errors[0].Msg
		}
		return &jr, len(body), lat, fmt.Errorf("HTTP %d%s", resp.StatusCode, msg)
	}
	return &jr, len(body), lat, nil
}

func runQuery(ctx context.Context, o queryOptions, stdout, stderr io.Writer) error {
	if o.n < 1 {
		return errors.New("--n must be positive")
	}
	for _, k := range o.kinds {
		if !slices.Contains(queryKinds, k) {
			return fmt.Errorf("unknown query kind %q; kinds are %s", k, strings.Join(queryKinds, ", "))
		}
	}
	c := &queryClient{base: strings.TrimRight(o.ui, "/"), client: &http.Client{Timeout: o.timeout}}
	rng := rand.New(rand.NewPCG(o.seed, 0x9e3779b97f4a7c15))
	rep := &queryReport{UI: o.ui, N: o.n, Lookback: o.lookback, Limit: o.limit}

	// Discover what there is to ask for; these requests are not measured. With --wait, first
	// wait until the last traces sent can be read.
	jr, _, _, err := c.get(ctx, "/api/services")
	if err != nil {
		return fmt.Errorf("list services: %w", err)
	}
	var services []string
	if err := json.Unmarshal(jr.Data, &services); err != nil {
		return fmt.Errorf("list services: %w", err)
	}
	if len(services) == 0 {
		return errors.New("lookout knows no services; fill it first")
	}
	rep.Services = len(services)
	operations := map[string][]string{}
	for _, s := range services {
		jr, _, _, err := c.get(ctx, "/api/services/"+url.PathEscape(s)+"/operations")
		if err != nil {
			return fmt.Errorf("operations of %s: %w", s, err)
		}
		var ops []string
		if err := json.Unmarshal(jr.Data, &ops); err != nil {
			return fmt.Errorf("operations of %s: %w", s, err)
		}
		if len(ops) > 0 {
			operations[s] = ops
		}
	}
	var traces []knownTrace
	if o.traceIDs != "" {
		if traces, err = readTraceIDs(o.traceIDs); err != nil {
			return err
		}
		rep.TraceIDsFrom = o.traceIDs
		if o.wait > 0 {
			waited, err := waitLoaded(ctx, c, traces, o.wait)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				fmt.Fprintln(stderr, "loadgen: warning:", err)
			}
			rep.WaitedSeconds = waited.Seconds()
		}
	} else {
		rep.TraceIDsFrom = "searches"
		for _, s := range services {
			jr, _, _, err := c.get(ctx, "/api/traces?"+url.Values{"service": {s}, "limit": {"100"}, "lookback": {o.lookback}}.Encode())
			if err != nil {
				return fmt.Errorf("search %s: %w", s, err)
			}
			var ts []jaegerTrace
			json.Unmarshal(jr.Data, &ts)
			for _, t := range ts {
				traces = append(traces, knownTrace{id: t.TraceID})
			}
		}
	}
	if len(traces) == 0 && slices.Contains(o.kinds, "trace") {
		return errors.New("no trace ids to fetch")
	}
	rep.KnownTraceIDs = len(traces)

	kinds := map[string]*kindReport{}
	for _, k := range o.kinds {
		kinds[k] = &kindReport{Kind: k}
	}
	limit := strconv.Itoa(o.limit)
	search := func(v url.Values) string {
		v.Set("limit", limit)
		v.Set("lookback", o.lookback)
		return "/api/traces?" + v.Encode()
	}
	opServices := make([]string, 0, len(operations))
	for s := range operations {
		opServices = append(opServices, s)
	}
	slices.Sort(opServices)

	// Rounds of one query of each kind, in a shuffled order, so that every kind sees the
	// same conditions.
	order := slices.Clone(o.kinds)
	for i := 0; i < o.n; i++ {
		rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for _, kind := range order {
			var path string
			var want knownTrace
			switch kind {
			case "services":
				path = "/api/services"
			case "trace":
				want = traces[rng.IntN(len(traces))]
				path = "/api/traces/" + want.id
			case "search":
				path = search(url.Values{"service": {services[rng.IntN(len(services))]}})
			case "search-op":
				if len(opServices) == 0 {
					continue
				}
				s := opServices[rng.IntN(len(opServices))]
				ops := operations[s]
				path = search(url.Values{"service": {s}, "operation": {ops[rng.IntN(len(ops))]}})
			case "search-tag":
				tags, _ := json.Marshal(map[string]string{"user.id": "user-" + strconv.Itoa(rng.IntN(10000))})
				path = search(url.Values{"service": {services[rng.IntN(len(services))]}, "tags": {string(tags)}})
			}
			kr := kinds[kind]
			if kr.Example == "" {
				kr.Example = path
			}
			jr, size, lat, err := c.get(ctx, path)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			ms := float64(lat) / 1e6
			if kr.Count == 0 && kr.Errors == 0 {
				kr.First = ms
			}
			if err != nil && !(kind == "trace" && strings.HasPrefix(err.Error(), "HTTP 404")) {
				kr.Errors++
				if len(kr.ErrorSample) < 3 {
					kr.ErrorSample = append(kr.ErrorSample, path+": "+err.Error())
				}
				continue
			}
			kr.Count++
			kr.lat = append(kr.lat, ms)
			kr.MeanBytes += float64(size)
			switch kind {
			case "services":
				var ss []string
				json.Unmarshal(jr.Data, &ss)
				kr.MeanResults += float64(len(ss))
			default:
				var ts []jaegerTrace
				json.Unmarshal(jr.Data, &ts)
				kr.MeanResults += float64(len(ts))
				for _, t := range ts {
					kr.MeanSpans += float64(len(t.Spans))
				}
				if kind == "trace" {
					got := 0
					if len(ts) == 1 {
						got = len(ts[0].Spans)
					}
					switch {
					case got == 0:
						rep.MissingTraces++
					case want.spans > 0 && got != want.spans:
						rep.SpanMismatches++
					default:
						continue
					}
					if len(rep.MismatchSamples) < 5 {
						rep.MismatchSamples = append(rep.MismatchSamples, fmt.Sprintf("trace %s: %d spans, sent %d", want.id, got, want.spans))
					}
				}
			}
		}
	}
	for _, k := range o.kinds {
		kr := kinds[k]
		if kr.Count > 0 {
			var sum float64
			for _, x := range kr.lat {
				sum += x
			}
			kr.P50, kr.P95, kr.Max, kr.Mean = quantile(kr.lat, 0.5), quantile(kr.lat, 0.95), slices.Max(kr.lat), sum/float64(kr.Count)
			kr.MeanResults /= float64(kr.Count)
			kr.MeanSpans /= float64(kr.Count)
			kr.MeanBytes /= float64(kr.Count)
		}
		rep.Kinds = append(rep.Kinds, *kr)
	}
	if err := writeJSONFile(o.jsonFile, rep); err != nil {
		return err
	}
	if o.jsonOut {
		return writeJSON(stdout, rep)
	}
	printQueryReport(stdout, rep)
	return nil
}

func readTraceIDs(path string) ([]knownTrace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ts []knownTrace
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		t := knownTrace{id: fields[0]}
		if len(fields) > 1 {
			t.spans, _ = strconv.Atoi(fields[1])
		}
		ts = append(ts, t)
	}
	return ts, sc.Err()
}

func printQueryReport(w io.Writer, r *queryReport) {
	fmt.Fprintf(w, "query report: %s, %d of each kind, one at a time; %d services, %d known trace ids (from %s)\n",
		r.UI, r.N, r.Services, r.KnownTraceIDs, r.TraceIDsFrom)
	if r.WaitedSeconds > 0 {
		fmt.Fprintf(w, "  waited %.2fs for the last traces sent to be readable\n", r.WaitedSeconds)
	}
	fmt.Fprintf(w, "  %-11s %8s %8s %8s %8s %8s %9s %10s %s\n", "kind", "p50 ms", "p95 ms", "max ms", "mean ms", "first ms", "results", "KiB/answer", "errors")
	for _, k := range r.Kinds {
		results := fmt.Sprintf("%.1f", k.MeanResults)
		if k.Kind != "services" {
			results = fmt.Sprintf("%.1f/%.0f", k.MeanResults, k.MeanSpans)
		}
		fmt.Fprintf(w, "  %-11s %8.1f %8.1f %8.1f %8.1f %8.1f %9s %10.1f %d\n", k.Kind, k.P50, k.P95, k.Max, k.Mean, k.First, results, k.MeanBytes/1024, k.Errors)
	}
	fmt.Fprintf(w, "  (results: traces/spans per answer for trace and search kinds)\n")
	for _, k := range r.Kinds {
		fmt.Fprintf(w, "  e.g. %-11s GET %s\n", k.Kind, k.Example)
		for _, e := range k.ErrorSample {
			fmt.Fprintf(w, "       error: %s\n", e)
		}
	}
	if r.SpanMismatches > 0 || r.MissingTraces > 0 {
		fmt.Fprintf(w, "  CHECK FAILED: %d traces missing, %d with a different span count than sent\n", r.MissingTraces, r.SpanMismatches)
		for _, s := range r.MismatchSamples {
			fmt.Fprintf(w, "       %s\n", s)
		}
	} else if r.TraceIDsFrom != "searches" {
		fmt.Fprintf(w, "  every trace fetched had the span count that was sent\n")
	}
}

// waitLoaded polls until the last traces of the list (the last acknowledged) can be read
// whole: lookout acknowledges from its ingest log and loads the store behind it, so this is
// how long the store lags the acknowledgements. It returns the time waited.
func waitLoaded(ctx context.Context, c *queryClient, traces []knownTrace, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	last := traces[max(0, len(traces)-8):]
	for {
		ready := 0
		for _, t := range last {
			jr, _, _, err := c.get(ctx, "/api/traces/"+t.id)
			if err != nil {
				continue
			}
			var ts []jaegerTrace
			json.Unmarshal(jr.Data, &ts)
			if len(ts) == 1 && (t.spans == 0 || len(ts[0].Spans) >= t.spans) {
				ready++
			}
		}
		if ready == len(last) {
			return time.Since(start), nil
		}
		if time.Since(start) > timeout {
			return time.Since(start), fmt.Errorf("after %v only %d of the last %d traces sent are readable", timeout, ready, len(last))
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
