package server_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"lookout/internal/server"
	"lookout/internal/testtool"
)

// awsCLI runs the AWS CLI against lookout's X-Ray API and returns its output as JSON, or
// fails the test; wantFail expects it to fail and returns its error output.
func awsCLI(t *testing.T, srv *server.Server, wantFail bool, args ...string) map[string]any {
	t.Helper()
	cmd := exec.Command("aws", append([]string{"xray", "--endpoint-url", "http://" + srv.Addrs().HTTP, "--output", "json"}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if wantFail {
		if err == nil {
			t.Fatalf("aws xray %s succeeded: %s", strings.Join(args, " "), out)
		}
		return map[string]any{"stderr": stderr.String()}
	}
	if err != nil {
		t.Fatalf("aws xray %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var v map[string]any
	if len(strings.TrimSpace(string(out))) == 0 {
		return v
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("aws xray %s printed %s: %v", args[0], out, err)
	}
	return v
}

// TestXRayAWSCLI drives the X-Ray API with the AWS CLI as people do: a sampling rule from a
// file, a group, segments put, then traces found by filter expression, read back whole, and
// drawn as a service graph.
func TestXRayAWSCLI(t *testing.T) {
	testtool.Path(t, "aws", "the X-Ray CLI test runs the AWS CLI")
	srv := start(t)

	rule := awsCLI(t, srv, false, "create-sampling-rule", "--cli-input-json", "file://testdata/xray-rule.json")
	if got := dig(rule, "SamplingRuleRecord", "SamplingRule", "RuleName"); got != "Cruddur" {
		t.Errorf("create-sampling-rule returned %v", rule)
	}
	rules := awsCLI(t, srv, false, "get-sampling-rules")
	var names []string
	for _, r := range rules["SamplingRuleRecords"].([]any) {
		names = append(names, dig(r, "SamplingRule", "RuleName").(string))
	}
	if strings.Join(names, ",") != "Cruddur,Default" {
		t.Errorf("rules = %v, want Cruddur then Default (by priority)", names)
	}
	group := awsCLI(t, srv, false, "create-group", "--group-name", "Cruddur", "--filter-expression", `service("backend-flask")`)
	if got := dig(group, "Group", "FilterExpression"); got != `service("backend-flask")` {
		t.Errorf("create-group returned %v", group)
	}
	bad := awsCLI(t, srv, true, "create-group", "--group-name", "Broken", "--filter-expression", `service("a") {`)
	if !strings.Contains(bad["stderr"].(string), "InvalidRequestException") || !strings.Contains(bad["stderr"].(string), "position 14") {
		t.Errorf("a group with a broken expression: %s", bad["stderr"])
	}

	// Two traces of backend-flask (one failing with an annotation, one fine) and one of
	// another service, plus a document that cannot be read.
	now := float64(time.Now().Add(-time.Minute).UnixNano()) / 1e9
	epoch := fmt.Sprintf("%08x", int64(now))
	failing := fmt.Sprintf(`{"trace_id":"1-%s-a00000000000000000000001","id":"a000000000000001","name":"backend-flask","start_time":%.6f,"end_time":%.6f,`+
		`"http":{"request":{"method":"GET","url":"http://localhost/api/activities/home"},"response":{"status":500}},"fault":true,`+
		`"annotations":{"user_handle":"andrewbrown"},"resource_arn":"arn:aws:ecs:us-east-1:123456789012:service/cruddur/backend-flask",`+
		`"aws":{"ec2":{"instance_id":"i-0b5a4c3d2e1f09876"}},"subsegments":[{"id":"a000000000000002","name":"db","namespace":"remote","start_time":%.6f,"end_time":%.6f,"sql":{"url":"postgres://db/cruddur"}}]}`,
		epoch, now, now+0.25, now+0.05, now+0.2)
	fine := fmt.Sprintf(`{"trace_id":"1-%s-a00000000000000000000002","id":"a000000000000003","name":"backend-flask","start_time":%.6f,"end_time":%.6f,`+
		`"http":{"request":{"method":"GET","url":"http://localhost/api/activities/home"},"response":{"status":200}},"annotations":{"user_handle":"bayko"}}`,
		epoch, now+1, now+1.1)
	other := fmt.Sprintf(`{"trace_id":"1-%s-a00000000000000000000003","id":"a000000000000004","name":"frontend-react","start_time":%.6f,"end_time":%.6f,"fault":true}`,
		epoch, now+2, now+2.5)
	put := awsCLI(t, srv, false, "put-trace-segments", "--trace-segment-documents", failing, fine, other, `{"id":"a000000000000009","name":"x"}`)
	unprocessed := put["UnprocessedTraceSegments"].([]any)
	if len(unprocessed) != 1 || dig(unprocessed[0], "Id") != "a000000000000009" || dig(unprocessed[0], "ErrorCode") != "MissingTraceId" {
		t.Errorf("UnprocessedTraceSegments = %v, want the document without a trace id", unprocessed)
	}

	window := []string{"--start-time", fmt.Sprint(int64(now) - 60), "--end-time", fmt.Sprint(int64(now) + 60)}
	// Acknowledged segments are durable at once, visible once the loader has stored them.
	waitFor(t, func() bool {
		var got jaegerResponse
		getJSON(t, srv, "/api/traces/"+epoch+"a00000000000000000000003", &got)
		return len(got.Data) == 1
	})
	sums := awsCLI(t, srv, false, append([]string{"get-trace-summaries", "--filter-expression",
		`service("backend-flask") { fault } AND annotation.user_handle = "andrewbrown"`}, window...)...)
	list := sums["TraceSummaries"].([]any)
	if len(list) != 1 {
		t.Fatalf("get-trace-summaries found %d traces, want the failing one: %v", len(list), sums)
	}
	s := list[0]
	for path, want := range map[string]any{
		"Id": "1-" + epoch + "-a00000000000000000000001", "HasFault": true, "HasError": false, "IsPartial": false,
		"Http.HttpStatus": 500.0, "Http.HttpMethod": "GET", "EntryPoint.Name": "backend-flask",
	} {
		if got := dig(s, strings.Split(path, ".")...); got != want {
			t.Errorf("summary %s = %v, want %v", path, got, want)
		}
	}
	if d := dig(s, "Duration").(float64); d < 0.2499 || d > 0.2501 {
		t.Errorf("Duration = %v, want 0.25", d)
	}
	if got := dig(s, "Annotations", "user_handle"); fmt.Sprint(got) != "[map[AnnotationValue:map[StringValue:andrewbrown] ServiceIds:[map[Name:backend-flask Names:[backend-flask]]]]]" {
		t.Errorf("annotations = %v", got)
	}
	if got := fmt.Sprint(dig(s, "ResourceARNs"), dig(s, "InstanceIds")); got != "[map[ARN:arn:aws:ecs:us-east-1:123456789012:service/cruddur/backend-flask]] [map[Id:i-0b5a4c3d2e1f09876]]" {
		t.Errorf("ResourceARNs and InstanceIds = %v, want the segment's resource_arn and EC2 instance", got)
	}
	all := awsCLI(t, srv, false, append([]string{"get-trace-summaries"}, window...)...)
	if n := len(all["TraceSummaries"].([]any)); n != 3 {
		t.Errorf("without a filter, %d traces, want 3", n)
	}
	// Both faults begin where they are raised: backend-flask's (its db call went well) and
	// frontend-react's.
	byCause := awsCLI(t, srv, false, append([]string{"get-trace-summaries", "--filter-expression",
		`rootcause.fault.service { last and name = "backend-flask" } AND !rootcause.fault.entity { name = "frontend-react" }`}, window...)...)
	if list := byCause["TraceSummaries"].([]any); len(list) != 1 || dig(list[0], "Id") != "1-"+epoch+"-a00000000000000000000001" {
		t.Errorf("a root-cause filter found %v, want the failing backend-flask trace", byCause)
	} else if causes := dig(list[0], "FaultRootCauses").([]any); len(causes) != 1 ||
		fmt.Sprint(dig(causes[0], "Services")) != "[map[EntityPath:[map[Exceptions:[] Name:backend-flask Remote:false]] Inferred:false Name:backend-flask Names:[backend-flask]]]" {
		t.Errorf("FaultRootCauses = %v", dig(list[0], "FaultRootCauses"))
	}
	badFilter := awsCLI(t, srv, true, append([]string{"get-trace-summaries", "--filter-expression", `rootcause.fault.entity { coverage > 0.5 }`}, window...)...)
	if !strings.Contains(badFilter["stderr"].(string), "InvalidRequestException") || !strings.Contains(badFilter["stderr"].(string), "position 25") {
		t.Errorf("coverage in a fault's root cause: %s", badFilter["stderr"])
	}

	// batch-get-traces returns the documents as they were sent.
	traces := awsCLI(t, srv, false, "batch-get-traces", "--trace-ids", "1-"+epoch+"-a00000000000000000000002")
	segs := dig(traces, "Traces").([]any)[0].(map[string]any)["Segments"].([]any)
	var sent, got any
	json.Unmarshal([]byte(fine), &sent)
	json.Unmarshal([]byte(dig(segs[0], "Document").(string)), &got)
	if len(segs) != 1 || !reflect.DeepEqual(sent, got) {
		t.Errorf("batch-get-traces document = %v, want what was sent, %v", got, sent)
	}

	// The group's service graph: client → backend-flask → db (inferred), not frontend-react.
	graph := awsCLI(t, srv, false, append([]string{"get-service-graph", "--group-name", "Cruddur"}, window...)...)
	byName := map[string]map[string]any{}
	for _, svc := range graph["Services"].([]any) {
		byName[dig(svc, "Name").(string)] = svc.(map[string]any)
	}
	if len(byName) != 3 || byName["client"] == nil || byName["backend-flask"] == nil || byName["db"] == nil {
		t.Fatalf("services = %v, want client, backend-flask and db", graph["Services"])
	}
	flask := byName["backend-flask"]
	for path, want := range map[string]any{
		"SummaryStatistics.TotalCount": 2.0, "SummaryStatistics.OkCount": 1.0, "SummaryStatistics.FaultStatistics.TotalCount": 1.0,
		"Root": true, "State": "active",
	} {
		if got := dig(flask, strings.Split(path, ".")...); got != want {
			t.Errorf("backend-flask %s = %v, want %v", path, got, want)
		}
	}
	if rt := dig(flask, "SummaryStatistics", "TotalResponseTime").(float64); rt < 0.3499 || rt > 0.3501 {
		t.Errorf("backend-flask TotalResponseTime = %v, want 0.25 + 0.1", rt)
	}
	if dig(byName["db"], "Type") != "Database::SQL" || dig(byName["db"], "State") != "unknown" {
		t.Errorf("db node = %v, want an inferred SQL database", byName["db"])
	}
	edges := flask["Edges"].([]any)
	if len(edges) != 1 || dig(edges[0], "ReferenceId") != dig(byName["db"], "ReferenceId") {
		t.Errorf("backend-flask's edges = %v, want one to db", edges)
	}
	clientEdges := byName["client"]["Edges"].([]any)
	if len(clientEdges) != 1 || dig(clientEdges[0], "SummaryStatistics", "TotalCount") != 2.0 {
		t.Errorf("client's edges = %v, want two calls to backend-flask", clientEdges)
	}
}

// dig walks a decoded JSON value by keys.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
