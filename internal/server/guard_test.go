package server_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"lookout/internal/server"
)

func request(t *testing.T, method, url, host string, header map[string]string, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestUIAnswersOnlyItsOwnHosts is the DNS-rebinding check: a page on evil.example whose name
// now resolves to 127.0.0.1 sends Host: evil.example, and must not read anything.
func TestUIAnswersOnlyItsOwnHosts(t *testing.T) {
	srv := start(t, func(c *server.Config) {
		c.AllowedHosts = []string{"lookout.internal", ".corp.example"}
		c.PublicURL = "https://traces.example.org/lookout"
	})
	url := "http://" + srv.Addrs().UI + "/api/services"
	hostname, _ := os.Hostname()
	for host, want := range map[string]int{
		"evil.example":           http.StatusForbidden,
		"evil.example:8080":      http.StatusForbidden,
		"localhost.evil.example": http.StatusForbidden,
		"":                       http.StatusOK, // the listen address, 127.0.0.1:port
		"localhost:8080":         http.StatusOK,
		"app.localhost":          http.StatusOK,
		"[::1]:8080":             http.StatusOK,
		"10.1.2.3:8080":          http.StatusOK,
		hostname:                 http.StatusOK,
		"lookout.internal":       http.StatusOK,
		"corp.example":           http.StatusOK,
		"eu.corp.example:443":    http.StatusOK,
		"traces.example.org":     http.StatusOK,
		"notcorp.example":        http.StatusForbidden,
	} {
		if got := request(t, "GET", url, host, nil, ""); got != want {
			t.Errorf("Host %q: status %d, want %d", host, got, want)
		}
	}
}

// TestStateChangesNeedSameOriginJSON plants saved queries the ways a page on another site
// could, and once as lookout's own page does.
func TestStateChangesNeedSameOriginJSON(t *testing.T) {
	srv := start(t)
	url := "http://" + srv.Addrs().UI + "/api/v1/saved-queries"
	body := `{"name":"planted","dataset":"x","query":{"calculations":[{"op":"COUNT"}]}}`
	cases := []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"text/plain, as a simple cross-site request", map[string]string{"Content-Type": "text/plain"}, http.StatusUnsupportedMediaType},
		{"a form", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
		{"JSON from another origin", map[string]string{"Content-Type": "application/json", "Origin": "http://evil.example"}, http.StatusForbidden},
		{"JSON from another site", map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"JSON from lookout's page", map[string]string{"Content-Type": "application/json", "Origin": "http://" + srv.Addrs().UI, "Sec-Fetch-Site": "same-origin"}, http.StatusOK},
		{"JSON from a tool", map[string]string{"Content-Type": "application/json"}, http.StatusOK},
	}
	for _, tc := range cases {
		if got := request(t, "POST", url, "", tc.header, body); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
		}
	}
	var saved struct{ Data []struct{ Name string } }
	getJSON(t, srv, "/api/v1/saved-queries", &saved)
	if len(saved.Data) != 2 {
		t.Fatalf("%d saved queries, want the 2 sent same-origin", len(saved.Data))
	}
	if got := request(t, "POST", url, "", map[string]string{"Content-Type": "application/json"},
		`{"name":"big","dataset":"x","query":{"filters":[`+strings.Repeat(`{"column":"a","op":"=","value":"b"},`, 2000)+`{}]}}`); got != http.StatusBadRequest {
		t.Errorf("a 70 KB saved query: status %d, want 400", got)
	}
}
