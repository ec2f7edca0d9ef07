package demo

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// An action is one thing a user of Cruddur's frontend does: a request to the API.
type action struct {
	weight       int
	method, path string
	body         string
}

// actions are what the users do, most often reading their home feed; some of it is invalid
// input, which the API refuses with its validation codes.
var actions = []action{
	{30, "GET", "/api/activities/home", ""},
	{8, "GET", "/api/activities/notifications", ""},
	{8, "GET", "/api/activities/search?term=cloud", ""},
	{2, "GET", "/api/activities/search?term=", ""},
	{10, "GET", "/api/activities/@andrewbrown", ""},
	{4, "GET", "/api/activities/68f126b0-1ceb-4a33-88be-d90fa7109eee", ""},
	{6, "POST", "/api/activities", `{"message":"Cloud is fun!","ttl":"7-days"}`},
	{2, "POST", "/api/activities", `{"message":"","ttl":"forever"}`},
	{3, "POST", "/api/activities/68f126b0-1ceb-4a33-88be-d90fa7109eee/reply", `{"message":"Agreed!"}`},
	{6, "GET", "/api/message_groups", ""},
	{5, "GET", "/api/messages/@bayko", ""},
	{3, "POST", "/api/messages", `{"message":"Are you coming to the bootcamp?","user_receiver_handle":"bayko"}`},
	{1, "POST", "/api/messages", `{"message":"hi"}`},
	{1, "GET", "/rollbar/test", ""},
	{1, "GET", "/api/health-check", ""},
}

// users plays Cruddur's users: one request every interval, through an HTTP client traced
// with OpenTelemetry as the frontend would be, so each trace begins at the client.
type users struct {
	base   string
	client *http.Client
	rnd    *rand.Rand
	total  int
}

func newUsers(base string, tp trace.TracerProvider, prop propagation.TextMapPropagator, seed uint64) *users {
	u := &users{base: strings.TrimSuffix(base, "/"), rnd: rand.New(rand.NewPCG(2, seed)),
		client: &http.Client{Timeout: 10 * time.Second, Transport: otelhttp.NewTransport(http.DefaultTransport,
			otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(prop))}}
	for _, a := range actions {
		u.total += a.weight
	}
	return u
}

// run sends requests until ctx ends.
func (u *users) run(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			u.act(ctx, u.pick())
		}
	}
}

func (u *users) pick() action {
	n := u.rnd.IntN(u.total)
	for _, a := range actions {
		if n < a.weight {
			return a
		}
		n -= a.weight
	}
	return actions[0]
}

// act sends one request and reads its answer; failures are the demo's data, not its errors.
func (u *users) act(ctx context.Context, a action) (status int) {
	var body io.Reader
	if a.body != "" {
		body = bytes.NewReader([]byte(a.body))
	}
	req, err := http.NewRequestWithContext(ctx, a.method, u.base+a.path, body)
	if err != nil {
		return 0
	}
	if a.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := u.client.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
