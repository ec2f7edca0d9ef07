package rollbar

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"lookout/internal/store"
	"lookout/internal/triage"
)

// itemJSON is an item as Rollbar's Read API shows it; grouping, project, assigned_user
// are lookout's own.
type itemJSON struct {
	ID                       int64  `json:"id"`
	ProjectID                int64  `json:"project_id"`
	Project                  string `json:"project"`
	Counter                  int64  `json:"counter"`
	Environment              string `json:"environment"`
	Platform                 string `json:"platform"`
	Language                 string `json:"language"`
	Framework                string `json:"framework"`
	Hash                     string `json:"hash"`
	Grouping                 string `json:"grouping"`
	Title                    string `json:"title"`
	Level                    string `json:"level"`
	Status                   string `json:"status"`
	TotalOccurrences         int64  `json:"total_occurrences"`
	UniqueOccurrences        int64  `json:"unique_occurrences"`
	FirstOccurrenceID        int64  `json:"first_occurrence_id"`
	FirstOccurrenceTimestamp *int64 `json:"first_occurrence_timestamp"`
	LastOccurrenceID         int64  `json:"last_occurrence_id"`
	LastOccurrenceTimestamp  *int64 `json:"last_occurrence_timestamp"`
	LastActivatedTimestamp   *int64 `json:"last_activated_timestamp"`
	LastResolvedTimestamp    *int64 `json:"last_resolved_timestamp"`
	ResolvedInVersion        string `json:"resolved_in_version"`
	AssignedUser             string `json:"assigned_user"`
	LevelLock                int    `json:"level_lock"`
	TitleLock                int    `json:"title_lock"`
}

func itemView(it store.Item) itemJSON {
	lock := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	return itemJSON{ID: it.ID, ProjectID: projectID(it.Project), Project: it.Project, Counter: it.Counter, Environment: it.Environment,
		Platform: it.Platform, Language: it.Language, Framework: it.Framework, Hash: it.Fingerprint, Grouping: it.Grouping,
		Title: it.Title, Level: it.Level, Status: string(it.Status), TotalOccurrences: it.Total, UniqueOccurrences: it.People,
		FirstOccurrenceID: it.FirstOccurrence, FirstOccurrenceTimestamp: unixSeconds(it.FirstSeen),
		LastOccurrenceID: it.LastOccurrence, LastOccurrenceTimestamp: unixSeconds(it.LastSeen),
		LastActivatedTimestamp: unixSeconds(it.LastActivated), LastResolvedTimestamp: unixSeconds(it.LastResolved),
		ResolvedInVersion: it.ResolvedInVersion, AssignedUser: it.AssignedTo, LevelLock: lock(it.LevelLocked), TitleLock: lock(it.TitleLocked)}
}

// severities are Rollbar's levels, most severe first.
var severities = []string{"critical", "error", "warning", "info", "debug"}

// listItems serves GET /api/1/items/: status, level and environment (each repeatable),
// ids, query (text in the title) and page.
func (a *ReadAPI) listItems(r *http.Request, tok *Token) (any, *Error) {
	qv := r.URL.Query()
	p, e := page(r)
	if e != nil {
		return nil, e
	}
	q := store.ItemQuery{Project: tok.Project, Levels: qv["level"], Environments: qv["environment"], Text: qv.Get("query"),
		Offset: (p - 1) * itemsPage, Limit: itemsPage}
	for _, s := range qv["status"] {
		st, err := triage.ParseStatus(s)
		if err != nil {
			return nil, badRequest("%v", err)
		}
		q.Statuses = append(q.Statuses, st)
	}
	if ids := qv.Get("ids"); ids != "" {
		for _, s := range strings.Split(ids, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return nil, badRequest("ids must be a comma-separated list of item ids")
			}
			q.IDs = append(q.IDs, id)
		}
	}
	items, total, err := a.items.Items(r.Context(), q)
	if err != nil {
		return nil, a.storeError(err)
	}
	views := make([]itemJSON, len(items))
	for i, it := range items {
		views[i] = itemView(it)
	}
	return map[string]any{"items": views, "page": p, "total_count": total}, nil
}

// projectItem is item id when it belongs to the token's project; another project's item is
// not found.
func (a *ReadAPI) projectItem(r *http.Request, tok *Token, id int64) (store.Item, *Error) {
	it, err := a.items.Item(r.Context(), id)
	if err != nil {
		return it, a.storeError(err)
	}
	if it.Project != tok.Project {
		return it, notFound
	}
	return it, nil
}

// getItem serves GET /api/1/item/{id}.
func (a *ReadAPI) getItem(r *http.Request, tok *Token) (any, *Error) {
	id, e := pathID(r, "id")
	if e != nil {
		return nil, e
	}
	it, e := a.projectItem(r, tok, id)
	if e != nil {
		return nil, e
	}
	return itemView(it), nil
}

// itemByUUID serves GET /api/1/item/?uuid=…: the item of an occurrence.
func (a *ReadAPI) itemByUUID(r *http.Request, tok *Token) (any, *Error) {
	uuid := r.URL.Query().Get("uuid")
	if uuid == "" {
		return nil, badRequest("uuid is required")
	}
	occs, err := a.items.Occurrences(r.Context(), store.OccurrenceQuery{Project: tok.Project, UUID: uuid, Limit: 1})
	if err != nil {
		return nil, a.storeError(err)
	}
	if len(occs) == 0 {
		return nil, notFound
	}
	it, e := a.projectItem(r, tok, occs[0].ItemID)
	if e != nil {
		return nil, e
	}
	return itemView(it), nil
}

// serveCounter serves GET /api/1/item_by_counter/{counter}: a 301 to the item, as Rollbar
// answers, with the item's path in the body.
func (a *ReadAPI) serveCounter() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, e := a.authorize(r, Read)
		if e != nil {
			fail(w, e)
			return
		}
		counter, e := pathID(r, "counter")
		if e != nil {
			fail(w, e)
			return
		}
		it, err := a.items.ItemByCounter(r.Context(), tok.Project, counter)
		if err != nil {
			fail(w, a.storeError(err))
			return
		}
		path := fmt.Sprintf("/api/1/item/%d", it.ID)
		uri := path
		if t := r.URL.Query().Get("access_token"); t != "" { // as Rollbar does; a header token stays out of URLs
			uri += "?access_token=" + url.QueryEscape(t)
		}
		w.Header().Set("Location", uri)
		writeJSON(w, http.StatusMovedPermanently, result{Result: map[string]any{"itemId": it.ID, "path": path, "uri": uri}})
	})
}

// itemPatch is the body of PATCH /api/1/item/{id}. assigned_user_id may be a number or a
// name; null unassigns.
type itemPatch struct {
	Status            *string         `json:"status"`
	ResolvedInVersion *string         `json:"resolved_in_version"`
	Title             *string         `json:"title"`
	Level             *string         `json:"level"`
	AssignedUserID    json.RawMessage `json:"assigned_user_id"`
}

// patchItem serves PATCH /api/1/item/{id}.
func (a *ReadAPI) patchItem(r *http.Request, tok *Token) (any, *Error) {
	id, e := pathID(r, "id")
	if e != nil {
		return nil, e
	}
	if _, e := a.projectItem(r, tok, id); e != nil {
		return nil, e
	}
	var p itemPatch
	if e := decodeJSON(r, &p); e != nil {
		return nil, e
	}
	u, e := p.update()
	if e != nil {
		return nil, e
	}
	u.By, u.Time = "api: "+tok.Name, a.now()
	it, err := a.items.UpdateItem(r.Context(), id, u)
	if err != nil {
		return nil, a.storeError(err)
	}
	return itemView(it), nil
}

// update checks the patch as Rollbar does (422 for what it refuses) and makes it a change.
func (p itemPatch) update() (store.ItemUpdate, *Error) {
	var u store.ItemUpdate
	if p.Status != nil {
		st, err := triage.ParseStatus(*p.Status)
		if err != nil {
			return u, invalid("%v", err)
		}
		u.Status = &st
	}
	if p.ResolvedInVersion != nil {
		if u.Status == nil || *u.Status != triage.Resolved {
			return u, invalid("resolved_in_version goes only with status resolved")
		}
		if len(*p.ResolvedInVersion) > 40 {
			return u, invalid("resolved_in_version is at most 40 characters")
		}
		u.ResolvedInVersion = *p.ResolvedInVersion
	}
	if p.Title != nil {
		if n := utf8.RuneCountInString(*p.Title); n < 1 || n > 255 || !utf8.ValidString(*p.Title) {
			return u, invalid("title must be 1 to 255 characters")
		}
		u.Title = p.Title
	}
	if p.Level != nil {
		if !slices.Contains(severities, *p.Level) {
			return u, invalid("level must be one of %s", strings.Join(severities, ", "))
		}
		u.Level = p.Level
	}
	if len(p.AssignedUserID) > 0 {
		var who string
		switch v := p.AssignedUserID; {
		case string(v) == "null":
		case json.Unmarshal(v, &who) == nil:
		default:
			var n json.Number
			if json.Unmarshal(v, &n) != nil {
				return u, invalid("assigned_user_id must be a user id, a name or null")
			}
			who = n.String()
		}
		if len(who) > 255 || !utf8.ValidString(who) {
			return u, invalid("assigned_user_id is too long")
		}
		u.AssignedTo = &who
	}
	return u, nil
}

// topActiveItems serves GET /api/1/reports/top_active_items: the ten active items with the
// most occurrences in the last hours (24 by default), most severe level first, with their
// hourly counts.
func (a *ReadAPI) topActiveItems(r *http.Request, tok *Token) (any, *Error) {
	qv := r.URL.Query()
	hours := 24
	if v := qv.Get("hours"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 24*30 {
			return nil, badRequest("hours must be between 1 and 720")
		}
		hours = n
	}
	end := a.now().Truncate(time.Hour).Add(time.Hour)
	counts, err := a.items.OccurrenceCounts(r.Context(), store.CountQuery{Project: tok.Project, Start: end.Add(-time.Duration(hours) * time.Hour), Step: time.Hour, Buckets: hours})
	if err != nil {
		return nil, a.storeError(err)
	}
	ids := make([]int64, 0, len(counts))
	for id := range counts {
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return []any{}, nil
	}
	items, _, err := a.items.Items(r.Context(), store.ItemQuery{Project: tok.Project, IDs: ids, Statuses: []triage.Status{triage.Active},
		Environments: splitList(qv["environments"]), Limit: store.MaxLimit})
	if err != nil {
		return nil, a.storeError(err)
	}
	sum := func(id int64) (n int64) {
		for _, c := range counts[id] {
			n += c
		}
		return n
	}
	rank := func(level string) int {
		if i := slices.Index(severities, level); i >= 0 {
			return i
		}
		return len(severities)
	}
	slices.SortFunc(items, func(x, y store.Item) int {
		if d := rank(x.Level) - rank(y.Level); d != 0 {
			return d
		}
		if c := cmp.Compare(sum(y.ID), sum(x.ID)); c != 0 {
			return c
		}
		return cmp.Compare(x.ID, y.ID)
	})
	type top struct {
		Item   map[string]any `json:"item"`
		Counts []int64        `json:"counts"`
	}
	out := []top{}
	for _, it := range items[:min(10, len(items))] {
		out = append(out, top{Item: map[string]any{"id": it.ID, "counter": it.Counter, "environment": it.Environment,
			"framework": it.Framework, "last_occurrence_timestamp": unixSeconds(it.LastSeen), "level": it.Level,
			"occurrences": sum(it.ID), "project_id": projectID(it.Project), "title": it.Title, "unique_occurrences": it.People},
			Counts: counts[it.ID]})
	}
	return out, nil
}

// splitList reads a repeatable parameter whose values may also be comma-separated.
func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// environments serves GET /api/1/environments.
func (a *ReadAPI) environments(r *http.Request, tok *Token) (any, *Error) {
	envs, err := a.items.Environments(r.Context(), tok.Project)
	if err != nil {
		return nil, a.storeError(err)
	}
	out := make([]map[string]any, len(envs))
	for i, e := range envs {
		out[i] = map[string]any{"environment": e, "project_id": projectID(tok.Project), "visible": 1}
	}
	return map[string]any{"environments": out}, nil
}
