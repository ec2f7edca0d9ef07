package server_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"lookout/internal/testtool"
)

// TestXRayNodeSDK runs an HTTP service instrumented with the npm aws-xray-sdk-core
// (testdata/xray-node) against lookout's daemon endpoint: its segments, sampled by lookout's
// rule, arrive with their annotation, metadata, nested subsegments and error.
func TestXRayNodeSDK(t *testing.T) {
	node := testtool.Path(t, "node", "the X-Ray Node SDK test runs aws-xray-sdk-core")
	_, err := os.Stat("testdata/xray-node/node_modules/aws-xray-sdk-core")
	testtool.Need(t, err, "npm ci --prefix internal/server/testdata/xray-node (scripts/test runs it)")
	srv := start(t)
	if status, body := postXRay(t, srv, "/CreateSamplingRule", `{"SamplingRule": {"RuleName": "node-all", "ResourceARN": "*",
		"Priority": 10, "FixedRate": 1, "ReservoirSize": 0, "ServiceName": "node-orders", "ServiceType": "*", "Host": "*",
		"HTTPMethod": "*", "URLPath": "*", "Version": 1}}`); status != http.StatusOK {
		t.Fatalf("CreateSamplingRule: %d %s", status, body)
	}
	cmd := exec.Command(node, "app.js", "15")
	cmd.Dir = "testdata/xray-node"
	cmd.Env = append(os.Environ(), "AWS_XRAY_DAEMON_ADDRESS="+srv.Addrs().XRay)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()

	// Until the SDK has pulled lookout's rules it samples with its local ones.
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		var got struct {
			Trace   string
			Sampled bool
		}
		if err := json.Unmarshal(lines.Bytes(), &got); err != nil {
			t.Fatalf("app printed %q: %v", lines.Text(), err)
		}
		if !got.Sampled {
			continue
		}
		tr, ok := findTrace(t, srv, xrayHex(got.Trace), 3, 2*time.Second)
		if !ok {
			continue
		}
		root := spanNamed(t, tr, "node-orders")
		doc, _ := tag(root.Tags, "aws.xray.document")
		if !strings.Contains(fmt.Sprint(doc.Value), `"rule_name":"node-all"`) {
			continue
		}
		reserve, inventory := spanNamed(t, tr, "reserve"), spanNamed(t, tr, "inventory")
		if v, _ := tag(root.Tags, "order_id"); v.Value != "o-9" {
			t.Errorf("annotation order_id = %v", v.Value)
		}
		if !strings.Contains(fmt.Sprint(doc.Value), `"metadata":{"default":{"cart":{"items":2}}}`) {
			t.Errorf("the segment's document lacks its metadata: %v", doc.Value)
		}
		if len(reserve.References) != 1 || reserve.References[0].SpanID != inventory.SpanID {
			t.Errorf("reserve's parent = %v, want inventory", reserve.References)
		}
		if v, _ := tag(reserve.Tags, "error"); v.Value != true {
			t.Errorf("reserve, which recorded an error, is not one: %v", reserve.Tags)
		}
		if len(reserve.Logs) != 1 {
			t.Errorf("reserve has %d exception events, want 1", len(reserve.Logs))
		} else if msg, _ := tag(reserve.Logs[0].Fields, "exception.message"); msg.Value != "out of stock" {
			t.Errorf("exception message = %v", msg.Value)
		}
		return
	}
	t.Fatalf("no trace sampled by lookout's rule arrived; app's stderr:\n%s", stderr.String())
}
