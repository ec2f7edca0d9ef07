package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"lookout/internal/demo"
	"lookout/internal/server"
)

// TestBrowser seeds lookout with traces sent by the OpenTelemetry SDK, and with the demo's
// simulated services, and runs the UI's Playwright script (internal/ui/e2e) against it in
// headless Chromium.
func TestBrowser(t *testing.T) {
	needBrowser(t)
	srv := start(t)
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(srv.Addrs().HTTP), otlptracehttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithMaxExportBatchSize(2000), sdktrace.WithMaxQueueSize(20000)),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "shop-frontend"))))
	defer tp.Shutdown(ctx)
	backend := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithMaxExportBatchSize(2000), sdktrace.WithMaxQueueSize(20000)),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "shop-backend"))))
	defer backend.Shutdown(ctx)
	fe, be := tp.Tracer("e2e"), backend.Tracer("e2e")
	start := time.Now().Add(-5 * time.Minute)
	at := func(ms int) trace.SpanStartEventOption {
		return trace.WithTimestamp(start.Add(time.Duration(ms) * time.Millisecond))
	}
	end := func(ms int) trace.SpanEndOption {
		return trace.WithTimestamp(start.Add(time.Duration(ms) * time.Millisecond))
	}

	// Small: root -> (checkout -> (charge, reserve, audit), render); 6 spans over two services.
	rctx, root := fe.Start(ctx, "GET /checkout", trace.WithSpanKind(trace.SpanKindServer), at(0))
	cctx, checkout := be.Start(rctx, "checkout", at(5))
	_, charge := be.Start(cctx, "charge card", at(10))
	charge.SetStatus(codes.Error, "card declined")
	charge.End(end(40))
	_, reserve := be.Start(cctx, "reserve stock", at(42))
	reserve.End(end(60))
	_, audit := be.Start(cctx, "audit", at(61))
	audit.End(end(63))
	checkout.End(end(70))
	_, render := fe.Start(rctx, "render", at(71))
	render.End(end(90))
	root.End(end(95))

	// Big: 10,000 spans, a root with 100 children of 99 grandchildren each.
	bctx, big := fe.Start(ctx, "nightly batch", at(1000))
	for i := 0; i < 100; i++ {
		ictx, item := be.Start(bctx, "process chunk "+strconv.Itoa(i), at(1000+i*10))
		for j := 0; j < 99; j++ {
			_, step := be.Start(ictx, "row "+strconv.Itoa(j), at(1000+i*10+j/10))
			step.End(end(1000 + i*10 + j/10 + 1))
		}
		item.End(end(1000 + i*10 + 10))
	}
	big.End(end(2100))

	// Incomplete: two spans whose parent, in a process that does not report, never arrives.
	lost := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0xe2, 0xe0, 15: 1}, SpanID: trace.SpanID{0xe2, 7: 1}, TraceFlags: trace.FlagsSampled, Remote: true})
	octx, orphan := fe.Start(trace.ContextWithRemoteSpanContext(ctx, lost), "consume order", at(4000))
	_, ship := fe.Start(octx, "ship order", at(4010))
	ship.End(end(4040))
	orphan.End(end(4050))

	// XSS: markup in a key and a value must show as text.
	_, xss := fe.Start(ctx, "<b>bold</b> operation", at(3000), trace.WithAttributes(
		attribute.String("xss.value", `<img src=x onerror=alert(1)>`),
		attribute.String(`<img src=x onerror=alert(2)>`, "key with markup")))
	xss.End(end(3010))

	// For the query page: 400 requests to shop-api over the last 40 minutes; the slow ones
	// (800 ms and more) are all failed checkouts, which BubbleUp must find.
	api := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithMaxExportBatchSize(2000), sdktrace.WithMaxQueueSize(20000)),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "shop-api"))))
	defer api.Shutdown(ctx)
	apiTracer := api.Tracer("e2e")
	routes := []string{"/api/cart", "/api/products", "/api/users/{id}"}
	for i := range 400 {
		t0 := time.Now().Add(-40 * time.Minute).Add(time.Duration(i) * 6 * time.Second)
		route, ms := routes[i%3], 5+(i*37)%95
		if i%10 == 0 {
			route, ms = "/api/checkout", 800+(i*13)%200
		}
		_, sp := apiTracer.Start(ctx, "GET "+route, trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(t0),
			trace.WithAttributes(attribute.String("http.route", route), attribute.Int("http.status_code", 200)))
		if i%10 == 0 {
			sp.SetStatus(codes.Error, "payment provider timed out")
			sp.SetAttributes(attribute.Int("http.status_code", 504))
		}
		sp.End(trace.WithTimestamp(t0.Add(time.Duration(ms) * time.Millisecond)))
	}
	if err := api.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}

	// X-Ray: a Flask-like service over UDP calling a database, DynamoDB and a payments
	// service (its own segment), answering in xrayResponseTimes, a segment begun and never
	// ended, and a datagram that is not one.
	xrayResponseTimes := []float64{0.3, 0.5, 0.9, 1.7}
	xrayStart := float64(time.Now().Add(-3*time.Minute).UnixNano()) / 1e9
	xrayTrace := func(n int) string { return fmt.Sprintf("1-%08x-%024x", int64(xrayStart), 0xa11+n) }
	for i := range 4 {
		t0 := xrayStart + float64(i)*5
		sendDatagrams(t, srv, fmt.Sprintf(`{"trace_id":"%s","id":"%016x","name":"xray-flask","start_time":%.3f,"end_time":%.3f,`+
			`"http":{"request":{"method":"GET","url":"http://api/activities"},"response":{"status":%d}},"fault":%v,"subsegments":[`+
			`{"id":"%016x","name":"postgres","namespace":"remote","start_time":%.3f,"end_time":%.3f,"sql":{"url":"postgres://db"}},`+
			`{"id":"%016x","name":"DynamoDB","namespace":"aws","start_time":%.3f,"end_time":%.3f,"aws":{"operation":"GetItem"}},`+
			`{"id":"%016x","name":"payments","namespace":"remote","start_time":%.3f,"end_time":%.3f}]}`,
			xrayTrace(i), 0xf100+i, t0, t0+xrayResponseTimes[i], []int{200, 200, 500, 200}[i], i == 2, 0xf200+i, t0+0.01, t0+0.1, 0xf300+i, t0+0.1, t0+0.2, 0xf400+i, t0+0.2, t0+0.29),
			fmt.Sprintf(`{"trace_id":"%s","id":"%016x","parent_id":"%016x","name":"payments","start_time":%.3f,"end_time":%.3f}`,
				xrayTrace(i), 0xf500+i, 0xf400+i, t0+0.21, t0+0.28))
	}
	sendDatagrams(t, srv, fmt.Sprintf(`{"trace_id":"%s","id":"%016x","name":"xray-flask","start_time":%.3f,"in_progress":true,`+
		`"annotations":{"order_id":"o-17"},"metadata":{"debug":{"cart":{"items":2}}}}`, xrayTrace(9), 0xf900, xrayStart+30),
		`{"trace_id":"1-zz","id":"0000000000000001","name":"broken","start_time":1,"end_time":2}`)
	inProgressTrace := xrayHex(xrayTrace(9))
	// An SDK's report of the Default rule over its last ten seconds, as GetSamplingTargets
	// carries it: the sampling table shows its most in a minute, a second.
	const ruleRequests = 150
	if code, body := postXRay(t, srv, "/SamplingTargets", fmt.Sprintf(`{"SamplingStatisticsDocuments":[{"RuleName":"Default",`+
		`"ClientID":"0123456789abcdef01234567","Timestamp":%d,"RequestCount":%d,"SampledCount":15,"BorrowCount":3}]}`, time.Now().Unix(), ruleRequests)); code != http.StatusOK {
		t.Fatalf("SamplingTargets: %d %s", code, body)
	}
	waitForTrace(t, srv, inProgressTrace, 1)
	waitForTrace(t, srv, xrayHex(xrayTrace(3)), 5)

	if err := tp.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := backend.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}

	waitForTrace(t, srv, root.SpanContext().TraceID().String(), 6)
	waitForTrace(t, srv, big.SpanContext().TraceID().String(), 10001)
	waitForTrace(t, srv, xss.SpanContext().TraceID().String(), 1)
	waitForTrace(t, srv, orphan.SpanContext().TraceID().String(), 2)
	errorSpan := charge.SpanContext().SpanID().String() // where the Rollbar item's latest occurrence happened
	errorProject := seedRollbarItems(t, srv, root.SpanContext().TraceID().String(), errorSpan)
	pagedItem := seedManyOccurrences(t, srv)

	// The demo's ten minutes of history. It stops when it goes live (and says "simulated
	// services started"), so that its traffic does not compete with the browser for the CPU;
	// stopping flushes what it has not sent yet. Its cruddur-api records about three spans a request.
	demoCtx, stopDemo := context.WithCancel(ctx)
	demoDone := make(chan error, 1)
	go func() {
		demoDone <- demo.RunSimulated(demoCtx, "http://"+srv.Addrs().HTTP, slog.New(onMessage{"simulated services started", stopDemo}))
	}()
	select {
	case err := <-demoDone:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("demo: %v", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the demo did not send its history within 2 minutes")
	}
	// All of it is in when the count stops growing.
	for last, deadline := -1, time.Now().Add(time.Minute); ; time.Sleep(300 * time.Millisecond) {
		n := count(srv, "cruddur-api", 900)
		if n > 12000 && n == last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo's history is not in after a minute: %d cruddur-api events", n)
		}
		last = n
	}
	waitFor(t, func() bool { return count(srv, "shop-api", 3600) == 400 })

	env := []string{
		"LOOKOUT_SERVICE=shop-frontend",
		"LOOKOUT_SMALL_TRACE_ID=" + root.SpanContext().TraceID().String(),
		"LOOKOUT_SMALL_TRACE_SPANS=6",
		"LOOKOUT_BIG_TRACE_ID=" + big.SpanContext().TraceID().String(),
		"LOOKOUT_BIG_TRACE_SPANS=10001",
		"LOOKOUT_XSS_TRACE_ID=" + xss.SpanContext().TraceID().String(),
		"LOOKOUT_QUERY_DATASET=shop-api",
		"LOOKOUT_ORPHAN_TRACE_ID=" + orphan.SpanContext().TraceID().String(),
		"LOOKOUT_DEMO=1",
		"LOOKOUT_XRAY_SERVICE=xray-flask",
		"LOOKOUT_XRAY_IN_PROGRESS_TRACE_ID=" + inProgressTrace,
		"LOOKOUT_XRAY_RESPONSE_TIMES=" + strings.Trim(fmt.Sprint(xrayResponseTimes), "[]"),
		fmt.Sprintf("LOOKOUT_XRAY_RULE_REQUESTS=%d", ruleRequests), fmt.Sprintf("LOOKOUT_XRAY_RULE_PEAK=%.1f/s", ruleRequests/60.0),
		"LOOKOUT_ERROR_TRACE_ID=" + root.SpanContext().TraceID().String(), "LOOKOUT_ERROR_PROJECT=" + errorProject,
		"LOOKOUT_ERROR_SPAN_ID=" + errorSpan,
		fmt.Sprintf("LOOKOUT_PAGED_ITEM=%d", pagedItem), fmt.Sprintf("LOOKOUT_PAGED_ITEM_OCCURRENCES=%d", manyOccurrences),
	}
	runBrowserTest(t, srv, append(env, browserLogEnv(t, srv)...)...)
}

// needBrowser skips t without Chromium and the browser test's npm packages, unless
// LOOKOUT_REQUIRE_BROWSER makes their absence a failure (scripts/test installs both).
func needBrowser(t *testing.T) {
	_, errChromium := os.Stat("/usr/bin/chromium")
	_, errModules := os.Stat(filepath.Join("..", "ui", "e2e", "node_modules", "playwright-core"))
	if errChromium != nil || errModules != nil {
		msg := "browser test needs /usr/bin/chromium and npm ci in internal/ui/e2e (scripts/test installs both)"
		if os.Getenv("LOOKOUT_REQUIRE_BROWSER") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// runBrowserTest runs the UI's Playwright script (internal/ui/e2e/ui.test.mjs) against srv;
// env says what lookout holds, and each of the script's tests runs only when its variables
// are set. Screenshots go to $LOOKOUT_SCREENSHOT_DIR (docs/ to update them);
// $LOOKOUT_BROWSER_ONLY runs only the tests whose names match it.
func runBrowserTest(t *testing.T, srv *server.Server, env ...string) {
	shots := os.Getenv("LOOKOUT_SCREENSHOT_DIR")
	if shots == "" {
		shots = t.TempDir()
	}
	args := []string{"--test"}
	if only := os.Getenv("LOOKOUT_BROWSER_ONLY"); only != "" { // a pattern of the script's test names
		args = append(args, "--test-name-pattern="+only)
	}
	cmd := exec.Command("node", append(args, "ui.test.mjs")...)
	cmd.Dir = filepath.Join("..", "ui", "e2e")
	cmd.Env = append(append(os.Environ(), "LOOKOUT_UI_URL=http://"+srv.Addrs().UI, "LOOKOUT_SCREENSHOT_DIR="+shots), env...)
	out, err := cmd.CombinedOutput()
	t.Logf("browser test output:\n%s", out)
	if err != nil {
		t.Fatalf("browser test failed: %v", err)
	}
	fmt.Fprintf(os.Stderr, "screenshots in %s\n", shots)
}

// count returns the number of events of dataset in the last seconds, or -1 when the query
// fails.
func count(srv *server.Server, dataset string, seconds int) int {
	resp, err := http.Post("http://"+srv.Addrs().UI+"/api/v1/query", "application/json",
		strings.NewReader(fmt.Sprintf(`{"dataset":%q,"query":{"time_range":%d}}`, dataset, seconds)))
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Results []struct{ Data map[string]any }
		}
	}
	json.NewDecoder(resp.Body).Decode(&body)
	if len(body.Data.Results) != 1 {
		return -1
	}
	n, _ := body.Data.Results[0].Data["COUNT"].(float64)
	return int(n)
}

// onMessage is a log handler that calls do when a record with message msg is logged.
type onMessage struct {
	msg string
	do  func()
}

func (h onMessage) Enabled(context.Context, slog.Level) bool { return true }
func (h onMessage) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h onMessage) WithGroup(string) slog.Handler            { return h }
func (h onMessage) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.do()
	}
	return nil
}
