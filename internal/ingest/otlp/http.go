package otlp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"runtime/debug"
	"strconv"

	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"

	"lookout/internal/honeycomb"
	"lookout/internal/ingest"
	"lookout/internal/ingest/httpbody"
	"lookout/internal/sources"
	"lookout/internal/telemetry"
)

const (
	contentTypeProtobuf = "application/x-protobuf"
	contentTypeJSON     = "application/json"
)

// TracesHandler returns the OTLP/HTTP trace receiver, to be mounted at POST /v1/traces. It
// writes decoded spans to sink.
func (r *Receiver) TracesHandler(sink ingest.Sink[telemetry.Span]) http.Handler {
	return &httpHandler[telemetry.Span]{rcv: r, sink: sink, ep: traceEndpoint}
}

// LogsHandler returns the OTLP/HTTP log receiver, to be mounted at POST /v1/logs. It writes
// decoded log records to sink.
func (r *Receiver) LogsHandler(sink ingest.Sink[telemetry.LogRecord]) http.Handler {
	return &httpHandler[telemetry.LogRecord]{rcv: r, sink: sink, ep: logsEndpoint}
}

// httpHandler is the OTLP/HTTP endpoint of one signal.
type httpHandler[T any] struct {
	rcv  *Receiver
	sink ingest.Sink[T]
	ep   *endpoint[T]
}

// httpError is a failed request: its HTTP status, the equivalent gRPC code for the
// google.rpc.Status body, and a message for the sender.
type httpError struct {
	status     int
	code       codes.Code
	msg        string
	retryAfter string // Retry-After, in seconds; "" for none
}

func (h *httpHandler[T]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
		sources.Observe(r.Context()).Refused("", int(res.Rejected), res.Message)
	}
	if len(res.Items) > 0 {
		if err := h.sink.Write(r.Context(), res.Items); err != nil {
			h.fail(w, enc, h.refusal(r.Context(), err))
			return
		}
	}
	writeResponse(w, enc, http.StatusOK, marshalExportResponse(res.Rejected, res.Message, enc, h.ep.names))
}

// decode reads, decompresses and decodes the body. Decoders run on untrusted input; like the
// OTel Collector we turn a panic in one into a 400 for that request rather than a crash.
func (h *httpHandler[T]) decode(w http.ResponseWriter, r *http.Request, enc Encoding) (res Result[T], herr *httpError) {
	defer func() {
		if p := recover(); p != nil {
			h.rcv.log.Error("otlp: panic decoding HTTP "+h.ep.names.request+" request", "panic", p, "stack", string(debug.Stack()))
			res, herr = Result[T]{}, &httpError{status: http.StatusBadRequest, code: codes.InvalidArgument,
				msg: "the request body could not be decoded"}
		}
	}()
	buf, herr := h.readBody(w, r)
	if herr != nil {
		return Result[T]{}, herr
	}
	// Decoding copies what it keeps, so the buffer can be reused at once.
	defer httpbody.Release(buf)
	info, err := sender(r.Header.Get(honeycomb.HeaderTeam), r.Header.Get(honeycomb.HeaderDataset))
	if err != nil {
		return Result[T]{}, &httpError{status: http.StatusBadRequest, code: codes.InvalidArgument, msg: err.Error()}
	}
	res, err = h.ep.decodeGated(r.Context(), h.rcv.gate, buf.Bytes(), enc, info)
	switch {
	case err == nil:
		return res, nil
	case errors.Is(err, ErrTooLarge):
		return Result[T]{}, &httpError{status: http.StatusRequestEntityTooLarge, code: codes.ResourceExhausted, msg: err.Error()}
	case refused(r.Context(), err):
		return Result[T]{}, h.refusal(r.Context(), err)
	}
	return Result[T]{}, &httpError{status: http.StatusBadRequest, code: codes.InvalidArgument, msg: err.Error()}
}

// readBody returns the decompressed body, within the size limit.
func (h *httpHandler[T]) readBody(w http.ResponseWriter, r *http.Request) (*bytes.Buffer, *httpError) {
	buf, err := h.rcv.body.Read(w, r)
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

// refusal renders a refused request (a full gate, a failed write) as ingest.Classify decides.
func (h *httpHandler[T]) refusal(ctx context.Context, err error) *httpError {
	ref := ingest.Classify(ctx, err)
	if ref.Kind == ingest.Unavailable {
		h.rcv.log.Error("otlp: writing "+h.ep.names.item+"s failed", "err", err)
	}
	return &httpError{status: ref.HTTPStatus(), code: codes.Unavailable, msg: ref.Message, retryAfter: ref.RetryAfterHeader()}
}

// fail writes e as a google.rpc.Status in the request's encoding, as OTLP/HTTP requires.
func (h *httpHandler[T]) fail(w http.ResponseWriter, enc Encoding, e *httpError) {
	if e.retryAfter != "" {
		w.Header().Set("Retry-After", e.retryAfter)
	}
	// Debug only: failures of our own are logged where they happen, and a line per
	// rejected request at a higher level would add to an overload rather than explain it.
	h.rcv.log.Debug("otlp: HTTP "+h.ep.names.request+" request failed", "status", e.status, "msg", e.msg)
	st := &statuspb.Status{Code: int32(e.code), Message: truncate(e.msg, 1024)}
	body, err := marshalStatus(st, enc)
	if err != nil {
		h.rcv.log.Error("otlp: cannot encode error status", "err", err)
		body = nil
	}
	writeResponse(w, enc, e.status, body)
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
