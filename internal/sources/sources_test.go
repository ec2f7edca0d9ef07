package sources

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"lookout/internal/telemetry"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestRegistry() (*Registry, *clock) {
	c := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	r := NewRegistry()
	r.now = c.now
	return r, c
}

func TestMiddlewareRecordsSenders(t *testing.T) {
	reg, _ := newTestRegistry()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, r *http.Request) {
		q := Observe(r.Context())
		q.Landed("service api", 3)
		q.Refused("service api", 1, "span 2: trace_id is empty")
	})
	mux.HandleFunc("POST /1/batch/{ds}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"unknown API key - check your credentials"}`))
	})
	mux.HandleFunc("GET /api/traces", func(w http.ResponseWriter, r *http.Request) {
		if Observe(r.Context()) != nil {
			t.Error("a query request is observed")
		}
	})
	h := reg.Middleware(mux)
	send := func(method, path, key, ua string) {
		r := httptest.NewRequest(method, path, nil)
		r.Header.Set("X-Honeycomb-Team", key)
		r.Header.Set("User-Agent", ua)
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	send("POST", "/v1/traces", "secret-key-1", "OTel-OTLP-Exporter-Go/1.47.0")
	send("POST", "/v1/traces", "secret-key-1", "OTel-OTLP-Exporter-Go/1.47.0")
	send("POST", "/1/batch/cruddur", "bad-key", "libhoney-go/1.25.0")
	send("GET", "/api/traces", "", "curl/8")

	rep := reg.Report()
	if len(rep.Senders) != 2 {
		t.Fatalf("senders %+v", rep.Senders)
	}
	byProto := map[string]SenderReport{}
	for _, s := range rep.Senders {
		byProto[s.Protocol] = s
	}
	otlp := byProto["otlp"]
	if otlp.SDK != "OTel-OTLP-Exporter-Go 1.47.0" || otlp.Destination != "service api" || otlp.Items != 6 || otlp.Refused != 2 ||
		otlp.Credential != Fingerprint("secret-key-1") || otlp.PerMinute != 6 {
		t.Fatalf("otlp sender %+v", otlp)
	}
	hc := byProto["honeycomb"]
	if hc.Refused != 1 || hc.Refusals["401 unknown API key - check your credentials"] != 1 {
		t.Fatalf("honeycomb sender %+v", hc)
	}
	raw, _ := json.Marshal(rep)
	if strings.Contains(string(raw), "secret-key-1") || strings.Contains(string(raw), "bad-key") {
		t.Fatal("a credential appears in the report")
	}
	kinds := map[string]int{}
	for _, w := range rep.Warnings {
		kinds[w.Kind]++
	}
	if kinds[KindRefused] != 2 {
		t.Fatalf("warnings %+v", rep.Warnings)
	}
}

func TestTwoKeysForOneService(t *testing.T) {
	reg, c := newTestRegistry()
	reg.Record(Sender{Protocol: "otlp", Credential: "aaa", Destination: "service backend-flask"}, 10, 0, "")
	c.t = c.t.Add(time.Minute)
	reg.Record(Sender{Protocol: "otlp", Credential: "bbb", Destination: "service backend-flask"}, 10, 0, "")
	reg.Record(Sender{Protocol: "otlp", Credential: "aaa", Destination: "service other"}, 10, 0, "")
	var found []Warning
	for _, w := range reg.Report().Warnings {
		if w.Kind == KindTwoKeys {
			found = append(found, w)
		}
	}
	if len(found) != 1 || found[0].Sender.Credential != "bbb" || !strings.Contains(found[0].Message, "service backend-flask") {
		t.Fatalf("two-keys warnings %+v", found)
	}
	// Once the second key has been quiet for longer than Recent, the warning goes.
	c.t = c.t.Add(Recent + time.Second)
	reg.Record(Sender{Protocol: "otlp", Credential: "aaa", Destination: "service backend-flask"}, 1, 0, "")
	for _, w := range reg.Report().Warnings {
		if w.Kind == KindTwoKeys {
			t.Fatalf("stale warning %+v", w)
		}
	}
}

func TestNewRollbarToken(t *testing.T) {
	reg, c := newTestRegistry()
	reg.Record(Sender{Protocol: "rollbar", Credential: "old", Destination: "project 1"}, 1, 0, "")
	if n := len(reg.Report().Warnings); n != 0 {
		t.Fatalf("a first token warns: %d", n)
	}
	c.t = c.t.Add(time.Hour)
	reg.Record(Sender{Protocol: "rollbar", Credential: "new", Destination: "project 1"}, 1, 0, "")
	w := reg.Report().Warnings
	if len(w) != 1 || w[0].Kind != KindNewToken || w[0].Sender.Credential != "new" {
		t.Fatalf("warnings %+v", w)
	}
}

func TestRateCountsTheLastMinute(t *testing.T) {
	reg, c := newTestRegistry()
	s := Sender{Protocol: "xray"}
	for range 10 {
		reg.Record(s, 5, 0, "")
		c.t = c.t.Add(10 * time.Second)
	}
	// Records at 0..90 s, now 100 s: the last minute holds those at 50..90 s (and the bucket
	// boundary may keep one more).
	got := reg.Report().Senders[0].PerMinute
	if got < 25 || got > 30 {
		t.Fatalf("per minute %d, want 25..30", got)
	}
	c.t = c.t.Add(5 * time.Minute)
	if got := reg.Report().Senders[0].PerMinute; got != 0 {
		t.Fatalf("per minute after idling %d", got)
	}
}

func TestRegistryIsBounded(t *testing.T) {
	reg, c := newTestRegistry()
	for i := range maxSenders + 10 {
		c.t = c.t.Add(time.Millisecond)
		reg.Record(Sender{Protocol: "otlp", Destination: strings.Repeat("x", i%50) + string(rune('a'+i%26)) + time.Duration(i).String()}, 1, 0, "")
	}
	if n := len(reg.Report().Senders); n != maxSenders {
		t.Fatalf("%d senders kept", n)
	}
}

func TestWarnFromReceiver(t *testing.T) {
	reg, c := newTestRegistry()
	s := Sender{Protocol: "cloudwatch-logs", Destination: "log group cruddur"}
	reg.Warn(s, "late-batches", "batches arrive 58 s late")
	w := reg.Report().Warnings
	if len(w) != 1 || w[0].Message != "batches arrive 58 s late" || w[0].Sender.Destination != "log group cruddur" {
		t.Fatalf("warnings %+v", w)
	}
	c.t = c.t.Add(Recent + time.Second)
	if w := reg.Report().Warnings; len(w) != 0 {
		t.Fatalf("stale warnings %+v", w)
	}
}

func TestSDKFromUserAgent(t *testing.T) {
	for ua, want := range map[string]string{
		"OTel-OTLP-Exporter-Go/1.47.0":                                      "OTel-OTLP-Exporter-Go 1.47.0",
		"OTel Go OTLP over HTTP/protobuf/1.47.0":                            "OTel Go OTLP over HTTP/protobuf 1.47.0",
		"aws-sdk-go-v2/1.48.0 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux": "aws-sdk-go-v2 1.48.0",
		"Boto3/1.43.0 md/Botocore#1.43.0 ua/2.1 os/linux#6":                 "Boto3 1.43.0",
		"curl": "curl",
		"":     "",
	} {
		if got := sdkOf(ua); got != want {
			t.Errorf("sdkOf(%q) = %q, want %q", ua, got, want)
		}
	}
}

func TestNotesAboutData(t *testing.T) {
	reg, c := newTestRegistry()
	reg.Note("missing-parents", "backend-flask", "3 spans", "")
	reg.Note("missing-parents", "backend-flask", "5 spans", "abc")
	reg.Note("missing-parents", "db", "1 span", "")
	w := reg.Report().Warnings
	if len(w) != 2 {
		t.Fatalf("warnings %+v", w)
	}
	msgs := w[0].Message + "|" + w[1].Message
	if !strings.Contains(msgs, "5 spans") || strings.Contains(msgs, "3 spans") {
		t.Fatalf("warnings %+v", w)
	}
	c.t = c.t.Add(Recent)
	if w := reg.Report().Warnings; len(w) != 0 {
		t.Fatalf("stale notes %+v", w)
	}
}

// nopSink stores nothing and refuses nothing.
type nopSink[T any] struct{}

func (nopSink[T]) Write(context.Context, []T) error { return nil }
func (nopSink[T]) Rejected(int)                     {}

func TestSinkCountsByDestination(t *testing.T) {
	reg, _ := newTestRegistry()
	res := func(service string) *telemetry.Resource {
		return &telemetry.Resource{Attributes: telemetry.Attributes{
			{Key: "service.name", Value: telemetry.StringValue(service)},
			{Key: "telemetry.sdk.name", Value: telemetry.StringValue("opentelemetry")},
			{Key: "telemetry.sdk.language", Value: telemetry.StringValue("python")},
			{Key: "telemetry.sdk.version", Value: telemetry.StringValue("1.16.0")},
		}}
	}
	api, db := res("api"), res("db")
	spans := []telemetry.Span{{Resource: api}, {Resource: db}, {Resource: api}, {Resource: api, Ingest: telemetry.IngestInfo{Dataset: "cruddur"}}}
	q := newRequest("otlp", "OTel-OTLP-Exporter-Python 1.16.0", "")
	if err := Sink[telemetry.Span](nopSink[telemetry.Span]{}, Spans).Write(q.with(context.Background()), spans); err != nil {
		t.Fatal(err)
	}
	q.commit(reg, "")
	got := map[string]int64{}
	for _, s := range reg.Report().Senders {
		got[s.Destination] = s.Items
		if s.SDK != "opentelemetry python 1.16.0" {
			t.Errorf("sdk %q", s.SDK)
		}
	}
	if want := map[string]int64{"service api": 2, "service db": 1, "dataset cruddur": 1}; !maps.Equal(got, want) {
		t.Fatalf("items by destination %v, want %v", got, want)
	}
}
