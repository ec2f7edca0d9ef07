package cruddur

import (
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 29, 12, 19, 0, 123456000, time.UTC)

func call(t *testing.T, s *Service, method, path, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

func TestReads(t *testing.T) {
	s := New(Config{Now: func() time.Time { return testNow }})
	cases := []struct {
		path  string
		count int
		first string // a fragment of the first item, in the original's sorted-key JSON
	}{
		{"/api/activities/home", 3, `"created_at":"2026-11-27T12:19:00.123456+00:00","expires_at":"2026-12-04T12:19:00.123456+00:00","handle":"Andrew Brown","likes_count":5,"message":"Cloud is very fun!"`},
		{"/api/activities/notifications", 1, `"handle":"coco"`},
		{"/api/activities/@andrewbrown", 1, `"message":"Cloud is fun!"`},
		{"/api/activities/search?term=cloud", 1, `"uuid":"248959df-3079-4947-b847-9e0892d1bab4"`},
		{"/api/activities/68f126b0-1ceb-4a33-88be-d90fa7109eee", 1, `"replies":[{"created_at"`},
		{"/api/message_groups", 2, `"display_name":"Andrew Brown","handle":"andrewbrown"`},
		{"/api/messages/@worf", 2, `"message":"Cloud is fun!"`},
	}
	for _, tc := range cases {
		w := call(t, s, "GET", tc.path, "")
		var items []json.RawMessage
		if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &items) != nil || len(items) != tc.count {
			t.Errorf("%s: %d %s, want %d items", tc.path, w.Code, w.Body, tc.count)
			continue
		}
		if !strings.Contains(string(items[0]), tc.first) {
			t.Errorf("%s: first item %s lacks %s", tc.path, items[0], tc.first)
		}
	}
	if w := call(t, s, "GET", "/api/health-check", ""); w.Body.String() != "{\"success\":true}\n" {
		t.Errorf("health check: %s", w.Body)
	}
	if w := call(t, s, "GET", "/rollbar/test", ""); w.Body.String() != "Hello World!" || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Errorf("/rollbar/test: %q %s", w.Body, w.Header())
	}
}

func TestValidation(t *testing.T) {
	s := New(Config{Now: func() time.Time { return testNow }})
	long := strings.Repeat("é", 281)
	cases := []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/api/activities/search", "", 422, `["search_term_blank"]`},
		{"GET", "/api/activities/search?term=%20", "", 422, `["search_term_blank"]`},
		{"GET", "/api/activities/@", "", 422, `["blank_user_handle"]`},
		{"POST", "/api/activities", `{"message":"","ttl":"2-weeks"}`, 422, `["ttl_blank","message_blank"]`},
		{"POST", "/api/activities", `{"message":"` + long + `","ttl":"1-day"}`, 422, `["message_exceed_max_chars"]`},
		{"POST", "/api/activities", `{"message":"hello","ttl":"3-hours"}`, 200, `"expires_at":"2026-11-29T15:19:00.123456+00:00"`},
		{"POST", "/api/activities/68f126b0-1ceb-4a33-88be-d90fa7109eee/reply", `{"message":"` + strings.Repeat("x", 1025) + `"}`, 422, `["message_exceed_max_chars"]`},
		{"POST", "/api/activities/68f126b0-1ceb-4a33-88be-d90fa7109eee/reply", `{"message":"fine"}`, 200, `"reply_to_activity_uuid":"68f126b0-1ceb-4a33-88be-d90fa7109eee"`},
		{"POST", "/api/messages", `{"message":" "}`, 422, `["user_reciever_handle_blank","message_blank"]`},
		{"POST", "/api/messages", `{"message":"hi","user_receiver_handle":"worf"}`, 200, `"handle":"andrewbrown"`},
		{"POST", "/api/messages", `not json`, 400, `["invalid_json"]`},
	}
	for _, tc := range cases {
		w := call(t, s, tc.method, tc.path, tc.body)
		if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) {
			t.Errorf("%s %s %.60s: %d %s, want %d with %s", tc.method, tc.path, tc.body, w.Code, w.Body, tc.status, tc.want)
		}
	}
	w := call(t, s, "POST", "/api/activities", `{"message":"hello","ttl":"1-hour"}`)
	if !regexp.MustCompile(`"uuid":"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"`).MatchString(w.Body.String()) {
		t.Errorf("a new activity's uuid: %s", w.Body)
	}
}

func TestCORS(t *testing.T) {
	s := New(Config{FrontendURL: "http://localhost:3000", BackendURL: "http://localhost:4567", Now: func() time.Time { return testNow }})
	w := call(t, s, "OPTIONS", "/api/activities", "", "Origin", "http://localhost:3000", "Access-Control-Request-Method", "POST")
	if w.Code != 200 || w.Header().Get("Access-Control-Allow-Origin") != "http://localhost:3000" || !strings.Contains(w.Header().Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("preflight from the frontend: %d %v", w.Code, w.Header())
	}
	if w := call(t, s, "GET", "/api/activities/home", "", "Origin", "http://evil.example"); w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("another origin was allowed: %v", w.Header())
	}
	// Unlike the original, an unset FRONTEND_URL does not turn every answer into a 500.
	bare := New(Config{})
	if w := call(t, bare, "GET", "/api/activities/home", "", "Origin", "http://localhost:3000"); w.Code != 200 {
		t.Errorf("without origins configured: %d", w.Code)
	}
}

func TestRoute(t *testing.T) {
	s := New(Config{})
	for path, want := range map[string]string{
		"/api/activities/home":         "GET /api/activities/home",
		"/api/activities/@andrewbrown": "GET /api/activities/{id}",
		"/api/messages/@worf":          "GET /api/messages/{handle}",
	} {
		if got := s.Route(httptest.NewRequest("GET", path, nil)); got != want {
			t.Errorf("Route(%s) = %q, want %q", path, got, want)
		}
	}
}

func TestTroubles(t *testing.T) {
	var logs strings.Builder
	s := New(Config{Now: func() time.Time { return testNow },
		Instruments: Instruments{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}})
	if w := call(t, s, "GET", "/api/activities/home", ""); w.Code != 200 {
		t.Fatalf("home: %d", w.Code)
	}
	s.SetTrouble(MissingReturn)
	if w := call(t, s, "GET", "/api/activities/home", ""); w.Code != 500 || !strings.Contains(w.Body.String(), "internal_server_error") {
		t.Fatalf("home with missing-return: %d %s", w.Code, w.Body)
	}
	for _, want := range []string{
		`msg="[2026-Nov-29 12:19] 192.0.2.1 GET http /api/activities/home? 200 OK"`,
		`msg="[2026-Nov-29 12:19] 192.0.2.1 GET http /api/activities/home? 500 Internal Server Error"`,
		`msg="Hello Cloudwatch! from  /api/activities/home"`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs.String())
		}
	}
	if _, err := ParseTrouble("no-such"); err == nil {
		t.Fatal("unknown trouble accepted")
	}
	for _, tr := range Troubles {
		if got, err := ParseTrouble(string(tr.Name)); err != nil || got != tr.Name {
			t.Fatalf("ParseTrouble(%q) = %q, %v", tr.Name, got, err)
		}
	}
}
