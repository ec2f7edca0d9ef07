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

// TestXRayPythonSDK runs a Flask app instrumented with the machine's aws-xray-sdk
// (XRayMiddleware, capture, annotations, metadata, a nested subsegment, a boto3 call and a
// raised exception) against lookout's daemon endpoint, with centralized sampling from
// lookout's rules over botocore, and reads its traces back.
func TestXRayPythonSDK(t *testing.T) {
	python := testtool.Path(t, "python3", "the X-Ray Python SDK test runs a Flask app with aws-xray-sdk")
	testtool.Need(t, exec.Command(python, "-c", "import aws_xray_sdk, flask, boto3").Run(), "python3 with aws_xray_sdk, flask and boto3")
	srv := start(t)
	if status, body := postXRay(t, srv, "/CreateSamplingRule", `{"SamplingRule": {"RuleName": "flask-all", "ResourceARN": "*",
		"Priority": 10, "FixedRate": 1, "ReservoirSize": 0, "ServiceName": "backend-flask", "ServiceType": "*", "Host": "*",
		"HTTPMethod": "*", "URLPath": "*", "Version": 1}}`); status != http.StatusOK {
		t.Fatalf("CreateSamplingRule: %d %s", status, body)
	}
	cmd := exec.Command(python, "testdata/xray_flask.py", "15")
	cmd.Env = append(os.Environ(), "AWS_XRAY_DAEMON_ADDRESS="+srv.Addrs().XRay, "XRAY_API_URL=http://"+srv.Addrs().HTTP,
		"AWS_XRAY_NOOP_ID=FALSE", "AWS_EC2_METADATA_DISABLED=true")
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

	// Until the SDK has pulled lookout's rules it samples with its local ones; a trace whose
	// segment names lookout's rule shows the rules came from lookout.
	var home, crash jaegerTrace
	lines := bufio.NewScanner(out)
	for (home.TraceID == "" || crash.TraceID == "") && lines.Scan() {
		var req struct{ Path, Trace string }
		if err := json.Unmarshal(lines.Bytes(), &req); err != nil {
			t.Fatalf("app printed %q: %v", lines.Text(), err)
		}
		tr, ok := findTrace(t, srv, xrayHex(traceRoot(req.Trace)), 1, 2*time.Second)
		if !ok {
			continue
		}
		root := spanNamed(t, tr, "backend-flask")
		if doc, _ := tag(root.Tags, "aws.xray.document"); !strings.Contains(fmt.Sprint(doc.Value), `"sampling_rule_name": "flask-all"`) &&
			!strings.Contains(fmt.Sprint(doc.Value), `"sampling_rule_name":"flask-all"`) {
			continue
		}
		if req.Path == "/api/crash" {
			crash = tr
		} else if len(tr.Spans) >= 4 {
			home = tr
		}
	}
	if home.TraceID == "" || crash.TraceID == "" {
		t.Fatalf("no traces sampled by lookout's rule arrived; app's stderr:\n%s", stderr.String())
	}
	checkFlaskHome(t, home)
	checkFlaskCrash(t, crash)
}

func checkFlaskHome(t *testing.T, tr jaegerTrace) {
	t.Helper()
	root, mock, query, aws := spanNamed(t, tr, "backend-flask"), spanNamed(t, tr, "mock-data"), spanNamed(t, tr, "query"), spanNamed(t, tr, "xray")
	if p := tr.Processes[root.ProcessID]; p.ServiceName != "backend-flask" {
		t.Errorf("segment's service = %q", p.ServiceName)
	}
	for _, c := range []struct {
		span jaegerSpan
		key  string
		want any
	}{
		{root, "user_handle", "andrewbrown"},
		{root, "http.method", "GET"},
		{root, "http.status_code", float64(200)},
		{mock, "aws.xray.type", "subsegment"},
		{query, "aws.xray.namespace", "local"},
		{aws, "aws.xray.namespace", "aws"},
		{aws, "aws.operation", "GetEncryptionConfig"},
	} {
		if got, ok := tag(c.span.Tags, c.key); !ok || got.Value != c.want {
			t.Errorf("%s: tag %s = %v, want %v", c.span.OperationName, c.key, got.Value, c.want)
		}
	}
	if len(query.References) != 1 || query.References[0].SpanID != mock.SpanID {
		t.Errorf("query's parent = %v, want mock-data %s", query.References, mock.SpanID)
	}
	if len(mock.References) != 1 || mock.References[0].SpanID != root.SpanID {
		t.Errorf("mock-data's parent = %v, want the segment %s", mock.References, root.SpanID)
	}
	doc, _ := tag(root.Tags, "aws.xray.document")
	if !strings.Contains(fmt.Sprint(doc.Value), `"cruddur": {"page": {"size": 20}}`) && !strings.Contains(fmt.Sprint(doc.Value), `"cruddur":{"page":{"size":20}}`) {
		t.Errorf("the segment's document lacks its metadata: %v", doc.Value)
	}
}

func checkFlaskCrash(t *testing.T, tr jaegerTrace) {
	t.Helper()
	root := spanNamed(t, tr, "backend-flask")
	if got, _ := tag(root.Tags, "aws.xray.fault"); got.Value != true {
		t.Errorf("a raised exception is a fault: aws.xray.fault = %v", got.Value)
	}
	if got, _ := tag(root.Tags, "http.status_code"); got.Value != float64(500) {
		t.Errorf("http.status_code = %v, want 500", got.Value)
	}
	found := false
	for _, l := range root.Logs {
		if msg, _ := tag(l.Fields, "exception.message"); msg.Value == "the timeline is empty" {
			found = true
			if typ, _ := tag(l.Fields, "exception.type"); typ.Value != "ValueError" {
				t.Errorf("exception.type = %v, want ValueError", typ.Value)
			}
			if st, _ := tag(l.Fields, "exception.stacktrace"); !strings.Contains(fmt.Sprint(st.Value), "(xray_flask.py:") {
				t.Errorf("the stack trace lacks the app's frame: %v", st.Value)
			}
		}
	}
	if !found {
		t.Errorf("the segment has no exception event: %v", root.Logs)
	}
}
