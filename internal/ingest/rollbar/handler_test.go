package rollbar

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"lookout/internal/telemetry"
)

type recordingSink struct {
	mu       sync.Mutex
	occs     []telemetry.Occurrence
	err      error
	rejected int
}

func (s *recordingSink) Write(_ context.Context, occs []telemetry.Occurrence) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.occs = append(s.occs, occs...)
	return nil
}

func (s *recordingSink) Rejected(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejected += n
}

func (s *recordingSink) all() []telemetry.Occurrence {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]telemetry.Occurrence(nil), s.occs...)
}

var fixedNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// capture is one recorded SDK request of testdata/.
type capture struct {
	Method, Path string
	Headers      map[string]string
	Body         json.RawMessage
}

func captures(t testing.TB, file string) []capture {
	t.Helper()
	b, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var cs []capture
	if err := json.Unmarshal(b, &cs); err != nil {
		t.Fatal(err)
	}
	return cs
}

func newTestHandler(sink *recordingSink, projects *Projects) *http.ServeMux {
	if projects == nil {
		projects = OpenProjects()
	}
	h := NewHandler(sink, projects, 0, nil)
	h.now = func() time.Time { return fixedNow }
	mux := http.NewServeMux()
	h.Register(mux)
	return mux
}

func send(mux http.Handler, method, path string, body []byte, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, bytes.NewReader(body))
	r.RemoteAddr = "192.0.2.7:5555"
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	return w
}

type answer struct {
	Err     int    `json:"err"`
	Message string `json:"message"`
	Result  struct {
		ID   *int64 `json:"id"`
		UUID string `json:"uuid"`
	} `json:"result"`
}

func decodeAnswer(t *testing.T, w *httptest.ResponseRecorder) answer {
	t.Helper()
	var a answer
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
		t.Fatalf("answer %d is not JSON: %q", w.Code, w.Body)
	}
	return a
}

// replay posts every captured request of a fixture and returns the occurrences written.
func replay(t *testing.T, file string) []telemetry.Occurrence {
	t.Helper()
	sink := &recordingSink{}
	mux := newTestHandler(sink, nil)
	for i, c := range captures(t, file) {
		w := send(mux, c.Method, c.Path, c.Body, c.Headers)
		a := decodeAnswer(t, w)
		if w.Code != http.StatusOK || a.Err != 0 || a.Result.ID != nil || a.Result.UUID == "" {
			t.Fatalf("%s request %d: %d %s", file, i, w.Code, w.Body)
		}
		var sent struct{ Data struct{ UUID string } }
		json.Unmarshal(c.Body, &sent)
		if sent.Data.UUID != "" && a.Result.UUID != sent.Data.UUID {
			t.Errorf("%s request %d: answered uuid %q, want the client's %q", file, i, a.Result.UUID, sent.Data.UUID)
		}
	}
	return sink.all()
}

func TestPyrollbarFlaskFixture(t *testing.T) {
	occs := replay(t, "pyrollbar-flask.json")
	if len(occs) != 2 {
		t.Fatalf("%d occurrences", len(occs))
	}
	o := occs[0]
	want := telemetry.Occurrence{UUID: "74d34b08-d76a-41b6-b685-928ef2338a86", Project: "token-aaaabbbb", Environment: "staging",
		Level: "error", Title: "RuntimeError: checkout failed", Class: "RuntimeError", CodeVersion: "abc123", Framework: "flask",
		Language: "python", Context: "/orders/<int:order_id>", Host: "vm", UserIP: "203.0.113.9"}
	got := telemetry.Occurrence{UUID: o.UUID, Project: o.Project, Environment: o.Environment, Level: o.Level, Title: o.Title, Class: o.Class,
		CodeVersion: o.CodeVersion, Framework: o.Framework, Language: o.Language, Context: o.Context, Host: o.Host, UserIP: o.UserIP}
	if got != want {
		t.Errorf("occurrence\n got %+v\nwant %+v", got, want)
	}
	if o.TimeUnixNano != 1795543327*1e9 || o.ReceivedUnixNano != fixedNow.UnixNano() || o.Ingest.Protocol != "rollbar" {
		t.Errorf("times %d %d, ingest %+v", o.TimeUnixNano, o.ReceivedUnixNano, o.Ingest)
	}
	if !strings.Contains(o.Grouping, "RuntimeError ← OrderError") || !strings.Contains(o.Grouping, "<root>/flaskapp.py load") || strings.Contains(o.Grouping, "flask/app.py") {
		t.Errorf("grouping explanation %q", o.Grouping)
	}
	if strings.Contains(o.Data, "aaaabbbbccccddddeeeeffff00001111") {
		t.Error("the access token was stored")
	}
	var data map[string]any
	json.Unmarshal([]byte(o.Data), &data)
	if ip := data["request"].(map[string]any)["user_ip"]; ip != "203.0.113.9" {
		t.Errorf("stored user_ip %v", ip)
	}
	m := occs[1]
	if m.Level != "warning" || m.Title != "disk usage 91% on /var" || m.Class != "" || m.Fingerprint == o.Fingerprint {
		t.Errorf("message %+v", m)
	}
}

func TestRollbarGoFixture(t *testing.T) {
	occs := replay(t, "rollbar-go.json")
	if len(occs) != 3 {
		t.Fatalf("%d occurrences", len(occs))
	}
	wrapped := occs[0]
	if wrapped.Title != "handler failed: db timeout after 30s for user 12345" || wrapped.Class != "fmt.wrapError" || wrapped.UserIP != "203.0.113.9" || len(wrapped.UUID) != 36 {
		t.Errorf("wrapped error %+v", wrapped)
	}
	var data struct {
		UUID string
		Body struct {
			TraceChain []struct {
				Frames []struct{ Filename, Method string }
			} `json:"trace_chain"`
		}
	}
	json.Unmarshal([]byte(wrapped.Data), &data)
	if data.UUID != wrapped.UUID {
		t.Errorf("the stored data has uuid %q, the occurrence %q", data.UUID, wrapped.UUID)
	}
	frames := data.Body.TraceChain[0].Frames
	if len(frames) != 1 || frames[0].Method != "main.main" {
		t.Errorf("outer frames after normalising: %+v (want main.main alone)", frames)
	}
	if n := len(data.Body.TraceChain[1].Frames); n != 0 {
		t.Errorf("the cause repeats the exception's stack: %d frames", n)
	}
	if !strings.Contains(wrapped.Grouping, "fmt.wrapError ← main.MyErr") || !strings.Contains(wrapped.Grouping, "main.go main.main") {
		t.Errorf("grouping %q", wrapped.Grouping)
	}
	if occs[1].Level != "warning" || occs[1].Title != "cache miss rate high" || occs[2].Class != "errors.errorString" {
		t.Errorf("message %+v, plain error %+v", occs[1], occs[2])
	}
}

func TestRollbarJSFixture(t *testing.T) {
	occs := replay(t, "rollbar-js-node.json")
	if len(occs) != 2 {
		t.Fatalf("%d occurrences", len(occs))
	}
	o := occs[0]
	if o.TraceID.String() != "4bf92f3577b34da6a3ce929d0e0e4736" || o.SpanID.String() != "00f067aa0ba902b7" {
		t.Errorf("trace %s span %s, want the traceparent's", o.TraceID, o.SpanID)
	}
	if o.UserIP != "127.0.0.1" || o.Title != "Error: payment failed" || o.Language != "javascript" || o.Context != "/pay/:id" {
		t.Errorf("occurrence %+v", o)
	}
	if !strings.Contains(o.Grouping, "Error ← TypeError") || !strings.Contains(o.Grouping, "app.js charge") || strings.Contains(o.Grouping, "node_modules") {
		t.Errorf("grouping %q", o.Grouping)
	}
	if occs[1].Level != "info" || occs[1].Title != "user signed up" {
		t.Errorf("message %+v", occs[1])
	}
}

func TestRequestShapes(t *testing.T) {
	body := `{"data":{"environment":"e","body":{"message":{"body":"hi"}},"uuid":"u-1"}}`
	cases := []struct {
		name   string
		path   string
		body   func() []byte
		header map[string]string
	}{
		{"header token", "/api/1/item/", func() []byte { return []byte(body) }, map[string]string{"X-Rollbar-Access-Token": "tok1"}},
		{"body token, no slash", "/api/1/item", func() []byte { return []byte(`{"access_token":"tok1",` + body[1:]) }, nil},
		{"query token, pyrollbar alias", "/item/?access_token=tok1", func() []byte { return []byte(body) }, nil},
		{"form", "/api/item/", func() []byte { return []byte("payload=" + url.QueryEscape(body)) },
			map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-Rollbar-Access-Token": "tok1"}},
		{"gzip", "/api/1/item/", func() []byte {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write([]byte(body))
			zw.Close()
			return b.Bytes()
		}, map[string]string{"Content-Encoding": "gzip", "X-Rollbar-Access-Token": "tok1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sink := &recordingSink{}
			w := send(newTestHandler(sink, nil), "POST", c.path, c.body(), c.header)
			if w.Code != 200 || decodeAnswer(t, w).Result.UUID != "u-1" || len(sink.all()) != 1 || sink.all()[0].Project != "token-tok1" {
				t.Fatalf("%d %s, %d written", w.Code, w.Body, len(sink.all()))
			}
		})
	}
	w := send(newTestHandler(&recordingSink{}, nil), "GET", "/api/1/status/ping", nil, nil)
	if w.Code != 200 || w.Body.String() != "pong" {
		t.Errorf("ping: %d %q", w.Code, w.Body)
	}
}

func TestRefusals(t *testing.T) {
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	huge := `{"data":{"body":{"message":{"body":"x"}},"custom":[` + strings.TrimSuffix(strings.Repeat("0,", 400000), ",") + `]}}`
	tok := map[string]string{"X-Rollbar-Access-Token": "tok1"}
	cases := []struct {
		name   string
		body   string
		header map[string]string
		status int
		msg    string
	}{
		{"empty", "", tok, 400, "no JSON payload"},
		{"not JSON", "{nope", tok, 400, "could not be decoded"},
		{"two values", `{"data":{}} {}`, tok, 400, "after the object"},
		{"deep", `{"data":{"custom":` + deep + `}}`, tok, 400, "levels deep"},
		{"invalid UTF-8", "{\"data\":{\"environment\":\"\xff\"}}", tok, 400, "UTF-8"},
		{"no token", `{"data":{"body":{"message":{"body":"x"}}}}`, nil, 401, "No access token"},
		{"not an object", `[1]`, tok, 422, "object"},
		{"no data", `{"x":1}`, tok, 422, "no data"},
		{"data wrong type", `{"data":"x"}`, tok, 422, "data must be an object"},
		{"two data members", `{"data":{"body":{"message":{"body":"x"}}},"Data":{}}`, tok, 400, "more than one data member"},
		{"no body", `{"data":{}}`, tok, 422, "data.body"},
		{"empty body", `{"data":{"body":{"telemetry":[]}}}`, tok, 422, "one of trace"},
		{"no class", `{"data":{"body":{"trace":{"frames":[],"exception":{}}}}}`, tok, 422, "data.body.trace.exception.class"},
		{"no exception in a chain", `{"data":{"body":{"trace_chain":[{"exception":{"class":"E"}},{"frames":[]}]}}}`, tok, 422, "data.body.trace_chain.1.exception is required"},
		{"frames wrong type", `{"data":{"body":{"trace":{"frames":"x","exception":{"class":"E"}}}}}`, tok, 422, "data.body.trace.frames: found a JSON string where a list is required"},
		{"frame wrong type", `{"data":{"body":{"trace_chain":[{"frames":[{"filename":3}],"exception":{"class":"E"}}]}}}`, tok, 422, "data.body.trace_chain.frames.filename: found a JSON number where a string is required"},
		{"chain wrong type", `{"data":{"body":{"trace_chain":{}}}}`, tok, 422, "data.body.trace_chain: found a JSON object where a list is required"},
		{"message wrong type", `{"data":{"body":{"message":{"body":{"a":1}}}}}`, tok, 422, "message.body"},
		{"uuid too long", `{"data":{"uuid":"` + strings.Repeat("a", 37) + `","body":{"message":{"body":"x"}}}}`, tok, 422, "uuid"},
		{"huge array", huge, tok, 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sink := &recordingSink{}
			w := send(newTestHandler(sink, nil), "POST", "/api/1/item/", []byte(c.body), c.header)
			a := decodeAnswer(t, w)
			if w.Code != c.status || (c.status != 200 && (a.Err != 1 || !strings.Contains(a.Message, c.msg))) {
				t.Fatalf("got %d %s; want %d with %q", w.Code, w.Body, c.status, c.msg)
			}
			if c.status != 200 && len(sink.all()) != 0 {
				t.Fatal("a refused item was written")
			}
		})
	}
	t.Run("too large", func(t *testing.T) {
		big := `{"data":{"body":{"message":{"body":"` + strings.Repeat("x", DefaultMaxItemBytes) + `"}}}}`
		w := send(newTestHandler(&recordingSink{}, nil), "POST", "/api/1/item/", []byte(big), tok)
		if w.Code != 413 || decodeAnswer(t, w).Message != "request entity too large" {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		fits := `{"data":{"body":{"message":{"body":"` + strings.Repeat("x", DefaultMaxItemBytes-100) + `"}}}}`
		if w := send(newTestHandler(&recordingSink{}, nil), "POST", "/api/1/item/", []byte(fits), tok); w.Code != 200 {
			t.Fatalf("an item just below the limit: %d %s", w.Code, w.Body)
		}
	})
	t.Run("store failing", func(t *testing.T) {
		sink := &recordingSink{err: context.DeadlineExceeded}
		w := send(newTestHandler(sink, nil), "POST", "/api/1/item/", []byte(`{"data":{"body":{"message":{"body":"x"}}}}`), tok)
		if w.Code != 503 || decodeAnswer(t, w).Err != 1 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
}

// TestFixtureFingerprints pins the fixtures' fingerprints, as lookout has always given them:
// a change to decoding or normalising must not move an occurrence to another item.
func TestFixtureFingerprints(t *testing.T) {
	want := map[string][]string{
		"pyrollbar-flask.json": {"821ebb532fe040a1124494606b8c44753c76ea29", "e8169d986b3c86d368fbb36828f66aa6b1681fd4"},
		"rollbar-go.json": {"a8cbcfb1cef4041253d0573c5e317609df59d96c", "9ea4be6d74e15431de406338b78437006a4f0e3a",
			"1eaacb094637d2ca5fc849e5a1f196f9123b8cc5"},
		"rollbar-js-node.json": {"c24847e6da8778b2620d0cdb9a8964914daeca97", "34b6334a1961ab638bd2ff52fecb31e22b99db30"},
	}
	for file, fps := range want {
		occs := replay(t, file)
		for i, o := range occs {
			if i >= len(fps) || o.Fingerprint != fps[i] {
				t.Errorf("%s occurrence %d: fingerprint %s, want %v", file, i, o.Fingerprint, fps)
			}
		}
	}
}

// TestReportStoredAsSent checks that a report is stored byte for byte as the client sent it
// but for what normalising changes in it: pyrollbar's X-Forwarded-For list as user_ip
// becomes the client's address, and a uuid is added where there was none.
func TestReportStoredAsSent(t *testing.T) {
	c := captures(t, "pyrollbar-flask.json")[0]
	var sent struct{ Data json.RawMessage }
	if err := json.Unmarshal(c.Body, &sent); err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(string(sent.Data), `"user_ip": "203.0.113.9, 10.0.0.1"`, `"user_ip": "203.0.113.9"`, 1)
	if o := replay(t, "pyrollbar-flask.json")[0]; o.Data != want || want == string(sent.Data) {
		t.Errorf("stored\n%s\nwant\n%s", o.Data, want)
	}
	sink := &recordingSink{}
	for _, body := range []string{`{"data":{"body":{"message":{"body":"hi"}}}}`, `{"data":{"uuid":null, "body":{"message":{"body":"hi"}}}}`} {
		send(newTestHandler(sink, nil), "POST", "/api/1/item/", []byte(body), map[string]string{"X-Rollbar-Access-Token": "t"})
	}
	if occs := sink.all(); len(occs) != 2 || occs[0].Data != `{"uuid":"`+occs[0].UUID+`","body":{"message":{"body":"hi"}}}` ||
		occs[1].Data != `{"uuid":"`+occs[1].UUID+`", "body":{"message":{"body":"hi"}}}` {
		t.Errorf("stored %+v", occs)
	}
}

// TestOtherTypesReadAsAbsent checks that values of unexpected types outside the body are
// read as absent, and numbers as text, without refusing the item.
func TestOtherTypesReadAsAbsent(t *testing.T) {
	sink := &recordingSink{}
	body := `{"data":{"environment":5,"level":["error"],"server":"web-1","person":{"id":42},"timestamp":"soon",
		"request":{"headers":"none","user_ip":"203.0.113.1"},"custom":[1,2],"body":{"message":{"body":"hi"}}}}`
	w := send(newTestHandler(sink, nil), "POST", "/api/1/item/", []byte(body), map[string]string{"X-Rollbar-Access-Token": "t"})
	if w.Code != http.StatusOK || len(sink.all()) != 1 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	o := sink.all()[0]
	if o.Environment != "5" || o.Level != "info" || o.Host != "" || o.PersonID != "42" || o.UserIP != "203.0.113.1" ||
		o.TimeUnixNano != fixedNow.UnixNano() || o.Title != "hi" {
		t.Errorf("occurrence %+v", o)
	}
}
