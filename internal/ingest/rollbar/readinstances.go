package rollbar

import (
	"encoding/json"
	"net/http"

	"lookout/internal/store"
)

// instanceJSON is an occurrence as Rollbar's Read API shows it ("instance"), with data as
// it was posted (normalised). trace_id, span_id and trace_url are lookout's own: the trace
// of the request that failed, when the occurrence carried one.
type instanceJSON struct {
	ID        int64           `json:"id"`
	ItemID    int64           `json:"item_id"`
	ProjectID int64           `json:"project_id"`
	Timestamp int64           `json:"timestamp"`
	Version   string          `json:"version"`
	UUID      string          `json:"uuid"`
	Data      json.RawMessage `json:"data"`
	TraceID   string          `json:"trace_id,omitempty"`
	SpanID    string          `json:"span_id,omitempty"`
	TraceURL  string          `json:"trace_url,omitempty"`
}

func (a *ReadAPI) instanceView(r *http.Request, o store.StoredOccurrence) instanceJSON {
	v := instanceJSON{ID: o.ID, ItemID: o.ItemID, ProjectID: projectID(o.Project), Timestamp: o.TimeUnixNano / 1e9,
		Version: o.CodeVersion, UUID: o.UUID, Data: json.RawMessage(o.Data)}
	if !json.Valid(v.Data) {
		v.Data = json.RawMessage("null")
	}
	if !o.TraceID.IsZero() {
		v.TraceID = o.TraceID.String()
		if !o.SpanID.IsZero() {
			v.SpanID = o.SpanID.String()
		}
		if a.uiURL != nil {
			v.TraceURL = a.uiURL(r) + "/trace/" + v.TraceID
		}
	}
	return v
}

// instances answers a page of the occurrences q selects.
func (a *ReadAPI) instances(r *http.Request, q store.OccurrenceQuery) (any, *Error) {
	p, e := page(r)
	if e != nil {
		return nil, e
	}
	q.Offset, q.Limit = (p-1)*instancesPage, instancesPage
	occs, err := a.items.Occurrences(r.Context(), q)
	if err != nil {
		return nil, a.storeError(err)
	}
	views := make([]instanceJSON, len(occs))
	for i, o := range occs {
		views[i] = a.instanceView(r, o)
	}
	return map[string]any{"instances": views, "page": p}, nil
}

// itemInstances serves GET /api/1/item/{id}/instances/.
func (a *ReadAPI) itemInstances(r *http.Request, tok *Token) (any, *Error) {
	id, e := pathID(r, "id")
	if e != nil {
		return nil, e
	}
	if _, e := a.projectItem(r, tok, id); e != nil {
		return nil, e
	}
	return a.instances(r, store.OccurrenceQuery{Project: tok.Project, ItemID: id})
}

// projectInstances serves GET /api/1/instances/.
func (a *ReadAPI) projectInstances(r *http.Request, tok *Token) (any, *Error) {
	return a.instances(r, store.OccurrenceQuery{Project: tok.Project})
}

// getInstance serves GET /api/1/instance/{id}.
func (a *ReadAPI) getInstance(r *http.Request, tok *Token) (any, *Error) {
	id, e := pathID(r, "id")
	if e != nil {
		return nil, e
	}
	o, err := a.items.Occurrence(r.Context(), id)
	if err != nil {
		return nil, a.storeError(err)
	}
	if o.Project != tok.Project {
		return nil, notFound
	}
	return a.instanceView(r, o), nil
}
