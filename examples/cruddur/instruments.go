package cruddur

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/rollbar/rollbar-go"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"

	"lookout/examples/cruddur/cwlogs"
)

// Instruments are the client libraries Cruddur reports through, as the bootcamp wired them into
// its Flask app. Each may be nil: Cruddur then runs without it.
type Instruments struct {
	// Tracing sends OpenTelemetry spans; TestKeyTracing sends them with an API key of another
	// environment, for the test-key trouble.
	Tracing, TestKeyTracing trace.TracerProvider
	// Propagation reads and writes trace context on HTTP headers.
	Propagation propagation.TextMapPropagator
	// XRay carries the X-Ray recorder (xray.ContextWithConfig); XRayNoRules one whose sampling
	// cannot reach the daemon, for the no-rules trouble.
	XRay, XRayNoRules context.Context
	// Rollbar reports errors and messages.
	Rollbar *rollbar.Client
	// Logs ships the app logger's lines to CloudWatch Logs; Logger is that logger.
	Logs   *cwlogs.Shipper
	Logger *slog.Logger
}

// segmentName is the X-Ray segment name the bootcamp configured.
const segmentName = "backend-flask"

// instrument wraps the API in the instruments, outermost first: OpenTelemetry's server span, the
// X-Ray segment continuing its trace, then the Rollbar report of a panic and the after-request
// log line.
func (s *Service) instrument(h http.Handler) http.Handler {
	in := s.cfg.Instruments
	h = s.recoverPanics(h)
	h = s.afterRequest(h)
	if in.XRay != nil {
		h = s.xraySegment(h)
	}
	if in.Tracing != nil {
		h = s.serverSpan(h)
	}
	return h
}

// serverSpan starts the OpenTelemetry server span, named after the route; under the test-key
// trouble every other request is sent with the other environment's key.
func (s *Service) serverSpan(h http.Handler) http.Handler {
	in := s.cfg.Instruments
	opts := func(tp trace.TracerProvider) []otelhttp.Option {
		return []otelhttp.Option{
			otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(in.Propagation),
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return cmp.Or(s.Route(r), r.Method) }),
		}
	}
	named := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if route := s.Route(r); route != "" {
			_, path, _ := strings.Cut(route, " ")
			trace.SpanFromContext(r.Context()).SetAttributes(semconv.HTTPRoute(path))
		}
		h.ServeHTTP(w, r)
	})
	main := otelhttp.NewHandler(named, "cruddur", opts(in.Tracing)...)
	if in.TestKeyTracing == nil {
		return main
	}
	test := otelhttp.NewHandler(named, "cruddur", opts(in.TestKeyTracing)...)
	var n atomic.Uint64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.troubles.get() == TestKey && n.Add(1)%2 == 0 {
			test.ServeHTTP(w, r)
			return
		}
		main.ServeHTTP(w, r)
	})
}

// xraySegment opens the request's X-Ray segment in the trace of its OpenTelemetry span, so that
// both are one trace; the sampling decision is left to the X-Ray SDK's rules.
func (s *Service) xraySegment(h http.Handler) http.Handler {
	in := s.cfg.Instruments
	namer := xray.NewFixedSegmentNamer(segmentName)
	withRules := xray.HandlerWithContext(in.XRay, namer, h)
	withoutRules := withRules
	if in.XRayNoRules != nil {
		withoutRules = xray.HandlerWithContext(in.XRayNoRules, namer, h)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sc := trace.SpanContextFromContext(r.Context()); sc.IsValid() {
			tid := sc.TraceID().String()
			r.Header.Set(xray.TraceIDHeaderKey, fmt.Sprintf("Root=1-%s-%s;Parent=%s", tid[:8], tid[8:], sc.SpanID()))
		}
		if s.troubles.get() == NoRules {
			withoutRules.ServeHTTP(w, r)
			return
		}
		withRules.ServeHTTP(w, r)
	})
}

// recoverPanics answers a panic with a 500 and reports it to Rollbar with its stack.
func (s *Service) recoverPanics(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				err, ok := p.(error)
				if !ok {
					err = fmt.Errorf("%v", p)
				}
				s.reportError(r, err)
				if s.cfg.Instruments.Rollbar == nil {
					s.logger().Error("panic", "err", err, "stack", string(debug.Stack()))
				}
				writeJSON(w, http.StatusInternalServerError, []string{"internal_server_error"})
			}
		}()
		h.ServeHTTP(w, r)
	})
}

// reportError sends err to Rollbar with the request and the ids of its trace.
func (s *Service) reportError(r *http.Request, err error) {
	rb := s.cfg.Instruments.Rollbar
	if rb == nil {
		return
	}
	// The stack starts at the frame that panicked, below this function, the deferred
	// recover and runtime.gopanic.
	rb.RequestErrorWithStackSkipWithExtrasAndContext(r.Context(), rollbar.ERR, r, err, 5, traceExtras(r.Context()))
}

// traceExtras are the ids of the request's trace, sent as a Rollbar occurrence's custom data.
func traceExtras(ctx context.Context) map[string]any {
	extras := map[string]any{}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		extras["trace_id"], extras["span_id"] = sc.TraceID().String(), sc.SpanID().String()
	}
	return extras
}

// afterRequest logs each request as the bootcamp's after_request hook did, at ERROR:
// "[2026-Nov-29 12:19] 172.18.0.1 GET http /api/activities/home? 200 OK".
func (s *Service) afterRequest(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		ip, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			ip = r.RemoteAddr
		}
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		s.logger().ErrorContext(r.Context(), fmt.Sprintf("%s %s %s %s %s?%s %d %s", s.cfg.Now().UTC().Format("[2006-Jan-02 15:04]"),
			ip, r.Method, scheme, r.URL.Path, r.URL.RawQuery, rec.status, http.StatusText(rec.status)))
	})
}

func (s *Service) logger() *slog.Logger {
	if l := s.cfg.Instruments.Logger; l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

// SetTrouble switches a trouble on, and every other off.
func (s *Service) SetTrouble(t Trouble) {
	s.troubles.on.Store(t)
	if logs := s.cfg.Instruments.Logs; logs != nil {
		interval := s.cfg.LogInterval
		if t == LateLogs {
			interval = cwlogs.DefaultInterval
		}
		logs.SetInterval(interval)
	}
}

// Trouble is the trouble that is on.
func (s *Service) Trouble() Trouble { return s.troubles.get() }

// TraceAttrs are the ids of the trace a log line was written in, for the log handler.
func TraceAttrs(ctx context.Context) []slog.Attr {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return nil
	}
	return []slog.Attr{slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String())}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
