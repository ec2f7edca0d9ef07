package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// paramSpread asks trace-summaries for traces from across the time range.
const paramSpread = "spread"

// A spread search splits its time range into spreadWindows windows, one FindTraceIDs call
// each, and asks each for up to spreadDepth times the limit.
const (
	spreadWindows = 50
	spreadDepth   = 5
)

// traceSummary is one row of the web UI's search results.
type traceSummary struct {
	TraceID     string           `json:"traceID"`
	RootService string           `json:"rootService"`
	RootName    string           `json:"rootName"`
	Services    []serviceSummary `json:"services"` // sorted by name
	SpanCount   int              `json:"spanCount"`
	ErrorCount  int              `json:"errorCount"` // spans with error status
	Start       int64            `json:"start"`      // earliest span start, unix µs
	Duration    int64            `json:"duration"`   // earliest start to latest end, µs
	// RootMissing is set when every span has a parent: the root has not arrived (yet), or
	// lives in a service that does not report here.
	RootMissing bool `json:"rootMissing,omitempty"`
	// Orphans counts the spans whose parent is not in the trace.
	Orphans int `json:"orphans,omitempty"`
}

type serviceSummary struct {
	Name       string `json:"name"`
	SpanCount  int    `json:"spanCount"`
	ErrorCount int    `json:"errorCount"`
}

// GET /api/v1/trace-summaries, with the parameters of /api/traces and spread=true to take
// the traces from across the time range rather than only the most recent (see findSpread).
func (a *API) traceSummaries(r *http.Request) (any, error) {
	spread := false
	if v := r.URL.Query().Get(paramSpread); v != "" {
		var err error
		if spread, err = strconv.ParseBool(v); err != nil {
			return nil, badRequest("invalid %s %s: want true or false", paramSpread, quote(v))
		}
	}
	found, err := a.findTraces(r, spread)
	if err != nil {
		return nil, err
	}
	data := make([]traceSummary, len(found.traces))
	for i, t := range found.traces {
		data[i] = summarize(t.id, t.spans)
	}
	return &envelope{Data: data, Total: len(data), Errors: found.issues}, nil
}

// summarize computes a trace's summary from its spans, in any order. The root is the
// earliest span without a parent or, when every span has one (the root is missing), the
// earliest span.
func summarize(id telemetry.TraceID, spans []telemetry.Span) traceSummary {
	sum := traceSummary{TraceID: id.String(), SpanCount: len(spans), Services: []serviceSummary{}}
	if len(spans) == 0 {
		return sum
	}
	root, earliest := -1, 0
	start, end := spans[0].StartUnixNano, spans[0].StartUnixNano
	byService := map[string]*serviceSummary{}
	ids := make(map[telemetry.SpanID]bool, len(spans))
	for i := range spans {
		ids[spans[i].SpanID] = true
	}
	for i := range spans {
		s := &spans[i]
		if s.StartUnixNano < spans[earliest].StartUnixNano {
			earliest = i
		}
		if s.ParentSpanID.IsZero() && (root < 0 || s.StartUnixNano < spans[root].StartUnixNano) {
			root = i
		}
		if !s.ParentSpanID.IsZero() && !ids[s.ParentSpanID] {
			sum.Orphans++
		}
		start = min(start, s.StartUnixNano)
		end = max(end, s.StartUnixNano, s.EndUnixNano)

		name := s.Service()
		svc := byService[name]
		if svc == nil {
			svc = &serviceSummary{Name: name}
			byService[name] = svc
		}
		svc.SpanCount++
		if s.Status.Code == telemetry.StatusError {
			svc.ErrorCount++
			sum.ErrorCount++
		}
	}
	if root < 0 {
		root = earliest
		sum.RootMissing = true
	}
	sum.RootService = spans[root].Service()
	sum.RootName = spans[root].Name
	sum.Start = micros(start)
	sum.Duration = (end - start) / 1000
	for _, svc := range byService {
		sum.Services = append(sum.Services, *svc)
	}
	slices.SortFunc(sum.Services, func(x, y serviceSummary) int { return strings.Compare(x.Name, y.Name) })
	return sum
}

// findSpread finds up to q.Limit traces from across q's time range rather than only the
// most recent ones. When more traces match than the limit, it splits the range into equal
// windows, asks for each window's most recent traces (up to spreadDepth times the limit),
// and then, oldest window first, takes from each its share of what is left of the limit,
// evenly spaced among what the window returned, so that a window with fewer traces leaves
// the rest to later ones. A search without a start, or matching no more than the limit, is
// answered as it is. The result is newest window first, like FindTraceIDs.
func (a *API) findSpread(ctx context.Context, q store.TraceQuery) ([]telemetry.TraceID, error) {
	ids, err := a.reader.FindTraceIDs(ctx, q)
	if err != nil || len(ids) < q.Limit || q.Start.IsZero() {
		return ids, err
	}
	end := q.End
	if end.IsZero() {
		end = a.now()
	}
	n := min(spreadWindows, q.Limit)
	span := end.Sub(q.Start)
	if span < time.Duration(n)*time.Millisecond {
		return ids, nil
	}
	found := make([][]telemetry.TraceID, n)
	errs := make([]error, n)
	next := make(chan int, n)
	for w := range n {
		next <- w
	}
	close(next)
	var wg sync.WaitGroup
	for range min(traceFetchParallelism, n) {
		wg.Go(func() {
			for w := range next {
				wq := q
				wq.Start = q.Start.Add(span * time.Duration(w) / time.Duration(n))
				wq.End = q.Start.Add(span * time.Duration(w+1) / time.Duration(n))
				wq.Limit = min(store.MaxLimit, spreadDepth*q.Limit)
				found[w], errs[w] = a.reader.FindTraceIDs(ctx, wq)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	taken := make([][]telemetry.TraceID, n)
	seen := make(map[telemetry.TraceID]bool, q.Limit)
	total := 0
	for w := range n {
		// Window bounds are inclusive and a trace can span windows: take each trace once.
		var fresh []telemetry.TraceID
		for _, id := range found[w] {
			if !seen[id] {
				fresh = append(fresh, id)
			}
		}
		taken[w] = evenly(fresh, (q.Limit-total+n-w-1)/(n-w))
		for _, id := range taken[w] {
			seen[id] = true
		}
		total += len(taken[w])
	}
	out := make([]telemetry.TraceID, 0, total)
	for w := n - 1; w >= 0; w-- {
		out = append(out, taken[w]...)
	}
	return out, nil
}

// evenly returns k elements of list spaced evenly, in order; all of it when it has no more.
func evenly[T any](list []T, k int) []T {
	if len(list) <= k {
		return list
	}
	out := make([]T, k)
	for i := range out {
		out[i] = list[(2*i+1)*len(list)/(2*k)]
	}
	return out
}
