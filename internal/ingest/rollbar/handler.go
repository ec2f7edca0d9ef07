package rollbar

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"time"

	"lookout/internal/ingest"
	"lookout/internal/ingest/httpbody"
	"lookout/internal/sources"
	"lookout/internal/telemetry"
)

// DefaultMaxItemBytes is the largest item body accepted, after decompression: Rollbar's
// 1 MiB. A 413 below what an SDK may send would be harmful: pyrollbar answers one by
// posting a notice of it, and again on the notice's own 413.
const DefaultMaxItemBytes = 1 << 20

// Handler serves the Item API, writing each item it accepts to sink.
type Handler struct {
	sink     ingest.Sink[telemetry.Occurrence]
	projects *Projects
	body     *httpbody.Reader
	log      *slog.Logger
	now      func() time.Time
}

// NewHandler returns the Item API receiver. maxBytes bounds an item's body after
// decompression (DefaultMaxItemBytes when 0).
func NewHandler(sink ingest.Sink[telemetry.Occurrence], projects *Projects, maxBytes int64, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxItemBytes
	}
	return &Handler{sink: sink, projects: projects, body: httpbody.NewReader(maxBytes), log: logger, now: time.Now}
}

// itemPaths are where SDKs post items: the documented path, and what pyrollbar makes of an
// endpoint configured without /api/1/ (it joins "item/" to it).
var itemPaths = []string{"/api/1/item", "/item", "/api/item"}

// Register mounts the Item API on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	for _, p := range itemPaths {
		mux.Handle("POST "+p+"/{$}", cors(http.HandlerFunc(h.item)))
		mux.Handle("POST "+p, cors(http.HandlerFunc(h.item)))
		mux.Handle("OPTIONS "+p+"/{$}", cors(http.HandlerFunc(preflight)))
		mux.Handle("OPTIONS "+p, cors(http.HandlerFunc(preflight)))
	}
	mux.HandleFunc("GET /api/1/status/ping", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("pong"))
	})
}

// cors lets rollbar.js post items from any page.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("Access-Control-Allow-Origin", "*")
		hdr.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		hdr.Set("Access-Control-Allow-Headers", "content-type, content-encoding, x-rollbar-access-token")
		hdr.Set("Access-Control-Max-Age", "86400")
		next.ServeHTTP(w, r)
	})
}

func preflight(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }

// result is the body of a successful answer.
type result struct {
	Err    int `json:"err"`
	Result any `json:"result"`
}

// itemResult is what Rollbar answers an accepted item; id is always null.
type itemResult struct {
	ID   *int64 `json:"id"`
	UUID string `json:"uuid"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// fail answers an error as Rollbar does; every SDK parses the JSON.
func fail(w http.ResponseWriter, e *Error) {
	writeJSON(w, e.Status, map[string]any{"err": 1, "message": e.Msg})
}

// item serves POST /api/1/item/.
func (h *Handler) item(w http.ResponseWriter, r *http.Request) {
	now := h.now()
	buf, err := h.body.Read(w, r)
	if err != nil {
		var be *httpbody.Error
		if errors.As(err, &be) && be.Status == http.StatusRequestEntityTooLarge {
			fail(w, &Error{Status: be.Status, Msg: "request entity too large"})
		} else if be != nil {
			fail(w, &Error{Status: be.Status, Msg: be.Msg})
		} else {
			fail(w, badRequest("cannot read the request body"))
		}
		return
	}
	defer httpbody.Release(buf)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	p, err := DecodePayload(buf.Bytes(), mt == "application/x-www-form-urlencoded")
	if err != nil {
		h.sink.Rejected(1)
		fail(w, err.(*Error))
		return
	}
	token := accessToken(r, p.AccessToken)
	sources.Observe(r.Context()).SetCredential(token)
	tok, e := h.projects.Authorize(token, PostServerItem, string(p.Item.Platform))
	if e != nil {
		h.sink.Rejected(1)
		fail(w, e)
		return
	}
	if tok.limiter != nil {
		ok, remaining, reset, first := tok.limiter.take(now)
		if !ok {
			setRateHeaders(w.Header(), tok.limiter.limit, 0, reset, now)
			if first {
				h.noteRateLimit(r.Context(), tok, reset, now)
			}
			h.sink.Rejected(1)
			fail(w, &Error{Status: http.StatusTooManyRequests, Msg: "rate limit reached for access token " + tok.Name})
			return
		}
		if remaining > 0 {
			setRateHeaders(w.Header(), tok.limiter.limit, remaining, reset, now)
		}
	}
	occ, err := Occurrence(p, Source{Project: tok.Project, KeyID: tok.ID, RemoteIP: remoteIP(r), Received: now, Rules: h.projects.Rules(tok.Project)})
	if err != nil {
		h.sink.Rejected(1)
		var re *Error
		if !errors.As(err, &re) {
			re = invalid("%v", err)
		}
		fail(w, re)
		return
	}
	if e := h.write(r.Context(), occ); e != nil {
		fail(w, e)
		return
	}
	writeJSON(w, http.StatusOK, result{Result: itemResult{UUID: occ.UUID}})
}

// write hands an occurrence to the sink; it is durable when write returns nil.
func (h *Handler) write(ctx context.Context, occ telemetry.Occurrence) *Error {
	err := h.sink.Write(ctx, []telemetry.Occurrence{occ})
	if err == nil {
		return nil
	}
	ref := ingest.Classify(ctx, err)
	if ref.Kind == ingest.Unavailable {
		h.log.Error("rollbar: writing an item failed", "err", err)
	}
	return &Error{Status: ref.HTTPStatus(), Msg: ref.Message}
}

// noteRateLimit files Rollbar's notice that a token reached its limit, once a window, as an
// item of its own in the token's project.
func (h *Handler) noteRateLimit(ctx context.Context, tok *Token, reset, now time.Time) {
	msg := "Your rate limit has been reached for access_token " + tok.Name
	data := map[string]any{
		"environment": "lookout", "level": "warning", "framework": "System Message",
		"uuid":      fmt.Sprintf("rate-limit-%s-%d", tok.ID, reset.Unix()),
		"timestamp": now.Unix(),
		"body":      map[string]any{"message": map[string]any{"body": msg}},
	}
	body, err := json.Marshal(map[string]any{"data": data})
	var occ telemetry.Occurrence
	if err == nil {
		var p Payload
		if p, err = DecodePayload(body, false); err == nil {
			occ, err = Occurrence(p, Source{Project: tok.Project, KeyID: tok.ID, Received: now})
		}
	}
	if err == nil {
		err = h.sink.Write(ctx, []telemetry.Occurrence{occ})
	}
	if err != nil {
		h.log.Warn("rollbar: could not record a rate limit notice", "err", err)
	}
}

// accessToken is the request's token: the X-Rollbar-Access-Token header, else the
// payload's access_token, else the access_token query parameter.
func accessToken(r *http.Request, inBody string) string {
	if t := r.Header.Get("X-Rollbar-Access-Token"); t != "" {
		return t
	}
	if inBody != "" {
		return inBody
	}
	return r.URL.Query().Get("access_token")
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
