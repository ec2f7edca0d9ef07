package rollbar

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	rollbargo "github.com/rollbar/rollbar-go"

	"lookout/internal/telemetry"
)

type orderError struct{ id int }

func (e *orderError) Error() string { return fmt.Sprintf("order %d not found", e.id) }

// goSDKServer serves the Item API to rollbar-go over real HTTP, counting the POSTs.
func goSDKServer(t *testing.T, projects *Projects) (*httptest.Server, *recordingSink, *atomic.Int32) {
	sink := &recordingSink{}
	mux := http.NewServeMux()
	NewHandler(sink, projects, 0, nil).Register(mux)
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, sink, &posts
}

// reportTwice reports err from two lines of one function, as if the line had moved.
func reportTwice(c *rollbargo.Client, err error) {
	c.ErrorWithStackSkip(rollbargo.ERR, err, 0)
	c.ErrorWithStackSkip(rollbargo.ERR, err, 0)
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}

// TestRollbarGo reports errors, a wrapped error, a message and a request's error with the
// real rollbar-go SDK, changing only its endpoint.
func TestRollbarGo(t *testing.T) {
	srv, sink, _ := goSDKServer(t, OpenProjects())
	c := rollbargo.NewSync("aaaabbbbccccddddeeeeffff00001111", "production", "v1.4.0", "web-1", "")
	c.SetEndpoint(srv.URL + "/api/1/item/")
	c.SetLogger(quiet{})
	defer c.Close()

	plain := errors.New("plain error")
	reportTwice(c, plain)
	c.ErrorWithStackSkip(rollbargo.ERR, &orderError{42}, 0)
	c.ErrorWithStackSkip(rollbargo.ERR, fmt.Errorf("checkout: %w", &orderError{7}), 0)
	c.Message(rollbargo.WARN, "cache miss rate 91% high")
	req := httptest.NewRequest("POST", "http://shop.example/orders/42?x=1", nil)
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	req.Header.Set("X-Forwarded-For", "203.0.113.9, 10.0.0.1")
	c.RequestError(rollbargo.CRIT, req, errors.New("request failed"))

	occs := sink.all()
	if len(occs) != 6 {
		t.Fatalf("lookout received %d occurrences, want 6", len(occs))
	}
	here, there, order, wrapped, msg, request := occs[0], occs[1], occs[2], occs[3], occs[4], occs[5]
	if here.Class != "errors.errorString" || here.Title != "plain error" || here.Language != "go" || here.CodeVersion != "v1.4.0" || here.Host != "web-1" {
		t.Errorf("plain error %+v", here)
	}
	if here.Fingerprint != there.Fingerprint {
		t.Errorf("the same error from another line made another item:\n%s\n%s", here.Grouping, there.Grouping)
	}
	if order.Class != "rollbar.orderError" || order.Fingerprint == here.Fingerprint {
		t.Errorf("another class: %+v", order)
	}
	if wrapped.Class != "fmt.wrapError" || !strings.Contains(wrapped.Grouping, "fmt.wrapError ← rollbar.orderError") || wrapped.Title != "checkout: order 7 not found" {
		t.Errorf("wrapped error %+v", wrapped)
	}
	if !strings.Contains(here.Grouping, "TestRollbarGo") || strings.Contains(here.Grouping, "rollbar-go.") || strings.Contains(here.Grouping, "runtime.main") {
		t.Errorf("frames of the SDK or the runtime are grouped on: %s", here.Grouping)
	}
	if msg.Level != "warning" || msg.Title != "cache miss rate 91% high" {
		t.Errorf("message %+v", msg)
	}
	if request.Level != "critical" || request.UserIP != "203.0.113.9" ||
		request.TraceID != mustTrace("4bf92f3577b34da6a3ce929d0e0e4736") || request.SpanID.String() != "00f067aa0ba902b7" {
		t.Errorf("request error %+v", request)
	}
}

// TestRollbarGoRateLimited checks what rollbar-go does with a 429: it retries at once, three
// times, and lookout refuses every retry while the window lasts.
func TestRollbarGoRateLimited(t *testing.T) {
	projects := writeProjects(t, `{"projects":[{"name":"p","tokens":[{"token":"tok","scopes":["post_server_item"],"rate_limit":{"count":1,"per":"1h"}}]}]}`)
	srv, sink, posts := goSDKServer(t, projects)
	c := rollbargo.NewSync("tok", "production", "", "", "")
	c.SetEndpoint(srv.URL + "/api/1/item/")
	c.SetPrintPayloadOnError(false)
	c.SetLogger(quiet{})
	defer c.Close()
	c.Message(rollbargo.INFO, "first")
	c.Message(rollbargo.INFO, "second")
	if n := posts.Load(); n != 5 {
		t.Errorf("rollbar-go posted %d times, want 1 + 1 and 3 retries of the refused one", n)
	}
	occs := sink.all()
	if len(occs) != 2 || occs[0].Title != "first" || occs[1].Framework != "System Message" {
		t.Errorf("stored %+v", occs)
	}
}

func mustTrace(s string) telemetry.TraceID {
	id, err := telemetry.ParseTraceID(s)
	if err != nil {
		panic(err)
	}
	return id
}
