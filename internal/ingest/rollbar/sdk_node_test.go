package rollbar

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"lookout/internal/testtool"
)

// nodeOutcome is one line sdk.mjs prints: how the SDK's callback was called.
type nodeOutcome struct {
	N, Err, UUID string
}

// runNodeSDK runs testdata/node/sdk.mjs with the npm rollbar package against endpoint. It
// skips when node or the package is missing (see testtool).
func runNodeSDK(t *testing.T, endpoint, token, mode string) []nodeOutcome {
	t.Helper()
	dir, _ := filepath.Abs("testdata/node")
	_, errNode := exec.LookPath("node")
	_, errModule := os.Stat(filepath.Join(dir, "node_modules", "rollbar"))
	testtool.Need(t, errors.Join(errNode, errModule), "node and npm ci --prefix internal/ingest/rollbar/testdata/node (scripts/test does both)")
	cmd := exec.Command("node", "sdk.mjs", mode)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LOOKOUT_ENDPOINT="+endpoint, "ROLLBAR_TOKEN="+token)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node sdk.mjs %s: %v\n%s", mode, err, stderr.String())
	}
	var outcomes []nodeOutcome
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var o nodeOutcome
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatalf("sdk.mjs printed %q", sc.Text())
		}
		outcomes = append(outcomes, o)
	}
	return outcomes
}

// TestRollbarJS reports an error with a cause, inside a request, and a message with the npm
// rollbar SDK on Node.
func TestRollbarJS(t *testing.T) {
	srv, sink, _ := goSDKServer(t, OpenProjects())
	outcomes := runNodeSDK(t, srv.URL+"/api/1/item/", "aaaabbbbccccddddeeeeffff00001111", "report")
	occs := sink.all()
	if len(outcomes) != 2 || len(occs) != 2 {
		t.Fatalf("outcomes %+v; %d occurrences stored", outcomes, len(occs))
	}
	for i, o := range outcomes {
		if o.Err != "" || o.UUID != occs[i].UUID {
			t.Errorf("outcome %+v, stored uuid %s", o, occs[i].UUID)
		}
	}
	e, m := occs[0], occs[1]
	if e.Title != "Error: payment failed" || e.Class != "Error" || e.Language != "javascript" || e.CodeVersion != "deadbeef" {
		t.Errorf("error %+v", e)
	}
	if !strings.Contains(e.Grouping, "Error ← TypeError") || !strings.Contains(e.Grouping, "sdk.mjs charge") {
		t.Errorf("grouping %q", e.Grouping)
	}
	if e.TraceID != mustTrace("4bf92f3577b34da6a3ce929d0e0e4736") || e.SpanID.String() != "00f067aa0ba902b7" {
		t.Errorf("trace %s span %s", e.TraceID, e.SpanID)
	}
	if e.Browser != "Firefox 120" || e.OS != "Linux" {
		t.Errorf("browser %q os %q", e.Browser, e.OS)
	}
	if m.Level != "info" || m.Title != "user signed up" || !strings.Contains(m.Data, `"plan":"pro"`) {
		t.Errorf("message %+v", m)
	}
}

// TestRollbarJSHonoursRateLimit checks that rollbar.js stops posting after lookout's 429:
// the third item is dropped by the SDK itself, not sent.
func TestRollbarJSHonoursRateLimit(t *testing.T) {
	projects := writeProjects(t, `{"projects":[{"name":"p","tokens":[{"token":"tok","scopes":["post_server_item"],"rate_limit":{"count":1,"per":"1h"}}]}]}`)
	srv, sink, posts := goSDKServer(t, projects)
	outcomes := runNodeSDK(t, srv.URL+"/api/1/item/", "tok", "ratelimit")
	if len(outcomes) != 3 || outcomes[0].Err != "" || !strings.Contains(outcomes[1].Err, "rate limit") || outcomes[2].Err != "Exceeded rate limit" {
		t.Fatalf("outcomes %+v", outcomes)
	}
	if n := posts.Load(); n != 2 {
		t.Errorf("rollbar.js posted %d times, want 2: it must not post while rate limited", n)
	}
	if occs := sink.all(); len(occs) != 2 || occs[0].Title != "signup first" {
		t.Errorf("stored %+v", occs)
	}
}
