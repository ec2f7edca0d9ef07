package rollbar

import (
	"encoding/json"
	"errors"
	"hash/fnv"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"lookout/internal/store"
)

// ItemStore is what the Read and Deploy APIs need of the store.
type ItemStore interface {
	store.ItemReader
	store.ItemTriager
}

// ReadAPI serves the part of Rollbar's Read API that tools use (rollbar-cli, the MCP server,
// pyrollbar's search_items), and the Deploy API, on a project's access tokens: GETs need
// the read scope, PATCHes write, deploys post_server_item.
type ReadAPI struct {
	items    ItemStore
	projects *Projects
	log      *slog.Logger
	now      func() time.Time
	uiURL    func(*http.Request) string // the web UI's base URL, for links to traces
}

// NewReadAPI returns the Read and Deploy APIs over items. uiURL gives the web UI's base
// URL as the client of a request reaches it.
func NewReadAPI(items ItemStore, projects *Projects, uiURL func(*http.Request) string, logger *slog.Logger) *ReadAPI {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &ReadAPI{items: items, projects: projects, log: logger, now: time.Now, uiURL: uiURL}
}

// Page sizes of Rollbar's lists.
const (
	itemsPage     = 100
	instancesPage = 20
	deploysPage   = 20
)

// handlerFunc is a Read API handler: it answers a result, or a refusal in Rollbar's shape.
type handlerFunc func(r *http.Request, tok *Token) (any, *Error)

// Register mounts the Read and Deploy APIs on mux, each route behind guard. Rollbar's paths
// work with and without their trailing slash.
func (a *ReadAPI) Register(mux *http.ServeMux, guard func(http.Handler) http.Handler) {
	handle := func(method, path string, h http.Handler) {
		mux.Handle(method+" "+path, guard(h))
		mux.Handle(method+" "+path+"/{$}", guard(h))
	}
	route := func(method, path string, scope Scope, h handlerFunc) { handle(method, path, a.serve(scope, h)) }
	route("GET", "/api/1/items", Read, a.listItems)
	route("GET", "/api/1/item/{id}", Read, a.getItem)
	mux.Handle("GET /api/1/item/{$}", guard(a.serve(Read, a.itemByUUID)))
	handle("GET", "/api/1/item_by_counter/{counter}", a.serveCounter())
	route("PATCH", "/api/1/item/{id}", Write, a.patchItem)
	route("GET", "/api/1/item/{id}/instances", Read, a.itemInstances)
	route("GET", "/api/1/instances", Read, a.projectInstances)
	route("GET", "/api/1/instance/{id}", Read, a.getInstance)
	route("GET", "/api/1/reports/top_active_items", Read, a.topActiveItems)
	route("GET", "/api/1/environments", Read, a.environments)
	handle("POST", "/api/1/deploy", http.HandlerFunc(a.postDeploy))
	route("PATCH", "/api/1/deploy/{id}", PostServerItem, a.patchDeploy)
	route("GET", "/api/1/deploy/{id}", Read, a.getDeploy)
	route("GET", "/api/1/deploys", Read, a.listDeploys)
}

// serve authorises the request's token for scope and answers h's result as Rollbar does.
func (a *ReadAPI) serve(scope Scope, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, e := a.authorize(r, scope)
		if e == nil {
			var v any
			if v, e = h(r, tok); e == nil {
				writeJSON(w, http.StatusOK, result{Result: v})
				return
			}
		}
		fail(w, e)
	})
}

// authorize finds the request's token (header, then query) and checks its scope.
func (a *ReadAPI) authorize(r *http.Request, scope Scope) (*Token, *Error) {
	return a.projects.Authorize(accessToken(r, ""), scope, "")
}

// storeError answers a store failure: 404 for what does not exist, else 500.
func (a *ReadAPI) storeError(err error) *Error {
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Status: http.StatusNotFound, Msg: "Not found"}
	}
	a.log.Error("rollbar api: store failed", "err", err)
	return &Error{Status: http.StatusInternalServerError, Msg: "Internal server error"}
}

var notFound = &Error{Status: http.StatusNotFound, Msg: "Not found"}

// pathID reads a positive integer path value.
func pathID(r *http.Request, name string) (int64, *Error) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n <= 0 {
		return 0, notFound
	}
	return n, nil
}

// page reads the 1-based page parameter.
func page(r *http.Request) (int, *Error) {
	v := r.URL.Query().Get("page")
	if v == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1_000_000 {
		return 0, badRequest("page must be a positive integer")
	}
	return n, nil
}

// projectID is the number Rollbar's tools expect where lookout names projects: a stable
// hash of the name.
func projectID(project string) int64 {
	h := fnv.New32a()
	h.Write([]byte(project))
	return int64(h.Sum32() & 0x7fffffff)
}

// unixSeconds is Rollbar's timestamp, null for never.
func unixSeconds(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	s := t.Unix()
	return &s
}

// decodeJSON reads a small JSON request body into v.
func decodeJSON(r *http.Request, v any) *Error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err := dec.Decode(v); err != nil {
		return badRequest("the body is not the JSON object expected: %v", err)
	}
	return nil
}
