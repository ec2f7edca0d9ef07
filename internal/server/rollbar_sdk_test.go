package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lookout/internal/server"
	"lookout/internal/testtool"
)

// waitItems polls the Read API until the token's project has n items.
func waitItems(t *testing.T, srv *server.Server, token string, n int) []rollbarItem {
	t.Helper()
	var list struct{ Items []rollbarItem }
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if st, msg := rollbarCall(t, srv, "GET", "/api/1/items/", token, "", &list); st != 200 {
			t.Fatalf("items: %d %s", st, msg)
		}
		if len(list.Items) >= n || time.Now().After(deadline) {
			return list.Items
		}
	}
}

// TestRollbarJSEndToEnd reports an error with a cause, inside a request, and a message with
// the npm rollbar SDK on Node to a real lookout, and reads them back through the Read API.
func TestRollbarJSEndToEnd(t *testing.T) {
	dir, _ := filepath.Abs("../ingest/rollbar/testdata/node")
	_, errNode := exec.LookPath("node")
	testtool.Need(t, errNode, "this test needs node")
	_, errModule := os.Stat(filepath.Join(dir, "node_modules", "rollbar"))
	testtool.Need(t, errModule, "this test needs npm ci --prefix internal/ingest/rollbar/testdata/node (scripts/test runs it)")
	srv := start(t)
	const token = "js0123456789abcdef0123456789abcd"
	cmd := exec.Command("node", "sdk.mjs", "report")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LOOKOUT_ENDPOINT=http://"+srv.Addrs().HTTP+"/api/1/item/", "ROLLBAR_TOKEN="+token)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), `"err":"`) {
		t.Fatalf("node sdk.mjs: %v\n%s", err, out)
	}
	items := waitItems(t, srv, token, 2)
	titles := map[string]rollbarItem{}
	for _, it := range items {
		titles[it.Title] = it
	}
	failed, ok := titles["Error: payment failed"]
	if len(items) != 2 || !ok || failed.Language != "javascript" || titles["user signed up"].Level != "info" {
		t.Fatalf("items %+v", items)
	}
	var instances struct{ Instances []rollbarInstance }
	rollbarCall(t, srv, "GET", fmt.Sprintf("/api/1/item/%d/instances/", failed.ID), token, "", &instances)
	if len(instances.Instances) != 1 || instances.Instances[0].TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" || instances.Instances[0].Version != "deadbeef" {
		t.Errorf("instances %+v", instances)
	}
}

// TestRollbarFlaskEndToEnd runs a real Flask app whose view lost its return, reporting as
// pyrollbar's Flask integration does, and checks that lookout shows one item titled as
// Rollbar titles it, with the Python frames, the request and a link to its trace.
func TestRollbarFlaskEndToEnd(t *testing.T) {
	_, errPython := exec.LookPath("python3")
	testtool.Need(t, errPython, "this test needs python3")
	testtool.Need(t, exec.Command("python3", "-c", "import flask").Run(), "this test needs Flask")
	srv := start(t)
	const token = "py0123456789abcdef0123456789abcd"
	var out []byte
	for range 2 { // the same error twice: one item
		cmd := exec.Command("python3", "rollbar_flask.py")
		cmd.Dir = "testdata"
		cmd.Env = append(os.Environ(), "LOOKOUT_ENDPOINT=http://"+srv.Addrs().HTTP+"/api/1/", "ROLLBAR_ACCESS_TOKEN="+token)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		var err error
		if out, err = cmd.Output(); err != nil {
			t.Fatalf("rollbar_flask.py: %v\n%s", err, stderr.String())
		}
	}
	var answer struct {
		Status int
		Answer struct {
			Err    int
			Result struct {
				ID   *int64
				UUID string
			}
		}
	}
	var browser struct {
		BrowserStatus int `json:"browser_status"`
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		json.Unmarshal(sc.Bytes(), &answer)
		json.Unmarshal(sc.Bytes(), &browser)
	}
	if answer.Status != 200 || answer.Answer.Err != 0 || answer.Answer.Result.ID != nil || answer.Answer.Result.UUID == "" || browser.BrowserStatus != 500 {
		t.Fatalf("the app printed %s", out)
	}
	items := waitItems(t, srv, token, 1)
	if len(items) != 1 || items[0].TotalOccurrences != 2 || items[0].Level != "error" || items[0].Language != "python" ||
		!strings.HasPrefix(items[0].Title, "TypeError: The view function for 'data_home' did not return a valid response") {
		t.Fatalf("items %+v", items)
	}
	var instances struct {
		Instances []struct {
			TraceID  string `json:"trace_id"`
			TraceURL string `json:"trace_url"`
			Data     struct {
				Context string
				Body    struct {
					Trace struct {
						Frames []struct{ Filename, Method string }
					}
				}
				Request struct{ Method, URL string }
			}
		}
	}
	rollbarCall(t, srv, "GET", fmt.Sprintf("/api/1/item/%d/instances/", items[0].ID), token, "", &instances)
	if len(instances.Instances) != 2 {
		t.Fatalf("instances %+v", instances)
	}
	in := instances.Instances[0]
	frames := in.Data.Body.Trace.Frames
	if len(frames) < 2 || frames[0].Method != "wsgi_app" || !strings.HasSuffix(frames[len(frames)-1].Filename, ".py") {
		t.Errorf("frames %+v", frames)
	}
	if in.Data.Request.Method != "GET" || !strings.HasSuffix(in.Data.Request.URL, "/api/activities/home") || in.Data.Context != "/api/activities/home" {
		t.Errorf("request %+v, context %q", in.Data.Request, in.Data.Context)
	}
	if in.TraceID != "0af7651916cd43dd8448eb211c80319c" || in.TraceURL != "http://"+srv.Addrs().UI+"/trace/0af7651916cd43dd8448eb211c80319c" {
		t.Errorf("trace %q, link %q", in.TraceID, in.TraceURL)
	}
}
