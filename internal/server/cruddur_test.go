package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"lookout/internal/demo"
	"lookout/internal/ingest/xray"
	"lookout/internal/server"
)

// TestCruddurEndToEnd runs lookout and Cruddur, instrumented with the real OpenTelemetry,
// X-Ray, Rollbar and CloudWatch Logs Go SDKs (lookout demo's set-up, every library configured
// by its standard variables), drives its routes, and checks that each signal arrives and
// that one request's trace, X-Ray segment, Rollbar occurrence and log lines link to each other
// both ways. Then it switches on each of Cruddur's troubles and checks that lookout names it.
func TestCruddurEndToEnd(t *testing.T) {
	srv := start(t, func(c *server.Config) {
		c.AuditEvery, c.ParentWait = 200*time.Millisecond, xray.SubsegmentHold+time.Second
	})
	base := "http://" + srv.Addrs().HTTP
	ctx := context.Background()
	d, err := demo.Start(ctx, demo.Config{OTLP: base, VendorHTTP: base, XRayDaemon: srv.Addrs().XRay,
		WithoutHistory: true, UserInterval: time.Hour}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Stop(context.Background()); err != nil {
			t.Errorf("demo stop: %v", err)
		}
	})
	cruddur := d.CruddurURL()

	// Each request carries a trace id of the test's own, as a frontend's traceparent.
	home := newTraceID()
	if status := visit(t, cruddur+"/api/activities/home", home); status != http.StatusOK {
		t.Fatalf("home: %d", status)
	}
	rollbarTest := newTraceID()
	if status := visit(t, cruddur+"/rollbar/test", rollbarTest); status != http.StatusOK {
		t.Fatalf("/rollbar/test: %d", status)
	}

	t.Run("OpenTelemetry and X-Ray make one trace", func(t *testing.T) {
		var tr jaegerTrace
		waitFor(t, func() bool {
			tr = traceOf(t, srv, home)
			return hasSpan(tr, "GET /api/activities/home", "") && hasSpan(tr, "home-activities-mock-data", "") &&
				hasSpan(tr, "backend-flask", "segment")
		})
		mock := spanNamed(t, tr, "home-activities-mock-data")
		if v, ok := tag(mock.Tags, "app.result_length"); !ok || fmt.Sprint(v.Value) != "3" {
			t.Errorf("app.result_length = %v", v.Value)
		}
		segment := spanNamed(t, tr, "backend-flask")
		server := spanNamed(t, tr, "GET /api/activities/home")
		if len(segment.References) == 0 || segment.References[0].SpanID != server.SpanID {
			t.Errorf("the X-Ray segment's parent is not the OpenTelemetry server span: %+v", segment.References)
		}
	})

	t.Run("log lines link to their trace and back", func(t *testing.T) {
		var logs struct {
			Data []struct{ Group, TraceID, Body string }
		}
		waitFor(t, func() bool {
			getJSON(t, srv, "/api/v1/logs?traceID="+home, &logs)
			return len(logs.Data) >= 2
		})
		var sawLine, sawHello bool
		for _, l := range logs.Data {
			if l.Group != "cruddur" || l.TraceID != home {
				t.Errorf("log line %+v", l)
			}
			sawLine = sawLine || strings.Contains(l.Body, "GET http /api/activities/home? 200 OK")
			sawHello = sawHello || strings.Contains(l.Body, "Hello Cloudwatch! from  /api/activities/home")
		}
		if !sawLine || !sawHello {
			t.Errorf("the request's log lines are missing: %+v", logs.Data)
		}
	})

	t.Run("a Rollbar message links to its trace and back", func(t *testing.T) {
		item := waitItem(t, srv, rollbarTest, "Hello World!")
		if item.Level != "warning" {
			t.Errorf("level %q", item.Level)
		}
		checkOccurrenceTrace(t, srv, item.ID, rollbarTest)
	})

	t.Run("missing-return is a 500, a Rollbar item with its stack, and a failed trace", func(t *testing.T) {
		setTrouble(t, d, "missing-return")
		failed := newTraceID()
		if status := visit(t, cruddur+"/api/activities/home", failed); status != http.StatusInternalServerError {
			t.Fatalf("home with missing-return: %d", status)
		}
		item := waitItem(t, srv, failed, "did not return a valid response")
		checkOccurrenceTrace(t, srv, item.ID, failed)
		var tr jaegerTrace
		waitFor(t, func() bool { tr = traceOf(t, srv, failed); return hasSpan(tr, "GET /api/activities/home", "") })
		if v, ok := tag(spanNamed(t, tr, "GET /api/activities/home").Tags, "error"); !ok || v.Value != true {
			t.Errorf("the server span of the 500 is not an error: %+v", spanNamed(t, tr, "GET /api/activities/home").Tags)
		}
	})

	t.Run("test-key is two API keys for one dataset", func(t *testing.T) {
		setTrouble(t, d, "test-key")
		for range 4 {
			visit(t, cruddur+"/api/activities/notifications", newTraceID())
		}
		waitWarning(t, srv, "two-keys", "dataset backend-flask receives data under 2 API keys", 20*time.Second, nil)
	})

	t.Run("unended-segment is subsegments without their segment", func(t *testing.T) {
		setTrouble(t, d, "unended-segment")
		// The requests X-Ray samples leave a segment open.
		waitWarning(t, srv, "missing-parents", `(such as "mock-data") arrived, but never the segment`, 20*time.Second,
			func() { visit(t, cruddur+"/api/activities/@andrewbrown", newTraceID()) })
	})

	t.Run("no-rules is an SDK sampling with its fallback", func(t *testing.T) {
		if hasWarningNow(t, srv, "fallback-sampling", "") {
			t.Fatal("a fallback-sampling warning while the SDK has its rules")
		}
		setTrouble(t, d, "no-rules")
		// After the SDK's grace for fetching rules, its segments still name none.
		waitWarning(t, srv, "fallback-sampling", "The X-Ray SDK of backend-flask", 30*time.Second,
			func() { visit(t, cruddur+"/api/health-check", newTraceID()) })
	})

	t.Run("late-logs is a batch that waited", func(t *testing.T) {
		setTrouble(t, d, "late-logs")
		// Cruddur's shipper now holds lines for 60 s: send what it will send then, with the
		// AWS SDK it uses, rather than wait a minute.
		client := cloudwatchlogs.New(cloudwatchlogs.Options{Region: demo.Region, BaseEndpoint: aws.String(base),
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: demo.AccessKeyID, SecretAccessKey: demo.SecretAccessKey}, nil
			})})
		_, err := client.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("cruddur"), LogStreamName: aws.String("late")})
		if err != nil {
			t.Fatal(err)
		}
		written := time.Now().Add(-58 * time.Second)
		_, err = client.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("cruddur"), LogStreamName: aws.String("late"),
			LogEvents: []cwtypes.InputLogEvent{{Timestamp: aws.Int64(written.UnixMilli()), Message: aws.String("[late] GET /api/activities/home 200")}}})
		if err != nil {
			t.Fatal(err)
		}
		waitWarning(t, srv, "late-batches", "Log stream late of cruddur sends its lines in batches that arrive up to 58s", 20*time.Second, nil)
	})
}

// newTraceID is a trace id whose first 8 hex digits are the time, as X-Ray's are.
func newTraceID() string {
	var b [12]byte
	rand.Read(b[:])
	return fmt.Sprintf("%08x%s", time.Now().Unix(), hex.EncodeToString(b[:]))
}

// visit GETs url as part of trace traceID, as a traced frontend would.
func visit(t *testing.T, url, traceID string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	var span [8]byte
	rand.Read(span[:])
	req.Header.Set("traceparent", "00-"+traceID+"-"+hex.EncodeToString(span[:])+"-01")
	resp, err := apiClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func setTrouble(t *testing.T, d *demo.Demo, name string) {
	t.Helper()
	if err := d.SetTrouble(name); err != nil {
		t.Fatal(err)
	}
}

// traceOf reads a trace through the Jaeger API; no trace yet is an empty one.
func traceOf(t *testing.T, srv *server.Server, traceID string) jaegerTrace {
	t.Helper()
	var resp jaegerResponse
	getJSON(t, srv, "/api/traces/"+traceID, &resp)
	if len(resp.Data) == 0 {
		return jaegerTrace{}
	}
	return resp.Data[0]
}

// hasSpan reports whether tr has a span named name, of X-Ray type xrayType when not "".
func hasSpan(tr jaegerTrace, name, xrayType string) bool {
	for _, s := range tr.Spans {
		if s.OperationName != name {
			continue
		}
		if v, ok := tag(s.Tags, "aws.xray.type"); xrayType == "" || ok && v.Value == xrayType {
			return true
		}
	}
	return false
}

type errorItemView struct {
	ID    int64
	Title string
	Level string
}

// waitItem waits for the error item of trace traceID whose title contains title.
func waitItem(t *testing.T, srv *server.Server, traceID, title string) errorItemView {
	t.Helper()
	var found errorItemView
	waitFor(t, func() bool {
		var items struct{ Data []errorItemView }
		getJSON(t, srv, "/api/v1/errors/items?traceID="+traceID, &items)
		for _, it := range items.Data {
			if strings.Contains(it.Title, title) {
				found = it
				return true
			}
		}
		return false
	})
	return found
}

// checkOccurrenceTrace checks that item's latest occurrence names trace traceID.
func checkOccurrenceTrace(t *testing.T, srv *server.Server, item int64, traceID string) {
	t.Helper()
	var occ struct{ Data []struct{ TraceID string } }
	getJSON(t, srv, fmt.Sprintf("/api/v1/errors/items/%d/occurrences", item), &occ)
	for _, o := range occ.Data {
		if o.TraceID == traceID {
			return
		}
	}
	t.Errorf("no occurrence of item %d names trace %s: %+v", item, traceID, occ.Data)
}

// waitWarning waits up to within for a Sources warning of kind saying text, calling act (when
// not nil) between looks: the requests that make lookout notice.
func waitWarning(t *testing.T, srv *server.Server, kind, text string, within time.Duration, act func()) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !hasWarningNow(t, srv, kind, text) {
		if time.Now().After(deadline) {
			var rep sourcesReport
			getJSON(t, srv, "/api/v1/sources", &rep)
			t.Fatalf("no %s warning saying %q in %+v", kind, text, rep.Data.Warnings)
		}
		if act != nil {
			act()
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func hasWarningNow(t *testing.T, srv *server.Server, kind, text string) bool {
	t.Helper()
	var rep sourcesReport
	getJSON(t, srv, "/api/v1/sources", &rep)
	return hasWarning(rep.Data.Warnings, kind, text)
}
