package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"lookout/internal/ingest/xray"
	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// graphReader is a TraceReader that also counts the service graph, from fixed calls.
type graphReader struct {
	*fakeReader
	calls []store.ServiceCalls
	err   error
	query store.ServiceCallQuery
}

func (g *graphReader) ServiceCalls(ctx context.Context, q store.ServiceCallQuery) ([]store.ServiceCalls, error) {
	g.query = q
	return g.calls, g.err
}

func (g *graphReader) MatchTraces(context.Context, store.TraceMatch) ([]telemetry.TraceID, error) {
	return nil, nil
}

func (g *graphReader) Traces(context.Context, []telemetry.TraceID) ([][]telemetry.Span, error) {
	return nil, nil
}

func (g *graphReader) CountServiceCalls(context.Context, store.SegmentKeys, time.Time) error {
	return nil
}

var _ store.SegmentReader = (*graphReader)(nil) // else the API would quietly fall back to sampled traces

// TestDependenciesFromServiceGraph: with a store.SegmentReader, a link per caller and callee
// name sums its calls over response times, callee types and outcomes; entry points and a
// service's calls to itself are left out; the sampled dependencies are not read.
func TestDependenciesFromServiceGraph(t *testing.T) {
	f := newFakeReader()
	f.deps = []store.Dependency{{Parent: "never", Child: "read", CallCount: 1}}
	web, api := store.GraphNode{Name: "web", Type: "AWS::EC2::Instance"}, store.GraphNode{Name: "api"}
	g := &graphReader{fakeReader: f, calls: []store.ServiceCalls{
		{Callee: web, ResponseMillis: 12, OK: 5, Total: 5},                        // entry point
		{Caller: web, Callee: api, ResponseMillis: 3, OK: 2, Faults: 1, Total: 3}, // web → api
		{Caller: web, Callee: api, ResponseMillis: 40, Errors: 4, Throttles: 1, Total: 4},
		{Caller: api, Callee: store.GraphNode{Name: "orders", Type: "AWS::DynamoDB", Inferred: true}, ResponseMillis: 1, OK: 7, Total: 7},
		{Caller: api, Callee: store.GraphNode{Name: "orders", Type: "remote", Inferred: true}, ResponseMillis: 2, OK: 1, Total: 1},
		{Caller: api, Callee: api, ResponseMillis: 2, OK: 9, Total: 9}, // api calls itself
		{Caller: api, Callee: store.GraphNode{Name: "billing"}, ResponseMillis: 8, OK: 2, Total: 2},
	}}
	a := New(g, slog.New(slog.DiscardHandler))
	a.now = func() time.Time { return testNow }
	mux := http.NewServeMux()
	a.Register(mux)

	_, body := get(t, mux, "/api/dependencies?endTs=1700000000000&lookback=3600000")
	wantJSON(t, "dependencies", body, `{"data":[
		{"parent":"api","child":"billing","callCount":2},
		{"parent":"api","child":"orders","callCount":8},
		{"parent":"web","child":"api","callCount":7}],"total":3,"limit":0,"offset":0,"errors":null}`)
	if q := g.query; !q.Start.Equal(time.Unix(1_699_996_400, 0)) || !q.End.Equal(time.Unix(1_700_000_000, 0)) {
		t.Errorf("range [%v, %v)", q.Start.UTC(), q.End.UTC())
	}
	if q := g.query; q.Keys.Protocol != xray.Protocol || q.Keys.Type != xray.AttrType {
		t.Errorf("keys %+v, want X-Ray's", q.Keys)
	}

	g.calls = nil
	_, body = get(t, mux, "/api/dependencies")
	wantJSON(t, "no calls", body, `{"data":[],"total":0,"limit":0,"offset":0,"errors":null}`)

	g.err = errors.New("disk on fire")
	if code, _ := get(t, mux, "/api/dependencies"); code != http.StatusInternalServerError {
		t.Errorf("a failing store: %d, want 500", code)
	}
}
