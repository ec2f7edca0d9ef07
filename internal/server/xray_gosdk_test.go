package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-xray-sdk-go/xray"

	"lookout/internal/server"
)

// postXRay calls an X-Ray API operation on the HTTP listener with a JSON body.
func postXRay(t *testing.T, srv *server.Server, path, body string) (int, string) {
	t.Helper()
	return post(t, srv.Addrs().HTTP, path, body)
}

// xrayHex is an X-Ray trace id (1-xxxxxxxx-yyyy...) in OpenTelemetry's hex form.
func xrayHex(id string) string { return strings.ReplaceAll(strings.TrimPrefix(id, "1-"), "-", "") }

// TestXRayGoSDK runs a web handler instrumented with the real aws-xray-sdk-go against
// lookout's daemon endpoint: the SDK pulls its sampling rules over TCP and sends segments
// over UDP, and the trace reads back through the Jaeger API with its subsegments, annotation,
// metadata, error and fault.
func TestXRayGoSDK(t *testing.T) {
	srv := start(t)
	if status, body := postXRay(t, srv, "/CreateSamplingRule", `{"SamplingRule": {"RuleName": "go-shop-all", "ResourceARN": "*",
		"Priority": 10, "FixedRate": 1, "ReservoirSize": 0, "ServiceName": "go-shop", "ServiceType": "*", "Host": "*",
		"HTTPMethod": "*", "URLPath": "*", "Version": 1}}`); status != http.StatusOK {
		t.Fatalf("CreateSamplingRule: %d %s", status, body)
	}
	if err := xray.Configure(xray.Config{DaemonAddr: srv.Addrs().XRay, ServiceVersion: "1.2.3"}); err != nil {
		t.Fatal(err)
	}
	app := httptest.NewServer(xray.Handler(xray.NewFixedSegmentNamer("go-shop"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		xray.AddAnnotation(ctx, "customer", "c-42")
		xray.AddMetadata(ctx, "order", map[string]any{"items": 3})
		cctx, charge := xray.BeginSubsegment(ctx, "charge")
		err := xray.Capture(cctx, "ledger", func(context.Context) error { return errors.New("ledger is read-only") })
		charge.Close(err)
		http.Error(w, "payment failed", http.StatusInternalServerError)
	})))
	defer app.Close()

	// The SDK samples with lookout's rule once it has pulled the rules; until then it uses
	// its local ones, which name no rule.
	var root string
	deadline := time.Now().Add(15 * time.Second)
	for root == "" {
		if time.Now().After(deadline) {
			t.Fatal("no trace sampled by lookout's rule arrived")
		}
		resp, err := http.Get(app.URL + "/pay")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		id := traceRoot(resp.Header.Get("X-Amzn-Trace-Id"))
		tr, ok := findTrace(t, srv, xrayHex(id), 3, time.Second)
		if !ok {
			continue
		}
		rootSpan := spanNamed(t, tr, "go-shop")
		if doc, _ := tag(rootSpan.Tags, "aws.xray.document"); strings.Contains(fmt.Sprint(doc.Value), `"sampling_rule_name":"go-shop-all"`) {
			root = id
			checkGoSDKTrace(t, tr)
		}
	}
}

func checkGoSDKTrace(t *testing.T, tr jaegerTrace) {
	t.Helper()
	root, charge, ledger := spanNamed(t, tr, "go-shop"), spanNamed(t, tr, "charge"), spanNamed(t, tr, "ledger")
	if p := tr.Processes[root.ProcessID]; p.ServiceName != "go-shop" {
		t.Errorf("root span's service = %q, want go-shop", p.ServiceName)
	}
	for _, c := range []struct {
		span   jaegerSpan
		key    string
		want   any
		reason string
	}{
		{root, "span.kind", "server", "a segment is a server span"},
		{root, "customer", "c-42", "annotations are attributes"},
		{root, "http.status_code", float64(500), "the response status"},
		{root, "http.method", "GET", "the request method"},
		{root, "aws.xray.fault", true, "5xx is a fault"},
		{root, "aws.xray.type", "segment", ""},
		{charge, "aws.xray.type", "subsegment", ""},
		{ledger, "error", true, "a captured error is an error"},
	} {
		got, ok := tag(c.span.Tags, c.key)
		if !ok || got.Value != c.want {
			t.Errorf("%s: tag %s = %v, want %v (%s)", c.span.OperationName, c.key, got.Value, c.want, c.reason)
		}
	}
	if len(charge.References) != 1 || charge.References[0].SpanID != root.SpanID {
		t.Errorf("charge's parent = %v, want the segment %s", charge.References, root.SpanID)
	}
	if len(ledger.References) != 1 || ledger.References[0].SpanID != charge.SpanID {
		t.Errorf("ledger's parent = %v, want charge %s", ledger.References, charge.SpanID)
	}
	if len(ledger.Logs) != 1 {
		t.Fatalf("ledger has %d events, want its exception", len(ledger.Logs))
	}
	if msg, _ := tag(ledger.Logs[0].Fields, "exception.message"); msg.Value != "ledger is read-only" {
		t.Errorf("exception message = %v", msg.Value)
	}
	doc, _ := tag(root.Tags, "aws.xray.document")
	if !strings.Contains(fmt.Sprint(doc.Value), `"metadata":{"default":{"order":{"items":3}}}`) {
		t.Errorf("the segment's document lacks its metadata: %v", doc.Value)
	}
	if md, _ := tag(root.Tags, "aws.xray.metadata.default"); md.Value != `{"order":{"items":3}}` {
		t.Errorf("the segment's metadata tag = %v, want its default namespace", md.Value)
	}
	// The document is shown whole, with what the span's own fields hold put back.
	var sent struct{ ID, Name string }
	if err := json.Unmarshal([]byte(fmt.Sprint(doc.Value)), &sent); err != nil || sent.ID != root.SpanID || sent.Name != "go-shop" {
		t.Errorf("the segment's document: id %q, name %q (%v), want %s and go-shop", sent.ID, sent.Name, err, root.SpanID)
	}
}

// traceRoot reads the Root of an X-Amzn-Trace-Id header.
func traceRoot(header string) string {
	for _, part := range strings.Split(header, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "Root="); ok {
			return v
		}
	}
	return ""
}

// findTrace polls for a trace of at least n spans for up to wait.
func findTrace(t *testing.T, srv *server.Server, hexID string, n int, wait time.Duration) (jaegerTrace, bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		var got jaegerResponse
		if getJSON(t, srv, "/api/traces/"+hexID, &got) == http.StatusOK && len(got.Data) == 1 && len(got.Data[0].Spans) >= n {
			return got.Data[0], true
		}
		if time.Now().After(deadline) {
			return jaegerTrace{}, false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func spanNamed(t *testing.T, tr jaegerTrace, name string) jaegerSpan {
	t.Helper()
	for _, sp := range tr.Spans {
		if sp.OperationName == name {
			return sp
		}
	}
	t.Fatalf("trace %s has no span %q", tr.TraceID, name)
	return jaegerSpan{}
}
