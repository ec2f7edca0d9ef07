package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"lookout/internal/server"
)

// seedRollbarItems posts Rollbar items for the browser test's error pages (ui.test.mjs): a
// Flask error whose message is markup that must show as text, the latest occurrence in the
// trace traceID (span spanID), reported five times over the last hours with code context, locals, a request, a
// person and telemetry, with a log line of that request sent over OTLP; a message and a
// warning from other code; and a deploy of version 1.4.1. It returns their project.
func seedRollbarItems(t *testing.T, srv *server.Server, traceID, spanID string) string {
	t.Helper()
	now := time.Now()
	post := func(data map[string]any) {
		b, _ := json.Marshal(map[string]any{"access_token": "browser-test-token", "data": data})
		resp, err := http.Post("http://"+srv.Addrs().HTTP+"/api/1/item/", "application/json", strings.NewReader(string(b)))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("posting an item: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	frames := []any{
		map[string]any{"filename": "/usr/lib/python3.11/site-packages/flask/app.py", "lineno": 917, "method": "full_dispatch_request", "code": "rv = self.dispatch_request()"},
		map[string]any{"filename": "/srv/app/services/home.py", "lineno": 41, "method": "data_home",
			"code": "return results[user['id']]", "context": map[string]any{"pre": []string{"def data_home(user):", "    results = load(user)"}, "post": []string{""}},
			"locals": map[string]any{"user": "{'name': 'andrew'}"}},
	}
	for i := range 5 {
		headers := map[string]any{"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"}
		if i == 4 {
			headers["traceparent"] = "00-" + traceID + "-" + spanID + "-01"
		}
		post(map[string]any{
			"environment": "production", "level": "error", "language": "python 3.11.7", "framework": "flask", "code_version": fmt.Sprintf("1.4.%d", i%2),
			"timestamp": now.Add(-time.Duration(4-i) * 50 * time.Minute).Unix(), "context": "/api/activities/home",
			"body": map[string]any{
				"trace":     map[string]any{"frames": frames, "exception": map[string]any{"class": "KeyError", "message": "'<img src=x onerror=alert(3)>'"}},
				"telemetry": []any{map[string]any{"level": "info", "type": "log", "timestamp_ms": now.UnixMilli() - 1000, "body": map[string]any{"message": "loading home"}}},
			},
			"request": map[string]any{"method": "GET", "url": "http://cruddur.example/api/activities/home", "headers": headers, "user_ip": "203.0.113.9"},
			"person":  map[string]any{"id": fmt.Sprintf("u%d", i%3), "username": "andrew"},
			"server":  map[string]any{"host": "web-1", "root": "/srv/app"},
		})
	}
	for i := range 3 {
		post(map[string]any{"environment": "production", "level": "warning", "timestamp": now.Add(-time.Duration(i) * 3 * time.Hour).Unix(),
			"body": map[string]any{"message": map[string]any{"body": "cache miss rate above 90%"}}})
	}
	post(map[string]any{"environment": "staging", "level": "critical", "language": "javascript", "timestamp": now.Add(-20 * time.Hour).Unix(),
		"body": map[string]any{"trace": map[string]any{"frames": []any{map[string]any{"filename": "/app/server.js", "lineno": 12, "method": "pay"}},
			"exception": map[string]any{"class": "TypeError", "message": "Cannot read properties of undefined (reading 'id')"}}}})
	deploy := `{"access_token":"browser-test-token","environment":"production","revision":"1.4.1","local_username":"andrew","comment":"ship the home feed"}`
	resp, err := http.Post("http://"+srv.Addrs().HTTP+"/api/1/deploy/", "application/json", strings.NewReader(deploy))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("posting a deploy: %v %v", resp, err)
	}
	resp.Body.Close()
	logs := fmt.Sprintf(`{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cruddur-api"}}]},
		"scopeLogs":[{"logRecords":[{"timeUnixNano":"%d","severityText":"ERROR","body":{"stringValue":"home feed failed for andrew"},
		"traceId":%q,"spanId":%q}]}]}]}`, now.UnixNano(), traceID, spanID)
	resp, err = http.Post("http://"+srv.Addrs().HTTP+"/v1/logs", "application/json", strings.NewReader(logs))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("posting a log record: %v %v", resp, err)
	}
	resp.Body.Close()
	const project = "token-browser-" // an open lookout's project of the token
	waitFor(t, func() bool {
		var items struct{ Data []any }
		getJSON(t, srv, "/api/v1/errors/items?status=active&project="+project, &items)
		return len(items.Data) == 3
	})
	return project
}

// manyOccurrences is how many times seedManyOccurrences reports its error: more than the
// item page lists at once.
const manyOccurrences = 230

// seedManyOccurrences posts one error manyOccurrences times, a minute apart and each by
// another person (p0, p1, …), in a project of its own, and returns its item's id.
func seedManyOccurrences(t *testing.T, srv *server.Server) int64 {
	t.Helper()
	now := time.Now()
	for i := range manyOccurrences {
		b, _ := json.Marshal(map[string]any{"access_token": "paging-browser-token", "data": map[string]any{
			"environment": "production", "level": "warning", "timestamp": now.Add(-time.Duration(manyOccurrences-i) * time.Minute).Unix(),
			"person": map[string]any{"id": fmt.Sprintf("p%d", i)},
			"body":   map[string]any{"message": map[string]any{"body": "queue depth above 1000"}}}})
		resp, err := http.Post("http://"+srv.Addrs().HTTP+"/api/1/item/", "application/json", strings.NewReader(string(b)))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("posting an item: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	var items struct{ Data []struct{ ID, Total int64 } }
	waitFor(t, func() bool {
		getJSON(t, srv, "/api/v1/errors/items?q=queue+depth+above+1000", &items)
		return len(items.Data) == 1 && items.Data[0].Total == manyOccurrences
	})
	return items.Data[0].ID
}
