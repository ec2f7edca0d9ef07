// Package demo simulates a few services of a micro-blogging app (Cruddur) that report to
// lookout with the OpenTelemetry Go SDK over OTLP/HTTP, exactly as a user's services would.
// It gives a newcomer a populated UI the moment lookout starts.
package demo

import (
	"context"
	"errors"
	"fmt"
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

// services are the simulated services, each with its own tracer provider and resource.
var services = []struct{ name, version string }{
	{"frontend", "2.4.1"}, {"cruddur-api", "1.9.0"}, {"auth", "0.7.3"}, {"notifications", "1.1.0"},
}

// Run sends traces to the OTLP/HTTP endpoint until ctx ends, about rate traces a second.
func Run(ctx context.Context, endpoint string, log *slog.Logger) error {
	tracers := map[string]trace.Tracer{}
	var providers []*sdktrace.TracerProvider
	defer func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, tp := range providers {
			tp.Shutdown(shutdownCtx)
		}
	}()
	for i, svc := range services {
		exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint+"/v1/traces"))
		if err != nil {
			return err
		}
		res := resource.NewWithAttributes(semconv.SchemaURL,
			semconv.ServiceName(svc.name), semconv.ServiceVersion(svc.version),
			semconv.DeploymentEnvironment("demo"), semconv.HostName(fmt.Sprintf("node-%d", i%2+1)),
			attribute.String("cloud.region", "eu-west-1"))
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(500*time.Millisecond)), sdktrace.WithResource(res))
		providers = append(providers, tp)
		tracers[svc.name] = tp.Tracer("lookout/demo")
	}
	sim := &simulator{tracers: tracers, rnd: rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))}
	log.Info("demo started", "endpoint", endpoint)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			sim.request(ctx)
		}
	}
}

type simulator struct {
	tracers map[string]trace.Tracer
	rnd     *rand.Rand
}

// routes are the API's endpoints with their typical latency.
var routes = []struct {
	method, route, page string
	typical             time.Duration
}{
	{"GET", "/api/activities/home", "/", 40 * time.Millisecond},
	{"GET", "/api/activities/@{handle}", "/@andrew", 60 * time.Millisecond},
	{"POST", "/api/activities", "/", 90 * time.Millisecond},
	{"GET", "/api/messages/{handle}", "/messages/bayko", 50 * time.Millisecond},
	{"POST", "/api/messages", "/messages/bayko", 70 * time.Millisecond},
	{"GET", "/api/activities/search", "/search", 120 * time.Millisecond},
}

var handles = []string{"andrewbrown", "bayko", "londo", "garek", "worf", "kira"}

// latency draws a duration around typical with a long tail.
func (s *simulator) latency(typical time.Duration) time.Duration {
	d := time.Duration(float64(typical) * (0.5 + s.rnd.ExpFloat64()*0.5))
	if s.rnd.IntN(50) == 0 {
		d *= 8 // the occasional slow request
	}
	return d
}

// request simulates one user request across the services. Spans get explicit timestamps,
// so nothing sleeps.
func (s *simulator) request(ctx context.Context) {
	r := routes[s.rnd.IntN(len(routes))]
	handle := handles[s.rnd.IntN(len(handles))]
	start := time.Now().Add(-2 * time.Second)
	total := s.latency(r.typical)
	failing := s.rnd.IntN(25) == 0

	fe := s.tracers["frontend"]
	ctx, page := fe.Start(ctx, r.method+" "+r.page, trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(start),
		trace.WithAttributes(attribute.String("http.request.method", r.method), attribute.String("url.path", r.page),
			attribute.String("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)"), attribute.String("app.user.handle", handle)))
	ctx, call := fe.Start(ctx, r.method, trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(start.Add(2*time.Millisecond)),
		trace.WithAttributes(attribute.String("http.request.method", r.method), attribute.String("server.address", "cruddur-api")))

	api := s.tracers["cruddur-api"]
	apiStart := start.Add(4 * time.Millisecond)
	ctx, srv := api.Start(ctx, r.method+" "+r.route, trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(apiStart),
		trace.WithAttributes(attribute.String("http.request.method", r.method), attribute.String("http.route", r.route),
			attribute.String("app.user.handle", handle), attribute.Int("app.page.size", 20)))

	at := apiStart.Add(time.Millisecond)
	at = s.child(ctx, "auth", "verify cognito token", trace.SpanKindServer, at, time.Duration(2+s.rnd.IntN(6))*time.Millisecond,
		attribute.String("auth.provider", "cognito"), attribute.Bool("auth.cached", s.rnd.IntN(3) > 0))
	queries := 1 + s.rnd.IntN(3)
	for q := 0; q < queries; q++ {
		d := total / time.Duration(queries+2)
		at = s.child(ctx, "cruddur-api", "SELECT cruddur.activities", trace.SpanKindClient, at, d,
			attribute.String("db.system", "postgresql"), attribute.String("db.name", "cruddur"),
			attribute.String("db.statement", "SELECT uuid, message, created_at FROM activities WHERE handle = $1 ORDER BY created_at DESC LIMIT 20"))
	}
	if r.method == "POST" {
		at = s.child(ctx, "notifications", "publish activity.created", trace.SpanKindProducer, at, 3*time.Millisecond,
			attribute.String("messaging.system", "sns"), attribute.String("messaging.destination.name", "activity-created"))
	}
	end := maxTime(at, apiStart.Add(total))
	status := 200
	if r.method == "POST" {
		status = 201
	}
	if failing {
		status = 500
		err := errors.New("pq: could not serialize access due to concurrent update")
		srv.RecordError(err, trace.WithTimestamp(end.Add(-time.Millisecond)), trace.WithAttributes(attribute.String("exception.type", "*pq.Error")))
		srv.SetStatus(codes.Error, err.Error())
		call.SetStatus(codes.Error, "HTTP 500")
	}
	srv.SetAttributes(attribute.Int("http.response.status_code", status))
	srv.End(trace.WithTimestamp(end))
	call.SetAttributes(attribute.Int("http.response.status_code", status))
	call.End(trace.WithTimestamp(end.Add(time.Millisecond)))
	page.SetAttributes(attribute.Int("http.response.status_code", status))
	page.End(trace.WithTimestamp(end.Add(3 * time.Millisecond)))
}

// child records a span in service svc starting at start, and returns when it ended.
func (s *simulator) child(ctx context.Context, svc, name string, kind trace.SpanKind, start time.Time, d time.Duration, attrs ...attribute.KeyValue) time.Time {
	_, sp := s.tracers[svc].Start(ctx, name, trace.WithSpanKind(kind), trace.WithTimestamp(start), trace.WithAttributes(attrs...))
	end := start.Add(d)
	sp.End(trace.WithTimestamp(end))
	return end.Add(time.Millisecond)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
