// Package server composes lookout: the store, the ingest pipeline, every receiver and the
// query APIs and UI, on their listeners. cmd/lookout only parses flags into a Config; tests
// boot the same Server.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"google.golang.org/grpc"

	"lookout/internal/api"
	"lookout/internal/ingest"
	"lookout/internal/ingest/honeycomb"
	"lookout/internal/ingest/otlp"
	"lookout/internal/store"
	"lookout/internal/store/duckdb"
	"lookout/internal/ui"
)

// Config is everything lookout serve can be told.
type Config struct {
	DataDir         string
	HTTPAddr        string // OTLP/HTTP and vendor HTTP APIs
	GRPCAddr        string // OTLP/gRPC
	UIAddr          string // web UI and query APIs
	Retention       time.Duration
	RetentionEvery  time.Duration // how often expired data is deleted
	MaxRequestBytes int64         // decompressed
	MemoryLimit     string
	Pipeline        ingest.PipelineConfig
}

// DefaultConfig is what lookout serve uses without flags.
func DefaultConfig() Config {
	return Config{
		DataDir:         "./lookout-data",
		HTTPAddr:        "127.0.0.1:4318",
		GRPCAddr:        "127.0.0.1:4317",
		UIAddr:          "127.0.0.1:8080",
		Retention:       7 * 24 * time.Hour,
		RetentionEvery:  10 * time.Minute,
		MaxRequestBytes: 64 << 20,
		MemoryLimit:     "128MB",
		Pipeline:        ingest.DefaultPipelineConfig(),
	}
}

// Server is a running lookout.
type Server struct {
	cfg      Config
	log      *slog.Logger
	store    store.Store
	pipeline *ingest.Pipeline

	httpSrv, uiSrv *http.Server
	grpcSrv        *grpc.Server
	addrs          Addrs

	stopRetention context.CancelFunc
	wg            sync.WaitGroup
}

// Addrs are the addresses the server listens on, resolved (port 0 becomes a real port).
type Addrs struct {
	HTTP, GRPC, UI string
}

// Start opens the store and starts serving. It returns once every listener is bound.
func Start(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	storeCfg := duckdb.DefaultConfig(cfg.DataDir)
	storeCfg.MemoryLimit, storeCfg.Logger = cfg.MemoryLimit, log.With("subsystem", "store")
	st, err := duckdb.Open(ctx, storeCfg)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, store: st}
	s.pipeline, err = ingest.OpenPipeline(ctx, filepath.Join(cfg.DataDir, "ingest-log"), st, cfg.Pipeline, log.With("subsystem", "ingest"))
	if err != nil {
		st.Close()
		return nil, err
	}

	listeners := make([]net.Listener, 0, 3)
	fail := func(err error) (*Server, error) {
		for _, l := range listeners {
			l.Close()
		}
		s.pipeline.Close()
		st.Close()
		return nil, err
	}
	listen := func(name, addr string) (net.Listener, error) {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("listen for %s on %s: %w", name, addr, err)
		}
		listeners = append(listeners, l)
		return l, nil
	}
	httpL, err := listen("OTLP/HTTP", cfg.HTTPAddr)
	if err != nil {
		return fail(err)
	}
	grpcL, err := listen("OTLP/gRPC", cfg.GRPCAddr)
	if err != nil {
		return fail(err)
	}
	uiL, err := listen("UI", cfg.UIAddr)
	if err != nil {
		return fail(err)
	}
	s.addrs = Addrs{HTTP: httpL.Addr().String(), GRPC: grpcL.Addr().String(), UI: uiL.Addr().String()}

	otlpCfg := otlp.Config{MaxRequestBytes: cfg.MaxRequestBytes}
	otlpRcv := otlp.NewReceiver(otlpCfg, log.With("subsystem", "otlp"))
	ingestMux := http.NewServeMux()
	ingestMux.Handle("/v1/traces", otlpRcv.TracesHandler(s.pipeline.SpanSink()))
	honeycomb.NewHandler(s.pipeline.SpanSink(), log.With("subsystem", "honeycomb")).Register(ingestMux)
	api.NewHoneycomb(st, log.With("subsystem", "honeycomb-api")).Register(ingestMux)
	s.httpSrv = newHTTPServer(ingestMux, log)

	s.grpcSrv = grpc.NewServer(otlp.GRPCServerOptions(otlpCfg)...)
	otlpRcv.RegisterTraceService(s.grpcSrv, s.pipeline.SpanSink())

	uiMux := http.NewServeMux()
	uiAPI := api.New(st, log.With("subsystem", "api"))
	if err := uiAPI.SaveQueriesIn(filepath.Join(cfg.DataDir, "saved-queries.json")); err != nil {
		return fail(err)
	}
	uiAPI.Register(uiMux)
	uiMux.Handle("/", ui.Handler())
	s.uiSrv = newHTTPServer(uiMux, log)

	s.serve("OTLP/HTTP", func() error { return s.httpSrv.Serve(httpL) })
	s.serve("OTLP/gRPC", func() error { return s.grpcSrv.Serve(grpcL) })
	s.serve("UI", func() error { return s.uiSrv.Serve(uiL) })

	rctx, cancel := context.WithCancel(context.Background())
	s.stopRetention = cancel
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.enforceRetention(rctx) }()
	return s, nil
}

func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

func (s *Server) serve(name string, fn func() error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := fn(); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, grpc.ErrServerStopped) {
			s.log.Error("listener failed", "listener", name, "err", err)
		}
	}()
}

// Addrs returns where the server listens.
func (s *Server) Addrs() Addrs { return s.addrs }

// enforceRetention deletes expired data at start and then every RetentionEvery.
func (s *Server) enforceRetention(ctx context.Context) {
	if s.cfg.Retention <= 0 {
		return
	}
	tick := time.NewTicker(s.cfg.RetentionEvery)
	defer tick.Stop()
	for {
		cutoff := time.Now().Add(-s.cfg.Retention)
		if n, err := s.store.DeleteBefore(ctx, cutoff); err != nil {
			if ctx.Err() == nil {
				s.log.Error("retention failed", "err", err)
			}
		} else if n > 0 {
			s.log.Info("retention removed expired spans", "spans", n, "cutoff", cutoff)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Shutdown stops accepting requests, lets in-flight ones finish, loads every acknowledged
// span into the store, and closes it.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopRetention()
	var errs []error
	grpcDone := make(chan struct{})
	go func() { s.grpcSrv.GracefulStop(); close(grpcDone) }()
	errs = append(errs, s.httpSrv.Shutdown(ctx), s.uiSrv.Shutdown(ctx))
	select {
	case <-grpcDone:
	case <-ctx.Done():
		s.grpcSrv.Stop()
	}
	errs = append(errs, s.pipeline.Close())
	s.wg.Wait()
	errs = append(errs, s.store.Close())
	return errors.Join(errs...)
}
