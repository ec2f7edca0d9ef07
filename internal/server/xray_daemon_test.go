package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-xray-sdk-go/xray"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"lookout/internal/server"
)

// sendDatagrams sends segment documents to the daemon endpoint, each after Node's header.
func sendDatagrams(t *testing.T, srv *server.Server, docs ...string) {
	t.Helper()
	conn, err := net.Dial("udp4", srv.Addrs().XRay)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, d := range docs {
		if _, err := conn.Write([]byte(`{"format":"json","version":1}` + "\n" + d)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(60 * time.Millisecond) // the order matters: each its own batch
	}
}

// TestXRayVersionsMerge sends a segment in progress, then a subsegment on its own, then the
// completed segment: the trace holds the completed segment once, and the subsegment carries
// the segment's service although it arrived without it.
func TestXRayVersionsMerge(t *testing.T) {
	srv := start(t)
	const trace = "1-5759e988-bd862e3fe1be46a994272793"
	sendDatagrams(t, srv,
		`{"trace_id":"`+trace+`","id":"defdfd9912dc5a56","name":"checkout","start_time":1461096053.1,"in_progress":true}`,
		`{"type":"subsegment","trace_id":"`+trace+`","parent_id":"defdfd9912dc5a56","id":"53995c3f42cd8ad8","name":"db","start_time":1461096053.2,"end_time":1461096053.3,"namespace":"remote"}`,
		`{"trace_id":"`+trace+`","id":"defdfd9912dc5a56","name":"checkout","start_time":1461096053.1,"end_time":1461096053.6}`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got jaegerResponse
		getJSON(t, srv, "/api/traces/"+xrayHex(trace), &got)
		if len(got.Data) == 1 && len(got.Data[0].Spans) == 2 {
			tr := got.Data[0]
			seg, db := spanNamed(t, tr, "checkout"), spanNamed(t, tr, "db")
			if seg.Duration == 500_000 {
				if p := tr.Processes[db.ProcessID]; p.ServiceName != "checkout" {
					t.Errorf("the subsegment's service = %q, want its segment's, checkout", p.ServiceName)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the trace never held the completed segment and its subsegment: %+v", got.Data)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestXRayAndOpenTelemetryShareTraces calls an X-Ray-instrumented Go handler from a span of
// the OpenTelemetry SDK, propagating X-Amzn-Trace-Id: the OTLP span and the X-Ray segment
// are one trace, the segment the span's child.
func TestXRayAndOpenTelemetryShareTraces(t *testing.T) {
	srv := start(t)
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(srv.Addrs().HTTP), otlptracehttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "otel-frontend"))))
	defer tp.Shutdown(ctx)
	if err := xray.Configure(xray.Config{DaemonAddr: srv.Addrs().XRay}); err != nil {
		t.Fatal(err)
	}
	app := http.Handler(xray.Handler(xray.NewFixedSegmentNamer("xray-backend"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "ok")
	})))

	spanCtx, span := tp.Tracer("e2e").Start(ctx, "GET /orders", trace.WithSpanKind(trace.SpanKindClient))
	sc := span.SpanContext()
	tid := sc.TraceID().String()
	req, _ := http.NewRequestWithContext(spanCtx, http.MethodGet, "http://backend/orders", nil)
	// The header OpenTelemetry's X-Ray propagator writes.
	req.Header.Set("X-Amzn-Trace-Id", fmt.Sprintf("Root=1-%s-%s;Parent=%s;Sampled=1", tid[:8], tid[8:], sc.SpanID()))
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, req)
	span.RecordError(errors.New("the backend was slow"), trace.WithStackTrace(true))
	span.End()

	tr := waitForTrace(t, srv, tid, 2)
	otelSpan, segment := spanNamed(t, tr, "GET /orders"), spanNamed(t, tr, "xray-backend")
	if len(segment.References) != 1 || segment.References[0].SpanID != otelSpan.SpanID {
		t.Errorf("the segment's parent = %+v, want the OpenTelemetry span %s", segment.References, otelSpan.SpanID)
	}
	services := []string{tr.Processes[otelSpan.ProcessID].ServiceName, tr.Processes[segment.ProcessID].ServiceName}
	if strings.Join(services, ",") != "otel-frontend,xray-backend" {
		t.Errorf("services = %v", services)
	}

	// The service graph and Jaeger's dependencies agree on the call between them.
	var deps struct {
		Data []struct {
			Parent, Child string
			CallCount     int
		}
	}
	getJSON(t, srv, "/api/dependencies?lookback=3600000", &deps)
	if len(deps.Data) != 1 || deps.Data[0].Parent != "otel-frontend" || deps.Data[0].Child != "xray-backend" || deps.Data[0].CallCount != 1 {
		t.Errorf("/api/dependencies = %+v, want otel-frontend → xray-backend once", deps.Data)
	}
	now := time.Now().Unix()
	status, graph := postXRay(t, srv, "/ServiceGraph", fmt.Sprintf(`{"StartTime": %d, "EndTime": %d}`, now-3600, now+60))
	var sg struct {
		Services []struct {
			ReferenceId int
			Name        string
			Edges       []struct {
				ReferenceId       int
				SummaryStatistics struct{ TotalCount int }
			}
		}
	}
	json.Unmarshal([]byte(graph), &sg)
	ids := map[string]int{}
	for _, svc := range sg.Services {
		ids[svc.Name] = svc.ReferenceId
	}
	calls := 0
	for _, svc := range sg.Services {
		for _, e := range svc.Edges {
			if svc.Name == "otel-frontend" && e.ReferenceId == ids["xray-backend"] {
				calls += e.SummaryStatistics.TotalCount
			}
		}
	}
	if status != http.StatusOK || calls != 1 {
		t.Errorf("GetServiceGraph: %d, %d calls otel-frontend → xray-backend, want 1: %s", status, calls, graph)
	}

	// BatchGetTraces gives both back as segment documents, the OpenTelemetry span's error
	// with the frames of the stack the SDK recorded.
	status, body := postXRay(t, srv, "/Traces", fmt.Sprintf(`{"TraceIds":["1-%s-%s"]}`, tid[:8], tid[8:]))
	if status != http.StatusOK || !strings.Contains(body, `\"name\":\"xray-backend\"`) || !strings.Contains(body, `\"name\":\"otel-frontend\"`) {
		t.Errorf("BatchGetTraces: %d %s", status, body)
	}
	var traces struct {
		Traces []struct{ Segments []struct{ Document string } }
	}
	json.Unmarshal([]byte(body), &traces)
	var frames []struct {
		Path, Label string
		Line        int
	}
	for _, tr := range traces.Traces {
		for _, seg := range tr.Segments {
			var doc struct {
				Name  string
				Cause struct {
					Exceptions []struct {
						Message string
						Stack   json.RawMessage
					}
				}
			}
			json.Unmarshal([]byte(seg.Document), &doc)
			if doc.Name == "otel-frontend" && len(doc.Cause.Exceptions) == 1 && doc.Cause.Exceptions[0].Message == "the backend was slow" {
				json.Unmarshal(doc.Cause.Exceptions[0].Stack, &frames)
			}
		}
	}
	found := false
	for _, f := range frames {
		found = found || strings.HasSuffix(f.Path, "xray_daemon_test.go") && strings.HasSuffix(f.Label, "TestXRayAndOpenTelemetryShareTraces") && f.Line > 0
	}
	if !found {
		t.Errorf("the OpenTelemetry span's exception has frames %+v, want one of this test", frames)
	}
}

// TestXRaySamplingRulesKept starts lookout with --xray-sampling-rules, creates a group, and
// restarts it on the same data: the SDKs' sampling requests on the daemon's TCP port, and any
// other X-Ray API call there, find both.
func TestXRaySamplingRulesKept(t *testing.T) {
	dir := t.TempDir()
	withData := func(c *server.Config) { c.DataDir, c.XRaySamplingRules = dir, "testdata/xray-rule.json" }
	first := start(t, withData)
	if status, body := postXRay(t, first, "/CreateGroup", `{"GroupName":"Cruddur","FilterExpression":"service(\"backend-flask\")"}`); status != http.StatusOK {
		t.Fatalf("CreateGroup: %d %s", status, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := first.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	second := start(t, func(c *server.Config) { c.DataDir = dir })
	daemon := "http://" + second.Addrs().XRay
	for path, want := range map[string]string{
		"/GetSamplingRules": `"RuleName":"Cruddur"`, // as the Go SDK asks, on the TCP port
		"/Groups":           `"GroupName":"Cruddur"`,
	} {
		resp, err := http.Post(daemon+path, "application/json", strings.NewReader(`{"NextToken": null}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("POST %s on the daemon's TCP port: %d %s; want %s", path, resp.StatusCode, body, want)
		}
	}
	resp, err := http.Post(daemon+"/NoSuchOperation", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("x-amzn-ErrorType") != "UnknownOperationException" || resp.Header.Get("x-amzn-RequestId") == "" {
		t.Errorf("an unknown operation: %d %v", resp.StatusCode, resp.Header)
	}
}
