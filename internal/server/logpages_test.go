package server_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"lookout/internal/server"
)

// postLogs sends OTLP/JSON log records of a service (its log group) to srv.
func postLogs(t *testing.T, srv *server.Server, service string, at time.Time, lines ...string) {
	t.Helper()
	var records []string
	for i, l := range lines {
		records = append(records, fmt.Sprintf(`{"timeUnixNano":"%d","body":{"stringValue":%q}}`, at.Add(time.Duration(i)*time.Millisecond).UnixNano(), l))
	}
	body := fmt.Sprintf(`{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":%q}}]},"scopeLogs":[{"logRecords":[%s]}]}]}`,
		service, strings.Join(records, ","))
	resp, err := http.Post("http://"+srv.Addrs().HTTP+"/v1/logs", "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("OTLP export: %v %v", err, resp)
	}
	resp.Body.Close()
}

// TestLogPagesAPI reads what the log pages show: groups, streams, events matching a filter
// pattern with their histogram, a pattern's error position, and the live view's stream.
func TestLogPagesAPI(t *testing.T) {
	srv := start(t)
	now := time.Now()
	postLogs(t, srv, "pages", now.Add(-10*time.Minute), "GET /a 200", "GET /b 500", `{"status":503}`)
	var events struct {
		Data struct {
			Events       []struct{ Message, Stream string }
			Histogram    []struct{ Count int }
			Matched      int
			PatternError *struct{ Start int }
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(events.Data.Events) < 2 && time.Now().Before(deadline) {
		getJSON(t, srv, "/api/v1/log-events?group=pages&lookback=1h&pattern="+url.QueryEscape(`?500 ?"status\":5"`), &events)
		time.Sleep(20 * time.Millisecond)
	}
	total := 0
	for _, b := range events.Data.Histogram {
		total += b.Count
	}
	if len(events.Data.Events) != 2 || events.Data.Events[0].Message != `{"status":503}` || events.Data.Matched != 2 || total != 2 {
		t.Errorf("events %+v", events.Data)
	}
	getJSON(t, srv, "/api/v1/log-events?group=pages&pattern="+url.QueryEscape(`{ $.a = `), &events)
	if events.Data.PatternError == nil || events.Data.PatternError.Start != 8 {
		t.Errorf("pattern error %+v, want at 8", events.Data.PatternError)
	}
	var groups struct {
		Data []struct {
			Name    string
			Records int
		}
	}
	getJSON(t, srv, "/api/v1/log-groups", &groups)
	if len(groups.Data) != 1 || groups.Data[0].Name != "pages" || groups.Data[0].Records != 3 {
		t.Errorf("groups %+v", groups.Data)
	}

	resp, err := http.Get("http://" + srv.Addrs().UI + "/api/v1/log-tail?group=pages&pattern=ERROR")
	if err != nil || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("log-tail: %v %v", err, resp)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	lines.Scan() // the comment that opens the stream
	postLogs(t, srv, "pages", time.Now(), "INFO not this", "ERROR live one")
	got := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if data, ok := strings.CutPrefix(lines.Text(), "data: "); ok {
				got <- data
				return
			}
		}
	}()
	select {
	case data := <-got:
		if !strings.Contains(data, `"message":"ERROR live one"`) || strings.Contains(data, "not this") {
			t.Errorf("live data %s", data)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nothing streamed within 5 s")
	}
}
