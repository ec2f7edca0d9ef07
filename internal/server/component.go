package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"google.golang.org/grpc"
)

// Component is a part of a running lookout with a lifetime: a listener, the ingest pipeline,
// the retention loop. The server starts its components in order and shuts them down in
// reverse, so listeners stop taking requests before the pipeline drains.
type Component interface {
	// Start returns once the component is ready (a listener is bound); it keeps working in
	// the background until Shutdown.
	Start(ctx context.Context) error
	// Shutdown stops the component, finishing what it can before ctx ends, and returns by
	// then.
	Shutdown(ctx context.Context) error
}

// Listener is a component that serves a network address.
type Listener interface {
	Component
	// Name is what the listener serves, as lookout prints it ("OTLP/HTTP", "UI").
	Name() string
	// Addr is the address it listens on, resolved once started (port 0 becomes a real port).
	Addr() string
}

// httpListener serves an http.ServeMux on a TCP address. Receivers and APIs add their routes
// to Mux before the server starts; middleware, if set, wraps the mux.
type httpListener struct {
	name, addr string
	Mux        *http.ServeMux
	middleware func(http.Handler) http.Handler
	srv        *http.Server
	log        *slog.Logger
	done       chan struct{}

	mu     sync.Mutex
	unused map[net.Conn]bool // connections that have not sent a byte of a request yet
}

func newHTTPListener(name, addr string, log *slog.Logger, middleware func(http.Handler) http.Handler) *httpListener {
	return &httpListener{name: name, addr: addr, Mux: http.NewServeMux(), middleware: middleware, log: log}
}

func (l *httpListener) Name() string { return l.name }
func (l *httpListener) Addr() string { return l.addr }

func (l *httpListener) Start(context.Context) error {
	ln, err := net.Listen("tcp", l.addr)
	if err != nil {
		return fmt.Errorf("listen for %s on %s: %w", l.name, l.addr, err)
	}
	l.addr = ln.Addr().String()
	var h http.Handler = l.Mux
	if l.middleware != nil {
		h = l.middleware(h)
	}
	l.srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(l.log.Handler(), slog.LevelWarn),
		ConnState:         l.track,
	}
	l.unused = map[net.Conn]bool{}
	l.done = make(chan struct{})
	go func() {
		defer close(l.done)
		if err := l.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			l.log.Error("listener failed", "listener", l.name, "err", err)
		}
	}()
	return nil
}

// track keeps the connections that have sent nothing yet.
func (l *httpListener) track(c net.Conn, state http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if state == http.StateNew {
		l.unused[c] = true
	} else {
		delete(l.unused, c)
	}
}

// Shutdown stops accepting, waits for requests in flight until ctx ends, then closes what
// is left. Connections a client opened but sent nothing on are closed at once: net/http would
// wait five seconds for their first request.
func (l *httpListener) Shutdown(ctx context.Context) error {
	l.mu.Lock()
	for c := range l.unused {
		c.Close()
	}
	l.mu.Unlock()
	err := l.srv.Shutdown(ctx)
	if err != nil {
		l.srv.Close()
	}
	<-l.done
	return err
}

// grpcListener serves a gRPC server on a TCP address.
type grpcListener struct {
	name, addr string
	Server     *grpc.Server
	log        *slog.Logger
	done       chan struct{}
}

func newGRPCListener(name, addr string, log *slog.Logger, opts ...grpc.ServerOption) *grpcListener {
	return &grpcListener{name: name, addr: addr, Server: grpc.NewServer(opts...), log: log}
}

func (l *grpcListener) Name() string { return l.name }
func (l *grpcListener) Addr() string { return l.addr }

func (l *grpcListener) Start(context.Context) error {
	ln, err := net.Listen("tcp", l.addr)
	if err != nil {
		return fmt.Errorf("listen for %s on %s: %w", l.name, l.addr, err)
	}
	l.addr = ln.Addr().String()
	l.done = make(chan struct{})
	go func() {
		defer close(l.done)
		if err := l.Server.Serve(ln); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			l.log.Error("listener failed", "listener", l.name, "err", err)
		}
	}()
	return nil
}

// Shutdown lets calls in flight finish until ctx ends, then cancels them.
func (l *grpcListener) Shutdown(ctx context.Context) error {
	stopped := make(chan struct{})
	go func() { l.Server.GracefulStop(); close(stopped) }()
	var err error
	select {
	case <-stopped:
	case <-ctx.Done():
		l.Server.Stop()
		<-stopped
		err = ctx.Err()
	}
	<-l.done
	return err
}

// background runs a task of the server's own (retention, audits) as a component: every
// interval, and at start too when atStart, until shutdown. The task reports its own errors.
type background struct {
	every   time.Duration
	atStart bool
	task    func(ctx context.Context)
	cancel  context.CancelFunc
	done    chan struct{}
}

func (b *background) Start(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel, b.done = cancel, make(chan struct{})
	go func() { defer close(b.done); b.run(ctx) }()
	return nil
}

func (b *background) run(ctx context.Context) {
	tick := time.NewTicker(b.every)
	defer tick.Stop()
	if b.atStart {
		b.task(ctx)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		b.task(ctx)
	}
}

func (b *background) Shutdown(ctx context.Context) error {
	b.cancel()
	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
