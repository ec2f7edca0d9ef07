package server_test

import (
	"bufio"
	"encoding/json"
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

// TestLogInsightsAPI runs the Insights page's query: rows, and a syntax error's place.
func TestLogInsightsAPI(t *testing.T) {
	srv := start(t)
	now := time.Now()
	postLogs(t, srv, "ins", now.Add(-3*time.Minute), `{"status":500}`, `{"status":200}`, `{"status":500}`)
	post := func(body string) (out struct {
		Data struct {
			Fields, By []string
			Rows       [][]string
			Start, End int64
			QueryError *struct{ Start int }
		}
	}) {
		t.Helper()
		resp, err := http.Post("http://"+srv.Addrs().UI+"/api/v1/log-insights", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(&out)
		return out
	}
	var got = post(`{"groups":["ins"],"lookback":"1h","query":"stats count(*) as n by status | sort status asc"}`)
	for deadline := time.Now().Add(10 * time.Second); len(got.Data.Rows) < 2 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		got = post(`{"groups":["ins"],"lookback":"1h","query":"stats count(*) as n by status | sort status asc"}`)
	}
	if fmt.Sprint(got.Data.Fields, got.Data.By, got.Data.Rows) != "[status n] [status] [[200 1] [500 2]]" {
		t.Errorf("insights %v by %v: %v", got.Data.Fields, got.Data.By, got.Data.Rows)
	}
	if span := time.Duration(got.Data.End-got.Data.Start) * time.Millisecond; span != time.Hour || time.UnixMilli(got.Data.End).Before(now) {
		t.Errorf("range %d–%d, want the hour before the query", got.Data.Start, got.Data.End)
	}
	if e := post(`{"groups":["ins"],"lookback":"1h","query":"fields a | frobnicate"}`).Data.QueryError; e == nil || e.Start != 11 {
		t.Errorf("query error %+v, want at 11", e)
	}
}
