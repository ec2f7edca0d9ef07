// The simulated workload: a few services of a micro-blogging app that report to lookout with
// the OpenTelemetry Go SDK, with ten minutes of past traffic sent at once, so that queries,
// heatmaps and BubbleUp have history the moment lookout starts.
//
// The traffic has what people look for in such a tool: a slow endpoint (search), errors
// marked as the HTTP status says (5xx fails the server spans, a 401 does not), a failing
// background publish that a retry fixes, and a bad deploy: version 1.10.0 of cruddur-api,
// a canary on node-2 taking a quarter of the requests, whose activities query lost its
// index (slower) and whose new column is missing in the database (some requests fail).

package demo

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

const (
	// History is how much past traffic Run sends when it starts.
	History = 10 * time.Minute
	// interval is the time between two simulated requests: ten a second.
	interval = 100 * time.Millisecond
	// canaryShare is the part of the requests the bad deploy serves.
	canaryShare = 0.25
)

// instance is one simulated process: a service at a version on a host.
type instance struct{ service, version, host string }

// The simulated processes. cruddur-api runs twice: the stable version and the canary.
var (
	frontend      = instance{"frontend", "2.4.1", "node-1"}
	apiStable     = instance{"cruddur-api", "1.9.0", "node-1"}
	apiCanary     = instance{"cruddur-api", "1.10.0", "node-2"}
	auth          = instance{"auth", "0.7.3", "node-2"}
	notifications = instance{"notifications", "1.1.0", "node-1"}
	instances     = []instance{frontend, apiStable, apiCanary, auth, notifications}
)

// RunSimulated runs the simulated workload: it sends History of past traffic, then live
// traffic, to the OTLP/HTTP endpoint until ctx ends.
func RunSimulated(ctx context.Context, endpoint string, log *slog.Logger) error {
	sim, shutdown, err := newSimulator(func() (sdktrace.SpanProcessor, error) {
		exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint+"/v1/traces"))
		if err != nil {
			return nil, err
		}
		// Blocking: the history is made much faster than it is sent, and must not be dropped.
		return sdktrace.NewBatchSpanProcessor(exp, sdktrace.WithBatchTimeout(500*time.Millisecond), sdktrace.WithBlocking()), nil
	}, uint64(time.Now().UnixNano()))
	if err != nil {
		return err
	}
	defer shutdown()
	now := time.Now()
	for at := now.Add(-History); at.Before(now) && ctx.Err() == nil; at = at.Add(interval) {
		sim.request(ctx, at)
	}
	log.Info("simulated services started", "endpoint", endpoint, "history", History)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			sim.request(ctx, time.Now())
		}
	}
}

type simulator struct {
	tracers map[instance]trace.Tracer
	rnd     *rand.Rand
}

// newSimulator makes a tracer provider per instance, each with its own span processor from
// newProcessor. shutdown flushes and stops them.
func newSimulator(newProcessor func() (sdktrace.SpanProcessor, error), seed uint64) (sim *simulator, shutdown func(), err error) {
	sim = &simulator{tracers: map[instance]trace.Tracer{}, rnd: rand.New(rand.NewPCG(1, seed))}
	var providers []*sdktrace.TracerProvider
	shutdown = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, tp := range providers {
			tp.Shutdown(ctx)
		}
	}
	for _, in := range instances {
		sp, err := newProcessor()
		if err != nil {
			shutdown()
			return nil, nil, err
		}
		res := resource.NewWithAttributes(semconv.SchemaURL,
			semconv.ServiceName(in.service), semconv.ServiceVersion(in.version),
			semconv.DeploymentEnvironment("demo"), semconv.HostName(in.host),
			attribute.String("cloud.region", "eu-west-1"))
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sp), sdktrace.WithResource(res))
		providers = append(providers, tp)
		sim.tracers[in] = tp.Tracer("lookout/demo")
	}
	return sim, shutdown, nil
}

// routes are the API's endpoints with their typical latency. Search scans every activity.
var routes = []struct {
	method, route, page string
	typical             time.Duration
	writes              bool
}{
	{"GET", "/api/activities/home", "/", 40 * time.Millisecond, false},
	{"GET", "/api/activities/@{handle}", "/@andrew", 60 * time.Millisecond, false},
	{"POST", "/api/activities", "/", 90 * time.Millisecond, true},
	{"GET", "/api/messages/{handle}", "/messages/bayko", 50 * time.Millisecond, false},
	{"POST", "/api/messages", "/messages/bayko", 70 * time.Millisecond, true},
	{"GET", "/api/activities/search", "/search", 420 * time.Millisecond, false},
}

var handles = []string{"andrewbrown", "bayko", "londo", "garek", "worf", "kira"}

// latency draws a duration around typical with a long tail.
func (s *simulator) latency(typical time.Duration) time.Duration {
	d := time.Duration(float64(typical) * (0.5 + s.rnd.ExpFloat64()*0.5))
	if s.rnd.IntN(50) == 0 {
		d *= 4 // the occasional slow request
	}
	return d
}

// call is one request being simulated: its spans are recorded with explicit timestamps, so
// nothing sleeps.
type call struct {
	sim *simulator
	ctx context.Context
}

// span records a span of in from start to end, failed with err unless it is nil.
func (c call) span(in instance, name string, kind trace.SpanKind, start, end time.Time, err error, attrs ...attribute.KeyValue) {
	_, sp := c.sim.tracers[in].Start(c.ctx, name, trace.WithSpanKind(kind), trace.WithTimestamp(start), trace.WithAttributes(attrs...))
	if err != nil {
		recordError(sp, err, end)
		sp.SetStatus(codes.Error, err.Error())
	}
	sp.End(trace.WithTimestamp(end))
}

// libraryError is an error as a client library would return it: its type is the library's.
type libraryError struct{ typ, msg string }

func (e libraryError) Error() string { return e.msg }

// pqError is an error of Go's Postgres driver.
func pqError(msg string) error { return libraryError{"*pq.Error", msg} }

// recordError records err on sp as an exception of its library's type.
func recordError(sp trace.Span, err error, at time.Time) {
	opts := []trace.EventOption{trace.WithTimestamp(at)}
	var le libraryError
	if errors.As(err, &le) {
		opts = append(opts, trace.WithAttributes(attribute.String("exception.type", le.typ)))
	}
	sp.RecordError(err, opts...)
}

// request simulates one user request across the services, ending at end.
func (s *simulator) request(ctx context.Context, end time.Time) {
	r := routes[s.rnd.IntN(len(routes))]
	handle := handles[s.rnd.IntN(len(handles))]
	api := apiStable
	if s.rnd.Float64() < canaryShare {
		api = apiCanary
	}
	queries := 1 + s.rnd.IntN(3)
	query := s.latency(r.typical) / time.Duration(queries+1)
	if api == apiCanary && r.route != "/api/messages/{handle}" && r.route != "/api/messages" {
		query *= 3 // the activities index is gone
	}
	status, failure := 200, error(nil)
	switch {
	case s.rnd.IntN(60) == 0:
		status = 401 // an expired token: the client's problem, not an error of the server
	case api == apiCanary && r.route != "/api/messages/{handle}" && r.route != "/api/messages" && s.rnd.IntN(8) == 0:
		status, failure = 500, pqError(`pq: column "likes_count" does not exist`)
	case s.rnd.IntN(100) == 0:
		status, failure = 500, pqError("pq: could not serialize access due to concurrent update")
	case r.writes:
		status = 201
	}

	// Lay the request out from its start; the whole of it ends at end.
	authTime := time.Duration(2+s.rnd.IntN(6)) * time.Millisecond
	work := time.Duration(queries) * (query + time.Millisecond)
	if status == 401 {
		work = 0
	}
	total := 14*time.Millisecond + authTime + work
	start := end.Add(-total)
	apiStart := start.Add(4 * time.Millisecond)

	fe := s.tracers[frontend]
	pageCtx, page := fe.Start(ctx, r.method+" "+r.page, trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(start),
		trace.WithAttributes(attribute.String("http.request.method", r.method), attribute.String("url.path", r.page),
			attribute.String("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)"), attribute.String("app.user.handle", handle)))
	clientCtx, client := fe.Start(pageCtx, r.method, trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(start.Add(2*time.Millisecond)),
		trace.WithAttributes(attribute.String("http.request.method", r.method), attribute.String("server.address", "cruddur-api")))
	apiCtx, srv := s.tracers[api].Start(clientCtx, r.method+" "+r.route, trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(apiStart),
		trace.WithAttributes(attribute.String("http.request.method", r.method), attribute.String("http.route", r.route),
			attribute.String("app.user.handle", handle), attribute.Int("app.page.size", 20)))
	c := call{sim: s, ctx: apiCtx}

	at := apiStart.Add(time.Millisecond)
	authStatus := 200
	if status == 401 {
		authStatus = 401
	}
	c.span(auth, "verify cognito token", trace.SpanKindServer, at, at.Add(authTime), nil,
		attribute.String("auth.provider", "cognito"), attribute.Bool("auth.cached", s.rnd.IntN(3) > 0),
		attribute.Int("http.response.status_code", authStatus))
	at = at.Add(authTime + time.Millisecond)
	if status != 401 {
		table := "activities"
		if r.route == "/api/messages/{handle}" || r.route == "/api/messages" {
			table = "messages"
		}
		verb := "SELECT"
		if r.writes {
			verb = "INSERT"
		}
		for q := range queries {
			var err error
			if q == queries-1 {
				err = failure // the last query fails the request
			}
			c.span(api, verb+" cruddur."+table, trace.SpanKindClient, at, at.Add(query), err,
				attribute.String("db.system", "postgresql"), attribute.String("db.name", "cruddur"),
				attribute.String("db.operation.name", verb), attribute.String("db.collection.name", table),
				attribute.String("db.statement", statement(verb, table, api == apiCanary)))
			at = at.Add(query + time.Millisecond)
		}
		if r.writes && failure == nil {
			s.publish(c, at)
		}
	}

	apiEnd := end.Add(-4 * time.Millisecond)
	if failure != nil {
		recordError(srv, failure, apiEnd.Add(-time.Millisecond))
	}
	finish(srv, false, status, apiEnd)
	finish(client, true, status, end.Add(-2*time.Millisecond))
	finish(page, false, status, end)
}

// publish records the notification of a write: usually one publish, sometimes a timeout
// and a retry that succeeds. The user's request does not wait for it to be delivered.
func (s *simulator) publish(c call, at time.Time) {
	attrs := []attribute.KeyValue{attribute.String("messaging.system", "sns"), attribute.String("messaging.destination.name", "activity-created")}
	if s.rnd.IntN(30) == 0 {
		c.span(notifications, "publish activity-created", trace.SpanKindProducer, at, at.Add(3*time.Millisecond), errors.New("sns: request timed out"), attrs...)
	}
	c.span(notifications, "publish activity-created", trace.SpanKindProducer, at, at.Add(3*time.Millisecond), nil, attrs...)
}

// finish sets the HTTP status of a span and ends it. 5xx is an error for both sides of the
// call; 4xx for the client only, as the HTTP semantic conventions say.
func finish(sp trace.Span, client bool, status int, end time.Time) {
	sp.SetAttributes(attribute.Int("http.response.status_code", status))
	if status >= 500 || status >= 400 && client {
		sp.SetStatus(codes.Error, "")
	}
	sp.End(trace.WithTimestamp(end))
}

func statement(verb, table string, canary bool) string {
	if verb == "INSERT" {
		return "INSERT INTO " + table + " (user_uuid, message, expires_at) VALUES ($1, $2, $3) RETURNING uuid"
	}
	cols := "uuid, message, created_at"
	if canary && table == "activities" {
		cols += ", likes_count"
	}
	return "SELECT " + cols + " FROM " + table + " WHERE handle = $1 ORDER BY created_at DESC LIMIT 20"
}
