package otlp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

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
func NewHTTPHandler(sink ingest.Sink[telemetry.Span], logger *slog.Logger, cfg Config) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &httpHandler{sink: sink, log: logger, body: httpbody.NewReader(cfg.maxRequestBytes())}
	return h
}

type httpHandler struct {
	sink ingest.Sink[telemetry.Span]
	log  *slog.Logger
	body *httpbody.Reader
}

// httpError is a failed request: its HTTP status, the equivalent gRPC code for the
// google.rpc.Status body, and a message for the sender.
type httpError struct {
	status     int
	code       codes.Code
	msg        string
	retryAfter string // Retry-After, in seconds; "" for none
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
	if res.Rejected > 0 {
		h.sink.Rejected(int(res.Rejected))
	}
	if len(res.Spans) > 0 {
		if err := h.sink.Write(r.Context(), res.Spans); err != nil {
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
	defer httpbody.Release(buf)
	info := senderInfo(r.Header.Get(HeaderHoneycombTeam), r.Header.Get(HeaderHoneycombDataset))
	res, err := decodeTraces(buf.Bytes(), enc, info)
	if err != nil {
		return Result{}, &httpError{status: http.StatusBadRequest, code: codes.InvalidArgument, msg: err.Error()}
	}
	return res, nil
}

// readBody returns the decompressed body, within the size limit.
func (h *httpHandler) readBody(w http.ResponseWriter, r *http.Request) (*bytes.Buffer, *httpError) {
	buf, err := h.body.Read(w, r)
	if err == nil {
		return buf, nil
	}
	herr := &httpError{status: http.StatusBadRequest, code: codes.InvalidArgument, msg: err.Error()}
	if be, ok := errors.AsType[*httpbody.Error](err); ok {
		herr.status = be.Status
		switch be.Status {
		case http.StatusRequestEntityTooLarge:
			herr.code = codes.ResourceExhausted
		case http.StatusInternalServerError:
			herr.code = codes.Internal
		}
	}
	return nil, herr
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

// sinkError renders a sink failure as ingest.Classify decides it.
func (h *httpHandler) sinkError(ctx context.Context, err error) *httpError {
	ref := ingest.Classify(ctx, err)
	if ref.Kind == ingest.Unavailable {
		h.log.Error("otlp: writing spans failed", "err", err)
	}
	return &httpError{status: ref.HTTPStatus(), code: codes.Unavailable, msg: ref.Message, retryAfter: ref.RetryAfterHeader()}
}

// fail writes e as a google.rpc.Status in the request's encoding, as OTLP/HTTP requires.
func (h *httpHandler) fail(w http.ResponseWriter, enc Encoding, e *httpError) {
	if e.retryAfter != "" {
		w.Header().Set("Retry-After", e.retryAfter)
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

// senderInfo records the Honeycomb headers of a request. The key is reduced to a short
// sha256 prefix: enough to tell keys apart in routing and audits, useless to anyone who
// reads it. The dataset header counts only with a classic key, as in Honeycomb; other spans
// are filed by service (routeDatasets).
func senderInfo(key, dataset string) telemetry.IngestInfo {
	info := telemetry.IngestInfo{Protocol: Protocol}
	if key = strings.TrimSpace(key); key != "" {
		info.KeyID = honeycomb.KeyID(key)
		if honeycomb.IsClassicKey(key) {
			info.Dataset = strings.TrimSpace(dataset)
		}
	}
	return info
}
