package api

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// GET /api/services
func (a *API) services(r *http.Request) (any, error) {
	names, err := a.reader.Services(r.Context())
	if err != nil {
		return nil, err
	}
	return names, nil
}

// GET /api/services/{service}/operations: the service's distinct operation names.
func (a *API) serviceOperations(r *http.Request) (any, error) {
	ops, err := a.reader.Operations(r.Context(), r.PathValue("service"))
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ops))
	seen := make(map[string]bool, len(ops))
	for _, op := range ops {
		if !seen[op.Name] {
			seen[op.Name] = true
			names = append(names, op.Name)
		}
	}
	return names, nil
}

// GET /api/operations?service=X&spanKind=server: operations with their kinds. An unspecified
// kind is sent as "", as Jaeger does.
func (a *API) operations(r *http.Request) (any, error) {
	q := r.URL.Query()
	service := q.Get(paramService)
	if service == "" {
		return nil, badRequest("parameter %q is required", paramService)
	}
	kind, allKinds, err := parseSpanKind(q.Get(paramSpanKind))
	if err != nil {
		return nil, err
	}
	ops, err := a.reader.Operations(r.Context(), service)
	if err != nil {
		return nil, err
	}
	out := make([]jaegerOperation, 0, len(ops))
	for _, op := range ops {
		if !allKinds && op.SpanKind != kind {
			continue
		}
		k := ""
		if op.SpanKind != telemetry.SpanKindUnspecified {
			k = op.SpanKind.String()
		}
		out = append(out, jaegerOperation{Name: op.Name, SpanKind: k})
	}
	return out, nil
}

// GET /api/traces: search, or fetch the traces named by traceID parameters.
func (a *API) searchTraces(r *http.Request) (any, error) {
	found, err := a.findTraces(r, false)
	if err != nil {
		return nil, err
	}
	data := make([]jaegerTrace, len(found.traces))
	for i, t := range found.traces {
		data[i] = toJaegerTrace(t.id, t.spans)
	}
	return &envelope{Data: data, Total: len(data), Errors: found.issues}, nil
}

// GET /api/traces/{traceID}. Grafana may add start and end; a trace needs no time range, so
// they are ignored.
func (a *API) getTrace(r *http.Request) (any, error) {
	id, err := parseTraceID(r.PathValue("traceID"))
	if err != nil {
		return nil, err
	}
	spans, err := a.reader.Trace(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || err == nil && len(spans) == 0 {
		return nil, notFound("trace not found")
	}
	if err != nil {
		return nil, err
	}
	return []jaegerTrace{toJaegerTrace(id, spans)}, nil
}

// GET /api/dependencies?endTs=<unix ms>&lookback=<ms>. A store that counts the service graph
// answers with its calls (graphDependencies), so that Jaeger's graph and X-Ray's agree.
func (a *API) dependencies(r *http.Request) (any, error) {
	start, end, err := parseDependencyRange(r.URL.Query(), a.now())
	if err != nil {
		return nil, err
	}
	if a.segments != nil {
		return a.graphDependencies(r.Context(), start, end)
	}
	deps, err := a.reader.Dependencies(r.Context(), start, end)
	if err != nil {
		return nil, err
	}
	out := make([]jaegerDependency, len(deps))
	for i, d := range deps {
		out[i] = jaegerDependency{Parent: d.Parent, Child: d.Child, CallCount: d.CallCount}
	}
	return out, nil
}

// foundTrace is one trace a search returned.
type foundTrace struct {
	id    telemetry.TraceID
	spans []telemetry.Span
}

// searchResult is what findTraces returns: the traces in order, and, for traceID lookups,
// an issue per id that was not found.
type searchResult struct {
	traces []foundTrace
	issues []apiIssue
}

// findTraces runs the search of /api/traces and the endpoints sharing its parameters. A query
// is answered with FindTraceIDs (findSpread when spread is set) and then a Trace per id,
// newest first; a trace deleted in between is skipped. Trace ids given as parameters are
// fetched as they are, and the ones not found are reported in the envelope's errors, as
// Jaeger does.
func (a *API) findTraces(r *http.Request, spread bool) (searchResult, error) {
	search, err := parseTraceSearch(r.URL.Query(), a.now())
	if err != nil {
		return searchResult{}, err
	}
	ctx := r.Context()
	ids := search.traceIDs
	lookup := len(ids) > 0
	switch {
	case lookup: // the ids as given
	case spread:
		ids, err = a.findSpread(ctx, search.query)
	default:
		ids, err = a.reader.FindTraceIDs(ctx, search.query)
	}
	if err != nil {
		return searchResult{}, err
	}
	traces, missing, err := a.fetchTraces(ctx, ids)
	if err != nil {
		return searchResult{}, err
	}
	res := searchResult{traces: traces}
	if lookup {
		for _, id := range missing {
			res.issues = append(res.issues, apiIssue{Code: http.StatusNotFound, Msg: "trace not found", TraceID: id.String()})
		}
	}
	return res, nil
}

// traceFetchParallelism bounds the Trace calls one request runs at once.
const traceFetchParallelism = 4

// fetchTraces gets the spans of each trace, a few at a time, keeping the order of ids. Ids
// the store does not know (or knows without spans) are returned as missing; any other error
// fails the whole fetch.
func (a *API) fetchTraces(ctx context.Context, ids []telemetry.TraceID) (found []foundTrace, missing []telemetry.TraceID, err error) {
	spans := make([][]telemetry.Span, len(ids))
	errs := make([]error, len(ids))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	next := make(chan int, len(ids))
	for i := range ids {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range min(traceFetchParallelism, len(ids)) {
		wg.Go(func() {
			for i := range next {
				if errs[i] = ctx.Err(); errs[i] != nil {
					continue
				}
				spans[i], errs[i] = a.reader.Trace(ctx, ids[i])
				if errs[i] != nil && !errors.Is(errs[i], store.ErrNotFound) {
					cancel() // the request fails; stop the other fetches
				}
			}
		})
	}
	wg.Wait()

	// Report the error that caused the failure, not a cancellation it caused in turn.
	var firstErr error
	for i, e := range errs {
		switch {
		case e == nil && len(spans[i]) > 0:
			found = append(found, foundTrace{id: ids[i], spans: spans[i]})
		case e == nil || errors.Is(e, store.ErrNotFound):
			missing = append(missing, ids[i])
		case firstErr == nil || errors.Is(firstErr, context.Canceled) && !errors.Is(e, context.Canceled):
			firstErr = e
		}
	}
	if firstErr != nil {
		return nil, nil, firstErr
	}
	return found, missing, nil
}
