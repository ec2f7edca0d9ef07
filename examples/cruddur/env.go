package cruddur

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-xray-sdk-go/daemoncfg"
	"github.com/aws/aws-xray-sdk-go/strategy/sampling"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/rollbar/rollbar-go"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	xrayotel "go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"

	"lookout/examples/cruddur/cwlogs"
)

// LogGroup is the CloudWatch Logs group Cruddur's logger ships to, as the bootcamp named it.
const LogGroup = "cruddur"

// DefaultTestKey is the key of "another environment" the test-key trouble sends with, unless
// HONEYCOMB_TEST_API_KEY names one.
const DefaultTestKey = "cruddurtestenvironment"

// InstrumentsFromEnv sets up each client library whose standard environment variables are set,
// exactly as the bootcamp's compose file configured the Flask app:
//   - OpenTelemetry: OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS
//     ("x-honeycomb-team=KEY"), OTEL_SERVICE_NAME;
//   - X-Ray: AWS_XRAY_DAEMON_ADDRESS (UDP for segments, TCP for sampling rules);
//   - Rollbar: ROLLBAR_ACCESS_TOKEN, and ROLLBAR_ENDPOINT for an item endpoint other than
//     Rollbar's;
//   - CloudWatch Logs: AWS_REGION or AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_CLOUDWATCH_LOGS and the
//     usual credentials.
//
// Log lines also go to console. The returned function flushes and stops every instrument.
func InstrumentsFromEnv(ctx context.Context, getenv func(string) string, console io.Writer) (Instruments, func(context.Context) error, error) {
	var in Instruments
	var stops []func(context.Context) error
	stop := func(ctx context.Context) error {
		var errs []error
		for i := len(stops) - 1; i >= 0; i-- {
			errs = append(errs, stops[i](ctx))
		}
		return errors.Join(errs...)
	}
	fail := func(err error) (Instruments, func(context.Context) error, error) {
		stop(ctx)
		return Instruments{}, nil, err
	}

	handlers := []slog.Handler{slog.NewTextHandler(console, &slog.HandlerOptions{Level: slog.LevelDebug})}
	if endpoint := getenv("OTEL_EXPORTER_OTLP_ENDPOINT"); endpoint != "" {
		headers := parseHeaders(getenv("OTEL_EXPORTER_OTLP_HEADERS"))
		tp, err := tracerProvider(ctx, endpoint, headers, cmp.Or(getenv("OTEL_SERVICE_NAME"), segmentName))
		if err != nil {
			return fail(err)
		}
		stops = append(stops, tp.Shutdown)
		headers = maps.Clone(headers)
		headers["x-honeycomb-team"] = cmp.Or(getenv("HONEYCOMB_TEST_API_KEY"), DefaultTestKey)
		testTP, err := tracerProvider(ctx, endpoint, headers, cmp.Or(getenv("OTEL_SERVICE_NAME"), segmentName))
		if err != nil {
			return fail(err)
		}
		stops = append(stops, testTP.Shutdown)
		in.Tracing, in.TestKeyTracing = tp, testTP
		in.Propagation = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}, xrayotel.Propagator{})
	}
	if addr := getenv("AWS_XRAY_DAEMON_ADDRESS"); addr != "" {
		var err error
		if in.XRay, err = xrayRecorder(addr, addr); err != nil {
			return fail(err)
		}
		// A TCP address nobody listens on: the sampling rules cannot be fetched.
		if in.XRayNoRules, err = xrayRecorder(addr, "127.0.0.1:9"); err != nil {
			return fail(err)
		}
	}
	if token := getenv("ROLLBAR_ACCESS_TOKEN"); token != "" {
		host, _ := os.Hostname()
		rb := rollbar.NewAsync(token, cmp.Or(getenv("ROLLBAR_ENVIRONMENT"), "production"), "", host, "lookout/examples/cruddur")
		if endpoint := getenv("ROLLBAR_ENDPOINT"); endpoint != "" {
			rb.SetEndpoint(endpoint)
		}
		if in.Tracing != nil {
			// Rollbar's calls show as client spans, as requests' instrumentation showed them.
			rb.SetHTTPClient(&http.Client{Timeout: 10 * time.Second, Transport: otelhttp.NewTransport(http.DefaultTransport,
				otelhttp.WithTracerProvider(in.Tracing), otelhttp.WithPropagators(in.Propagation))})
		}
		in.Rollbar = rb
		stops = append(stops, func(context.Context) error { rb.Close(); return nil })
	}
	if region := cmp.Or(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION")); region != "" {
		in.Logs = cwlogs.NewShipper(logsClient(getenv, region), LogGroup, cwlogs.StreamName(), DefaultLogInterval, func(err error) {
			fmt.Fprintln(console, "cloudwatch logs:", err)
		})
		stops = append(stops, in.Logs.Close)
		handlers = append(handlers, cwlogs.NewHandler(in.Logs, slog.LevelDebug, TraceAttrs))
	}
	in.Logger = slog.New(slog.NewMultiHandler(handlers...))
	return in, stop, nil
}

// tracerProvider sends spans over OTLP/HTTP in batches, with trace ids X-Ray can carry too.
func tracerProvider(ctx context.Context, endpoint string, headers map[string]string, service string) (*sdktrace.TracerProvider, error) {
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(strings.TrimSuffix(endpoint, "/")+"/v1/traces"),
		otlptracehttp.WithHeaders(headers))
	if err != nil {
		return nil, fmt.Errorf("opentelemetry exporter: %w", err)
	}
	return sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(time.Second)),
		sdktrace.WithIDGenerator(xrayotel.NewIDGenerator()),
		sdktrace.WithResource(withSDK(resource.NewSchemaless(semconv.ServiceName(service)))),
	), nil
}

// withSDK adds the SDK's telemetry.sdk.* attributes, as every OpenTelemetry SDK sends them.
func withSDK(r *resource.Resource) *resource.Resource {
	merged, err := resource.Merge(resource.Default(), r)
	if err != nil {
		return r // keep the service name rather than fail
	}
	return merged
}

// xrayRecorder is an X-Ray recorder sending segments to udpAddr and asking tcpAddr for
// sampling rules, with centralized sampling as the SDK defaults to.
func xrayRecorder(udpAddr, tcpAddr string) (context.Context, error) {
	endpoints, err := daemoncfg.GetDaemonEndpointsFromString(udpAddr)
	if err != nil {
		return nil, fmt.Errorf("AWS_XRAY_DAEMON_ADDRESS: %w", err)
	}
	emitter, err := xray.NewDefaultEmitter(endpoints.UDPAddr)
	if err != nil {
		return nil, err
	}
	strategy, err := sampling.NewCentralizedStrategy()
	if err != nil {
		return nil, err
	}
	return xray.ContextWithConfig(context.Background(), xray.Config{
		DaemonAddr: "tcp:" + tcpAddr + " udp:" + endpoints.UDPAddr.String(), Emitter: emitter, SamplingStrategy: strategy,
	})
}

// logsClient is a CloudWatch Logs client configured from the AWS SDKs' standard variables.
func logsClient(getenv func(string) string, region string) *cloudwatchlogs.Client {
	creds := aws.Credentials{AccessKeyID: getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken: getenv("AWS_SESSION_TOKEN"), Source: "environment"}
	opts := cloudwatchlogs.Options{Region: region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return creds, nil })}
	if endpoint := cmp.Or(getenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"), getenv("AWS_ENDPOINT_URL")); endpoint != "" {
		opts.BaseEndpoint = aws.String(endpoint)
	}
	return cloudwatchlogs.New(opts)
}

// parseHeaders reads OTEL_EXPORTER_OTLP_HEADERS: comma-separated key=value pairs, URL-encoded.
func parseHeaders(s string) map[string]string {
	h := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			continue
		}
		if dv, err := url.QueryUnescape(strings.TrimSpace(v)); err == nil {
			v = dv
		}
		h[strings.ToLower(strings.TrimSpace(k))] = v
	}
	return h
}
