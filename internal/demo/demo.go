// Package demo is what lookout demo runs. First Cruddur, the micro-blogging API whose team
// bought Honeycomb, X-Ray, Rollbar and CloudWatch Logs (examples/cruddur): instrumented with
// all four client libraries, configured by their standard environment variables to report to
// lookout, with simulated users on it. Beside it, a simulated workload of several services
// sends ten minutes of history at once. Within seconds every page has real data, and one of
// Cruddur's troubles at a time can be switched on to be found from the UI.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/aws-xray-sdk-go/xraylog"
	xrayotel "go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"

	"lookout/examples/cruddur"
)

// The X-Ray SDK logs each of its steps to stdout; the demo shows only its warnings. SetLogger
// is safe only before the SDK runs, hence init.
func init() { xray.SetLogger(xraylog.NewDefaultLogger(os.Stderr, xraylog.LogLevelWarn)) }

// Config says where the demo's senders reach lookout.
type Config struct {
	// OTLP is lookout's OTLP/HTTP base URL; VendorHTTP the base URL of its Rollbar,
	// CloudWatch Logs and X-Ray APIs; XRayDaemon its X-Ray daemon address ("" for none).
	OTLP, VendorHTTP, XRayDaemon string
	// CruddurAddr is where Cruddur listens; "" picks a free port on 127.0.0.1.
	CruddurAddr string
	// Trouble is switched on from the start.
	Trouble cruddur.Trouble
	// UserInterval is the time between two users' requests; 0 means 200 ms.
	UserInterval time.Duration
	// WithoutHistory leaves out the simulated workload, for tests that look at Cruddur alone.
	WithoutHistory bool
}

// The credentials the demo's senders use, as a team's .env file would hold them.
const (
	HoneycombKey    = "cruddurdemoenvkey0001"
	RollbarToken    = "c0ffee00c0ffee00c0ffee00c0ffee00"
	AccessKeyID     = "AKIACRUDDURDEMO00001"
	SecretAccessKey = "cruddur-demo-secret-access-key"
	Region          = "us-east-1"
)

// Env is the environment Cruddur runs with: every client library pointed at lookout by its
// standard variables, as the bootcamp's docker-compose.yml set them.
func (c Config) Env() map[string]string {
	env := map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": c.OTLP,
		"OTEL_EXPORTER_OTLP_HEADERS":  "x-honeycomb-team=" + HoneycombKey,
		"OTEL_SERVICE_NAME":           "backend-flask",
		"ROLLBAR_ACCESS_TOKEN":        RollbarToken,
		"ROLLBAR_ENDPOINT":            c.VendorHTTP + "/api/1/item/",
		"AWS_REGION":                  Region,
		"AWS_ACCESS_KEY_ID":           AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":       SecretAccessKey,
		// CloudWatch Logs' standard endpoint variable, which boto3 and the AWS SDKs read.
		"AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": c.VendorHTTP,
	}
	if c.XRayDaemon != "" {
		env["AWS_XRAY_DAEMON_ADDRESS"] = c.XRayDaemon
	}
	return env
}

// Demo is a running demo.
type Demo struct {
	svc        *cruddur.Service
	cruddurURL string
	cancel     context.CancelFunc
	done       chan struct{}
	stop       []func(context.Context) error
}

// Start starts Cruddur, its users and the simulated workload; Stop ends them.
func Start(ctx context.Context, cfg Config, log *slog.Logger) (*Demo, error) {
	env := cfg.Env()
	in, stopInstruments, err := cruddur.InstrumentsFromEnv(ctx, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		return nil, err
	}
	d := &Demo{svc: cruddur.New(cruddur.Config{Instruments: in}), done: make(chan struct{}), stop: []func(context.Context) error{stopInstruments}}
	d.svc.SetTrouble(cfg.Trouble)
	if cfg.XRayDaemon != "" {
		if err := setUpXRay(ctx, cfg.VendorHTTP); err != nil {
			log.Warn("could not create the X-Ray sampling rule and group", "err", err)
		}
	}
	addr := cfg.CruddurAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		stopInstruments(ctx)
		return nil, fmt.Errorf("cruddur: %w", err)
	}
	srv := &http.Server{Handler: d.svc, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	d.cruddurURL = "http://" + ln.Addr().String()
	d.stop = append(d.stop, srv.Shutdown)

	frontend, err := frontendTracing(ctx, cfg.OTLP)
	if err != nil {
		d.Stop(ctx)
		return nil, err
	}
	d.stop = append(d.stop, frontend.Shutdown)
	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, xrayotel.Propagator{})

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	d.cancel = cancel
	every := cfg.UserInterval
	if every <= 0 {
		every = 200 * time.Millisecond
	}
	go func() {
		defer close(d.done)
		sim := make(chan error, 1)
		if !cfg.WithoutHistory {
			go func() { sim <- RunSimulated(runCtx, cfg.OTLP, log) }()
		} else {
			sim <- nil
		}
		newUsers(d.cruddurURL, frontend, prop, uint64(time.Now().UnixNano())).run(runCtx, every)
		if err := <-sim; err != nil && !errors.Is(err, context.Canceled) {
			log.Warn("simulated services stopped", "err", err)
		}
	}()
	log.Info("demo started", "cruddur", d.cruddurURL, "trouble", string(cfg.Trouble))
	return d, nil
}

// frontendTracing traces the users' requests as Cruddur's React frontend, the start of each
// trace.
func frontendTracing(ctx context.Context, otlp string) (*sdktrace.TracerProvider, error) {
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(otlp+"/v1/traces"),
		otlptracehttp.WithHeaders(map[string]string{"x-honeycomb-team": HoneycombKey}))
	if err != nil {
		return nil, err
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName("frontend-react-js")))
	if err != nil {
		return nil, err
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(time.Second)),
		sdktrace.WithIDGenerator(xrayotel.NewIDGenerator()), sdktrace.WithResource(res)), nil
}

// CruddurURL is where Cruddur serves its API.
func (d *Demo) CruddurURL() string { return d.cruddurURL }

// Trouble is the trouble that is on ("" for none).
func (d *Demo) Trouble() cruddur.Trouble { return d.svc.Trouble() }

// SetTrouble switches one trouble on, by name ("none" or "" for none).
func (d *Demo) SetTrouble(name string) error {
	t, err := cruddur.ParseTrouble(name)
	if err != nil {
		return err
	}
	d.svc.SetTrouble(t)
	return nil
}

// Stop stops the users, then Cruddur, then flushes every client library, by ctx's deadline.
func (d *Demo) Stop(ctx context.Context) error {
	if d.cancel != nil {
		d.cancel()
		<-d.done
	}
	var errs []error
	for i := len(d.stop) - 1; i >= 0; i-- {
		errs = append(errs, d.stop[i](ctx))
	}
	return errors.Join(errs...)
}
