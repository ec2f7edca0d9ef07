// Package server composes lookout: the store, the ingest pipeline, every receiver and the
// query APIs and UI, on their listeners. cmd/lookout only parses flags into a Config; tests
// boot the same Server.
//
// Everything with a lifetime is a Component, started in order and shut down in reverse.
// Receivers and APIs are not components: each mounts its routes on a listener, one line of
// wiring each, in Start.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"

	"lookout/internal/api"
	"lookout/internal/aws"
	"lookout/internal/ingest"
	"lookout/internal/ingest/cwlogs"
	"lookout/internal/ingest/honeycomb"
	"lookout/internal/ingest/otlp"
	"lookout/internal/ingest/rollbar"
	"lookout/internal/ingest/spanerrors"
	"lookout/internal/ingest/xray"
	"lookout/internal/livetail"
	"lookout/internal/metrics"
	"lookout/internal/sources"
	"lookout/internal/store"
	"lookout/internal/store/factory"
	"lookout/internal/telemetry"
	"lookout/internal/ui"
	"lookout/internal/xray/sampling"
)

// Config is everything lookout serve can be told.
type Config struct {
	DataDir  string
	HTTPAddr string // OTLP/HTTP and vendor HTTP APIs
	GRPCAddr string // OTLP/gRPC
	XRayAddr string // the X-Ray daemon endpoint, UDP and TCP
	// XRaySamplingRules is a file, or a directory of files, of X-Ray sampling rules to load
	// at start (each as the CLI's create-sampling-rule --cli-input-json takes it).
	XRaySamplingRules string
	UIAddr            string // web UI and query APIs
	Retention         time.Duration
	RetentionEvery    time.Duration // how often expired data is deleted
	MaxRequestBytes   int64         // decompressed
	// PublicURL is where people reach the UI when lookout sits behind a proxy; links lookout
	// hands out point there. Its host is allowed, like AllowedHosts.
	PublicURL string
	// AllowedHosts are the host names the UI answers to besides IP addresses, localhost and
	// the machine's name ("*" for any; ".example.com" for a domain and its subdomains).
	AllowedHosts []string
	Store        factory.Config
	Pipeline     ingest.PipelineConfig

	// RollbarTokens is the file of Rollbar projects and access tokens; empty, the Item API
	// accepts any token, filing each new one under a project named after it.
	RollbarTokens string
	// AWSCredentialsFile, if set, names the key pairs AWS API requests must be signed with
	// (aws.LoadCredentials); without it any signature is accepted.
	AWSCredentialsFile string
	// AuditEvery is how often lookout looks for spans whose parent never arrived, once
	// ParentWait has passed since they ended. ParentWait must exceed xray.SubsegmentHold,
	// which a subsegment whose segment has not come waits before it is stored.
	AuditEvery, ParentWait time.Duration
}

// DefaultConfig is what lookout serve uses without flags.
func DefaultConfig() Config {
	return Config{
		DataDir:         "./lookout-data",
		HTTPAddr:        "127.0.0.1:4318",
		GRPCAddr:        "127.0.0.1:4317",
		XRayAddr:        "127.0.0.1:2000",
		UIAddr:          "127.0.0.1:8080",
		Retention:       7 * 24 * time.Hour,
		RetentionEvery:  10 * time.Minute,
		MaxRequestBytes: 64 << 20,
		Store:           factory.DefaultConfig(""),
		Pipeline:        ingest.DefaultPipelineConfig(),
		AuditEvery:      15 * time.Second,
		ParentWait:      time.Minute,
	}
}

// Server is a running lookout.
type Server struct {
	cfg        Config
	log        *slog.Logger
	metrics    *metrics.Metrics
	backend    store.Backend
	pipeline   *ingest.Pipeline
	sources    *sources.Registry
	uiAPI      *api.API
	components []Component // started, in order
	listeners  []Listener
	liveTail   *livetail.Hub // log records to Live Tail sessions as they are acknowledged

	stopOnce sync.Once
	stopErr  error
}

// Addrs are the addresses the server listens on, resolved (port 0 becomes a real port).
type Addrs struct {
	HTTP, GRPC, UI string
	XRay           string // UDP and TCP
}

// Start opens the store and starts serving. It returns once every listener is bound.
func Start(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	storeCfg := cfg.Store
	storeCfg.DuckDB.Dir = cfg.DataDir
	backend, err := factory.Open(ctx, storeCfg, log.With("subsystem", "store"))
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, metrics: metrics.New(), backend: backend, sources: sources.NewRegistry()}
	if err := s.wire(ctx); err != nil {
		backend.Close()
		return nil, err
	}
	for i, c := range s.components {
		if err := c.Start(ctx); err != nil {
			s.shutdown(context.Background(), s.components[:i])
			backend.Close()
			return nil, err
		}
	}
	return s, nil
}

// wire builds the components and mounts every receiver and API on its listener.
func (s *Server) wire(ctx context.Context) error {
	cfg, log := s.cfg, s.log
	pipeline, err := ingest.NewPipeline(IngestLogDir(cfg.DataDir), s.backend, cfg.Pipeline, log.With("subsystem", "ingest"), s.metrics)
	if err != nil {
		return err
	}
	s.pipeline = pipeline
	spanWriter, ok1 := s.backend.(store.SpanWriter)
	traceReader, ok2 := s.backend.(store.TraceReader)
	if !ok1 || !ok2 {
		pipeline.Shutdown(ctx)
		return fmt.Errorf("the %s store cannot write and read traces", cfg.Store.Kind)
	}
	writeSpans := spanWriter.WriteSpans
	if r, ok := s.backend.(store.SpanReviser); ok {
		writeSpans = r.ReviseSpans // X-Ray sends spans in versions: in progress, then complete
	}
	if ow, ok := s.backend.(store.OccurrenceWriter); ok { // the exceptions spans record are error occurrences too
		writeSpans = spanerrors.Also(writeSpans, ow.WriteOccurrences)
	}
	spanInput := ingest.AddInput(pipeline, ingest.Spans, writeSpans)
	// Every receiver's sink counts what it stores for the sources page.
	spans := func(receiver string) ingest.Sink[telemetry.Span] {
		return sources.Sink(spanInput.Sink(receiver), sources.Spans)
	}
	var logs func(receiver string) ingest.Sink[telemetry.LogRecord]
	if lw, ok := s.backend.(store.LogWriter); ok {
		logInput := ingest.AddInput(pipeline, ingest.Logs, lw.WriteLogs)
		logs = func(receiver string) ingest.Sink[telemetry.LogRecord] {
			return sources.Sink(logInput.Sink(receiver), sources.Logs)
		}
	}
	var occurrences *ingest.Input[telemetry.Occurrence]
	if ow, ok := s.backend.(store.OccurrenceWriter); ok {
		occurrences = ingest.AddInput(pipeline, ingest.Occurrences, ow.WriteOccurrences)
	}
	rbProjects, err := rollbarProjects(cfg.RollbarTokens)
	if err != nil {
		pipeline.Shutdown(ctx)
		return err
	}
	hosts, err := newHostSet(cfg.PublicURL, cfg.AllowedHosts)
	if err != nil {
		pipeline.Shutdown(ctx)
		return err
	}
	ingestHTTP := newHTTPListener("OTLP/HTTP", cfg.HTTPAddr, log, func(h http.Handler) http.Handler {
		// Timed reads the route that the mux sets on the request the middleware passes on.
		return s.sources.Middleware(s.metrics.Timed("http", h))
	})
	otlpCfg := otlp.Config{MaxRequestBytes: cfg.MaxRequestBytes}
	ingestGRPC := newGRPCListener("OTLP/gRPC", cfg.GRPCAddr, log,
		append(otlp.GRPCServerOptions(otlpCfg), grpc.ChainUnaryInterceptor(s.sources.UnaryInterceptor()))...)
	uiHTTP := newHTTPListener("UI", cfg.UIAddr, log, func(h http.Handler) http.Handler {
		return s.metrics.Timed("ui", hostGuard(hosts, sameOrigin(true, h)))
	})

	// Receivers, one line each.
	otlpRcv := otlp.NewReceiver(otlpCfg, log.With("subsystem", "otlp"))
	ingestHTTP.Mux.Handle("/v1/traces", otlpRcv.TracesHandler(spans("otlp")))
	otlpRcv.RegisterTraceService(ingestGRPC.Server, spans("otlp"))
	s.liveTail = &livetail.Hub{}
	if logs != nil {
		ingestHTTP.Mux.Handle("/v1/logs", otlpRcv.LogsHandler(s.liveTail.Tee(logs("otlp"))))
		otlpRcv.RegisterLogsService(ingestGRPC.Server, s.liveTail.Tee(logs("otlp")))
	}
	honeycomb.NewHandler(spans("honeycomb"), log.With("subsystem", "honeycomb")).Register(ingestHTTP.Mux)
	verifier := &aws.Verifier{}
	if cfg.AWSCredentialsFile != "" {
		if verifier.Credentials, err = aws.LoadCredentials(cfg.AWSCredentialsFile); err != nil {
			pipeline.Shutdown(ctx)
			return fmt.Errorf("--aws-credentials: %w", err)
		}
	}
	xrayAPI, err := s.xrayAPI(ctx, spans("xray"), traceReader, verifier)
	if err != nil {
		pipeline.Shutdown(ctx)
		return err
	}
	xrayAPI.Register(ingestHTTP.Mux)
	xrayDaemon := xray.NewDaemon(cfg.XRayAddr, xrayAPI, log.With("subsystem", "xray"))
	if occurrences != nil {
		rollbar.NewHandler(sources.Sink(occurrences.Sink("rollbar"), rollbar.Sources), rbProjects, 0, log.With("subsystem", "rollbar")).Register(ingestHTTP.Mux)
	}
	if cw, ok := s.backend.(cwlogs.Store); ok && logs != nil {
		cwlogs.New(s.liveTail.Tee(logs("cloudwatch")), cw, verifier, s.liveTail, log.With("subsystem", "cloudwatch-logs")).Register(ingestHTTP.Mux)
	}

	// Query APIs and the UI.
	// Honeycomb's tools (and curl -d) post queries without a JSON content type.
	guard := func(h http.Handler) http.Handler { return hostGuard(hosts, sameOrigin(false, h)) }
	if hc, ok := s.backend.(api.HoneycombReader); ok {
		api.NewHoneycomb(hc, log.With("subsystem", "honeycomb-api"), func(r *http.Request) string { return s.uiURL(uiHTTP, r) }).Register(ingestHTTP.Mux, guard)
	}
	if is, ok := s.backend.(rollbar.ItemStore); ok {
		rollbar.NewReadAPI(is, rbProjects, func(r *http.Request) string { return s.uiURL(uiHTTP, r) }, log.With("subsystem", "rollbar-api")).Register(ingestHTTP.Mux, guard)
	}
	uiAPI := api.New(traceReader, log.With("subsystem", "api"))
	s.uiAPI = uiAPI
	if err := uiAPI.SaveQueriesIn(filepath.Join(cfg.DataDir, "saved-queries.json")); err != nil {
		pipeline.Shutdown(ctx)
		return err
	}
	uiAPI.TailLogsFrom(s.liveTail)
	if settings, ok := s.backend.(store.SettingsStore); ok && occurrences != nil {
		if err := rbProjects.KeepIn(ctx, settings); err != nil {
			pipeline.Shutdown(ctx)
			return err
		}
		uiAPI.ManageRollbarTokens(rbProjects)
	}
	uiAPI.ShowSources(s.sources, func(r *http.Request) api.Endpoints { return s.endpoints(ingestHTTP, ingestGRPC, xrayDaemon, uiHTTP, r) })
	uiAPI.Register(uiHTTP.Mux)
	xrayAPI.RegisterUI(uiHTTP.Mux)
	s.registerHealth(uiHTTP.Mux)
	uiHTTP.Mux.Handle("/", ui.Handler())

	s.components = []Component{pipeline}
	if r, ok := s.backend.(store.Retainer); ok && cfg.Retention > 0 {
		s.components = append(s.components, &background{every: cfg.RetentionEvery, atStart: true, task: func(ctx context.Context) { s.enforceRetention(ctx, r) }})
	}
	if cfg.AuditEvery > 0 {
		s.components = append(s.components, &background{every: cfg.AuditEvery, task: s.missingParentsAudit(traceReader)})
	}
	if c, ok := s.backend.(store.LogCatalogue); ok {
		s.components = append(s.components, &background{every: cfg.RetentionEvery, atStart: true, task: func(ctx context.Context) { s.expireLogs(ctx, c) }})
	}
	if r, ok := s.backend.(store.SegmentReader); ok {
		s.components = append(s.components, &background{every: time.Minute, task: func(ctx context.Context) { s.countServiceGraph(ctx, r) }})
	}
	s.listeners = []Listener{ingestHTTP, ingestGRPC, uiHTTP, xrayDaemon}
	for _, l := range s.listeners {
		s.components = append(s.components, l)
	}
	s.components = append(s.components, s.liveTail) // ends Live Tail streams before the listeners stop
	return nil
}

// xrayAPI builds the X-Ray API: sampling rules and groups kept in the store, the rules of
// --xray-sampling-rules loaded, requests checked by verifier.
func (s *Server) xrayAPI(ctx context.Context, sink ingest.Sink[telemetry.Span], traces store.TraceReader, verifier *aws.Verifier) (*xray.API, error) {
	settings, ok := s.backend.(store.SettingsStore)
	if !ok {
		return nil, fmt.Errorf("the %s store cannot keep X-Ray's sampling rules", s.cfg.Store.Kind)
	}
	sampler, err := sampling.New(ctx, settings)
	if err != nil {
		return nil, err
	}
	if s.cfg.XRaySamplingRules != "" {
		if err := sampler.LoadFiles(ctx, s.cfg.XRaySamplingRules); err != nil {
			return nil, fmt.Errorf("--xray-sampling-rules: %w", err)
		}
	}
	ingester := xray.NewIngester(sink, s.metrics, xray.NewProblems(s.log.With("subsystem", "xray")))
	ingester.ReportTo(s.sources)
	return xray.NewAPI(xray.APIConfig{
		Ingester: ingester,
		Traces:   traces, Sampler: sampler, Settings: settings, Verifier: verifier,
		Log: s.log.With("subsystem", "xray-api"),
	}), nil
}

// rollbarProjects are the Rollbar projects and tokens of the file at path, or open ones.
func rollbarProjects(path string) (*rollbar.Projects, error) {
	if path == "" {
		return rollbar.OpenProjects(), nil
	}
	return rollbar.LoadProjects(path)
}

// uiURL is the web UI's base URL as the client of r reaches lookout: --public-url when set,
// else the UI listener's address as r reached it.
func (s *Server) uiURL(ui Listener, r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimSuffix(s.cfg.PublicURL, "/")
	}
	return "http://" + reachable(ui.Addr(), r)
}

// endpoints are lookout's addresses as the client of r reaches it, for set-up snippets.
func (s *Server) endpoints(ingestHTTP, ingestGRPC, xrayDaemon, ui Listener, r *http.Request) api.Endpoints {
	httpBase := "http://" + reachable(ingestHTTP.Addr(), r)
	return api.Endpoints{OTLPHTTP: httpBase, OTLPGRPC: reachable(ingestGRPC.Addr(), r), VendorHTTP: httpBase,
		XRay: reachable(xrayDaemon.Addr(), r), UI: s.uiURL(ui, r)}
}

// reachable is a listener's address with the host name r was sent to in place of an
// unspecified IP (a listener on every interface).
func reachable(addr string, r *http.Request) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = r.Host
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			host = h
		}
		host = strings.Trim(host, "[]")
	}
	return net.JoinHostPort(host, port)
}

// IngestLogDir is where the ingest pipeline keeps its write-ahead and dead-letter logs.
func IngestLogDir(dataDir string) string { return filepath.Join(dataDir, "ingest-log") }

// Listeners returns the server's listeners, in the order they started.
func (s *Server) Listeners() []Listener { return s.listeners }

// Addrs returns where the server listens.
func (s *Server) Addrs() Addrs {
	return Addrs{HTTP: s.listeners[0].Addr(), GRPC: s.listeners[1].Addr(), UI: s.listeners[2].Addr(), XRay: s.listeners[3].Addr()}
}

// enforceRetention deletes expired data (at start and then every RetentionEvery).
func (s *Server) enforceRetention(ctx context.Context, r store.Retainer) {
	cutoff := time.Now().Add(-s.cfg.Retention)
	if n, err := r.DeleteBefore(ctx, cutoff); err != nil {
		if ctx.Err() == nil {
			s.log.Error("retention failed", "err", err)
		}
	} else if n > 0 {
		s.log.Info("retention removed expired telemetry", "items", n, "cutoff", cutoff)
	}
}

// Shutdown stops accepting requests, lets in-flight ones finish, loads every acknowledged
// item into the store and closes it, all by the time ctx ends. What the pipeline could not
// load by then stays in the ingest log and is loaded at the next start.
// Calling it again returns the first call's result.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() {
		err := s.shutdown(ctx, s.components)
		s.stopErr = errors.Join(err, s.backend.Close())
	})
	return s.stopErr
}

// slowShutdown is how long a component may take to stop before the log says so.
const slowShutdown = 2 * time.Second

// shutdown stops components in reverse order.
func (s *Server) shutdown(ctx context.Context, components []Component) error {
	var errs []error
	for i := len(components) - 1; i >= 0; i-- {
		start := time.Now()
		err := components[i].Shutdown(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("shutdown: %w", err))
		}
		if took := time.Since(start); took > slowShutdown {
			// Said so that a slow stop can be told apart from a hung one.
			s.log.Warn("a component was slow to stop", "component", fmt.Sprintf("%T", components[i]), "took", took.Round(time.Millisecond))
		}
	}
	return errors.Join(errs...)
}
