package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	rollbargo "github.com/rollbar/rollbar-go"

	"lookout/internal/server"
)

// rollbarAccess is GET /api/v1/errors/access's data, declared here apart from the code.
type rollbarAccess struct {
	Open     bool
	Projects []string
	Tokens   []struct {
		ID, Project, Name, Prefix, Source string
		Scopes                            []string
	}
}

// uiSend sends a JSON request to the UI's API and decodes the envelope's data into v; it
// returns the status and the envelope's first error message.
func uiSend(t *testing.T, srv *server.Server, method, path, body string, v any) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+srv.Addrs().UI+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := apiClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env struct {
		Data   json.RawMessage
		Errors []struct{ Msg string }
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("%s %s: %v in %s", method, path, err, raw)
	}
	if len(env.Errors) > 0 {
		return resp.StatusCode, env.Errors[0].Msg
	}
	if v != nil {
		if err := json.Unmarshal(env.Data, v); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, ""
}

// TestRollbarAccessFromUI makes tokens on the UI's API, stops accepting tokens never seen,
// and checks with rollbar-go and the Read API that the new tokens work, that a token seen
// before still does, that others are refused, and that all of it outlives a restart.
func TestRollbarAccessFromUI(t *testing.T) {
	dir := t.TempDir()
	srv := start(t, func(c *server.Config) { c.DataDir = dir })
	const seen = "bootcamp0123456789abcdef01234567"
	if st := postItem(t, srv, seen, "before any set-up"); st != 200 {
		t.Fatalf("a token never seen, while any is accepted: %d", st)
	}
	var access rollbarAccess
	if uiSend(t, srv, "GET", "/api/v1/errors/access", "", &access); !access.Open || len(access.Tokens) != 1 || access.Tokens[0].Source != "seen" ||
		access.Tokens[0].Prefix != seen[:4] || access.Tokens[0].Project != "token-"+seen[:8] {
		t.Fatalf("access before set-up: %+v", access)
	}
	var made struct{ ID, Token, Project, Name, Prefix string }
	if st, msg := uiSend(t, srv, "POST", "/api/v1/errors/tokens", `{"project":"cruddur","name":"backend","scopes":["post_server_item"]}`, &made); st != 200 {
		t.Fatalf("create: %d %s", st, msg)
	}
	var reader struct{ Token string }
	uiSend(t, srv, "POST", "/api/v1/errors/tokens", `{"project":"cruddur","name":"triage","scopes":["read","write"]}`, &reader)
	if len(made.Token) != 32 || made.Prefix != made.Token[:4] || reader.Token == "" || reader.Token == made.Token {
		t.Fatalf("made %+v and %q", made, reader.Token)
	}
	for _, bad := range []string{`{"project":"","name":"x","scopes":["read"]}`, `{"project":"p","name":"x","scopes":[]}`, `{"project":"p","name":"x","scopes":["admin"]}`, `[`} {
		if st, msg := uiSend(t, srv, "POST", "/api/v1/errors/tokens", bad, nil); st != 400 || msg == "" {
			t.Errorf("create %s: %d %q, want a 400 saying why", bad, st, msg)
		}
	}
	if st, msg := uiSend(t, srv, "DELETE", "/api/v1/errors/tokens/"+access.Tokens[0].ID, "", nil); st != 400 || !strings.Contains(msg, "accepts any token") {
		t.Errorf("revoking a seen token while any is accepted: %d %q", st, msg)
	}
	if st, msg := uiSend(t, srv, "PUT", "/api/v1/errors/access", `{"open":false}`, &access); st != 200 || access.Open {
		t.Fatalf("closing: %d %s %+v", st, msg, access)
	}

	check := func(srv *server.Server, when string, items int) {
		t.Helper()
		c := rollbargo.NewSync(made.Token, "production", "1.0.0", "web-1", "")
		c.SetEndpoint("http://" + srv.Addrs().HTTP + "/api/1/item/")
		c.SetLogger(goQuiet{})
		c.Message(rollbargo.ERR, "made in the UI "+when)
		c.Close()
		if st := postItem(t, srv, "never0123456789abcdef0123456789a", "from a stranger"); st != 403 {
			t.Errorf("%s: a token never seen: %d, want 403", when, st)
		}
		if st := postItem(t, srv, seen, "seen before closing "+when); st != 200 {
			t.Errorf("%s: the token seen before closing: %d", when, st)
		}
		if list := waitItems(t, srv, reader.Token, items); !hasTitle(list, "made in the UI "+when) {
			t.Errorf("%s: the project's items read with the UI's read token: %+v", when, list)
		}
	}
	check(srv, "now", 1)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	srv = start(t, func(c *server.Config) { c.DataDir = dir })
	if uiSend(t, srv, "GET", "/api/v1/errors/access", "", &access); access.Open || len(access.Tokens) != 3 {
		t.Fatalf("access after a restart: %+v", access)
	}
	check(srv, "after a restart", 2)
	if st, _ := uiSend(t, srv, "DELETE", "/api/v1/errors/tokens/"+made.ID, "", &access); st != 200 || len(access.Tokens) != 2 {
		t.Fatalf("revoke: %d %+v", st, access)
	}
	if st := postItem(t, srv, made.Token, "revoked"); st != 403 {
		t.Errorf("a revoked token: %d, want 403", st)
	}
}

// postItem posts a message item with token and returns the status.
func postItem(t *testing.T, srv *server.Server, token, msg string) int {
	t.Helper()
	resp, err := apiClient.Post("http://"+srv.Addrs().HTTP+"/api/1/item/", "application/json", strings.NewReader(
		fmt.Sprintf(`{"access_token":%q,"data":{"environment":"production","body":{"message":{"body":%q}}}}`, token, msg)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func hasTitle(items []rollbarItem, title string) bool {
	for _, it := range items {
		if it.Title == title {
			return true
		}
	}
	return false
}
