package otlp

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"lookout/internal/ingest"
	"lookout/internal/telemetry"
)

// recordingSink keeps what it is given and returns err.
type recordingSink[T any] struct {
	mu       sync.Mutex
	batches  [][]T
	err      error
	rejected int
}

// spanSink records spans.
type spanSink = recordingSink[telemetry.Span]

func (s *recordingSink[T]) Rejected(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejected += n
}

func (s *recordingSink[T]) Write(ctx context.Context, items []T) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batches = append(s.batches, items)
	return s.err
}

func (s *recordingSink[T]) items() []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []T
	for _, b := range s.batches {
		out = append(out, b...)
	}
	return out
}

func (s *recordingSink[T]) rejectedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejected
}

func (s *recordingSink[T]) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.batches)
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstdBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(b, nil)
}

type request struct {
	method   string
	ct       string
	encoding string
	body     []byte
	header   map[string]string
	ctx      context.Context
}

func serve(t *testing.T, h http.Handler, req request) *httptest.ResponseRecorder {
	t.Helper()
	if req.method == "" {
		req.method = http.MethodPost
	}
	r := httptest.NewRequest(req.method, "/v1/traces", bytes.NewReader(req.body))
	if req.ctx != nil {
		r = r.WithContext(req.ctx)
	}
	if req.ct != "" {
		r.Header.Set("Content-Type", req.ct)
	}
	if req.encoding != "" {
		r.Header.Set("Content-Encoding", req.encoding)
	}
	for k, v := range req.header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// errorStatus decodes a google.rpc.Status error body in the encoding the response declares,
// checking that it is the one expected.
func errorStatus(t *testing.T, w *httptest.ResponseRecorder, wantCT string) *statuspb.Status {
	t.Helper()
	if got := w.Header().Get("Content-Type"); got != wantCT {
		t.Errorf("Content-Type = %q, want %q", got, wantCT)
	}
	st := new(statuspb.Status)
	var err error
	if wantCT == contentTypeJSON {
		err = protojson.Unmarshal(w.Body.Bytes(), st)
	} else {
		err = proto.Unmarshal(w.Body.Bytes(), st)
	}
	if err != nil {
		t.Fatalf("error body %q is not a google.rpc.Status: %v", w.Body.Bytes(), err)
	}
	if st.GetMessage() == "" {
		t.Error("google.rpc.Status has no message")
	}
	return st
}

func TestHTTPExport(t *testing.T) {
	jsonBody := readTestdata(t, "traces.json")
	protoBody := marshalProto(t, goldenTraces())
	for _, tc := range []struct {
		name     string
		ct       string
		encoding string
		body     []byte
		wantCT   string
	}{
		{"protobuf", "application/x-protobuf", "", protoBody, contentTypeProtobuf},
		{"json", "application/json", "", jsonBody, contentTypeJSON},
		{"json with charset", "application/json; charset=utf-8", "", jsonBody, contentTypeJSON},
		{"protobuf mixed case", "Application/X-Protobuf", "identity", protoBody, contentTypeProtobuf},
		{"protobuf gzip", "application/x-protobuf", "gzip", gzipBytes(t, protoBody), contentTypeProtobuf},
		{"json gzip", "application/json", "GZIP", gzipBytes(t, jsonBody), contentTypeJSON},
		{"protobuf zstd", "application/x-protobuf", "zstd", zstdBytes(t, protoBody), contentTypeProtobuf},
		{"json zstd", "application/json", "zstd", zstdBytes(t, jsonBody), contentTypeJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &spanSink{}
			h := NewReceiver(Config{}, testLogger(t)).TracesHandler(sink)
			w := serve(t, h, request{ct: tc.ct, encoding: tc.encoding, body: tc.body})
			if w.Code != http.StatusOK {
				t.Fatalf("status %d, body %q", w.Code, w.Body.Bytes())
			}
			if got := w.Header().Get("Content-Type"); got != tc.wantCT {
				t.Errorf("Content-Type = %q, want %q", got, tc.wantCT)
			}
			// Full success: an ExportTraceServiceResponse with partial_success unset.
			wantBody := ""
			if tc.wantCT == contentTypeJSON {
				wantBody = "{}"
			}
			if got := w.Body.String(); got != wantBody {
				t.Errorf("body = %q, want %q", got, wantBody)
			}
			compareSpans(t, sink.items(), goldenSpans())
		})
	}
}

func TestHTTPHoneycombHeaders(t *testing.T) {
	sink := &spanSink{}
	h := NewReceiver(Config{}, testLogger(t)).TracesHandler(sink)
	w := serve(t, h, request{
		ct:   "application/json",
		body: readTestdata(t, "partial.json"),
		header: map[string]string{
			"X-Honeycomb-Team":    " 0123456789abcdef0123456789abcdef ", // a classic key
			"X-Honeycomb-Dataset": "  prod-traces\t",
		},
	})
	if w.Code != http.StatusOK {
		t.Fatalf("status %d, body %q", w.Code, w.Body.Bytes())
	}
	spans := sink.items()
	if len(spans) != 2 {
		t.Fatalf("sink got %d spans, want 2", len(spans))
	}
	// 3eb1bd439947 is the start of sha256 of the key (printf KEY | sha256sum).
	want := telemetry.IngestInfo{Protocol: "otlp", Dataset: "prod-traces", KeyID: "3eb1bd439947"}
	for i, s := range spans {
		if s.Ingest != want {
			t.Errorf("span %d Ingest = %+v, want %+v", i, s.Ingest, want)
		}
	}

	// An environment key, or none: the dataset header does not count and spans are filed
	// under their service's name.
	for _, header := range []map[string]string{
		{"X-Honeycomb-Team": "secret-key", "X-Honeycomb-Dataset": "prod-traces"},
		nil,
	} {
		sink2 := &spanSink{}
		serve(t, NewReceiver(Config{}, testLogger(t)).TracesHandler(sink2), request{ct: "application/json", body: readTestdata(t, "partial.json"), header: header})
		want := telemetry.IngestInfo{Protocol: "otlp", Dataset: "checkout"}
		if header != nil {
			want.KeyID = "85dbe15d75ef" // printf secret-key | sha256sum
		}
		for i, s := range sink2.items() {
			if s.Ingest != want {
				t.Errorf("headers %v: span %d Ingest = %+v, want %+v", header, i, s.Ingest, want)
			}
		}
	}
}

func TestHTTPPartialSuccess(t *testing.T) {
	for _, tc := range []struct {
		name string
		ct   string
		body []byte
	}{
		{"json", contentTypeJSON, readTestdata(t, "partial.json")},
		{"protobuf", contentTypeProtobuf, mustProtoFromJSON(t, readTestdata(t, "partial.json"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &spanSink{}
			h := NewReceiver(Config{}, testLogger(t)).TracesHandler(sink)
			w := serve(t, h, request{ct: tc.ct, body: tc.body})
			if w.Code != http.StatusOK {
				t.Fatalf("status %d, body %q", w.Code, w.Body.Bytes())
			}
			if got := names(sink.items()); len(got) != 2 || got[0] != "valid first" || got[1] != "valid last" {
				t.Errorf("sink got %v, want [valid first valid last]", got)
			}
			resp := ptraceotlp.NewExportResponse()
			var err error
			if tc.ct == contentTypeJSON {
				err = resp.UnmarshalJSON(w.Body.Bytes())
			} else {
				err = resp.UnmarshalProto(w.Body.Bytes())
			}
			if err != nil {
				t.Fatalf("response %q: %v", w.Body.Bytes(), err)
			}
			ps := resp.PartialSuccess()
			if ps.RejectedSpans() != 1 {
				t.Errorf("rejected_spans = %d, want 1", ps.RejectedSpans())
			}
			const wantMsg = "rejected 1 of 3 spans: trace id is all zero (1 span, first at resourceSpans[0].scopeSpans[0].spans[1])"
			if ps.ErrorMessage() != wantMsg {
				t.Errorf("error_message = %q, want %q", ps.ErrorMessage(), wantMsg)
			}
		})
	}
}

func TestHTTPAllRejected(t *testing.T) {
	sink := &spanSink{}
	h := NewReceiver(Config{}, testLogger(t)).TracesHandler(sink)
	body := `{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"0100000000000000","startTimeUnixNano":"1"}]}]}]}`
	w := serve(t, h, request{ct: contentTypeJSON, body: []byte(body)})
	if w.Code != http.StatusOK {
		t.Fatalf("status %d, body %q", w.Code, w.Body.Bytes())
	}
	if sink.calls() != 0 {
		t.Errorf("sink called %d times with nothing to write", sink.calls())
	}
	if !strings.Contains(w.Body.String(), `"rejectedSpans":"1"`) {
		t.Errorf("body %s does not report the rejected span", w.Body.Bytes())
	}
}

func TestHTTPEmptyRequest(t *testing.T) {
	for _, tc := range []struct{ ct, body, want string }{
		{contentTypeProtobuf, "", ""},
		{contentTypeJSON, "{}", "{}"},
		{contentTypeJSON, `{"resourceSpans":[]}`, "{}"},
	} {
		sink := &spanSink{}
		w := serve(t, NewReceiver(Config{}, testLogger(t)).TracesHandler(sink), request{ct: tc.ct, body: []byte(tc.body)})
		if w.Code != http.StatusOK || w.Body.String() != tc.want {
			t.Errorf("%s %q: status %d body %q, want 200 %q", tc.ct, tc.body, w.Code, w.Body.Bytes(), tc.want)
		}
		if sink.calls() != 0 {
			t.Errorf("%s %q: sink called", tc.ct, tc.body)
		}
	}
}

func TestHTTPUnsupported(t *testing.T) {
	protoBody := marshalProto(t, goldenTraces())
	for _, tc := range []struct {
		name       string
		req        request
		wantStatus int
		wantCT     string
		wantHeader [2]string
	}{
		{"no content type", request{body: protoBody}, http.StatusUnsupportedMediaType, contentTypeProtobuf, [2]string{}},
		{"text/plain", request{ct: "text/plain", body: protoBody}, http.StatusUnsupportedMediaType, contentTypeProtobuf, [2]string{}},
		{"malformed content type", request{ct: "application/json;;;=", body: protoBody}, http.StatusUnsupportedMediaType, contentTypeProtobuf, [2]string{}},
		{"brotli", request{ct: contentTypeJSON, encoding: "br", body: []byte("{}")}, http.StatusUnsupportedMediaType, contentTypeJSON, [2]string{"Accept-Encoding", "gzip, zstd"}},
		{"stacked codings", request{ct: contentTypeProtobuf, encoding: "gzip, zstd", body: protoBody}, http.StatusUnsupportedMediaType, contentTypeProtobuf, [2]string{"Accept-Encoding", "gzip, zstd"}},
		{"GET", request{method: http.MethodGet, ct: contentTypeJSON}, http.StatusMethodNotAllowed, contentTypeJSON, [2]string{"Allow", "POST"}},
		{"PUT", request{method: http.MethodPut, ct: contentTypeProtobuf, body: protoBody}, http.StatusMethodNotAllowed, contentTypeProtobuf, [2]string{"Allow", "POST"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &spanSink{}
			w := serve(t, NewReceiver(Config{}, testLogger(t)).TracesHandler(sink), tc.req)
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %q", w.Code, tc.wantStatus, w.Body.Bytes())
			}
			errorStatus(t, w, tc.wantCT)
			if tc.wantHeader[0] != "" && w.Header().Get(tc.wantHeader[0]) != tc.wantHeader[1] {
				t.Errorf("%s = %q, want %q", tc.wantHeader[0], w.Header().Get(tc.wantHeader[0]), tc.wantHeader[1])
			}
			if sink.calls() != 0 {
				t.Error("sink called")
			}
		})
	}
}

func TestHTTPTooLarge(t *testing.T) {
	const limit = 16 << 10
	// A 1 MiB attribute compresses to about a kilobyte: small on the wire, far over the limit
	// once inflated.
	td := goldenTraces()
	td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().PutStr("big", strings.Repeat("0", 1<<20))
	big := marshalProto(t, td)
	gz, zs := gzipBytes(t, big), zstdBytes(t, big)
	if len(gz) > limit || len(zs) > limit {
		t.Fatalf("compressed bodies of %d and %d bytes are not small", len(gz), len(zs))
	}
	for _, tc := range []struct {
		name string
		req  request
	}{
		{"gzip bomb", request{ct: contentTypeProtobuf, encoding: "gzip", body: gz}},
		{"zstd bomb", request{ct: contentTypeProtobuf, encoding: "zstd", body: zs}},
		{"plain", request{ct: contentTypeProtobuf, body: big}},
		{"one byte over", request{ct: contentTypeJSON, body: []byte(`{"x":"` + strings.Repeat("a", limit-7) + `"}`)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &spanSink{}
			w := serve(t, NewReceiver(Config{MaxRequestBytes: limit}, testLogger(t)).TracesHandler(sink), tc.req)
			if w.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413; body %q", w.Code, w.Body.Bytes())
			}
			st := errorStatus(t, w, tc.req.ct)
			if codes.Code(st.GetCode()) != codes.ResourceExhausted {
				t.Errorf("status code %v, want ResourceExhausted", codes.Code(st.GetCode()))
			}
			if sink.calls() != 0 {
				t.Error("sink called")
			}
		})
	}

	// Exactly at the limit is allowed.
	at := []byte(`{"x":"` + strings.Repeat("a", limit-8) + `"}`)
	if len(at) != limit {
		t.Fatalf("test body is %d bytes", len(at))
	}
	w := serve(t, NewReceiver(Config{MaxRequestBytes: limit}, testLogger(t)).TracesHandler(&spanSink{}), request{ct: contentTypeJSON, body: at})
	if w.Code != http.StatusOK {
		t.Errorf("body at the limit: status %d, body %q", w.Code, w.Body.Bytes())
	}
}

func TestHTTPChunkedTooLarge(t *testing.T) {
	// Without a Content-Length the limit is found while reading.
	const limit = 1 << 10
	h := NewReceiver(Config{MaxRequestBytes: limit}, testLogger(t)).TracesHandler(&spanSink{})
	r := httptest.NewRequest(http.MethodPost, "/v1/traces", bytes.NewReader(make([]byte, 4*limit)))
	r.ContentLength = -1
	r.Header.Set("Content-Type", contentTypeProtobuf)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", w.Code)
	}
}

func TestHTTPBadRequest(t *testing.T) {
	valid := marshalProto(t, goldenTraces())
	for _, tc := range []struct {
		name string
		req  request
	}{
		{"garbage protobuf", request{ct: contentTypeProtobuf, body: []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01}}},
		{"truncated protobuf", request{ct: contentTypeProtobuf, body: valid[:len(valid)-3]}},
		{"garbage json", request{ct: contentTypeJSON, body: []byte(`{"resourceSpans":[{"scopeSpans":`)}},
		{"invalid utf-8 in json error", request{ct: contentTypeJSON, body: []byte("{\"resourceSpans\":\xff\xfe}")}},
		{"base64 ids in json", request{ct: contentTypeJSON, body: []byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"W47/95gDgQPSabYzgT/GDA=="}]}]}]}`)}},
		{"corrupt gzip", request{ct: contentTypeProtobuf, encoding: "gzip", body: []byte("not gzip at all")}},
		{"truncated gzip", request{ct: contentTypeJSON, encoding: "gzip", body: gzipBytes(t, readTestdata(t, "traces.json"))[:40]}},
		{"corrupt zstd", request{ct: contentTypeJSON, encoding: "zstd", body: []byte("not zstd at all")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &spanSink{}
			w := serve(t, NewReceiver(Config{}, testLogger(t)).TracesHandler(sink), tc.req)
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400; body %q", w.Code, w.Body.Bytes())
			}
			st := errorStatus(t, w, tc.req.ct)
			if codes.Code(st.GetCode()) != codes.InvalidArgument {
				t.Errorf("status code %v, want InvalidArgument", codes.Code(st.GetCode()))
			}
			t.Logf("message: %s", st.GetMessage())
			if sink.calls() != 0 {
				t.Error("sink called")
			}
		})
	}
}

// panicReader stands in for a decoder that panics on hostile input.
type panicReader struct{}

func (panicReader) Read([]byte) (int, error) { panic("decoder bug") }

func TestHTTPRecoversDecodePanic(t *testing.T) {
	h := NewReceiver(Config{}, testLogger(t)).TracesHandler(&spanSink{})
	r := httptest.NewRequest(http.MethodPost, "/v1/traces", panicReader{})
	r.Header.Set("Content-Type", contentTypeJSON)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", w.Code)
	}
	errorStatus(t, w, contentTypeJSON)
}

func TestHTTPOverloaded(t *testing.T) {
	for _, tc := range []struct {
		retryAfter time.Duration
		want       string
	}{
		{1500 * time.Millisecond, "2"},
		{3 * time.Second, "3"},
		{0, "1"},
		{time.Millisecond, "1"},
	} {
		sink := &spanSink{err: fmtWrap(&ingest.OverloadedError{RetryAfter: tc.retryAfter})}
		h := NewReceiver(Config{}, testLogger(t)).TracesHandler(sink)
		w := serve(t, h, request{ct: contentTypeJSON, body: readTestdata(t, "traces.json")})
		if w.Code != http.StatusServiceUnavailable {
			t.Fatalf("status %d, want 503", w.Code)
		}
		if got := w.Header().Get("Retry-After"); got != tc.want {
			t.Errorf("RetryAfter %v: Retry-After = %q, want %q", tc.retryAfter, got, tc.want)
		}
		st := errorStatus(t, w, contentTypeJSON)
		if codes.Code(st.GetCode()) != codes.Unavailable {
			t.Errorf("status code %v, want Unavailable", codes.Code(st.GetCode()))
		}
	}
}

// fmtWrap wraps err as a sink in front of the pipeline might.
func fmtWrap(err error) error { return &wrapped{err} }

type wrapped struct{ err error }

func (w *wrapped) Error() string { return "pipeline: " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }

func TestHTTPSinkFailure(t *testing.T) {
	sink := &spanSink{err: errors.New("disk /var/lib/lookout/db.duckdb: input/output error")}
	w := serve(t, NewReceiver(Config{}, testLogger(t)).TracesHandler(sink), request{ct: contentTypeProtobuf, body: marshalProto(t, goldenTraces())})
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q; want a retryable 503", w.Code, w.Header().Get("Retry-After"))
	}
	st := errorStatus(t, w, contentTypeProtobuf)
	if strings.Contains(st.GetMessage(), "duckdb") || strings.Contains(st.GetMessage(), "/var/") {
		t.Errorf("message %q leaks the internal error", st.GetMessage())
	}
}

func TestHTTPClientGone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sink := &ctxSink{}
	w := serve(t, NewReceiver(Config{}, testLogger(t)).TracesHandler(sink), request{ctx: ctx, ct: contentTypeJSON, body: readTestdata(t, "traces.json")})
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", w.Code)
	}
}

// ctxSink fails as a sink does when its caller's context ends.
type ctxSink struct{}

func (ctxSink) Write(ctx context.Context, _ []telemetry.Span) error { return ctx.Err() }
func (ctxSink) Rejected(int)                                        {}

// atArrival sets the times that records got on arrival (between before and after) to
// goldenNow, so that they compare with goldenLogRecords.
func atArrival(records []telemetry.LogRecord, before, after int64) []telemetry.LogRecord {
	for i := range records {
		r := &records[i]
		if r.ObservedTimeUnixNano >= before && r.ObservedTimeUnixNano <= after {
			if r.TimeUnixNano == r.ObservedTimeUnixNano {
				r.TimeUnixNano = goldenNow
			}
			r.ObservedTimeUnixNano = goldenNow
		}
	}
	return records
}

func TestHTTPLogs(t *testing.T) {
	jsonBody := readTestdata(t, "logs.json")
	protoBody := marshalLogsProto(t, goldenLogs())
	for _, tc := range []struct {
		name, ct, encoding string
		body               []byte
	}{
		{"json", contentTypeJSON, "", jsonBody},
		{"protobuf", contentTypeProtobuf, "", protoBody},
		{"protobuf gzip", contentTypeProtobuf, "gzip", gzipBytes(t, protoBody)},
		{"json zstd", contentTypeJSON, "zstd", zstdBytes(t, jsonBody)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &recordingSink[telemetry.LogRecord]{}
			h := NewReceiver(Config{}, testLogger(t)).LogsHandler(sink)
			before := time.Now().UnixNano()
			w := serve(t, h, request{ct: tc.ct, encoding: tc.encoding, body: tc.body})
			after := time.Now().UnixNano()
			if w.Code != http.StatusOK {
				t.Fatalf("status %d, body %q", w.Code, w.Body.Bytes())
			}
			if want := map[string]string{contentTypeJSON: "{}", contentTypeProtobuf: ""}[tc.ct]; w.Body.String() != want {
				t.Errorf("body %q, want %q", w.Body.Bytes(), want)
			}
			compareLogs(t, atArrival(sink.items(), before, after), goldenLogRecords())
		})
	}
}

func TestHTTPLogsPartialSuccess(t *testing.T) {
	body := []byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"ok"}},` +
		`{"attributes":[{"key":"deep","value":` + jsonNestedArrays(40) + `}]}]}]}]}`)
	const wantMsg = "rejected 1 of 2 log records: a value is nested more than 32 levels deep (1 log record, first at resourceLogs[0].scopeLogs[0].logRecords[1])"
	for _, tc := range []struct {
		ct   string
		body []byte
	}{
		{contentTypeJSON, body},
		{contentTypeProtobuf, mustLogsProtoFromJSON(t, body)},
	} {
		sink := &recordingSink[telemetry.LogRecord]{}
		w := serve(t, NewReceiver(Config{}, testLogger(t)).LogsHandler(sink), request{ct: tc.ct, body: tc.body})
		if w.Code != http.StatusOK {
			t.Fatalf("%s: status %d, body %q", tc.ct, w.Code, w.Body.Bytes())
		}
		resp := plogotlp.NewExportResponse()
		var err error
		if tc.ct == contentTypeJSON {
			if !strings.Contains(w.Body.String(), `"rejectedLogRecords":"1"`) {
				t.Errorf("body %s does not name rejectedLogRecords", w.Body.Bytes())
			}
			err = resp.UnmarshalJSON(w.Body.Bytes())
		} else {
			err = resp.UnmarshalProto(w.Body.Bytes())
		}
		if err != nil {
			t.Fatalf("%s: response %q: %v", tc.ct, w.Body.Bytes(), err)
		}
		if ps := resp.PartialSuccess(); ps.RejectedLogRecords() != 1 || ps.ErrorMessage() != wantMsg {
			t.Errorf("%s: partial success %d %q, want 1 %q", tc.ct, ps.RejectedLogRecords(), ps.ErrorMessage(), wantMsg)
		}
		if got := sink.items(); len(got) != 1 || sink.rejectedCount() != 1 {
			t.Errorf("%s: sink got %d records and %d rejected, want 1 and 1", tc.ct, len(got), sink.rejectedCount())
		}
	}
}

func TestHoneycombDatasetHeaderIsChecked(t *testing.T) {
	sink := &spanSink{}
	w := serve(t, NewReceiver(Config{}, testLogger(t)).TracesHandler(sink),
		request{ct: contentTypeJSON, body: []byte(`{}`), header: map[string]string{
			"x-honeycomb-team":    "0123456789abcdef0123456789abcdef", // a classic key names its dataset
			"x-honeycomb-dataset": strings.Repeat("d", 300),
		}})
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "at most 255 bytes") {
		t.Fatalf("a 300-byte dataset: %d %s", w.Code, w.Body.Bytes())
	}
}
