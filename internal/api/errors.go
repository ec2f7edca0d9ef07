package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"lookout/internal/store"
	"lookout/internal/triage"
)

// The web UI's error pages read and triage Rollbar items here, on the UI's port and without
// access tokens, like every other page:
//
//	GET  /api/v1/errors/projects
//	GET  /api/v1/errors/items?project=&status=&level=&environment=&q=&sort=&traceID=&limit=&offset=
//	GET  /api/v1/errors/items/{id}              the item, its history, breakdowns, hourly counts
//	GET  /api/v1/errors/items/{id}/occurrences?traceID=&limit=&offset=
//	                                            newest first; with traceID, those in that trace
//	POST /api/v1/errors/items/{id}              {status, resolvedInVersion, assignedTo}
//	GET  /api/v1/errors/versions?project=       code versions, newest first, with their items
//	GET  /api/v1/errors/deploys?project=        the latest 100 deploys, newest first

// ItemStore is what the error pages need of the store.
type ItemStore interface {
	store.ItemReader
	store.ItemTriager
}

func (a *API) registerErrors(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/errors/projects", a.wrap(a.errorProjects))
	mux.Handle("GET /api/v1/errors/items", a.wrap(a.errorItems))
	mux.Handle("GET /api/v1/errors/items/{id}", a.wrap(a.errorItem))
	mux.Handle("GET /api/v1/errors/items/{id}/occurrences", a.wrap(a.errorOccurrences))
	mux.Handle("POST /api/v1/errors/items/{id}", a.wrap(a.triageItem))
	mux.Handle("GET /api/v1/errors/versions", a.wrap(a.errorVersions))
	mux.Handle("GET /api/v1/errors/deploys", a.wrap(a.errorDeploys))
}

// sparkBuckets is the number of hours an items list's sparklines cover.
const sparkBuckets = 24

// errorItem is an item as the UI shows it.
type errorItem struct {
	ID                int64     `json:"id"`
	Project           string    `json:"project"`
	Counter           int64     `json:"counter"`
	Environment       string    `json:"environment"`
	Fingerprint       string    `json:"fingerprint"`
	Grouping          string    `json:"grouping"`
	Title             string    `json:"title"`
	Level             string    `json:"level"`
	Class             string    `json:"class"`
	Framework         string    `json:"framework"`
	Platform          string    `json:"platform"`
	Language          string    `json:"language"`
	Status            string    `json:"status"`
	ResolvedInVersion string    `json:"resolvedInVersion"`
	AssignedTo        string    `json:"assignedTo"`
	Total             int64     `json:"total"`
	People            int64     `json:"people"`
	FirstSeen         time.Time `json:"firstSeen"`
	LastSeen          time.Time `json:"lastSeen"`
	Counts            []int64   `json:"counts,omitempty"` // occurrences per hour, oldest first
}

func toErrorItem(it store.Item, counts []int64) errorItem {
	return errorItem{ID: it.ID, Project: it.Project, Counter: it.Counter, Environment: it.Environment, Fingerprint: it.Fingerprint,
		Grouping: it.Grouping, Title: it.Title, Level: it.Level, Class: it.Class, Framework: it.Framework, Platform: it.Platform,
		Language: it.Language, Status: string(it.Status), ResolvedInVersion: it.ResolvedInVersion, AssignedTo: it.AssignedTo,
		Total: it.Total, People: it.People, FirstSeen: it.FirstSeen, LastSeen: it.LastSeen, Counts: counts}
}

// itemEvent is an entry of an item's history as the UI shows it.
type itemEvent struct {
	Time    time.Time `json:"time"`
	Kind    string    `json:"kind"`
	Version string    `json:"version,omitempty"`
	By      string    `json:"by,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

// valueCount is a breakdown's row.
type valueCount struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

func (a *API) errorProjects(r *http.Request) (any, error) {
	p, err := a.items.Projects(r.Context())
	if p == nil {
		p = []string{}
	}
	return p, err
}

func (a *API) errorItems(r *http.Request) (any, error) {
	qv := r.URL.Query()
	q := store.ItemQuery{Project: qv.Get("project"), Levels: qv["level"], Environments: qv["environment"], Text: qv.Get("q"),
		Sort: store.ItemSort(qv.Get("sort"))}
	switch q.Sort {
	case "", store.SortLastSeen, store.SortCount, store.SortFirstSeen:
	default:
		return nil, badRequest("invalid sort %s: want last_seen, count or first_seen", quote(qv.Get("sort")))
	}
	for _, s := range qv["status"] {
		st, err := triage.ParseStatus(s)
		if err != nil {
			return nil, badRequest("invalid status %s: want active, resolved or muted", quote(s))
		}
		q.Statuses = append(q.Statuses, st)
	}
	if s := qv.Get("traceID"); s != "" {
		var err error
		if q.TraceID, err = parseTraceID(s); err != nil {
			return nil, err
		}
	}
	var err error
	if q.Limit, err = parseLimit(qv.Get("limit")); err != nil {
		return nil, err
	}
	if q.Offset, err = parseOffset(qv.Get("offset")); err != nil {
		return nil, err
	}
	items, total, err := a.items.Items(r.Context(), q)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(items))
	for i := range items {
		ids[i] = items[i].ID
	}
	start := a.now().Truncate(time.Hour).Add(-(sparkBuckets - 1) * time.Hour)
	counts, err := a.items.OccurrenceCounts(r.Context(), store.CountQuery{Items: ids, Start: start, Step: time.Hour, Buckets: sparkBuckets})
	if err != nil {
		return nil, err
	}
	out := make([]errorItem, len(items))
	for i, it := range items {
		out[i] = toErrorItem(it, counts[it.ID])
	}
	return &envelope{Data: out, Total: total, Limit: q.Limit, Offset: q.Offset}, nil
}

func parseOffset(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 1_000_000 {
		return 0, badRequest("invalid offset %s: want a non-negative integer", quote(s))
	}
	return n, nil
}

func itemID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound("no such item")
	}
	return id, nil
}

// itemDetail is what the item page shows besides occurrences.
type itemDetail struct {
	Item       errorItem               `json:"item"`
	Events     []itemEvent             `json:"events"`
	Breakdowns map[string][]valueCount `json:"breakdowns"`
	Hourly     []int64                 `json:"hourly"` // the last 48 hours, oldest first
	Daily      []int64                 `json:"daily"`  // the last 30 days
	Now        time.Time               `json:"now"`    // the end of the last bucket
}

func (a *API) errorItem(r *http.Request) (any, error) {
	id, err := itemID(r)
	if err != nil {
		return nil, err
	}
	it, err := a.items.Item(r.Context(), id)
	if err != nil {
		return nil, err
	}
	d := itemDetail{Item: toErrorItem(it, nil), Events: []itemEvent{}, Breakdowns: map[string][]valueCount{}}
	events, err := a.items.ItemEvents(r.Context(), id)
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		d.Events = append(d.Events, itemEvent{Time: e.Time, Kind: string(e.Kind), Version: e.Version, By: e.By, Detail: e.Detail})
	}
	for _, f := range store.BreakdownFields {
		vcs, err := a.items.Breakdown(r.Context(), id, f, 5)
		if err != nil {
			return nil, err
		}
		d.Breakdowns[string(f)] = []valueCount{}
		for _, vc := range vcs {
			d.Breakdowns[string(f)] = append(d.Breakdowns[string(f)], valueCount{vc.Value, vc.Count})
		}
	}
	end := a.now().Truncate(time.Hour).Add(time.Hour)
	d.Now = end
	hourly, err := a.items.OccurrenceCounts(r.Context(), store.CountQuery{Items: []int64{id}, Start: end.Add(-48 * time.Hour), Step: time.Hour, Buckets: 48})
	if err != nil {
		return nil, err
	}
	daily, err := a.items.OccurrenceCounts(r.Context(), store.CountQuery{Items: []int64{id}, Start: end.Add(-30 * 24 * time.Hour), Step: 24 * time.Hour, Buckets: 30})
	if err != nil {
		return nil, err
	}
	d.Hourly, d.Daily = hourly[id], daily[id]
	return d, nil
}

// errorOccurrence is an occurrence as the UI shows it, with its report as JSON.
type errorOccurrence struct {
	ID          int64           `json:"id"`
	UUID        string          `json:"uuid"`
	Time        time.Time       `json:"time"`
	Level       string          `json:"level"`
	Title       string          `json:"title"`
	CodeVersion string          `json:"codeVersion,omitempty"`
	Host        string          `json:"host,omitempty"`
	Person      string          `json:"person,omitempty"`
	Browser     string          `json:"browser,omitempty"`
	OS          string          `json:"os,omitempty"`
	TraceID     string          `json:"traceID,omitempty"`
	SpanID      string          `json:"spanID,omitempty"`
	Data        json.RawMessage `json:"data"`
}

func (a *API) errorOccurrences(r *http.Request) (any, error) {
	id, err := itemID(r)
	if err != nil {
		return nil, err
	}
	q := store.OccurrenceQuery{ItemID: id}
	if s := r.URL.Query().Get("traceID"); s != "" { // the trace page asks which of its spans had them
		if q.TraceID, err = parseTraceID(s); err != nil {
			return nil, err
		}
	}
	if q.Limit, err = parseLimit(r.URL.Query().Get("limit")); err != nil {
		return nil, err
	}
	if q.Offset, err = parseOffset(r.URL.Query().Get("offset")); err != nil {
		return nil, err
	}
	occs, err := a.items.Occurrences(r.Context(), q)
	if err != nil {
		return nil, err
	}
	out := make([]errorOccurrence, len(occs))
	for i, o := range occs {
		data := json.RawMessage(o.Data)
		if !json.Valid(data) {
			data = json.RawMessage("null")
		}
		out[i] = errorOccurrence{ID: o.ID, UUID: o.UUID, Time: time.Unix(0, o.TimeUnixNano).UTC(), Level: o.Level, Title: o.Title,
			CodeVersion: o.CodeVersion, Host: o.Host, Person: o.PersonID, Browser: o.Browser, OS: o.OS, Data: data}
		if !o.TraceID.IsZero() {
			out[i].TraceID, out[i].SpanID = o.TraceID.String(), o.SpanID.String()
		}
	}
	return out, nil
}

// triageRequest is the body of POST /api/v1/errors/items/{id}; absent fields stay.
type triageRequest struct {
	Status            *string `json:"status"`
	ResolvedInVersion string  `json:"resolvedInVersion"`
	AssignedTo        *string `json:"assignedTo"`
}

func (a *API) triageItem(r *http.Request) (any, error) {
	id, err := itemID(r)
	if err != nil {
		return nil, err
	}
	var req triageRequest
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10)).Decode(&req); err != nil {
		return nil, badRequest("the body is not the JSON object expected")
	}
	u := store.ItemUpdate{By: "web UI", Time: a.now(), AssignedTo: req.AssignedTo}
	if req.Status != nil {
		st, err := triage.ParseStatus(*req.Status)
		if err != nil {
			return nil, badRequest("invalid status %s: want active, resolved or muted", quote(*req.Status))
		}
		u.Status = &st
		if st == triage.Resolved {
			if len(req.ResolvedInVersion) > 40 {
				return nil, badRequest("a version is at most 40 characters")
			}
			u.ResolvedInVersion = req.ResolvedInVersion
		}
	}
	if u.AssignedTo != nil && len(*u.AssignedTo) > 255 {
		return nil, badRequest("an assignee is at most 255 characters")
	}
	it, err := a.items.UpdateItem(r.Context(), id, u)
	if err != nil {
		return nil, err
	}
	return toErrorItem(it, nil), nil
}

// projectParam is the project a request names; versions and deploys are a project's.
func projectParam(r *http.Request) (string, error) {
	p := r.URL.Query().Get("project")
	if p == "" {
		return "", badRequest("project is required")
	}
	return p, nil
}

// version is a code version as the UI shows it.
type version struct {
	Version     string    `json:"version"`
	FirstSeen   time.Time `json:"firstSeen"`
	LastSeen    time.Time `json:"lastSeen"`
	Occurrences int64     `json:"occurrences"`
	New         int64     `json:"new"`
	Reactivated int64     `json:"reactivated"`
	Resolved    int64     `json:"resolved"`
}

func (a *API) errorVersions(r *http.Request) (any, error) {
	project, err := projectParam(r)
	if err != nil {
		return nil, err
	}
	vs, err := a.items.Versions(r.Context(), project)
	if err != nil {
		return nil, err
	}
	out := make([]version, len(vs))
	for i, v := range vs {
		out[i] = version{v.Version, v.FirstSeen, v.LastSeen, v.Occurrences, v.New, v.Reactivated, v.Resolved}
	}
	return out, nil
}

// deploy is a deploy as the UI shows it.
type deploy struct {
	ID            int64     `json:"id"`
	Environment   string    `json:"environment"`
	Revision      string    `json:"revision"`
	LocalUsername string    `json:"localUsername,omitempty"`
	RollbarUser   string    `json:"rollbarUser,omitempty"`
	Comment       string    `json:"comment,omitempty"`
	Status        string    `json:"status"`
	StartTime     time.Time `json:"startTime"`
	FinishTime    time.Time `json:"finishTime,omitzero"`
}

func (a *API) errorDeploys(r *http.Request) (any, error) {
	project, err := projectParam(r)
	if err != nil {
		return nil, err
	}
	ds, err := a.items.Deploys(r.Context(), project, 0, 100)
	if err != nil {
		return nil, err
	}
	out := make([]deploy, len(ds))
	for i, d := range ds {
		out[i] = deploy{d.ID, d.Environment, d.Revision, d.LocalUsername, d.RollbarUser, d.Comment, d.Status, d.StartTime, d.FinishTime}
	}
	return out, nil
}
