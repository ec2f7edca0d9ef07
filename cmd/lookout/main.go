// Command lookout is one self-hosted binary for traces, errors and logs: it accepts what the
// OpenTelemetry, Honeycomb, X-Ray, Rollbar and CloudWatch Logs clients send and shows it in
// one UI.
//
//	lookout serve         run the server
//	lookout demo          run the server with Cruddur, the demo application, reporting to it
//	lookout dead-letter   list what the store refused, set aside
//	lookout version       print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"lookout/examples/cruddur"
	"lookout/internal/demo"
	"lookout/internal/server"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "lookout:", err)
		os.Exit(1)
	}
}

const usage = `usage: lookout <command> [flags]

commands:
  serve         run lookout
  demo          run lookout with Cruddur, an application instrumented with the
                OpenTelemetry, X-Ray, Rollbar and CloudWatch Logs clients, and users
                on it; --break NAME switches on one of its troubles
  dead-letter   list the items the store refused, which lookout set aside
  version       print the version

Run "lookout serve -h" for the flags. Every flag can also be set with an environment
variable LOOKOUT_<FLAG>, e.g. LOOKOUT_DATA=/var/lib/lookout.
`

func run(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "lookout", version)
		return nil
	case "serve":
		return serve(ctx, args[1:], stdout, getenv, nil)
	case "demo":
		return serve(ctx, args[1:], stdout, getenv, &demoFlags{})
	case "dead-letter":
		return deadLetter(args[1:], stdout, getenv)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stdout, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// demoFlags are lookout demo's own flags.
type demoFlags struct {
	trouble     string
	cruddurAddr string
}

func serve(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string, withDemo *demoFlags) error {
	cfg, logLevel, err := parseFlags(args, stdout, getenv, withDemo)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel}))
	server.TuneRuntime()
	srv, err := server.Start(ctx, cfg, log)
	if err != nil {
		return err
	}
	a := srv.Addrs()
	fmt.Fprintf(stdout, "lookout %s\n", version)
	fmt.Fprintf(stdout, "  data       %s\n", cfg.DataDir)
	fmt.Fprintf(stdout, "  OTLP/HTTP  http://%s  (OTEL_EXPORTER_OTLP_ENDPOINT=http://%s)\n", a.HTTP, a.HTTP)
	fmt.Fprintf(stdout, "  OTLP/gRPC  %s\n", a.GRPC)
	fmt.Fprintf(stdout, "  X-Ray      %s udp+tcp  (AWS_XRAY_DAEMON_ADDRESS=%s; API: AWS_ENDPOINT_URL_XRAY=http://%s)\n", a.XRay, a.XRay, a.HTTP)
	fmt.Fprintf(stdout, "  UI         http://%s\n", a.UI)
	var d *demo.Demo
	if withDemo != nil {
		trouble, err := cruddur.ParseTrouble(withDemo.trouble)
		if err != nil {
			srv.Shutdown(context.Background())
			return fmt.Errorf("--break: %w", err)
		}
		d, err = demo.Start(ctx, demo.Config{OTLP: "http://" + a.HTTP, VendorHTTP: "http://" + a.HTTP, XRayDaemon: a.XRay,
			CruddurAddr: withDemo.cruddurAddr, Trouble: trouble}, log.With("subsystem", "demo"))
		if err != nil {
			srv.Shutdown(context.Background())
			return fmt.Errorf("demo: %w", err)
		}
		srv.ShowDemo(d)
		fmt.Fprintf(stdout, "demo: Cruddur serves %s and reports to lookout; open http://%s\n", d.CruddurURL(), a.UI)
		if trouble != cruddur.NoTrouble {
			fmt.Fprintf(stdout, "demo: trouble %q is on; find it from the UI (Sources shows what is wrong)\n", trouble)
		}
	}
	<-ctx.Done()
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if d != nil {
		// Before the server, so that its senders' last data is stored.
		if err := d.Stop(shutdownCtx); err != nil {
			log.Warn("demo stopped", "err", err)
		}
	}
	start := time.Now()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped", "took", time.Since(start))
	return nil
}

// parseFlags reads flags, each defaulting to its LOOKOUT_<FLAG> environment variable and
// then to the built-in default.
func parseFlags(args []string, out io.Writer, getenv func(string) string, withDemo *demoFlags) (server.Config, slog.Level, error) {
	cfg := server.DefaultConfig()
	fs := flag.NewFlagSet("lookout serve", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "directory for the embedded store")
	fs.StringVar(&cfg.HTTPAddr, "http", cfg.HTTPAddr, "address for OTLP/HTTP and the vendor HTTP APIs")
	fs.StringVar(&cfg.GRPCAddr, "grpc", cfg.GRPCAddr, "address for OTLP/gRPC")
	fs.StringVar(&cfg.UIAddr, "ui", cfg.UIAddr, "address for the web UI and the query APIs")
	fs.StringVar(&cfg.XRayAddr, "xray", cfg.XRayAddr, "address for the X-Ray daemon endpoint: segments over UDP, sampling and the X-Ray API over TCP, on the same port")
	fs.StringVar(&cfg.XRaySamplingRules, "xray-sampling-rules", "", "X-Ray sampling rules to load at start: a file or a directory of files, each holding one rule as `aws xray create-sampling-rule --cli-input-json` takes it")
	fs.StringVar(&cfg.PublicURL, "public-url", "", "the UI's address as people reach it (behind a proxy), e.g. https://lookout.example.com")
	fs.Func("allowed-hosts", "comma-separated host names the UI answers to besides IP addresses, localhost and this machine's name (.example.com for a whole domain, * for any)", func(v string) error {
		cfg.AllowedHosts = append(cfg.AllowedHosts, strings.Split(v, ",")...)
		return nil
	})
	fs.DurationVar(&cfg.Retention, "retention", cfg.Retention, "delete telemetry older than this (0 keeps everything)")
	fs.Var((*byteSize)(&cfg.MaxRequestBytes), "max-request-bytes", "largest ingest request accepted, after decompression")
	fs.Var((*byteSize)(&cfg.Pipeline.MaxPendingBytes), "max-pending-bytes", "memory that accepted items may hold while they wait for the store; beyond it senders are asked to retry (e.g. 32MiB)")
	fs.Var((*intByteSize)(&cfg.Pipeline.Limits.MaxValueBytes), "max-value-bytes", "longest attribute value or log body kept; longer ones are cut and marked lookout.truncated")
	fs.Var((*intByteSize)(&cfg.Pipeline.Limits.MaxItemBytes), "max-item-bytes", "largest span or log record kept; larger ones lose events, links and attributes and are marked lookout.truncated")
	fs.StringVar(&cfg.AWSCredentialsFile, "aws-credentials", "", "file of AWS key pairs (\"ACCESS_KEY_ID SECRET\" a line) that AWS API requests must be signed with; without it any signature is accepted")
	cfg.Store.RegisterFlags(fs)
	fs.StringVar(&cfg.RollbarTokens, "rollbar-tokens", "", "JSON file of Rollbar projects and access tokens; without it any token is accepted and gets a project of its own")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	if withDemo != nil {
		fs.StringVar(&withDemo.trouble, "break", "", "demo: switch on one of Cruddur's troubles: test-key, unended-segment, missing-return, late-logs or no-rules")
		fs.StringVar(&withDemo.cruddurAddr, "cruddur", "127.0.0.1:4567", "demo: address Cruddur's API listens on")
	}

	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "LOOKOUT_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(f.Name))
		if v := getenv(name); v != "" {
			if err := f.Value.Set(v); err != nil && envErr == nil {
				envErr = fmt.Errorf("%s=%q: %w", name, v, err)
			}
		}
	})
	if envErr != nil {
		return cfg, 0, envErr
	}
	if err := fs.Parse(args); err != nil {
		return cfg, 0, err
	}
	if fs.NArg() > 0 {
		return cfg, 0, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return cfg, 0, fmt.Errorf("--log-level: %w", err)
	}
	return cfg, lvl, nil
}
