package honeycomb

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	honeycombrules "lookout/internal/honeycomb"
	"lookout/internal/ingest"
	"lookout/internal/ingest/httpbody"
	"lookout/internal/sources"
	"lookout/internal/telemetry"
)

// Protocol names Events API spans in telemetry.IngestInfo.
const Protocol = "honeycomb"

// Body limits after decompression, as Honeycomb and libhoney set them.
const (
	maxEventBytes = 1_000_000
	maxBatchBytes = 5_000_000
)

// Handler serves the Events API. lookout runs open: any key is accepted; it is recorded only
// as a non-reversible id.
type Handler struct {
	sink  ingest.Sink[telemetry.Span]
	log   *slog.Logger
	event *httpbody.Reader
	batch *httpbody.Reader
	now   func() time.Time
}

// NewHandler returns the Events API receiver writing to sink.
func NewHandler(sink ingest.Sink[telemetry.Span], logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{sink: sink, log: logger, event: httpbody.NewReader(maxEventBytes),
		batch: httpbody.NewReader(maxBatchBytes), now: time.Now}
}

// Register mounts the Events API on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("POST /1/events/{dataset}", h.cors(http.HandlerFunc(h.single)))
	mux.Handle("POST /1/batch/{dataset}", h.cors(http.HandlerFunc(h.batched)))
	mux.Handle("GET /1/auth", h.cors(http.HandlerFunc(h.auth)))
	preflight := h.cors(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	for _, path := range []string{"/1/events/{dataset}", "/1/batch/{dataset}", "/1/auth"} {
		mux.Handle("OPTIONS "+path, preflight)
	}
}

// cors lets browser SDKs (libhoney-js, the OpenTelemetry web SDK) send events from any page.
// Only ingest is open so: the Query Data API answers browsers of its own origin alone.
func (h *Handler) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("Access-Control-Allow-Origin", "*")
		hdr.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		hdr.Set("Access-Control-Allow-Headers", "content-type, content-encoding, x-honeycomb-team, x-honeycomb-dataset, x-honeycomb-event-time, x-honeycomb-samplerate")
		hdr.Set("Access-Control-Max-Age", "86400")
		next.ServeHTTP(w, r)
	})
}

// apiError is a whole-request failure, answered as Honeycomb does: {"error": "..."}.
type apiError struct {
	status     int
	msg        string
	retryAfter string // Retry-After in seconds, "" for none
}

func (h *Handler) fail(w http.ResponseWriter, e *apiError) {
	if e.retryAfter != "" {
		w.Header().Set("Retry-After", e.retryAfter)
	}
	writeJSON(w, e.status, map[string]string{"error": e.msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// read returns the body and its format.
func read(w http.ResponseWriter, r *http.Request, body *httpbody.Reader) ([]byte, Format, func(), *apiError) {
	f := JSON
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil {
		switch ct {
		case "application/msgpack", "application/x-msgpack":
			f = Msgpack
		}
	}
	buf, err := body.Read(w, r)
	if err != nil {
		e := &apiError{status: http.StatusBadRequest, msg: errMalformed.Error()}
		var be *httpbody.Error
		if errors.As(err, &be) {
			e.status = be.Status
			if be.Status == http.StatusRequestEntityTooLarge {
				e.msg = "Request body is too large."
			} else if be.Status != http.StatusBadRequest {
				e.msg = be.Msg
			}
		}
		return nil, f, nil, e
	}
	return buf.Bytes(), f, func() { httpbody.Release(buf) }, nil
}

func (h *Handler) converter(r *http.Request) *converter {
	info := telemetry.IngestInfo{}
	if key := strings.TrimSpace(r.Header.Get("X-Honeycomb-Team")); key != "" {
		info.KeyID = honeycombrules.KeyID(key)
	}
	return newConverter(strings.TrimSpace(r.PathValue("dataset")), info, h.now())
}

// validDataset refuses a request whose path names no valid dataset.
func (h *Handler) validDataset(w http.ResponseWriter, r *http.Request) bool {
	if err := honeycombrules.ValidateDataset(r.PathValue("dataset")); err != nil {
		h.fail(w, &apiError{status: http.StatusBadRequest, msg: err.Error()})
		return false
	}
	return true
}

// single serves POST /1/events/{dataset}.
func (h *Handler) single(w http.ResponseWriter, r *http.Request) {
	if !h.validDataset(w, r) {
		return
	}
	body, f, release, e := read(w, r, h.event)
	if e != nil {
		h.fail(w, e)
		return
	}
	defer release()
	fields, err := DecodeEvent(body, f)
	if err != nil {
		h.fail(w, &apiError{status: http.StatusBadRequest, msg: err.Error()})
		return
	}
	ev := Event{Fields: fields}
	if t := r.Header.Get("X-Honeycomb-Event-Time"); t != "" {
		if ev.Time, err = ParseTime(t); err != nil {
			h.fail(w, &apiError{status: http.StatusBadRequest, msg: err.Error()})
			return
		}
	}
	if s := r.Header.Get("X-Honeycomb-Samplerate"); s != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			h.fail(w, &apiError{status: http.StatusBadRequest, msg: "X-Honeycomb-Samplerate is not a whole number"})
			return
		}
		ev.SampleRate = n
	}
	sp, err := h.converter(r).span(ev)
	if err != nil {
		h.sink.Rejected(1)
		sources.Observe(r.Context()).Refused("", 1, err.Error())
		h.fail(w, &apiError{status: http.StatusBadRequest, msg: err.Error()})
		return
	}
	if e := h.write(r.Context(), []telemetry.Span{sp}); e != nil {
		h.fail(w, e)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// eventStatus is one element of a batch response.
type eventStatus struct {
	Status int    `json:"status"`
	Error  string `json:"error,omitempty"`
}

// batched serves POST /1/batch/{dataset}: one status per event, in order; a bad event is
// refused alone.
func (h *Handler) batched(w http.ResponseWriter, r *http.Request) {
	if !h.validDataset(w, r) {
		return
	}
	body, f, release, e := read(w, r, h.batch)
	if e != nil {
		h.fail(w, e)
		return
	}
	defer release()
	events, err := DecodeBatch(body, f)
	if err != nil {
		h.fail(w, &apiError{status: http.StatusBadRequest, msg: err.Error()})
		return
	}
	conv := h.converter(r)
	statuses := make([]eventStatus, len(events))
	spans := make([]telemetry.Span, 0, len(events))
	for i, ev := range events {
		err := ev.Err
		if err == nil {
			var sp telemetry.Span
			if sp, err = conv.span(ev); err == nil {
				spans = append(spans, sp)
			}
		}
		if err != nil {
			statuses[i] = eventStatus{Status: http.StatusBadRequest, Error: err.Error()}
			sources.Observe(r.Context()).Refused("", 1, err.Error())
		} else {
			statuses[i] = eventStatus{Status: http.StatusAccepted}
		}
	}
	if n := len(events) - len(spans); n > 0 {
		h.sink.Rejected(n)
	}
	if e := h.write(r.Context(), spans); e != nil {
		h.fail(w, e)
		return
	}
	writeJSON(w, http.StatusOK, statuses)
}

// write hands spans to the sink and turns its refusal into Honeycomb's answer; libhoney
// retries 429 and 503 after Retry-After.
func (h *Handler) write(ctx context.Context, spans []telemetry.Span) *apiError {
	err := h.sink.Write(ctx, spans)
	if err == nil {
		return nil
	}
	ref := ingest.Classify(ctx, err)
	if ref.Kind == ingest.Unavailable {
		h.log.Error("honeycomb: writing events failed", "err", err)
	}
	return &apiError{status: ref.HTTPStatus(), msg: ref.Message, retryAfter: ref.RetryAfterHeader()}
}

// auth serves GET /1/auth: what Honeycomb's clients learn of their key.
func (h *Handler) auth(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimSpace(r.Header.Get("X-Honeycomb-Team"))
	if key == "" {
		h.fail(w, &apiError{status: http.StatusUnauthorized, msg: "unknown API key - check your credentials"})
		return
	}
	env := map[string]string{"name": "lookout", "slug": "lookout"}
	if honeycombrules.IsClassicKey(key) {
		env = map[string]string{"name": "", "slug": ""} // how Honeycomb marks a classic key
	}
	access := map[string]bool{"events": true, "markers": true, "triggers": false, "boards": false,
		"queries": true, "columns": true, "createDatasets": true, "create_datasets": true, "slos": false,
		"recipients": false, "privateBoards": false}
	writeJSON(w, http.StatusOK, map[string]any{
		"id":             honeycombrules.KeyID(key),
		"type":           "ingest",
		"api_key_access": access,
		"environment":    env,
		"team":           map[string]string{"name": "lookout", "slug": "lookout"},
	})
}
