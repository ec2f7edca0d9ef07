// Package cruddur is Cruddur's backend at week 2 of the AWS Cloud Project Bootcamp, in Go: a
// small micro-blogging API with mock data, the application lookout's demo runs and its users
// instrument. Its routes behave as the original intended, not as its accidents did.
package cruddur

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rollbar/rollbar-go"
)

// Config configures the service.
type Config struct {
	// FrontendURL and BackendURL are the origins browsers may call the API from.
	FrontendURL, BackendURL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Instruments are the client libraries the service reports through.
	Instruments Instruments
	// LogInterval is how long log lines wait before they are shipped when no trouble delays
	// them.
	LogInterval time.Duration
}

// DefaultLogInterval is how long log lines wait before they are shipped, unless the late-logs
// trouble is on.
const DefaultLogInterval = time.Second

// Service is Cruddur's HTTP API.
type Service struct {
	cfg      Config
	mux      *http.ServeMux
	handler  http.Handler
	troubles troubleSwitch
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.LogInterval = cmp.Or(cfg.LogInterval, DefaultLogInterval)
	s := &Service{cfg: cfg, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /api/health-check", s.healthCheck)
	s.mux.HandleFunc("GET /api/activities/home", s.home)
	s.mux.HandleFunc("GET /api/activities/notifications", serve(s, notificationActivities))
	s.mux.HandleFunc("GET /api/activities/search", s.search)
	s.mux.HandleFunc("GET /api/activities/{id}", s.activities)
	s.mux.HandleFunc("POST /api/activities", s.createActivity)
	s.mux.HandleFunc("POST /api/activities/{id}/reply", s.reply)
	s.mux.HandleFunc("GET /api/message_groups", serve(s, messageGroups))
	s.mux.HandleFunc("GET /api/messages/{handle}", serve(s, messages))
	s.mux.HandleFunc("POST /api/messages", s.createMessage)
	s.mux.HandleFunc("GET /rollbar/test", s.rollbarTest)
	s.handler = s.instrument(s.cors(s.mux))
	return s
}

func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Route is the route pattern a request matches ("GET /api/activities/home"), for
// instrumentation that names spans by route.
func (s *Service) Route(r *http.Request) string {
	_, pattern := s.mux.Handler(r)
	return pattern
}

// cors answers browsers of the frontend's and the backend's origins.
func (s *Service) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && (origin == s.cfg.FrontendURL || origin == s.cfg.BackendURL) && strings.HasPrefix(r.URL.Path, "/api/") {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", "location, link")
			h.Add("Vary", "Origin")
			if r.Method == http.MethodOptions {
				h.Set("Access-Control-Allow-Headers", "content-type, if-modified-since")
				h.Set("Access-Control-Allow-Methods", "OPTIONS, GET, HEAD, POST")
				w.WriteHeader(http.StatusOK)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Service) healthCheck(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
}

// serve answers with mock data.
func serve[T any](s *Service, data func(time.Time) T) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, data(s.cfg.Now())) }
}

func (s *Service) search(w http.ResponseWriter, r *http.Request) {
	if strings.TrimSpace(r.URL.Query().Get("term")) == "" {
		writeJSON(w, http.StatusUnprocessableEntity, []string{"search_term_blank"})
		return
	}
	writeJSON(w, http.StatusOK, searchActivities(s.cfg.Now()))
}

// activities serves /api/activities/@handle (a user's activities) and /api/activities/uuid
// (one activity with its replies).
func (s *Service) activities(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if handle, ok := strings.CutPrefix(id, "@"); ok {
		if strings.TrimSpace(handle) == "" {
			writeJSON(w, http.StatusUnprocessableEntity, []string{"blank_user_handle"})
			return
		}
		writeJSON(w, http.StatusOK, s.userActivities(r))
		return
	}
	writeJSON(w, http.StatusOK, showActivity(s.cfg.Now()))
}

// ttls are the lifetimes a new activity may be given.
var ttls = map[string]time.Duration{
	"30-days": 30 * 24 * time.Hour, "7-days": 7 * 24 * time.Hour, "3-days": 3 * 24 * time.Hour, "1-day": 24 * time.Hour,
	"12-hours": 12 * time.Hour, "3-hours": 3 * time.Hour, "1-hour": time.Hour,
}

// Message limits, in characters.
const (
	maxActivityChars = 280
	maxMessageChars  = 1024
)

func (s *Service) createActivity(w http.ResponseWriter, r *http.Request) {
	var in struct{ Message, TTL string }
	if !readJSON(w, r, &in) {
		return
	}
	ttl, okTTL := ttls[in.TTL]
	var codes []string
	if !okTTL {
		codes = append(codes, "ttl_blank")
	}
	codes = append(codes, messageCodes(in.Message, maxActivityChars)...)
	if len(codes) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, codes)
		return
	}
	now := s.cfg.Now()
	writeJSON(w, http.StatusOK, map[string]any{"uuid": newUUID(), "display_name": userDisplayName, "handle": userHandle,
		"message": in.Message, "created_at": at(now, 0), "expires_at": at(now, ttl)})
}

func (s *Service) reply(w http.ResponseWriter, r *http.Request) {
	var in struct{ Message string }
	if !readJSON(w, r, &in) {
		return
	}
	if codes := messageCodes(in.Message, maxMessageChars); len(codes) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, codes)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"uuid": newUUID(), "display_name": userDisplayName, "handle": userHandle,
		"message": in.Message, "created_at": at(s.cfg.Now(), 0), "reply_to_activity_uuid": r.PathValue("id")})
}

func (s *Service) createMessage(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Message            string `json:"message"`
		UserReceiverHandle string `json:"user_receiver_handle"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	var codes []string
	if strings.TrimSpace(in.UserReceiverHandle) == "" {
		codes = append(codes, "user_reciever_handle_blank") // sic: the code Cruddur's frontend knows
	}
	codes = append(codes, messageCodes(in.Message, maxMessageChars)...)
	if len(codes) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, codes)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"uuid": newUUID(), "display_name": userDisplayName, "handle": userHandle,
		"message": in.Message, "created_at": at(s.cfg.Now(), 0)})
}

// messageCodes are the validation codes of a message's text.
func messageCodes(text string, maxChars int) []string {
	switch {
	case strings.TrimSpace(text) == "":
		return []string{"message_blank"}
	case utf8.RuneCountInString(text) > maxChars:
		return []string{"message_exceed_max_chars"}
	}
	return nil
}

func (s *Service) rollbarTest(w http.ResponseWriter, r *http.Request) {
	if rb := s.cfg.Instruments.Rollbar; rb != nil {
		rb.MessageWithExtras(rollbar.WARN, "Hello World!", traceExtras(r.Context()))
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, "Hello World!")
}

// readJSON decodes a request body of at most 64 KiB, answering 400 when it cannot.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, []string{"invalid_json"})
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// newUUID returns a random version-4 UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
