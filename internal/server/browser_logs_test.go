package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"lookout/internal/server"
)

// Log groups for the browser test's log pages: LOOKOUT_LOG_GROUP holds three lines sent over
// OTLP (stream "default"), one of them a 503 whose text is hostile HTML and which belongs to
// a trace, a fourth in the stream browserLogStream, and an empty stream;
// LOOKOUT_EMPTY_LOG_GROUP exists without events, after a PutLogEvents refused for its missing
// stream web-7f9c/node/1.
const (
	browserLogGroup       = "e2e-logs"
	browserLogStream      = "web-1/app/7"
	browserEmptyLogStream = "web-2/app/9"
	browserEmptyLogGroup  = "e2e-empty"
	browserLogTrace       = "4bf92f3577b34da6a3ce929d0e0e4736"
)

// browserLogEnv seeds the log groups and returns the browser test's variables for them.
func browserLogEnv(t *testing.T, srv *server.Server) []string {
	t.Helper()
	now := time.Now().Add(-5 * time.Minute)
	postLogs(t, srv, browserLogGroup, now, `{"status":200,"path":"/api/home"}`, `GET /api/home 500`)
	body := fmt.Sprintf(`{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":%q}}]},"scopeLogs":[{"logRecords":[
		{"timeUnixNano":"%d","body":{"stringValue":"{\"status\":503,\"path\":\"/api/checkout\",\"msg\":\"<img src=x onerror=alert(1)>\"}"},"traceId":%q,"spanId":"00f067aa0ba902b7"}]}]}]}`,
		browserLogGroup, now.Add(time.Second).UnixNano(), browserLogTrace)
	resp, err := http.Post("http://"+srv.Addrs().HTTP+"/v1/logs", "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("OTLP export: %v %v", err, resp)
	}
	resp.Body.Close()
	waitFor(t, func() bool { // the group exists once its first lines are in
		var got logsResponse
		getJSON(t, srv, "/api/v1/logs?group="+browserLogGroup, &got)
		return len(got.Data) == 3
	})
	for _, stream := range []string{browserLogStream, browserEmptyLogStream} {
		cloudWatch(t, srv, "CreateLogStream", fmt.Sprintf(`{"logGroupName":%q,"logStreamName":%q}`, browserLogGroup, stream), http.StatusOK)
	}
	cloudWatch(t, srv, "PutLogEvents", fmt.Sprintf(`{"logGroupName":%q,"logStreamName":%q,"logEvents":[{"timestamp":%d,"message":"worker web-1 started"}]}`,
		browserLogGroup, browserLogStream, now.Add(2*time.Second).UnixMilli()), http.StatusOK)
	cloudWatch(t, srv, "CreateLogGroup", `{"logGroupName":"`+browserEmptyLogGroup+`"}`, http.StatusOK)
	cloudWatch(t, srv, "PutLogEvents", fmt.Sprintf(`{"logGroupName":%q,"logStreamName":"web-7f9c/node/1","logEvents":[{"timestamp":%d,"message":"x"}]}`,
		browserEmptyLogGroup, time.Now().UnixMilli()), http.StatusBadRequest)
	waitFor(t, func() bool {
		var got logsResponse
		getJSON(t, srv, "/api/v1/logs?group="+browserLogGroup, &got)
		return len(got.Data) == 4
	})
	return []string{"LOOKOUT_LOG_GROUP=" + browserLogGroup, "LOOKOUT_EMPTY_LOG_GROUP=" + browserEmptyLogGroup,
		"LOOKOUT_LOG_TRACE_ID=" + browserLogTrace, "LOOKOUT_INGEST_URL=http://" + srv.Addrs().HTTP}
}

// cloudWatch makes an unsigned CloudWatch Logs call and checks its status.
func cloudWatch(t *testing.T, srv *server.Server, op, body string, status int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+srv.Addrs().HTTP+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Logs_20140328."+op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != status {
		t.Fatalf("%s: %s, want %d", op, resp.Status, status)
	}
}
