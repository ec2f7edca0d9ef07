// Package api is lookout's query HTTP API. It serves the JSON API of Jaeger's query service
// (the "internal" JSON its UI and Grafana's Jaeger data source read) and lookout's own
// endpoints for its web UI, all from a store.TraceReader.
//
// Handlers return a value or an error; one function, wrap, turns either into a response. Every
// response body, success or failure, is Jaeger's envelope:
//
//	{"data": ..., "total": N, "limit": 0, "offset": 0, "errors": null | [{"code": 400, "msg": "..."}]}
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"sync/atomic"
	"time"

	"lookout/internal/livetail"
	"lookout/internal/query"
	"lookout/internal/sources"
	"lookout/internal/store"
)

// API serves queries from a TraceReader. It is safe for concurrent use.
type API struct {
	reader    store.TraceReader
	segments  store.SegmentReader // nil when the store cannot count the service graph
	explore   HoneycombReader     // nil when the store cannot run Honeycomb queries
	logReader store.LogReader     // nil when the store keeps no logs
	items     ItemStore           // nil when the store keeps no error items
	// logCatalogue serves the log pages, when the store keeps log groups; tail their live
	// view (TailLogsFrom).
	logCatalogue store.LogCatalogue
	tail         *livetail.Hub
	saved        *savedQueries
	sources      *sources.Registry             // nil until ShowSources
	endpoints    func(*http.Request) Endpoints // with sources
	demo         atomic.Pointer[Demo]          // nil unless lookout demo runs
	tokens       TokenAdmin                    // nil until ManageRollbarTokens
	logger       *slog.Logger
	now          func() time.Time // the clock; tests replace it
}

// New returns an API reading from reader and logging internal failures to logger (slog's
// default logger when nil).
func New(reader store.TraceReader, logger *slog.Logger) *API {
	if reader == nil {
		panic("api.New: nil TraceReader")
	}
	if logger == nil {
		logger = slog.Default()
	}
	a := &API{reader: reader, logger: logger, now: time.Now}
	a.segments, _ = reader.(store.SegmentReader)
	a.explore, _ = reader.(HoneycombReader)
	a.logReader, _ = reader.(store.LogReader)
	a.items, _ = reader.(ItemStore)
	a.logCatalogue, _ = reader.(store.LogCatalogue)
	return a
}

// Register adds the API's routes to mux:
//
//	GET /api/services                        Jaeger: service names
//	GET /api/services/{service}/operations   Jaeger: operation names of a service
//	GET /api/operations?service=&spanKind=   Jaeger: operations with their span kinds
//	GET /api/traces?service=&operation=&tags=&tag=&minDuration=&maxDuration=&start=&end=&lookback=&limit=&traceID=
//	                                         Jaeger: search, or fetch the traces named by traceID
//	GET /api/traces/{traceID}                Jaeger: one trace
//	GET /api/dependencies?endTs=&lookback=   Jaeger: service call graph
//	GET /api/v1/trace-summaries?...          lookout: one summary per trace, parameters as /api/traces
//	GET /api/v1/logs?group=&traceID=&...     lookout: log records, when the store keeps them (logs.go)
//	/api/v1/errors/...                       lookout: error items and their triage (errors.go)
//	GET /api/v1/log-groups, log-events, log-tail   lookout: the log pages, when the store keeps log groups (loggroups.go)
//	/api/v1/errors/access, tokens            lookout: Rollbar's projects and tokens, with ManageRollbarTokens (rollbartokens.go)
//	GET /api/v1/sources                      lookout: senders and their problems, with ShowSources (sources.go)
//	GET, PUT /api/v1/demo                    lookout: the demo's troubles, with ShowDemo (demo.go)
//
// and, when the store runs Honeycomb queries, the query builder's endpoints (explore.go), and
// with saved queries (SaveQueriesIn) their list (saved.go).
//
// They use Go 1.22 method and wildcard patterns, so mux answers other methods on these paths
// with 405 itself. Paths under /api/ that match no route are left to whatever else mux has.
func (a *API) Register(mux *http.ServeMux) {
	// Jaeger query service, internal UI JSON.
	mux.Handle("GET /api/services", a.wrap(a.services))
	mux.Handle("GET /api/services/{service}/operations", a.wrap(a.serviceOperations))
	mux.Handle("GET /api/operations", a.wrap(a.operations))
	mux.Handle("GET /api/traces", a.wrap(a.searchTraces))
	mux.Handle("GET /api/traces/{traceID}", a.wrap(a.getTrace))
	mux.Handle("GET /api/dependencies", a.wrap(a.dependencies))
	// lookout's own endpoints.
	mux.Handle("GET /api/v1/trace-summaries", a.wrap(a.traceSummaries))
	if a.explore != nil {
		a.registerExplore(mux)
	}
	if a.logReader != nil {
		mux.Handle("GET /api/v1/logs", a.wrap(a.logs))
	}
	if a.items != nil {
		a.registerErrors(mux)
	}
	if a.logReader != nil && a.logCatalogue != nil {
		a.registerLogs(mux) // loggroups.go
	}
	if a.tokens != nil {
		a.registerTokens(mux) // rollbartokens.go
	}
	if a.sources != nil {
		mux.Handle("GET /api/v1/sources", a.wrap(a.sourcesReport))
	}
	mux.Handle("GET /api/v1/demo", a.wrap(a.getDemo))
	mux.Handle("PUT /api/v1/demo", a.wrap(a.setDemo))
	if a.saved != nil {
		mux.Handle("GET /api/v1/saved-queries", a.wrap(a.listSaved))
		mux.Handle("POST /api/v1/saved-queries", a.wrap(a.saveQuery))
		mux.Handle("DELETE /api/v1/saved-queries/{id}", a.wrap(a.deleteSaved))
	}
}

// apiFunc is a handler that returns what to send instead of writing it.
//
// The value becomes the envelope's data (its total is the length when it is a slice), unless
// it is an *envelope, which is sent as it is. A nil error means 200 OK.
type apiFunc func(r *http.Request) (any, error)

// envelope is the body of every response, as Jaeger's query service writes it.
type envelope struct {
	Data   any        `json:"data"`
	Total  int        `json:"total"`
	Limit  int        `json:"limit"`
	Offset int        `json:"offset"`
	Errors []apiIssue `json:"errors"`
}

// apiIssue is one entry of the envelope's errors. TraceID is set when the issue concerns one
// trace of several, as in Jaeger's responses to ?traceID= lookups.
type apiIssue struct {
	Code    int    `json:"code"`
	Msg     string `json:"msg"`
	TraceID string `json:"traceID,omitempty"`
}

// errorKind classifies an error for the client.
type errorKind uint8

const (
	kindInternal    errorKind = iota // 500; the message is never shown
	kindBadRequest                   // 400
	kindNotFound                     // 404
	kindUnsupported                  // 501: the store refuses the query (store.ErrUnsupported)
	kindUnavailable                  // 503: the request was canceled or timed out
)

func (k errorKind) status() int {
	switch k {
	case kindBadRequest:
		return http.StatusBadRequest
	case kindNotFound:
		return http.StatusNotFound
	case kindUnsupported:
		return http.StatusNotImplemented
	case kindUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// apiError is an error with a kind and a message that is safe to show to the client. Err, the
// cause, is only logged.
type apiError struct {
	kind errorKind
	msg  string
	err  error
}

func (e *apiError) Error() string {
	if e.err != nil {
		return e.msg + ": " + e.err.Error()
	}
	return e.msg
}

func (e *apiError) Unwrap() error { return e.err }

// badRequest reports invalid input; the message is shown as it is, so it must quote only
// what the client sent.
func badRequest(format string, args ...any) error {
	return &apiError{kind: kindBadRequest, msg: fmt.Sprintf(format, args...)}
}

func notFound(msg string) error { return &apiError{kind: kindNotFound, msg: msg} }

// Messages shown for errors whose own text is not for clients.
const (
	msgInternal    = "internal server error"
	msgUnsupported = "this query is not supported by the storage backend"
	msgUnavailable = "the request was canceled or timed out"
)

// classify maps any error to what the client is told. Errors from the store are recognised by
// their sentinels; anything unrecognised is internal.
func classify(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var qe *query.Error
	if errors.As(err, &qe) {
		return &apiError{kind: kindBadRequest, msg: qe.Msg}
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &apiError{kind: kindNotFound, msg: "not found", err: err}
	case errors.Is(err, store.ErrUnsupported):
		return &apiError{kind: kindUnsupported, msg: msgUnsupported, err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &apiError{kind: kindUnavailable, msg: msgUnavailable, err: err}
	}
	return &apiError{kind: kindInternal, msg: msgInternal, err: err}
}

// wrap turns an apiFunc into a handler. It is the only place that writes responses.
func (a *API) wrap(f apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := f(r)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		env, ok := v.(*envelope)
		if !ok {
			env = &envelope{}
			env.Data, env.Total = dataOf(v)
		}
		a.write(w, r, http.StatusOK, env)
	})
}

// writeError logs err as its kind deserves and sends the error envelope.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := classify(err)
	status := ae.kind.status()
	msg := ae.msg
	switch ae.kind {
	case kindInternal:
		a.logger.ErrorContext(r.Context(), "api: request failed",
			"method", r.Method, "path", r.URL.Path, "error", err)
		msg = msgInternal // whatever the message, internal details stay in the log
	case kindUnsupported:
		a.logger.InfoContext(r.Context(), "api: query not supported by the store",
			"method", r.Method, "path", r.URL.Path, "query", r.URL.RawQuery, "error", err)
	case kindUnavailable:
		a.logger.DebugContext(r.Context(), "api: request canceled",
			"method", r.Method, "path", r.URL.Path, "error", err)
	}
	a.write(w, r, status, &envelope{Errors: []apiIssue{{Code: status, Msg: msg}}})
}

// write encodes env and sends it with status. The body is encoded in full before anything is
// sent, so an encoding failure still becomes a proper 500.
func (a *API) write(w http.ResponseWriter, r *http.Request, status int, env *envelope) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf) // escapes <, > and & (SetEscapeHTML defaults to true)
	if pretty(r) {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(env); err != nil {
		a.logger.ErrorContext(r.Context(), "api: encoding response",
			"method", r.Method, "path", r.URL.Path, "error", err)
		status = http.StatusInternalServerError
		buf.Reset()
		_ = json.NewEncoder(&buf).Encode(&envelope{Errors: []apiIssue{{Code: status, Msg: msgInternal}}})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes()) // a failed write means the client left; nothing to do
}

// pretty reports whether the client asked for indented JSON (Jaeger's prettyPrint=true).
func pretty(r *http.Request) bool {
	switch r.URL.Query().Get("prettyPrint") {
	case "1", "true", "TRUE", "True":
		return true
	}
	return false
}

// dataOf returns what to send as the envelope's data for v, and its total: the length of a
// slice, 0 for anything else. Nil (including a nil slice) becomes [], as Jaeger clients
// iterate over data on success.
func dataOf(v any) (any, int) {
	if v == nil {
		return []struct{}{}, 0
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return v, 0
	}
	if rv.IsNil() {
		return []struct{}{}, 0
	}
	return v, rv.Len()
}
