package rollbar

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func writeProjects(t *testing.T, content string) *Projects {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tokens.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := LoadProjects(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const projectsJSON = `{"projects": [{"name": "cruddur",
  "grouping_rules": [{"condition": {"path": "body.message.body", "contains": "disk"}, "fingerprint": "disk-space"}],
  "tokens": [
    {"token": "server-token", "name": "server", "scopes": ["post_server_item"], "rate_limit": {"count": 3, "per": "1m"}},
    {"token": "client-token", "name": "browser", "scopes": ["post_client_item"]},
    {"token": "read-token", "scopes": ["read"]}]}]}`

func TestTokensAndScopes(t *testing.T) {
	sink := &recordingSink{}
	mux := newTestHandler(sink, writeProjects(t, projectsJSON))
	post := func(token, platform string) int {
		body := `{"data":{"platform":"` + platform + `","body":{"message":{"body":"disk full on /var"}}}}`
		return send(mux, "POST", "/api/1/item/", []byte(body), map[string]string{"X-Rollbar-Access-Token": token}).Code
	}
	cases := []struct {
		token, platform string
		want            int
	}{
		{"server-token", "linux", 200},
		{"client-token", "browser", 200},
		{"client-token", "linux", http.StatusForbidden}, // a client token cannot post server items
		{"read-token", "linux", http.StatusForbidden},
		{"never-seen", "linux", http.StatusForbidden},
	}
	for _, c := range cases {
		if got := post(c.token, c.platform); got != c.want {
			t.Errorf("token %s, platform %s: %d, want %d", c.token, c.platform, got, c.want)
		}
	}
	occs := sink.all()
	if len(occs) != 2 || occs[0].Project != "cruddur" || occs[0].Fingerprint != "disk-space" {
		t.Fatalf("written %+v", occs)
	}
}

func TestRateLimit(t *testing.T) {
	sink := &recordingSink{}
	projects := writeProjects(t, projectsJSON)
	h := NewHandler(sink, projects, 0, nil)
	now := fixedNow
	h.now = func() time.Time { return now }
	mux := http.NewServeMux()
	h.Register(mux)
	post := func() (int, http.Header) {
		w := send(mux, "POST", "/api/1/item/", []byte(`{"data":{"body":{"message":{"body":"x"}}}}`), map[string]string{"X-Rollbar-Access-Token": "server-token"})
		return w.Code, w.Header()
	}
	for i := range 3 {
		code, hdr := post()
		if code != 200 {
			t.Fatalf("item %d within the limit: %d", i, code)
		}
		remaining := hdr.Get("X-Rate-Limit-Remaining")
		if want := strconv.Itoa(2 - i); (i < 2 && remaining != want) || (i == 2 && remaining != "") {
			t.Errorf("item %d: X-Rate-Limit-Remaining %q, want %q (none once it reaches 0)", i, remaining, want)
		}
	}
	now = now.Add(20 * time.Second)
	for range 2 {
		code, hdr := post()
		if code != http.StatusTooManyRequests {
			t.Fatalf("over the limit: %d", code)
		}
		reset := fixedNow.Add(time.Minute).Unix()
		if hdr.Get("X-Rate-Limit-Limit") != "3" || hdr.Get("X-Rate-Limit-Remaining") != "0" ||
			hdr.Get("X-Rate-Limit-Remaining-Seconds") != "40" || hdr.Get("X-Rate-Limit-Reset") != strconv.FormatInt(reset, 10) {
			t.Errorf("429 headers %v", hdr)
		}
	}
	occs := sink.all()
	if len(occs) != 4 || occs[3].Title != "Your rate limit has been reached for access_token server" || occs[3].Framework != "System Message" {
		t.Fatalf("want 3 items and one notice; got %d, last %+v", len(occs), occs[len(occs)-1])
	}
	now = fixedNow.Add(time.Minute)
	if code, _ := post(); code != 200 {
		t.Errorf("a new window: %d", code)
	}
}

func TestOpenProjects(t *testing.T) {
	p := OpenProjects()
	tok, err := p.Authorize("aaaabbbbccccdddd", Read, "")
	if err != nil || tok.Project != "token-aaaabbbb" || !p.Open() {
		t.Fatalf("%+v %v", tok, err)
	}
	if names := p.Names(); len(names) != 1 || names[0] != "token-aaaabbbb" {
		t.Errorf("names %v", names)
	}
	for _, bad := range []string{`{"projects":[{"tokens":[]}]}`, `{"projects":[{"name":"a","tokens":[{"token":"t","scopes":["admin"]}]}]}`,
		`{"projects":[{"name":"a","tokens":[{"token":"t","rate_limit":{"count":1,"per":"x"}}]}]}`,
		`{"projects":[{"name":"a","grouping_rules":[{"condition":{}}]}]}`} {
		path := filepath.Join(t.TempDir(), "p.json")
		os.WriteFile(path, []byte(bad), 0o600)
		if _, err := LoadProjects(path); err == nil {
			t.Errorf("LoadProjects accepted %s", bad)
		}
	}
}
