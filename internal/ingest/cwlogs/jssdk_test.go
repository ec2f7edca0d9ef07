package cwlogs_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"reflect"
	"testing"
	"time"

	"lookout/internal/testtool"
)

// TestJavaScriptSDK runs testdata/jssdk/logs.mjs: the AWS SDK for JavaScript v3 from npm
// (scripts/test installs it with npm ci) creating, writing, paging, filtering, querying and
// tailing.
func TestJavaScriptSDK(t *testing.T) {
	node := testtool.Path(t, "node", "this test runs node")
	_, err := os.Stat("testdata/jssdk/node_modules/@aws-sdk/client-cloudwatch-logs")
	testtool.Need(t, err, "this test needs the AWS SDK for JavaScript: npm ci --prefix internal/ingest/cwlogs/testdata/jssdk")
	l := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "logs.mjs")
	cmd.Dir = "testdata/jssdk"
	cmd.Env = append(os.Environ(), "LOOKOUT_ENDPOINT="+l.endpoint())
	var seen struct {
		MissingStream string
		Paged         []string
		Filtered      []string
		Query         struct {
			Status string
			Rows   [][]string
		}
		Tail []string
	}
	if err := json.Unmarshal(run(t, cmd), &seen); err != nil {
		t.Fatal(err)
	}
	want := []string{"GET /a 200", "GET /b 500", `{"status":503}`, "POST /c 201"}
	if seen.MissingStream != "ResourceNotFoundException" || !reflect.DeepEqual(seen.Paged, want) {
		t.Errorf("missing stream %q, paged %q", seen.MissingStream, seen.Paged)
	}
	if !reflect.DeepEqual(seen.Filtered, want[1:3]) {
		t.Errorf("filtered %q, want %q", seen.Filtered, want[1:3])
	}
	if seen.Query.Status != "Complete" || !reflect.DeepEqual(seen.Query.Rows, [][]string{{"n=4"}}) {
		t.Errorf("query %+v", seen.Query)
	}
	if !reflect.DeepEqual(seen.Tail, []string{"sessionStart", "LIVE from js"}) {
		t.Errorf("live tail %q", seen.Tail)
	}
}
