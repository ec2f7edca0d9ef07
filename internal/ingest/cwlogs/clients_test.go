package cwlogs_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"testing"
	"time"

	"lookout/internal/testtool"
)

// awsEnv is the environment that points the AWS SDKs and CLI at l with dummy keys.
func awsEnv(l *lookout) []string {
	return append(os.Environ(), "AWS_ENDPOINT_URL="+l.endpoint(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_DEFAULT_REGION=eu-west-1", "AWS_REGION=eu-west-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true")
}

// TestWatchtowerCalls makes watchtower's calls in watchtower's order with the machine's
// boto3 (testdata/watchtower_calls.py) and checks what it saw and read back.
func TestWatchtowerCalls(t *testing.T) {
	python := testtool.Path(t, "python3", "this test runs python3")
	l := start(t)
	cmd := exec.Command(python, "testdata/watchtower_calls.py")
	cmd.Env = awsEnv(l)
	var seen struct {
		Calls  [][2]any
		Stream string
		Sent   []struct {
			Timestamp int64
			Message   string
		}
		Got           [][2]any
		Filtered      []string
		FilteredTerms []string `json:"filtered_terms"`
		Group         map[string]any
		Tags          map[string]string
		Query         struct {
			Status   string
			Messages []string
		}
	}
	if err := json.Unmarshal(run(t, cmd), &seen); err != nil {
		t.Fatal(err)
	}
	want := [][2]any{
		{"DescribeLogGroups", []any{}}, {"CreateLogGroup", "ok"}, {"GetCallerIdentity", "000000000000"}, {"TagResource", "ok"},
		{"PutRetentionPolicy", "ok"}, {"PutLogEvents", "ResourceNotFoundException"}, {"CreateLogStream", "ok"}, {"PutLogEvents", "ok"},
	}
	if !reflect.DeepEqual(seen.Calls, want) {
		t.Errorf("calls:\n got %v\nwant %v", seen.Calls, want)
	}
	if len(seen.Got) != len(seen.Sent) {
		t.Fatalf("read back %d events, sent %d", len(seen.Got), len(seen.Sent))
	}
	for i, e := range seen.Sent {
		if seen.Got[i][0] != float64(e.Timestamp) || seen.Got[i][1] != e.Message {
			t.Errorf("event %d: got %v, sent %+v", i, seen.Got[i], e)
		}
	}
	if len(seen.Filtered) != 1 || seen.Filtered[0] != seen.Sent[1].Message {
		t.Errorf("JSON filter pattern found %q, want the JSON line", seen.Filtered)
	}
	if len(seen.FilteredTerms) != 1 || seen.FilteredTerms[0] != seen.Sent[0].Message {
		t.Errorf("term filter pattern found %q, want the access line", seen.FilteredTerms)
	}
	if seen.Query.Status != "Complete" || !reflect.DeepEqual(seen.Query.Messages, []string{seen.Sent[1].Message}) {
		t.Errorf("start_query found %+v, want the JSON line", seen.Query)
	}
	if seen.Group["retentionInDays"] != float64(7) || seen.Tags["app"] != "cruddur" {
		t.Errorf("group %v, tags %v", seen.Group, seen.Tags)
	}
}

// TestAWSCLI uses the AWS CLI with --endpoint-url.
func TestAWSCLI(t *testing.T) {
	cli := testtool.Path(t, "aws", "this test runs aws")
	l := start(t)
	awsCLI := func(args ...string) []byte {
		cmd := exec.Command(cli, append([]string{"--endpoint-url", l.endpoint(), "--output", "json", "logs"}, args...)...)
		cmd.Env = awsEnv(l)
		return run(t, cmd)
	}
	awsCLI("create-log-group", "--log-group-name", "cli")
	awsCLI("create-log-stream", "--log-group-name", "cli", "--log-stream-name", "s1")
	now := time.Now().UnixMilli()
	events := fmt.Sprintf(`[{"timestamp":%d,"message":"GET /a 200"},{"timestamp":%d,"message":"GET /b 500"},{"timestamp":%d,"message":"POST /c 500"}]`, now-2, now-1, now)
	tooOld := time.Now().Add(-15 * 24 * time.Hour).UnixMilli()
	withOld := fmt.Sprintf(`[{"timestamp":%d,"message":"stale"},%s`, tooOld, events[1:])
	var put struct {
		RejectedLogEventsInfo map[string]int
	}
	json.Unmarshal(awsCLI("put-log-events", "--log-group-name", "cli", "--log-stream-name", "s1", "--log-events", withOld), &put)
	if !reflect.DeepEqual(put.RejectedLogEventsInfo, map[string]int{"tooOldLogEventEndIndex": 0}) {
		t.Errorf("put-log-events with a stale event: rejected %v", put.RejectedLogEventsInfo)
	}
	var out struct {
		Events []struct{ Message string }
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(out.Events) < 2 && time.Now().Before(deadline) {
		json.Unmarshal(awsCLI("filter-log-events", "--log-group-name", "cli", "--filter-pattern", "[method, path, status=5*]"), &out)
	}
	if len(out.Events) != 2 || out.Events[0].Message != "GET /b 500" || out.Events[1].Message != "POST /c 500" {
		t.Errorf("filter-log-events: %+v", out.Events)
	}
	var streams struct {
		LogStreams []struct {
			LogStreamName                           string
			FirstEventTimestamp, LastEventTimestamp int64
		}
	}
	json.Unmarshal(awsCLI("describe-log-streams", "--log-group-name", "cli", "--order-by", "LastEventTime", "--descending"), &streams)
	if len(streams.LogStreams) != 1 || streams.LogStreams[0].LogStreamName != "s1" ||
		streams.LogStreams[0].FirstEventTimestamp != now-2 || streams.LogStreams[0].LastEventTimestamp != now {
		t.Errorf("describe-log-streams: %+v", streams.LogStreams)
	}
}
