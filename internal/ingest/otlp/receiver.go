package otlp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"lookout/internal/honeycomb"
	"lookout/internal/ingest"
	"lookout/internal/ingest/httpbody"
	"lookout/internal/telemetry"
)

// DefaultMaxRequestBytes is the request size limit the OTLP specification recommends.
const DefaultMaxRequestBytes = 64 << 20

// Config configures the OTLP receivers.
type Config struct {
	// MaxRequestBytes bounds a request after decompression; larger requests get HTTP 413 or
	// gRPC RESOURCE_EXHAUSTED, which senders must not retry. 0 means DefaultMaxRequestBytes.
	MaxRequestBytes int64
	// MaxConcurrentDecodes bounds how many requests decode at once, over both transports and
	// both signals. 0 means twice GOMAXPROCS.
	MaxConcurrentDecodes int
}

func (c Config) maxRequestBytes() int64 {
	if c.MaxRequestBytes <= 0 {
		return DefaultMaxRequestBytes
	}
	return c.MaxRequestBytes
}

// sender is what a request's Honeycomb headers say of its sender (honeycomb.Sender), or why
// the dataset it names cannot be one.
func sender(key, dataset string) (telemetry.IngestInfo, error) {
	info := honeycomb.Sender(Protocol, key, dataset)
	if info.Dataset != "" {
		if err := honeycomb.ValidateDataset(info.Dataset); err != nil {
			return info, fmt.Errorf("%s: %w", honeycomb.HeaderDataset, err)
		}
	}
	return info, nil
}

// Receiver is what the OTLP endpoints of one server share: their limits, the gate that bounds
// concurrent decoding, and the logger for failures the sender is not told about. Each
// endpoint writes to its own sink.
type Receiver struct {
	cfg  Config
	log  *slog.Logger
	body *httpbody.Reader
	gate *gate
}

// NewReceiver returns a Receiver; a nil logger discards.
func NewReceiver(cfg Config, logger *slog.Logger) *Receiver {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	n := cfg.MaxConcurrentDecodes
	if n <= 0 {
		n = 2 * runtime.GOMAXPROCS(0)
	}
	return &Receiver{cfg: cfg, log: logger, body: httpbody.NewReader(cfg.maxRequestBytes()), gate: newGate(n)}
}

// endpoint is one signal's side of the receiver.
type endpoint[T any] struct {
	decode func(ctx context.Context, body []byte, enc Encoding, info telemetry.IngestInfo) (Result[T], error)
	names  *signalNames
}

var (
	traceEndpoint = &endpoint[telemetry.Span]{decode: decodeTraces, names: &traceNames}
	logsEndpoint  = &endpoint[telemetry.LogRecord]{names: &logNames,
		decode: func(ctx context.Context, body []byte, enc Encoding, info telemetry.IngestInfo) (Result[telemetry.LogRecord], error) {
			return decodeLogs(ctx, body, enc, info, time.Now().UnixNano())
		}}
)

// decodeGated decodes a request once the gate lets it.
func (e *endpoint[T]) decodeGated(ctx context.Context, g *gate, body []byte, enc Encoding, info telemetry.IngestInfo) (Result[T], error) {
	if err := g.enter(ctx); err != nil {
		return Result[T]{}, err
	}
	defer g.leave()
	return e.decode(ctx, body, enc, info)
}

// refused reports whether a decode error is a refusal for ingest.Classify to answer (the gate
// was full, or the request ended) rather than a fault of the request.
func refused(ctx context.Context, err error) bool {
	_, overloaded := errors.AsType[*ingest.OverloadedError](err)
	return overloaded || ctx.Err() != nil && errors.Is(err, ctx.Err())
}
