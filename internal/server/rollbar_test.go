package server_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rollbargo "github.com/rollbar/rollbar-go"

	"lookout/internal/server"
)

// Rollbar's Read API shapes, declared here independently of the rollbar package.
type rollbarItem struct {
	ID, Counter                                 int64
	TotalOccurrences                            int64 `json:"total_occurrences"`
	Environment, Title, Level, Status, Language string
	ResolvedInVersion                           string `json:"resolved_in_version"`
}

type rollbarInstance struct {
	ID       int64
	ItemID   int64 `json:"item_id"`
	Version  string
	TraceID  string `json:"trace_id"`
	SpanID   string `json:"span_id"`
	TraceURL string `json:"trace_url"`
	Data     struct {
		Body struct {
			TraceChain []struct {
				Frames []struct{ Filename, Method string }
			} `json:"trace_chain"`
		}
	}
}

// rollbarCall sends a Read API request with token and decodes its result into v; it
// returns the status and Rollbar's err and message.
func rollbarCall(t *testing.T, srv *server.Server, method, path, token, body string, v any) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+srv.Addrs().HTTP+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("X-Rollbar-Access-Token", token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env struct {
		Err     int
		Message string
		Result  json.RawMessage
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("%s %s: %v in %s", method, path, err, raw)
	}
	if env.Err == 0 && v != nil {
		if err := json.Unmarshal(env.Result, v); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, env.Message
}

type goQuiet struct{}

func (goQuiet) Printf(string, ...any) {}

// TestRollbarGoEndToEnd reports errors with rollbar-go to a real lookout, changing only the
// endpoint, and triages them through the Read API.
func TestRollbarGoEndToEnd(t *testing.T) {
	srv := start(t)
	const token = "0123456789abcdef0123456789abcdef"
	c := rollbargo.NewSync(token, "production", "2.0.0", "web-1", "")
	c.SetEndpoint("http://" + srv.Addrs().HTTP + "/api/1/item/")
	c.SetLogger(goQuiet{})
	defer c.Close()
	boom := errors.New("payment declined")
	for range 3 {
		c.ErrorWithStackSkip(rollbargo.ERR, boom, 0)
	}
	req := httptest.NewRequest("GET", "http://shop.example/checkout", nil)
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	c.RequestError(rollbargo.CRIT, req, fmt.Errorf("checkout: %w", os.ErrDeadlineExceeded))
	c.Message(rollbargo.WARN, "disk 91% full")

	var list struct {
		Items      []rollbarItem
		TotalCount int `json:"total_count"`
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if st, msg := rollbarCall(t, srv, "GET", "/api/1/items/?status=active", token, "", &list); st != 200 {
			t.Fatalf("items: %d %s", st, msg)
		}
		if list.TotalCount == 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	byTitle := map[string]rollbarItem{}
	for _, it := range list.Items {
		byTitle[it.Title] = it
	}
	declined, checkout, disk := byTitle["payment declined"], byTitle["checkout: i/o timeout"], byTitle["disk 91% full"]
	if len(list.Items) != 3 || declined.TotalOccurrences != 3 || checkout.Level != "critical" || disk.Level != "warning" || declined.Language != "go" {
		t.Fatalf("items %+v", list.Items)
	}

	var instances struct{ Instances []rollbarInstance }
	rollbarCall(t, srv, "GET", fmt.Sprintf("/api/1/item/%d/instances/", checkout.ID), token, "", &instances)
	if len(instances.Instances) != 1 {
		t.Fatalf("instances of the request's error: %+v", instances)
	}
	in := instances.Instances[0]
	if in.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" || in.SpanID != "00f067aa0ba902b7" || in.Version != "2.0.0" ||
		!strings.HasSuffix(in.TraceURL, "/trace/4bf92f3577b34da6a3ce929d0e0e4736") || !strings.Contains(in.TraceURL, srv.Addrs().UI) {
		t.Errorf("instance %+v", in)
	}
	if chain := in.Data.Body.TraceChain; len(chain) == 0 || len(chain[0].Frames) == 0 ||
		!strings.Contains(chain[0].Frames[len(chain[0].Frames)-1].Method, "TestRollbarGoEndToEnd") {
		t.Errorf("the wrapped error's most recent frame is not the test's: %+v", chain)
	}

	var moved struct{ ItemID int64 }
	if st, _ := rollbarCall(t, srv, "GET", fmt.Sprintf("/api/1/item_by_counter/%d", declined.Counter), token, "", &moved); st != 301 || moved.ItemID != declined.ID {
		t.Errorf("item_by_counter: %d %+v", st, moved)
	}
	var resolved rollbarItem
	st, msg := rollbarCall(t, srv, "PATCH", fmt.Sprintf("/api/1/item/%d", declined.ID), token, `{"status":"resolved","resolved_in_version":"2.1.0"}`, &resolved)
	if st != 200 || resolved.Status != "resolved" || resolved.ResolvedInVersion != "2.1.0" {
		t.Errorf("resolve: %d %s %+v", st, msg, resolved)
	}
	if st, msg := rollbarCall(t, srv, "PATCH", fmt.Sprintf("/api/1/item/%d", declined.ID), token, `{"status":"gone"}`, nil); st != 422 || msg == "" {
		t.Errorf("a bad status: %d %q", st, msg)
	}
	c.ErrorWithStackSkip(rollbargo.ERR, boom, 0) // 2.0.0 is older than the fix: stays resolved
	var after rollbarItem
	rollbarCall(t, srv, "GET", fmt.Sprintf("/api/1/item/%d", declined.ID), token, "", &after)
	if after.Status != "resolved" {
		t.Errorf("an occurrence of an older version reactivated the item: %+v", after)
	}
	var deployed struct {
		Data struct {
			DeployID int64 `json:"deploy_id"`
		}
	}
	resp, err := http.Post("http://"+srv.Addrs().HTTP+"/api/1/deploy/", "application/json",
		strings.NewReader(fmt.Sprintf(`{"access_token":%q,"environment":"production","revision":"2.0.1","comment":"fix #%d"}`, token, disk.Counter)))
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&deployed)
	resp.Body.Close()
	rollbarCall(t, srv, "GET", fmt.Sprintf("/api/1/item/%d", disk.ID), token, "", &after)
	if resp.StatusCode != 200 || deployed.Data.DeployID == 0 || after.Status != "resolved" || after.ResolvedInVersion != "2.0.1" {
		t.Errorf("deploy %d %+v; the item it fixes: %+v", resp.StatusCode, deployed, after)
	}
	if st, _ := rollbarCall(t, srv, "GET", "/api/1/item/99999", token, "", nil); st != 404 {
		t.Errorf("an unknown item: %d", st)
	}
}

// TestRollbarTokens runs lookout with a tokens file: unknown tokens are refused, and each
// token does only what its scopes allow.
func TestRollbarTokens(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tokens.json")
	os.WriteFile(file, []byte(`{"projects":[{"name":"shop","tokens":[
		{"token":"server-token-0000000000000000000","scopes":["post_server_item"]},
		{"token":"reader-token-0000000000000000000","scopes":["read"]}]}]}`), 0o600)
	srv := start(t, func(c *server.Config) { c.RollbarTokens = file })
	post := func(token string) int {
		resp, err := http.Post("http://"+srv.Addrs().HTTP+"/api/1/item/", "application/json", strings.NewReader(
			fmt.Sprintf(`{"access_token":%q,"data":{"environment":"production","body":{"message":{"body":"hi"}}}}`, token)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := post("server-token-0000000000000000000"); st != 200 {
		t.Errorf("the server token: %d", st)
	}
	if st := post("unknown"); st != 403 {
		t.Errorf("an unknown token: %d", st)
	}
	if st := post("reader-token-0000000000000000000"); st != 403 {
		t.Errorf("a read token posting: %d", st)
	}
	if st, msg := rollbarCall(t, srv, "GET", "/api/1/items/", "server-token-0000000000000000000", "", nil); st != 403 || !strings.Contains(msg, "read") {
		t.Errorf("a server token reading: %d %q", st, msg)
	}
	if st, _ := rollbarCall(t, srv, "GET", "/api/1/items/", "", "", nil); st != 401 {
		t.Errorf("no token: %d", st)
	}
	if st, _ := rollbarCall(t, srv, "GET", "/api/1/items/", "reader-token-0000000000000000000", "", nil); st != 200 {
		t.Errorf("the read token: %d", st)
	}
}

// TestErrorPagesAPI reads and triages an item through the web UI's API.
func TestErrorPagesAPI(t *testing.T) {
	srv := start(t)
	item := `{"access_token":"ui-token","data":{"environment":"production","level":"error","uuid":"u1","code_version":"1.1.0","body":{"trace":{
		"frames":[{"filename":"app.py","method":"home","lineno":3}],"exception":{"class":"KeyError","message":"'id'"}}},
		"request":{"headers":{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}}}`
	resp, err := http.Post("http://"+srv.Addrs().HTTP+"/api/1/item/", "application/json", strings.NewReader(item))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("post: %v %v", resp, err)
	}
	resp.Body.Close()
	var items struct {
		Data []struct {
			ID      int64
			Title   string
			Status  string
			Project string
			Counts  []int64
		}
		Total int
	}
	for deadline := time.Now().Add(5 * time.Second); len(items.Data) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		getJSON(t, srv, "/api/v1/errors/items?traceID=0af7651916cd43dd8448eb211c80319c", &items)
	}
	if len(items.Data) != 1 || items.Total != 1 || items.Data[0].Title != "KeyError: 'id'" || items.Data[0].Project != "token-ui-token" ||
		len(items.Data[0].Counts) != 24 || items.Data[0].Counts[23] != 1 {
		t.Fatalf("items %+v", items)
	}
	id := items.Data[0].ID
	// Resent, then another occurrence: once that one is in, the resent one was skipped.
	for _, body := range []string{item, strings.Replace(item, `"uuid":"u1"`, `"uuid":"u2"`, 1)} {
		resp, err = http.Post("http://"+srv.Addrs().HTTP+"/api/1/item/", "application/json", strings.NewReader(body))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("posting again: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	var occs struct {
		Data []struct{ TraceID, UUID string }
	}
	waitFor(t, func() bool {
		getJSON(t, srv, fmt.Sprintf("/api/v1/errors/items/%d/occurrences", id), &occs)
		return len(occs.Data) >= 2
	})
	if len(occs.Data) != 2 || occs.Data[1].TraceID != "0af7651916cd43dd8448eb211c80319c" || occs.Data[1].UUID != "u1" || occs.Data[0].UUID != "u2" {
		t.Errorf("occurrences %+v", occs)
	}
	req, _ := http.NewRequest("POST", fmt.Sprintf("http://%s/api/v1/errors/items/%d", srv.Addrs().UI, id), strings.NewReader(`{"status":"muted"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var detail struct {
		Data struct {
			Item   struct{ Status string }
			Events []struct{ Kind, By string }
			Hourly []int64
		}
	}
	getJSON(t, srv, fmt.Sprintf("/api/v1/errors/items/%d", id), &detail)
	if resp.StatusCode != 200 || detail.Data.Item.Status != "muted" || len(detail.Data.Events) != 2 || detail.Data.Events[1].Kind != "muted" || len(detail.Data.Hourly) != 48 {
		t.Errorf("after muting: %d %+v", resp.StatusCode, detail.Data)
	}
	if st := getJSON(t, srv, "/api/v1/errors/items?status=gone", &items); st != 400 {
		t.Errorf("a bad status: %d", st)
	}

	deploy := `{"access_token":"ui-token","environment":"production","revision":"1.2.0","local_username":"ann"}`
	resp, err = http.Post("http://"+srv.Addrs().HTTP+"/api/1/deploy/", "application/json", strings.NewReader(deploy))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("deploy: %v %v", resp, err)
	}
	resp.Body.Close()
	var deploys struct {
		Data []struct{ Revision, LocalUsername, Status string }
	}
	getJSON(t, srv, "/api/v1/errors/deploys?project=token-ui-token", &deploys)
	if len(deploys.Data) != 1 || deploys.Data[0].Revision != "1.2.0" || deploys.Data[0].LocalUsername != "ann" || deploys.Data[0].Status != "succeeded" {
		t.Errorf("deploys %+v", deploys)
	}
	var versions struct {
		Data []struct {
			Version          string
			Occurrences, New int64
		}
	}
	getJSON(t, srv, "/api/v1/errors/versions?project=token-ui-token", &versions)
	if len(versions.Data) != 1 || versions.Data[0].Version != "1.1.0" || versions.Data[0].Occurrences != 2 || versions.Data[0].New != 1 {
		t.Errorf("versions %+v", versions)
	}
	if st := getJSON(t, srv, "/api/v1/errors/versions", &versions); st != 400 {
		t.Errorf("versions without a project: %d", st)
	}
}

// TestRollbarReadAPIRefusals checks the Read and Deploy APIs' answers to what they refuse,
// in Rollbar's shape, and the reports tools read.
func TestRollbarReadAPIRefusals(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tokens.json")
	os.WriteFile(file, []byte(`{"projects":[
		{"name":"shop","tokens":[{"token":"shop-all","scopes":["post_server_item","read","write"]},{"token":"shop-read","scopes":["read"]}]},
		{"name":"blog","tokens":[{"token":"blog-all","scopes":["post_server_item","read","write"]}]}]}`), 0o600)
	srv := start(t, func(c *server.Config) { c.RollbarTokens = file })
	post := func(token, env, level string) {
		body := fmt.Sprintf(`{"access_token":%q,"data":{"environment":%q,"level":%q,"body":{"message":{"body":"disk full"}}}}`, token, env, level)
		resp, err := http.Post("http://"+srv.Addrs().HTTP+"/api/1/item/", "application/json", strings.NewReader(body))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("post: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	post("shop-all", "production", "error")
	post("shop-all", "staging", "critical")
	post("blog-all", "production", "error")
	waitItems(t, srv, "shop-read", 2)
	blog := waitItems(t, srv, "blog-all", 1)[0]

	cases := []struct {
		name, method, path, token, body string
		status                          int
		message                         string
	}{
		{"another project's item", "GET", fmt.Sprintf("/api/1/item/%d", blog.ID), "shop-read", "", 404, "Not found"},
		{"not an id", "GET", "/api/1/item/abc", "shop-read", "", 404, "Not found"},
		{"unknown counter", "GET", "/api/1/item_by_counter/99", "shop-read", "", 404, "Not found"},
		{"bad page", "GET", "/api/1/items/?page=0", "shop-read", "", 400, "page"},
		{"bad status filter", "GET", "/api/1/items/?status=open", "shop-read", "", 400, "status"},
		{"patch without write", "PATCH", fmt.Sprintf("/api/1/item/%d", blog.ID), "shop-read", `{"status":"muted"}`, 403, "write"},
		{"patch another project's item", "PATCH", fmt.Sprintf("/api/1/item/%d", blog.ID), "shop-all", `{"status":"muted"}`, 404, "Not found"},
		{"version without resolving", "PATCH", "/api/1/item/1", "shop-all", `{"status":"muted","resolved_in_version":"2"}`, 422, "resolved_in_version"},
		{"long title", "PATCH", "/api/1/item/1", "shop-all", `{"title":"` + strings.Repeat("x", 256) + `"}`, 422, "title"},
		{"unknown level", "PATCH", "/api/1/item/1", "shop-all", `{"level":"fatal!"}`, 422, "level"},
		{"not JSON", "PATCH", "/api/1/item/1", "shop-all", `{`, 400, "JSON"},
		{"deploy without environment", "POST", "/api/1/deploy/", "shop-all", `{"revision":"abc"}`, 422, "environment"},
		{"deploy with a read token", "POST", "/api/1/deploy/", "shop-read", `{"environment":"production","revision":"abc"}`, 403, "post_server_item"},
		{"deploy with no token", "POST", "/api/1/deploy/", "", `{"environment":"production","revision":"abc"}`, 401, "access token"},
		{"unknown deploy", "GET", "/api/1/deploy/7", "shop-read", "", 404, "Not found"},
		{"bad hours", "GET", "/api/1/reports/top_active_items?hours=0", "shop-read", "", 400, "hours"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, msg := rollbarCall(t, srv, c.method, c.path, c.token, c.body, nil)
			if st != c.status || !strings.Contains(msg, c.message) {
				t.Errorf("%d %q, want %d and a message with %q", st, msg, c.status, c.message)
			}
		})
	}

	var top []struct {
		Item struct {
			Title, Level, Environment string
			Occurrences               int64
		}
		Counts []int64
	}
	if st, msg := rollbarCall(t, srv, "GET", "/api/1/reports/top_active_items?hours=2", "shop-read", "", &top); st != 200 {
		t.Fatalf("top active items: %d %s", st, msg)
	}
	if len(top) != 2 || top[0].Item.Level != "critical" || top[1].Item.Environment != "production" || top[0].Item.Occurrences != 1 || len(top[0].Counts) != 2 {
		t.Errorf("top active items, most severe first: %+v", top)
	}
	var envs struct {
		Environments []struct{ Environment string }
	}
	rollbarCall(t, srv, "GET", "/api/1/environments", "shop-read", "", &envs)
	if len(envs.Environments) != 2 || envs.Environments[0].Environment != "production" || envs.Environments[1].Environment != "staging" {
		t.Errorf("environments %+v", envs)
	}
}
