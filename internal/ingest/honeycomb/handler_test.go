package honeycomb

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/vmihailenco/msgpack/v5"

	honeycombrules "lookout/internal/honeycomb"
	"lookout/internal/ingest"
	"lookout/internal/telemetry"
)

type recordingSink struct {
	mu       sync.Mutex
	spans    []telemetry.Span
	err      error
	rejected int
}

func (s *recordingSink) Rejected(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejected += n
}

func (s *recordingSink) Write(_ context.Context, spans []telemetry.Span) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.spans = append(s.spans, spans...)
	return nil
}

var fixedNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func serve(t *testing.T, sink ingest.Sink[telemetry.Span], method, path string, body []byte, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	h := NewHandler(sink, nil)
	h.now = func() time.Time { return fixedNow }
	mux := http.NewServeMux()
	h.Register(mux)
	r := httptest.NewRequest(method, path, bytes.NewReader(body))
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	return w
}

func attr(t *testing.T, sp telemetry.Span, key string) telemetry.Value {
	t.Helper()
	v, ok := sp.Attributes.Get(key)
	if !ok {
		t.Fatalf("span %q has no attribute %q: %v", sp.Name, key, sp.Attributes)
	}
	return v
}

func TestBatchJSON(t *testing.T) {
	sink := &recordingSink{}
	body := `[
	  {"data": {"trace.trace_id": "0af7651916cd43dd8448eb211c80319c", "trace.span_id": "b7ad6b7169203331",
	            "trace.parent_id": "00f067aa0ba902b7", "name": "GET /cart", "service.name": "cart",
	            "duration_ms": 12.5, "http.status_code": 200, "ratio": 0.25, "error": true,
	            "user": {"id": "u1", "plan": {"tier": "pro"}}, "tags": ["a", "b"]},
	   "time": "2026-11-26T11:59:00.5Z", "samplerate": 10},
	  {"data": {}},
	  "not an object",
	  {"data": {"message": "no trace here"}, "time": 1764158340}
	]`
	w := serve(t, sink, "POST", "/1/batch/My%20Dataset", []byte(body), map[string]string{"X-Honeycomb-Team": "env-key", "Content-Type": "application/json"})
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var statuses []eventStatus
	if err := json.Unmarshal(w.Body.Bytes(), &statuses); err != nil {
		t.Fatal(err)
	}
	want := []int{202, 400, 400, 202}
	if len(statuses) != len(want) {
		t.Fatalf("statuses %+v", statuses)
	}
	for i, st := range statuses {
		if st.Status != want[i] {
			t.Errorf("event %d status %d (%q), want %d", i, st.Status, st.Error, want[i])
		}
	}
	if statuses[1].Error != "Request body should not be empty." {
		t.Errorf("empty event error %q", statuses[1].Error)
	}
	if len(sink.spans) != 2 {
		t.Fatalf("sink got %d spans, want 2", len(sink.spans))
	}
	sp := sink.spans[0]
	if sp.TraceID.String() != "0af7651916cd43dd8448eb211c80319c" || sp.SpanID.String() != "b7ad6b7169203331" || sp.ParentSpanID.String() != "00f067aa0ba902b7" {
		t.Errorf("ids %s %s %s", sp.TraceID, sp.SpanID, sp.ParentSpanID)
	}
	start := time.Date(2026, 11, 26, 11, 59, 0, 500_000_000, time.UTC)
	if sp.Name != "GET /cart" || !sp.Start().Equal(start) || sp.Duration() != 12500*time.Microsecond {
		t.Errorf("name %q start %v duration %v", sp.Name, sp.Start(), sp.Duration())
	}
	if sp.Service() != "cart" || sp.SampleRate != 10 || sp.Status.Code != telemetry.StatusError {
		t.Errorf("service %q sample rate %d status %v", sp.Service(), sp.SampleRate, sp.Status.Code)
	}
	if sp.Ingest != (telemetry.IngestInfo{Protocol: "honeycomb", Dataset: "My Dataset", KeyID: honeycombrules.KeyID("env-key")}) {
		t.Errorf("ingest %+v", sp.Ingest)
	}
	if v := attr(t, sp, "http.status_code"); v.Kind() != telemetry.KindInt || v.Int() != 200 {
		t.Errorf("http.status_code = %v", v.AsString())
	}
	if v := attr(t, sp, "ratio"); v.Kind() != telemetry.KindDouble || v.Double() != 0.25 {
		t.Errorf("ratio = %v", v.AsString())
	}
	if v := attr(t, sp, "user.plan.tier"); v.Str() != "pro" {
		t.Errorf("nested field = %v", v.AsString())
	}
	if v := attr(t, sp, "tags"); v.Str() != `["a","b"]` {
		t.Errorf("array field = %v", v.AsString())
	}
	if _, ok := sp.Attributes.Get("trace.trace_id"); ok {
		t.Error("trace.trace_id kept as an attribute")
	}
	plain := sink.spans[1]
	if plain.Name != "My Dataset" || plain.Service() != "My Dataset" || !plain.Start().Equal(time.Unix(1764158340, 0)) || plain.TraceID.IsZero() {
		t.Errorf("plain event: name %q service %q start %v trace %s", plain.Name, plain.Service(), plain.Start(), plain.TraceID)
	}
}

// An event without trace ids gets ids from its content: sent twice, it is the same span.
func TestDerivedIDsAreStable(t *testing.T) {
	sink := &recordingSink{}
	body := []byte(`[{"data": {"message": "hello", "n": 1}, "time": "2026-11-26T11:00:00Z"}]`)
	serve(t, sink, "POST", "/1/batch/logs", body, nil)
	serve(t, sink, "POST", "/1/batch/logs", body, nil)
	other := []byte(`[{"data": {"message": "hello", "n": 2}, "time": "2026-11-26T11:00:00Z"}]`)
	serve(t, sink, "POST", "/1/batch/logs", other, nil)
	if len(sink.spans) != 3 {
		t.Fatalf("%d spans", len(sink.spans))
	}
	a, b, c := sink.spans[0], sink.spans[1], sink.spans[2]
	if a.TraceID != b.TraceID || a.SpanID != b.SpanID {
		t.Error("the same event got different ids")
	}
	if a.TraceID == c.TraceID {
		t.Error("different events got the same trace id")
	}
}

func TestBatchMsgpackZstd(t *testing.T) {
	sink := &recordingSink{}
	when := time.Date(2026, 11, 26, 10, 0, 0, 123_000_000, time.UTC)
	payload, err := msgpack.Marshal([]map[string]any{
		{"data": map[string]any{"name": "work", "count": int64(3), "ok": true}, "time": when, "samplerate": 4},
	})
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := zstd.NewWriter(nil)
	w := serve(t, sink, "POST", "/1/batch/jobs", enc.EncodeAll(payload, nil),
		map[string]string{"Content-Type": "application/msgpack", "Content-Encoding": "zstd"})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"status":202`) {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	sp := sink.spans[0]
	if sp.Name != "work" || !sp.Start().Equal(when) || sp.SampleRate != 4 {
		t.Errorf("name %q start %v rate %d", sp.Name, sp.Start(), sp.SampleRate)
	}
	if v := attr(t, sp, "count"); v.Kind() != telemetry.KindInt || v.Int() != 3 {
		t.Errorf("count = %v", v.AsString())
	}
}

func TestSingleEvent(t *testing.T) {
	sink := &recordingSink{}
	w := serve(t, sink, "POST", "/1/events/api", []byte(`{"name": "login", "user": "u1"}`), map[string]string{
		"X-Honeycomb-Event-Time": "1764151200.25", "X-Honeycomb-Samplerate": "20"})
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	sp := sink.spans[0]
	if sp.Name != "login" || sp.SampleRate != 20 || !sp.Start().Equal(time.Unix(1764151200, 250_000_000)) {
		t.Errorf("name %q rate %d start %v", sp.Name, sp.SampleRate, sp.Start())
	}
	for _, tc := range []struct {
		body   string
		status int
		msg    string
	}{
		{``, 400, "Request body should not be empty."},
		{`{not json`, 400, "Request body is malformed and cannot be read."},
		{`[1, 2]`, 400, "Request body is malformed and cannot be read."},
		{`{"a": "` + strings.Repeat("x", maxEventBytes) + `"}`, 413, "Request body is too large."},
	} {
		w := serve(t, &recordingSink{}, "POST", "/1/events/api", []byte(tc.body), nil)
		var got map[string]string
		json.Unmarshal(w.Body.Bytes(), &got)
		if w.Code != tc.status || got["error"] != tc.msg {
			t.Errorf("body %.20q: status %d error %q, want %d %q", tc.body, w.Code, got["error"], tc.status, tc.msg)
		}
	}
}

func TestTooManyColumns(t *testing.T) {
	fields := map[string]any{}
	for i := 0; i <= maxFields; i++ {
		fields[strings.Repeat("k", 1+i%7)+string(rune('a'+i%26))+json.Number(string(rune('0'+i%10))).String()+time.Duration(i).String()] = i
	}
	body, _ := json.Marshal([]map[string]any{{"data": fields}})
	w := serve(t, &recordingSink{}, "POST", "/1/batch/wide", body, nil)
	if !strings.Contains(w.Body.String(), "Event has too many columns.") {
		t.Fatalf("a %d-field event: %s", len(fields), w.Body)
	}
}

func TestOverloadAsksToRetry(t *testing.T) {
	sink := &recordingSink{err: &ingest.OverloadedError{RetryAfter: 1500 * time.Millisecond}}
	w := serve(t, sink, "POST", "/1/batch/api", []byte(`[{"data": {"a": 1}}]`), nil)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "2" {
		t.Fatalf("status %d Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
}

func TestAuthAndCORS(t *testing.T) {
	w := serve(t, nil, "GET", "/1/auth", nil, map[string]string{"X-Honeycomb-Team": "hcxik_environmentkey"})
	var got struct {
		ID          string            `json:"id"`
		Type        string            `json:"type"`
		Environment map[string]string `json:"environment"`
		Access      map[string]bool   `json:"api_key_access"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != 200 {
		t.Fatalf("auth: %d %s", w.Code, w.Body)
	}
	if got.ID != honeycombrules.KeyID("hcxik_environmentkey") || got.Type != "ingest" || got.Environment["slug"] == "" || !got.Access["events"] || !got.Access["createDatasets"] || !got.Access["create_datasets"] {
		t.Errorf("auth answer %+v", got)
	}
	w = serve(t, nil, "GET", "/1/auth", nil, map[string]string{"X-Honeycomb-Team": "0123456789abcdef0123456789abcdef"})
	json.Unmarshal(w.Body.Bytes(), &got)
	if got.Environment["slug"] != "" {
		t.Errorf("a classic key's environment %+v, want empty", got.Environment)
	}
	if w := serve(t, nil, "GET", "/1/auth", nil, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("no key: status %d", w.Code)
	}
	w = serve(t, nil, "OPTIONS", "/1/batch/api", nil, map[string]string{"Origin": "http://app.example", "Access-Control-Request-Method": "POST"})
	if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(w.Header().Get("Access-Control-Allow-Headers"), "x-honeycomb-team") ||
		!strings.Contains(w.Header().Get("Access-Control-Allow-Headers"), "content-type") {
		t.Errorf("preflight: %d %v", w.Code, w.Header())
	}
}

func TestParseTime(t *testing.T) {
	cases := map[string]time.Time{
		"2026-11-26T10:00:00.123456789Z": time.Date(2026, 11, 26, 10, 0, 0, 123456789, time.UTC),
		"2026-11-26T10:00:00+01:00":      time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC),
		"1764151200":                     time.Unix(1764151200, 0),
		"1764151200123":                  time.Unix(1764151200, 123_000_000),
		"1764151200123456":               time.Unix(1764151200, 123_456_000),
		"1764151200.5":                   time.Unix(1764151200, 500_000_000),
	}
	for in, want := range cases {
		got, err := ParseTime(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseTime("yesterday"); err == nil {
		t.Error("ParseTime(yesterday) succeeded")
	}
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add([]byte(`[{"data": {"a": 1, "b": {"c": [1, "x"]}}, "time": "2026-11-26T10:00:00Z", "samplerate": 3}]`), false)
	mp, _ := msgpack.Marshal([]map[string]any{{"data": map[string]any{"x": 1.5}, "time": time.Unix(1, 0)}})
	f.Add(mp, true)
	f.Fuzz(func(t *testing.T, body []byte, isMsgpack bool) {
		format := JSON
		if isMsgpack {
			format = Msgpack
		}
		events, err := DecodeBatch(body, format)
		if err != nil {
			return
		}
		conv := newConverter("fuzz", telemetry.IngestInfo{}, fixedNow)
		for _, ev := range events {
			if ev.Err != nil {
				continue
			}
			if sp, err := conv.span(ev); err == nil {
				if verr := sp.Validate(); verr != nil {
					t.Fatalf("converted span is invalid: %v", verr)
				}
			}
		}
	})
}

func TestCheckMsgpack(t *testing.T) {
	valid, _ := msgpack.Marshal([]map[string]any{{"data": map[string]any{"a": 1, "b": []any{"x", 2.5, nil, true}}, "time": time.Now(), "samplerate": 3}})
	if err := checkMsgpack(valid); err != nil {
		t.Fatalf("a valid batch: %v", err)
	}
	deep := append(bytes.Repeat([]byte{0x91}, maxMsgpackDepth+1), 0x01) // arrays of one element, nested
	for name, body := range map[string][]byte{
		"a map claiming 800 million entries": []byte("\xdf1\xd3\x14\x93"),
		"a string longer than the body":      {0xd9, 0x10, 'a'},
		"nesting too deep":                   deep,
		"trailing bytes":                     append(append([]byte{}, valid...), 0x01),
		"truncated":                          valid[:len(valid)-1],
		"the unused code":                    {0xc1},
	} {
		if err := checkMsgpack(body); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := checkMsgpack(bytes.Repeat([]byte{0x91}, maxMsgpackDepth-1)); err == nil {
		t.Error("unterminated nesting accepted")
	}
}

// TestBatchOfManyEmptyElements sends what used to be answered with hundreds of MB: a 4 MB
// msgpack array of nils (4 million elements), and a JSON one. Each is refused whole, with a
// short answer, without building millions of elements.
func TestBatchOfManyEmptyElements(t *testing.T) {
	n := 4_000_000
	packed := append([]byte{0xdd, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, bytes.Repeat([]byte{0xc0}, n)...)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	w := serve(t, &recordingSink{}, "POST", "/1/batch/ds", packed, map[string]string{"Content-Type": "application/msgpack"})
	runtime.ReadMemStats(&after)
	if w.Code != http.StatusBadRequest || w.Body.Len() > 200 || !strings.Contains(w.Body.String(), "at most 10000 events") {
		t.Fatalf("msgpack: status %d, %d bytes: %.200s", w.Code, w.Body.Len(), w.Body.String())
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Fatalf("refusing the batch allocated %d MB", grew>>20)
	}
	js := "[" + strings.Repeat("null,", MaxBatchEvents) + "null]"
	w = serve(t, &recordingSink{}, "POST", "/1/batch/ds", []byte(js), nil)
	if w.Code != http.StatusBadRequest || w.Body.Len() > 200 {
		t.Fatalf("JSON: status %d, %d bytes", w.Code, w.Body.Len())
	}
	// At the limit, every event gets its status.
	js = "[" + strings.Repeat("null,", MaxBatchEvents-1) + "null]"
	if w = serve(t, &recordingSink{}, "POST", "/1/batch/ds", []byte(js), nil); w.Code != http.StatusOK || strings.Count(w.Body.String(), `"status":400`) != MaxBatchEvents {
		t.Fatalf("a batch at the limit: status %d", w.Code)
	}
}

func TestDatasetNames(t *testing.T) {
	body := []byte(`[{"data":{"name":"x"}}]`)
	for path, want := range map[string]int{
		"/1/batch/shop":                        http.StatusOK,
		"/1/batch/My%20Dataset":                http.StatusOK,
		"/1/batch/" + strings.Repeat("a", 300): http.StatusBadRequest,
		"/1/batch/nul%00byte":                  http.StatusBadRequest,
		"/1/events/%20":                        http.StatusBadRequest,
	} {
		w := serve(t, &recordingSink{}, "POST", path, body, nil)
		if w.Code != want || want == http.StatusBadRequest && !strings.Contains(w.Body.String(), `"error":"a dataset name`) {
			t.Errorf("%.60s: %d %s, want %d", path, w.Code, w.Body, want)
		}
	}
}

func TestQueryAPIHasNoCORS(t *testing.T) {
	w := serve(t, nil, "OPTIONS", "/1/queries/shop", nil, map[string]string{"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
	if w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("the Query Data API granted CORS: %v", w.Header())
	}
}
