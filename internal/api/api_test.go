package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// fakeReader is an in-memory store.TraceReader. FindTraceIDs does no filtering (that is the
// store's job): it records the query and returns findIDs.
type fakeReader struct {
	mu         sync.Mutex
	traces     map[telemetry.TraceID][]telemetry.Span
	services   []string
	operations map[string][]store.Operation
	deps       []store.Dependency
	findIDs    []telemetry.TraceID
	err        error                       // returned by every method when set
	traceErrs  map[telemetry.TraceID]error // returned by Trace for these ids

	queries          []store.TraceQuery
	depStart, depEnd time.Time
	traceCalls       int
}

func newFakeReader() *fakeReader {
	return &fakeReader{traces: map[telemetry.TraceID][]telemetry.Span{}, operations: map[string][]store.Operation{}}
}

func (f *fakeReader) add(spans ...telemetry.Span) {
	for _, s := range spans {
		f.traces[s.TraceID] = append(f.traces[s.TraceID], s)
	}
}

func (f *fakeReader) Trace(ctx context.Context, id telemetry.TraceID) ([]telemetry.Span, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.traceCalls++
	if f.err != nil {
		return nil, f.err
	}
	if err := f.traceErrs[id]; err != nil {
		return nil, err
	}
	spans, ok := f.traces[id]
	if !ok {
		return nil, fmt.Errorf("fake: trace %s: %w", id, store.ErrNotFound)
	}
	return spans, nil
}

func (f *fakeReader) FindTraceIDs(ctx context.Context, q store.TraceQuery) ([]telemetry.TraceID, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	return f.findIDs, f.err
}

func (f *fakeReader) Services(ctx context.Context) ([]string, error) { return f.services, f.err }

func (f *fakeReader) Operations(ctx context.Context, service string) ([]store.Operation, error) {
	return f.operations[service], f.err
}

func (f *fakeReader) MissingParents(context.Context, time.Time, time.Time, time.Duration) ([]store.MissingParents, error) {
	return nil, nil
}

func (f *fakeReader) Dependencies(ctx context.Context, start, end time.Time) ([]store.Dependency, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.depStart, f.depEnd = start, end
	return f.deps, f.err
}

// testNow is the fixed clock of the tests: 2023-11-14T22:13:20Z, unix 1700000000.
var testNow = time.Unix(1_700_000_000, 0)

// server returns a mux serving an API over f, and a buffer collecting its logs.
func server(t *testing.T, f *fakeReader) (http.Handler, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	a := New(f, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	a.now = func() time.Time { return testNow }
	mux := http.NewServeMux()
	a.Register(mux)
	return mux, &logs
}

// get serves a GET of target and returns the status and body.
func get(t *testing.T, h http.Handler, target string) (int, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	if ct := rec.Header().Get("Content-Type"); rec.Code != http.StatusMethodNotAllowed && ct != "application/json; charset=utf-8" {
		t.Errorf("GET %s: Content-Type %q", target, ct)
	}
	body, _ := io.ReadAll(rec.Body)
	return rec.Code, body
}

// wantJSON fails unless body is the JSON text want (compared after compacting both).
func wantJSON(t *testing.T, what string, body []byte, want string) {
	t.Helper()
	var g, w bytes.Buffer
	if err := json.Compact(&g, body); err != nil {
		t.Fatalf("%s: response is not JSON: %v\n%s", what, err, body)
	}
	if err := json.Compact(&w, []byte(want)); err != nil {
		t.Fatalf("%s: bad expectation: %v", what, err)
	}
	if g.String() != w.String() {
		t.Errorf("%s:\n got %s\nwant %s", what, g.String(), w.String())
	}
}

// wantError checks a response is the error envelope with status code and a message
// containing msgPart.
func wantError(t *testing.T, what string, code int, body []byte, wantCode int, msgPart string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("%s: status %d, want %d; body %s", what, code, wantCode, body)
		return
	}
	var env struct {
		Data   *json.RawMessage `json:"data"`
		Total  *int             `json:"total"`
		Limit  *int             `json:"limit"`
		Offset *int             `json:"offset"`
		Errors []struct {
			Code int    `json:"code"`
			Msg  string `json:"msg"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, body)
	}
	if env.Data != nil || env.Total == nil || *env.Total != 0 || env.Limit == nil || env.Offset == nil {
		t.Errorf("%s: not the error envelope: %s", what, body)
	}
	if len(env.Errors) != 1 || env.Errors[0].Code != wantCode || !strings.Contains(env.Errors[0].Msg, msgPart) {
		t.Errorf("%s: errors %+v, want one with code %d and a message containing %q", what, env.Errors, wantCode, msgPart)
	}
}

// golden compares body, indented, with testdata/name, or rewrites the file under -update.
func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	var got bytes.Buffer
	if err := json.Indent(&got, body, "", "  "); err != nil {
		t.Fatalf("%s: response is not JSON: %v\n%s", name, err, body)
	}
	got.WriteByte('\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("%s differs from the response (go test -update rewrites it):\n%s", path, got.Bytes())
	}
}

func TestServicesAndOperations(t *testing.T) {
	f := newFakeReader()
	f.services = []string{"backend", "frontend"}
	f.operations["a/b c"] = []store.Operation{
		{Name: "GET /x", SpanKind: telemetry.SpanKindServer},
		{Name: "GET /x", SpanKind: telemetry.SpanKindClient},
		{Name: "work", SpanKind: telemetry.SpanKindUnspecified},
	}
	h, _ := server(t, f)

	code, body := get(t, h, "/api/services")
	if code != http.StatusOK {
		t.Fatalf("services: %d %s", code, body)
	}
	wantJSON(t, "services", body, `{"data":["backend","frontend"],"total":2,"limit":0,"offset":0,"errors":null}`)

	// A service name with a slash and a space, escaped in the path.
	_, body = get(t, h, "/api/services/a%2Fb%20c/operations")
	wantJSON(t, "service operations", body, `{"data":["GET /x","work"],"total":2,"limit":0,"offset":0,"errors":null}`)

	_, body = get(t, h, "/api/operations?service=a%2Fb+c")
	wantJSON(t, "operations", body, `{"data":[{"name":"GET /x","spanKind":"server"},{"name":"GET /x","spanKind":"client"},{"name":"work","spanKind":""}],"total":3,"limit":0,"offset":0,"errors":null}`)

	_, body = get(t, h, "/api/operations?service=a%2Fb+c&spanKind=server")
	wantJSON(t, "operations of a kind", body, `{"data":[{"name":"GET /x","spanKind":"server"}],"total":1,"limit":0,"offset":0,"errors":null}`)

	// Nothing known: data is [], never null.
	_, body = get(t, h, "/api/services/nobody/operations")
	wantJSON(t, "unknown service", body, `{"data":[],"total":0,"limit":0,"offset":0,"errors":null}`)
	f.services = nil
	_, body = get(t, h, "/api/services")
	wantJSON(t, "no services", body, `{"data":[],"total":0,"limit":0,"offset":0,"errors":null}`)

	code, body = get(t, h, "/api/operations")
	wantError(t, "operations without service", code, body, 400, `"service" is required`)
	code, body = get(t, h, "/api/operations?service=x&spanKind=sideways")
	wantError(t, "bad span kind", code, body, 400, "invalid spanKind")
}

func TestTraceNotFoundAndMalformed(t *testing.T) {
	f := newFakeReader()
	h, _ := server(t, f)
	code, body := get(t, h, "/api/traces/0123456789abcdef0123456789abcdef")
	wantError(t, "unknown trace", code, body, 404, "trace not found")
	wantJSON(t, "404 envelope", body, `{"data":null,"total":0,"limit":0,"offset":0,"errors":[{"code":404,"msg":"trace not found"}]}`)

	for _, id := range []string{"xyz", "0123456789abcdef0123456789abcdef0", "0", "00000000000000000000000000000000"} {
		code, body := get(t, h, "/api/traces/"+id)
		wantError(t, "trace id "+id, code, body, 400, "invalid trace id")
	}

	// A store that answers with no spans and no error has no trace either.
	f.traces[telemetry.TraceID{15: 1}] = nil
	code, body = get(t, h, "/api/traces/1")
	wantError(t, "empty trace", code, body, 404, "trace not found")
}

func TestErrorMapping(t *testing.T) {
	f := newFakeReader()
	h, logs := server(t, f)

	f.err = errors.New("disk on fire at /var/lib/secret")
	code, body := get(t, h, "/api/services")
	wantError(t, "internal", code, body, 500, "internal server error")
	if bytes.Contains(body, []byte("secret")) {
		t.Errorf("internal details leaked: %s", body)
	}
	if !strings.Contains(logs.String(), "disk on fire") || !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("internal error not logged: %s", logs)
	}

	f.err = fmt.Errorf("duckdb: regex on maps: %w", store.ErrUnsupported)
	code, body = get(t, h, "/api/traces?service=x")
	wantError(t, "unsupported", code, body, 501, "not supported")
	if bytes.Contains(body, []byte("duckdb")) {
		t.Errorf("store message leaked: %s", body)
	}

	f.err = context.DeadlineExceeded
	code, body = get(t, h, "/api/dependencies")
	wantError(t, "timeout", code, body, 503, "canceled or timed out")

	// A failure of one of several Trace calls fails the search with that error, not with the
	// cancellation it caused in the others.
	f.err = nil
	logs.Reset()
	for i := range 10 {
		id := telemetry.TraceID{15: byte(i + 1)}
		f.add(telemetry.Span{TraceID: id, SpanID: telemetry.SpanID{7: 1}, StartUnixNano: 1, Resource: &telemetry.Resource{}})
		f.findIDs = append(f.findIDs, id)
	}
	f.traceErrs = map[telemetry.TraceID]error{{15: 7}: errors.New("checksum mismatch")}
	code, body = get(t, h, "/api/traces?service=x")
	wantError(t, "failing trace", code, body, 500, "internal server error")
	if !strings.Contains(logs.String(), "checksum mismatch") {
		t.Errorf("cause not logged: %s", logs)
	}

	// Method not allowed comes from the mux.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/services", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
}

func TestHTMLIsEscaped(t *testing.T) {
	f := newFakeReader()
	f.services = []string{"<script>alert(1)</script>&"}
	h, _ := server(t, f)
	_, body := get(t, h, "/api/services?prettyPrint=true")
	if bytes.ContainsAny(body, "<>&") {
		t.Errorf("HTML not escaped: %s", body)
	}
	if !bytes.Contains(body, []byte("\n  ")) {
		t.Errorf("prettyPrint ignored: %s", body)
	}
}

func TestDependencies(t *testing.T) {
	f := newFakeReader()
	f.deps = []store.Dependency{{Parent: "frontend", Child: "backend", CallCount: 3}, {Parent: "backend", Child: "db", CallCount: 12}}
	h, _ := server(t, f)

	_, body := get(t, h, "/api/dependencies?endTs=1700000000000&lookback=3600000")
	wantJSON(t, "dependencies", body, `{"data":[{"parent":"frontend","child":"backend","callCount":3},{"parent":"backend","child":"db","callCount":12}],"total":2,"limit":0,"offset":0,"errors":null}`)
	// endTs 1700000000000 ms is 1700000000 s; an hour back is 1699996400 s.
	if !f.depStart.Equal(time.Unix(1_699_996_400, 0)) || !f.depEnd.Equal(time.Unix(1_700_000_000, 0)) {
		t.Errorf("range [%v, %v)", f.depStart.UTC(), f.depEnd.UTC())
	}

	// Defaults: up to now, a day back.
	get(t, h, "/api/dependencies")
	if !f.depEnd.Equal(testNow) || !f.depStart.Equal(testNow.Add(-24*time.Hour)) {
		t.Errorf("default range [%v, %v)", f.depStart.UTC(), f.depEnd.UTC())
	}
	// A duration lookback is accepted too; endTs keeps its millisecond.
	get(t, h, "/api/dependencies?endTs=1700000000123&lookback=2h")
	if want := time.UnixMilli(1_700_000_000_123); !f.depEnd.Equal(want) || !f.depStart.Equal(want.Add(-2*time.Hour)) {
		t.Errorf("range [%v, %v)", f.depStart.UTC(), f.depEnd.UTC())
	}

	f.deps = nil
	_, body = get(t, h, "/api/dependencies")
	wantJSON(t, "no dependencies", body, `{"data":[],"total":0,"limit":0,"offset":0,"errors":null}`)

	for _, bad := range []string{"endTs=yesterday", "endTs=-5", "lookback=0", "lookback=-10", "lookback=soon"} {
		code, body := get(t, h, "/api/dependencies?"+bad)
		wantError(t, bad, code, body, 400, "invalid")
	}
}
