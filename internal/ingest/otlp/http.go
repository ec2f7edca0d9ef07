package otlp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"lookout/internal/ingest"
	"lookout/internal/telemetry"
)

// DefaultMaxRequestBytes is the request size limit the OTLP specification recommends.
const DefaultMaxRequestBytes = 64 << 20

// Config configures the OTLP receivers.
type Config struct {
	// MaxRequestBytes bounds a request after decompression; larger requests get HTTP 413 or
	// gRPC RESOURCE_EXHAUSTED, which senders must not retry. 0 means DefaultMaxRequestBytes.
	MaxRequestBytes int64
}

func (c Config) maxRequestBytes() int64 {
	if c.MaxRequestBytes <= 0 {
		return DefaultMaxRequestBytes
	}
	return c.MaxRequestBytes
}

// Header names through which Honeycomb's OTLP senders name their key and dataset.
const (
	HeaderHoneycombTeam    = "x-honeycomb-team"
	HeaderHoneycombDataset = "x-honeycomb-dataset"
)

const (
	contentTypeProtobuf = "application/x-protobuf"
	contentTypeJSON     = "application/json"
)

// NewHTTPHandler returns the OTLP/HTTP trace receiver, to be mounted at POST /v1/traces. It
// writes decoded spans to sink and logs failures the sender is not told about to logger.
func NewHTTPHandler(sink ingest.Sink, logger *slog.Logger, cfg Config) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &httpHandler{sink: sink, log: logger, max: cfg.maxRequestBytes()}
	h.zstd.New = func() any {
		// Concurrency 1 decodes synchronously, so a pooled decoder owns no goroutines and
		// can be dropped by the pool without Close. When streaming, the memory limit caps
		// the window a frame may ask for (default 512 MiB): at the request limit, but never
		// below the 8 MiB every zstd decoder is expected to support. The output itself is
		// capped by readBody.
		d, err := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxMemory(uint64(max(h.max, 8<<20))),
		)
		if err != nil {
			return err // only for invalid options; reported by the request that hits it
		}
		return d
	}
	return h
}

type httpHandler struct {
	sink ingest.Sink
	log  *slog.Logger
	max  int64
	zstd sync.Pool // *zstd.Decoder
}

// httpError is a failed request: its HTTP status, the equivalent gRPC code for the
// google.rpc.Status body, and a message for the sender.
type httpError struct {
	status     int
	code       codes.Code
	msg        string
	retryAfter int // seconds, for Retry-After; 0 for none
}

func (h *httpHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	enc, encOK := parseContentType(r.Header.Get("Content-Type"))
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.fail(w, enc, &httpError{status: http.StatusMethodNotAllowed, code: codes.Unimplemented,
			msg: "method " + r.Method + " is not allowed; OTLP/HTTP exports use POST"})
		return
	}
	if !encOK {
		h.fail(w, enc, &httpError{status: http.StatusUnsupportedMediaType, code: codes.InvalidArgument,
			msg: fmt.Sprintf("unsupported Content-Type %q; use %s or %s",
				truncate(r.Header.Get("Content-Type"), 100), contentTypeProtobuf, contentTypeJSON)})
		return
	}

	res, herr := h.decode(w, r, enc)
	if herr != nil {
		h.fail(w, enc, herr)
		return
	}
	if len(res.Spans) > 0 {
		if err := h.sink.WriteSpans(r.Context(), res.Spans); err != nil {
			h.fail(w, enc, h.sinkError(r.Context(), err))
			return
		}
	}
	h.succeed(w, enc, res)
}

// decode reads, decompresses and decodes the body. Decoders run on untrusted input; like the
// OTel Collector we turn a panic in one into a 400 for that request rather than a crash.
func (h *httpHandler) decode(w http.ResponseWriter, r *http.Request, enc Encoding) (res Result, herr *httpError) {
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("otlp: panic decoding HTTP trace request", "panic", p, "stack", string(debug.Stack()))
			res, herr = Result{}, &httpError{status: http.StatusBadRequest, code: codes.InvalidArgument,
				msg: "the request body could not be decoded"}
		}
	}()
	buf, herr := h.readBody(w, r)
	if herr != nil {
		return Result{}, herr
	}
	defer putBuffer(buf)
	info := senderInfo(r.Header.Get(HeaderHoneycombTeam), r.Header.Get(HeaderHoneycombDataset))
	res, err := decodeTraces(buf.Bytes(), enc, info)
	if err != nil {
		return Result{}, &httpError{status: http.StatusBadRequest, code: codes.InvalidArgument, msg: err.Error()}
	}
	return res, nil
}

// readBody returns the decompressed body, reading at most the size limit from the
// decompressor and a little more than it from the wire.
func (h *httpHandler) readBody(w http.ResponseWriter, r *http.Request) (*bytes.Buffer, *httpError) {
	coding, herr := contentCoding(r.Header)
	if herr != nil {
		w.Header().Set("Accept-Encoding", "gzip, zstd")
		return nil, herr
	}
	tooLarge := &httpError{status: http.StatusRequestEntityTooLarge, code: codes.ResourceExhausted,
		msg: fmt.Sprintf("request body exceeds the limit of %d bytes after decompression", h.max)}

	// Bound the wire body too, or a stream of empty gzip members would keep a handler reading
	// forever. Compression can add a little framing to incompressible data, hence the slack.
	wireLimit := h.max
	if coding != "" {
		wireLimit += h.max/64 + 4096
	}
	if r.ContentLength > wireLimit {
		return nil, tooLarge
	}
	wire := http.MaxBytesReader(w, r.Body, wireLimit)

	var src io.Reader = wire
	switch coding {
	case "gzip":
		zr, _ := gzipPool.Get().(*gzip.Reader)
		if zr == nil {
			zr = new(gzip.Reader)
		}
		defer gzipPool.Put(zr)
		if err := zr.Reset(wire); err != nil {
			return nil, bodyError(err, tooLarge, "gzip")
		}
		src = zr
	case "zstd":
		zd, err := h.zstdDecoder()
		if err != nil {
			h.log.Error("otlp: cannot create zstd decoder", "err", err)
			return nil, &httpError{status: http.StatusInternalServerError, code: codes.Internal,
				msg: "internal error"}
		}
		defer h.zstd.Put(zd)
		defer zd.Reset(nil) // drop the reference to this request's body
		if err := zd.Reset(wire); err != nil {
			return nil, bodyError(err, tooLarge, "zstd")
		}
		src = zd
	}

	buf := getBuffer()
	if coding == "" && r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + bytes.MinRead) // room to see EOF without growing
	}
	if _, err := buf.ReadFrom(io.LimitReader(src, h.max+1)); err != nil {
		putBuffer(buf)
		return nil, bodyError(err, tooLarge, coding)
	}
	if int64(buf.Len()) > h.max {
		putBuffer(buf)
		return nil, tooLarge
	}
	return buf, nil
}

func (h *httpHandler) zstdDecoder() (*zstd.Decoder, error) {
	switch v := h.zstd.Get().(type) {
	case *zstd.Decoder:
		return v, nil
	case error:
		return nil, v
	}
	return nil, errors.New("zstd pool returned nothing")
}

// bodyError classifies a failure to read the body: too large on the wire, or malformed.
func bodyError(err error, tooLarge *httpError, coding string) *httpError {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return tooLarge
	}
	what := "request body"
	if coding != "" {
		what = coding + " request body"
	}
	return &httpError{status: http.StatusBadRequest, code: codes.InvalidArgument,
		msg: "cannot read " + what + ": " + err.Error()}
}

// contentCoding returns the request's single content coding: "" (none), "gzip" or "zstd".
//
// Anything else is 415 Unsupported Media Type, with Accept-Encoding naming what we take:
// RFC 9110 section 15.5.16 prescribes exactly that for an unsupported content coding, and the
// OTLP specification allows 400 or 415 for it; 415 tells the sender it is the coding, not the
// data, that is wrong. Neither is retryable.
func contentCoding(hdr http.Header) (string, *httpError) {
	var coding string
	for _, v := range hdr.Values("Content-Encoding") {
		for c := range strings.SplitSeq(v, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			switch c {
			case "", "identity":
				continue
			case "x-gzip":
				c = "gzip"
			}
			if coding != "" {
				return "", &httpError{status: http.StatusUnsupportedMediaType, code: codes.InvalidArgument,
					msg: "more than one Content-Encoding is not supported; use one of gzip or zstd"}
			}
			coding = c
		}
	}
	switch coding {
	case "", "gzip", "zstd":
		return coding, nil
	}
	return "", &httpError{status: http.StatusUnsupportedMediaType, code: codes.InvalidArgument,
		msg: fmt.Sprintf("unsupported Content-Encoding %q; use gzip, zstd or none", truncate(coding, 100))}
}

// parseContentType maps a Content-Type to an encoding, ignoring parameters such as charset.
// When it is neither OTLP type it still returns the encoding to answer in: protobuf, which
// the specification makes the default.
func parseContentType(ct string) (Encoding, bool) {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return Protobuf, false
	}
	switch mt {
	case contentTypeProtobuf:
		return Protobuf, true
	case contentTypeJSON:
		return JSON, true
	}
	return Protobuf, false
}

// sinkError maps a sink failure to a response. Overload is retryable with a delay; a client
// that went away gets nothing useful back; anything else is an internal failure whose detail
// stays in our log.
func (h *httpHandler) sinkError(ctx context.Context, err error) *httpError {
	if d, ok := ingest.IsOverloaded(err); ok {
		return &httpError{status: http.StatusServiceUnavailable, code: codes.Unavailable,
			msg: overloadedMessage(d), retryAfter: retryAfterSeconds(d)}
	}
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		h.log.Debug("otlp: HTTP request ended before spans were written", "err", err)
		return &httpError{status: http.StatusServiceUnavailable, code: codes.Unavailable,
			msg: "the request was canceled before its spans were stored"}
	}
	// Nothing was acknowledged, and the failure (a full or failing disk) may pass: answer
	// with a retryable status, as the OpenTelemetry Collector does, so senders keep the data.
	h.log.Error("otlp: writing spans failed", "err", err)
	return &httpError{status: http.StatusServiceUnavailable, code: codes.Unavailable,
		msg: "the spans could not be stored; retry later", retryAfter: retryAfterSeconds(sinkFailureRetry)}
}

// fail writes e as a google.rpc.Status in the request's encoding, as OTLP/HTTP requires.
func (h *httpHandler) fail(w http.ResponseWriter, enc Encoding, e *httpError) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	// Debug only: failures of our own are logged where they happen, and a line per
	// rejected request at a higher level would add to an overload rather than explain it.
	h.log.Debug("otlp: HTTP trace request failed", "status", e.status, "msg", e.msg)
	st := &statuspb.Status{Code: int32(e.code), Message: truncate(e.msg, 1024)}
	body, err := marshalStatus(st, enc)
	if err != nil {
		h.log.Error("otlp: cannot encode error status", "err", err)
		body = nil
	}
	writeResponse(w, enc, e.status, body)
}

func marshalStatus(st *statuspb.Status, enc Encoding) ([]byte, error) {
	if enc == JSON {
		return protojson.Marshal(st)
	}
	return proto.Marshal(st)
}

// succeed writes the ExportTraceServiceResponse for res.
func (h *httpHandler) succeed(w http.ResponseWriter, enc Encoding, res Result) {
	body, err := marshalExportResponse(res, enc)
	if err != nil {
		h.log.Error("otlp: cannot encode export response", "err", err)
		writeResponse(w, enc, http.StatusInternalServerError, nil)
		return
	}
	writeResponse(w, enc, http.StatusOK, body)
}

// marshalExportResponse encodes an ExportTraceServiceResponse. OTLP requires partial_success
// to be unset on full success, and pdata always encodes it (as an empty message), so a full
// success is written by hand: no fields at all.
func marshalExportResponse(res Result, enc Encoding) ([]byte, error) {
	if res.Rejected == 0 && res.Message == "" {
		if enc == JSON {
			return []byte("{}"), nil
		}
		return nil, nil
	}
	resp := ptraceotlp.NewExportResponse()
	ps := resp.PartialSuccess()
	ps.SetRejectedSpans(res.Rejected)
	ps.SetErrorMessage(truncate(res.Message, 4096))
	if enc == JSON {
		return resp.MarshalJSON()
	}
	return resp.MarshalProto()
}

func writeResponse(w http.ResponseWriter, enc Encoding, status int, body []byte) {
	ct := contentTypeProtobuf
	if enc == JSON {
		ct = contentTypeJSON
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body) // the sender hung up; nothing to do
}

// overloadedMessage tells a throttled sender how long to wait.
func overloadedMessage(d time.Duration) string {
	return "lookout is overloaded; retry after " + strconv.Itoa(retryAfterSeconds(d)) + "s"
}

// retryAfterSeconds rounds a retry delay up to whole seconds, at least 1, as Retry-After
// takes whole seconds and 0 would invite an immediate retry storm.
// sinkFailureRetry is what senders are told to wait after the spans could not be stored.
const sinkFailureRetry = 5 * time.Second

func retryAfterSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// senderInfo records the Honeycomb headers of a request. The key is reduced to a short
// sha256 prefix: enough to tell keys apart in routing and audits, useless to anyone who
// reads it. The dataset header counts only with a classic key, as in Honeycomb; other spans
// are filed by service (routeDatasets).
func senderInfo(key, dataset string) telemetry.IngestInfo {
	info := telemetry.IngestInfo{Protocol: Protocol}
	if key = strings.TrimSpace(key); key != "" {
		info.KeyID = KeyID(key)
		if isClassicKey(key) {
			info.Dataset = strings.TrimSpace(dataset)
		}
	}
	return info
}

// KeyID is the identifier recorded for an API key: the first 12 hex digits of its sha256.
func KeyID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:6])
}

var gzipPool sync.Pool // *gzip.Reader

var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer keeps the occasional huge request from pinning its buffer in the pool.
const maxPooledBuffer = 4 << 20

func getBuffer() *bytes.Buffer { return bufferPool.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledBuffer {
		return
	}
	b.Reset()
	bufferPool.Put(b)
}
