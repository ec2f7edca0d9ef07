package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"lookout/internal/query"
)

// The web UI's query builder: Honeycomb queries, BubbleUp, raw events and the fields to
// offer, in Jaeger's envelope like the rest of this API. A body's "dataset" is a dataset
// name, or "" or "__all__" for every dataset.

// exploreRequest is the body of the query builder's POST requests.
type exploreRequest struct {
	Dataset   string     `json:"dataset"`
	Query     query.Spec `json:"query"`
	Selection *struct {
		Filters []query.Filter `json:"filters"`
		Start   int64          `json:"start"` // unix ms; 0 for none
		End     int64          `json:"end"`
	} `json:"selection"`
	Limit int `json:"limit"`
}

// exploreResult is a query's result with the range it covered.
type exploreResult struct {
	*query.Result
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Granularity int64     `json:"granularity"` // seconds
	Millis      int64     `json:"millis"`      // time the store took
}

func (a *API) registerExplore(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/datasets", a.wrap(a.exploreDatasets))
	mux.Handle("GET /api/v1/columns", a.wrap(a.exploreColumns))
	mux.Handle("GET /api/v1/values", a.wrap(a.exploreValues))
	mux.Handle("POST /api/v1/query", a.wrap(a.exploreQuery))
	mux.Handle("POST /api/v1/bubbleup", a.wrap(a.exploreBubbleUp))
	mux.Handle("POST /api/v1/events", a.wrap(a.exploreEvents))
}

func datasetList(name string) []string {
	if name == "" || name == allDatasets {
		return nil
	}
	return []string{name}
}

func (a *API) readRequest(r *http.Request) (*exploreRequest, *query.Query, error) {
	var req exploreRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	if err := dec.Decode(&req); err != nil {
		return nil, nil, badRequest("invalid JSON body: %v", err)
	}
	q, err := req.Query.Resolve(a.now())
	if err != nil {
		return nil, nil, err
	}
	return &req, q, nil
}

func withTimeout(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), queryTimeout)
}

// POST /api/v1/query {dataset, query}
func (a *API) exploreQuery(r *http.Request) (any, error) {
	req, q, err := a.readRequest(r)
	if err != nil {
		return nil, err
	}
	ctx, cancel := withTimeout(r)
	defer cancel()
	began := time.Now()
	res, err := a.explore.RunQuery(ctx, q, datasetList(req.Dataset))
	if err != nil {
		return nil, err
	}
	return exploreResult{Result: res, Start: q.Start.UTC(), End: q.End.UTC(), Granularity: int64(q.Granularity.Seconds()),
		Millis: time.Since(began).Milliseconds()}, nil
}

// POST /api/v1/bubbleup {dataset, query, selection: {filters, start, end}}
func (a *API) exploreBubbleUp(r *http.Request) (any, error) {
	req, q, err := a.readRequest(r)
	if err != nil {
		return nil, err
	}
	if req.Selection == nil {
		return nil, badRequest("a selection is required")
	}
	sel := query.Selection{Filters: req.Selection.Filters}
	if req.Selection.Start > 0 {
		sel.Start = time.UnixMilli(req.Selection.Start)
	}
	if req.Selection.End > 0 {
		sel.End = time.UnixMilli(req.Selection.End)
	}
	if err := sel.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := withTimeout(r)
	defer cancel()
	return a.explore.BubbleUp(ctx, q, datasetList(req.Dataset), sel)
}

// POST /api/v1/events {dataset, query, limit}
func (a *API) exploreEvents(r *http.Request) (any, error) {
	req, q, err := a.readRequest(r)
	if err != nil {
		return nil, err
	}
	limit := req.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	ctx, cancel := withTimeout(r)
	defer cancel()
	return a.explore.Events(ctx, q, datasetList(req.Dataset), limit)
}

// GET /api/v1/datasets
func (a *API) exploreDatasets(r *http.Request) (any, error) {
	all, err := a.explore.Datasets(r.Context())
	if err != nil {
		return nil, err
	}
	out := make([]hcDataset, len(all))
	for i, d := range all {
		out[i] = toHCDataset(d)
	}
	return out, nil
}

type exploreColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// GET /api/v1/columns?dataset=
func (a *API) exploreColumns(r *http.Request) (any, error) {
	names := datasetList(r.URL.Query().Get("dataset"))
	if names == nil {
		all, err := a.explore.Datasets(r.Context())
		if err != nil {
			return nil, err
		}
		for _, d := range all {
			names = append(names, d.Name)
		}
	}
	cols := slices.Clone(standardColumns)
	for _, n := range names {
		stored, err := a.explore.Columns(r.Context(), n)
		if err != nil {
			return nil, err
		}
		cols = append(cols, stored...)
	}
	seen := map[string]bool{}
	out := []exploreColumn{}
	for _, c := range cols {
		if !seen[c.Name] {
			seen[c.Name] = true
			out = append(out, exploreColumn{Name: c.Name, Type: columnType(c.Kind)})
		}
	}
	slices.SortFunc(out, func(x, y exploreColumn) int { return strings.Compare(x.Name, y.Name) })
	return out, nil
}

// GET /api/v1/values?dataset=&column=&prefix= : the column's most frequent values over the
// last two hours, for autocomplete.
func (a *API) exploreValues(r *http.Request) (any, error) {
	p := r.URL.Query()
	column := p.Get("column")
	spec := query.Spec{Breakdowns: []string{column}, Limit: 20,
		Filters: []query.Filter{{Column: column, Op: query.FilterExists}}}
	if prefix := p.Get("prefix"); prefix != "" {
		spec.Filters = append(spec.Filters, query.Filter{Column: column, Op: query.FilterStartsWith, Value: prefix})
	}
	q, err := spec.Resolve(a.now())
	if err != nil {
		return nil, err
	}
	ctx, cancel := withTimeout(r)
	defer cancel()
	res, err := a.explore.RunQuery(ctx, q, datasetList(p.Get("dataset")))
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, row := range res.Results {
		out = append(out, row.Data[column])
	}
	return out, nil
}
