package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"lookout/internal/honeycomb"
	"lookout/internal/query"
	"lookout/internal/store"
)

// Honeycomb's Query Data API: a query is created (validated, given an id that depends only on
// its content), then a query result is created for it and read back. lookout runs the query
// when the result is created, so the result is complete at once; clients that poll see
// complete:true on their first read.

// queryTimeout bounds one query's run.
const queryTimeout = 60 * time.Second

// maxKept is how many queries and results the API keeps for reading back by id.
const maxKept = 1000

// allDatasets is the dataset slug that stands for every dataset of the environment.
const allDatasets = "__all__"

// kept is a bounded map that forgets its oldest entries.
type kept[V any] struct {
	mu    sync.Mutex
	m     map[string]V
	order []string
}

func (k *kept[V]) put(id string, v V) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]V{}
	}
	if _, ok := k.m[id]; !ok {
		k.order = append(k.order, id)
	}
	k.m[id] = v
	for len(k.order) > maxKept {
		delete(k.m, k.order[0])
		k.order = k.order[1:]
	}
}

func (k *kept[V]) get(id string) (V, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[id]
	return v, ok
}

// hcQuery is a query as the API returns it: its spec and id.
type hcQuery struct {
	ID string `json:"id"`
	query.Spec
}

// hcQueryResult is a query result as the API returns it.
type hcQueryResult struct {
	ID       string            `json:"id"`
	Complete bool              `json:"complete"`
	Query    hcQuery           `json:"query"`
	Data     *hcResultData     `json:"data,omitempty"`
	Links    map[string]string `json:"links"`
}

type hcResultData struct {
	Series  []query.Row `json:"series,omitempty"`
	Results []query.Row `json:"results"`
}

type queryKey struct{ dataset, id string }

// datasetsOf resolves a path's {dataset} for queries: nil for __all__ (every dataset), else
// the dataset's name. When it reports false it has answered the request.
func (h *Honeycomb) datasetsOf(w http.ResponseWriter, r *http.Request) ([]string, bool) {
	if err := honeycomb.ValidateDataset(r.PathValue("dataset")); err != nil {
		hcError(w, http.StatusBadRequest, err.Error())
		return nil, false
	}
	if r.PathValue("dataset") == allDatasets {
		return nil, h.authorized(w, r)
	}
	d, ok := h.lookup(w, r)
	return []string{d.Name}, ok
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	if err := dec.Decode(v); err != nil {
		hcError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return false
	}
	return true
}

func (h *Honeycomb) createQuery(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.datasetsOf(w, r); !ok {
		return
	}
	var spec query.Spec
	if !decodeBody(w, r, &spec) {
		return
	}
	if _, err := spec.Resolve(time.Now()); err != nil {
		hcError(w, http.StatusBadRequest, err.Error())
		return
	}
	q := hcQuery{ID: spec.ID(), Spec: spec}
	h.queries.put(queryKey{r.PathValue("dataset"), q.ID}.String(), q)
	hcJSON(w, q)
}

func (k queryKey) String() string { return strings.ToLower(k.dataset) + "\x00" + k.id }

func (h *Honeycomb) getQuery(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.datasetsOf(w, r); !ok {
		return
	}
	q, ok := h.queries.get(queryKey{r.PathValue("dataset"), r.PathValue("id")}.String())
	if !ok {
		hcError(w, http.StatusNotFound, "query not found")
		return
	}
	hcJSON(w, q)
}

func (h *Honeycomb) createQueryResult(w http.ResponseWriter, r *http.Request) {
	datasets, ok := h.datasetsOf(w, r)
	if !ok {
		return
	}
	var req struct {
		QueryID       string `json:"query_id"`
		DisableSeries bool   `json:"disable_series"`
		Limit         int    `json:"limit"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	q, ok := h.queries.get(queryKey{r.PathValue("dataset"), req.QueryID}.String())
	if !ok {
		hcError(w, http.StatusNotFound, "query not found: create it with POST /1/queries/"+r.PathValue("dataset"))
		return
	}
	resolved, err := q.Spec.Resolve(time.Now())
	if err != nil {
		hcError(w, http.StatusBadRequest, err.Error())
		return
	}
	if req.Limit > 0 && req.DisableSeries {
		resolved.Limit = min(req.Limit, 10_000)
	}
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	res, err := h.reader.RunQuery(ctx, resolved, datasets)
	if err != nil {
		h.queryFailed(w, err)
		return
	}
	data := &hcResultData{Results: res.Results}
	if !req.DisableSeries {
		data.Series = res.Series
	}
	id := newResultID()
	out := hcQueryResult{ID: id, Complete: true, Query: q, Data: data, Links: map[string]string{
		"query_url": h.uiURL(r) + "/query?dataset=" + url.QueryEscape(r.PathValue("dataset")) + "&q=" + url.QueryEscape(string(mustJSON(q.Spec))),
	}}
	h.results.put(queryKey{r.PathValue("dataset"), id}.String(), out)
	w.Header().Set("Location", "/1/query_results/"+url.PathEscape(r.PathValue("dataset"))+"/"+id)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(out)
}

func (h *Honeycomb) getQueryResult(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.datasetsOf(w, r); !ok {
		return
	}
	res, ok := h.results.get(queryKey{r.PathValue("dataset"), r.PathValue("id")}.String())
	if !ok {
		hcError(w, http.StatusNotFound, "query result not found")
		return
	}
	w.Header().Set("Cache-Control", "private, max-age=86400")
	hcJSON(w, res)
}

// queryFailed answers a failed query: the user's mistake as 400, a deadline as 504, the
// rest as 500.
func (h *Honeycomb) queryFailed(w http.ResponseWriter, err error) {
	var qe *query.Error
	switch {
	case errors.As(err, &qe), errors.Is(err, store.ErrUnsupported):
		hcError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		hcError(w, http.StatusGatewayTimeout, "the query took longer than "+queryTimeout.String())
	default:
		h.internal(w, err)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// newResultID returns a random id for a query result.
func newResultID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
