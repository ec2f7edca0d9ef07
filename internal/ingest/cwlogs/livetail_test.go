package cwlogs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"testing"
	"time"

	"lookout/internal/testtool"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// noHostPrefix stops the SDK putting "streaming-" before the endpoint's host for
// StartLiveTail, as lookout's documentation tells SDK users to do.
func noHostPrefix(o *cloudwatchlogs.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("lookoutNoHostPrefix",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
			}), middleware.Before)
	})
}

// TestLiveTailGoSDK follows a group with the AWS SDK for Go's StartLiveTail: the session
// starts, matching events arrive within about a second of their PutLogEvents, and a burst
// beyond 500 events is sampled.
func TestLiveTailGoSDK(t *testing.T) {
	l := start(t)
	c := client(l, "test", "test", noHostPrefix)
	ctx := context.Background()
	const group = "tail"
	arn := "arn:aws:logs:eu-west-1:000000000000:log-group:" + group
	must(t, "CreateLogGroup", second(c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)})))
	for _, s := range []string{"s1", "s2"} {
		must(t, "CreateLogStream", second(c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(s)})))
	}
	put := func(stream string, msgs ...string) time.Time {
		now := time.Now()
		events := make([]types.InputLogEvent, len(msgs))
		for i, m := range msgs {
			events[i] = event(now, m)
		}
		must(t, "PutLogEvents", second(c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: events})))
		return time.Now()
	}

	_, err := c.StartLiveTail(ctx, &cloudwatchlogs.StartLiveTailInput{LogGroupIdentifiers: []string{"nope"}})
	mustCode(t, "Live Tail of a missing group", err, "ResourceNotFoundException")
	_, err = c.StartLiveTail(ctx, &cloudwatchlogs.StartLiveTailInput{LogGroupIdentifiers: []string{group}, LogEventFilterPattern: aws.String(`{ $.a = `)})
	mustCode(t, "Live Tail with a broken pattern", err, "InvalidParameterException")

	out, err := c.StartLiveTail(ctx, &cloudwatchlogs.StartLiveTailInput{LogGroupIdentifiers: []string{arn}, LogEventFilterPattern: aws.String("ERROR")})
	must(t, "StartLiveTail", err)
	stream := out.GetStream()
	defer stream.Close()
	next := func() types.StartLiveTailResponseStream {
		t.Helper()
		select {
		case e, ok := <-stream.Events():
			if !ok {
				t.Fatalf("the stream ended: %v", stream.Err())
			}
			return e
		case <-time.After(5 * time.Second):
			t.Fatal("no event from Live Tail for 5 s")
		}
		return nil
	}
	if s, ok := next().(*types.StartLiveTailResponseStreamMemberSessionStart); !ok || !slices.Equal(s.Value.LogGroupIdentifiers, []string{arn}) || aws.ToString(s.Value.SessionId) == "" {
		t.Fatalf("first event %#v, want the session's start", s)
	}
	// results waits for an update with events, skipping the empty ones.
	results := func() *types.LiveTailSessionUpdate {
		t.Helper()
		for {
			u, ok := next().(*types.StartLiveTailResponseStreamMemberSessionUpdate)
			if !ok {
				t.Fatalf("want a session update, got %#v", u)
			}
			if len(u.Value.SessionResults) > 0 {
				return &u.Value
			}
		}
	}

	put("s1", "ERROR a", "INFO b")
	acked := put("s2", "ERROR c")
	u := results()
	delay := time.Since(acked)
	if delay > time.Second {
		t.Errorf("events came %v after their PutLogEvents", delay)
	}
	t.Logf("the first update came %v after its PutLogEvents was acknowledged", delay)
	var got []string
	for _, r := range u.SessionResults {
		got = append(got, aws.ToString(r.LogStreamName)+" "+aws.ToString(r.Message))
		if aws.ToString(r.LogGroupIdentifier) != arn || aws.ToInt64(r.IngestionTime) < aws.ToInt64(r.Timestamp) {
			t.Errorf("result %+v", r)
		}
	}
	if len(u.SessionResults) == 1 { // the two batches may fall in two updates
		u2 := results()
		got = append(got, aws.ToString(u2.SessionResults[0].LogStreamName)+" "+aws.ToString(u2.SessionResults[0].Message))
	}
	if want := []string{"s1 ERROR a", "s2 ERROR c"}; !slices.Equal(got, want) || u.SessionMetadata.Sampled {
		t.Errorf("live tail %q (sampled %v), want %q", got, u.SessionMetadata.Sampled, want)
	}

	burst := make([]string, 600)
	for i := range burst {
		burst[i] = fmt.Sprintf("ERROR %03d", i)
	}
	put("s1", burst...)
	u = results()
	if len(u.SessionResults) != 500 || !u.SessionMetadata.Sampled || aws.ToString(u.SessionResults[0].Message) != "ERROR 000" {
		t.Errorf("a burst of 600: %d results, sampled %v", len(u.SessionResults), u.SessionMetadata.Sampled)
	}
}

// second returns the error of a call's two results.
func second[T any](_ T, err error) error { return err }

// TestLiveTailBoto3 follows a group with boto3's start_live_tail (testdata/live_tail.py),
// which insists on the initial-response event before the session's.
func TestLiveTailBoto3(t *testing.T) {
	python := testtool.Path(t, "python3", "this test runs python3")
	l := start(t)
	cmd := exec.Command(python, "testdata/live_tail.py")
	cmd.Env = awsEnv(l)
	var seen struct {
		First    string
		Messages []string
	}
	if err := json.Unmarshal(run(t, cmd), &seen); err != nil {
		t.Fatal(err)
	}
	if seen.First != "sessionStart" || !slices.Equal(seen.Messages, []string{"ERROR from python"}) {
		t.Errorf("boto3 saw %+v", seen)
	}
}
