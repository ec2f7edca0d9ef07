package cwlogs_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// event is a PutLogEvents input event.
func event(at time.Time, msg string) types.InputLogEvent {
	return types.InputLogEvent{Timestamp: aws.Int64(at.UnixMilli()), Message: aws.String(msg)}
}

// waitForEvents polls GetLogEvents until the stream holds n events: acknowledged events are
// durable at once and readable once the pipeline has loaded them.
func waitForEvents(t *testing.T, c *cloudwatchlogs.Client, group, stream string, n int) []types.OutputLogEvent {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := c.GetLogEvents(context.Background(), &cloudwatchlogs.GetLogEventsInput{
			LogGroupName: aws.String(group), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Events) >= n || time.Now().After(deadline) {
			if len(out.Events) != n {
				t.Fatalf("stream %s holds %d events, want %d", stream, len(out.Events), n)
			}
			return out.Events
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mustCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := errorCode(err); got != code {
		t.Errorf("%s: error %v (code %q), want %s", what, err, got, code)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestGoSDK drives the API with the AWS SDK for Go through every rule of its operations:
// names, limits, order, rejection by index, retention, tokens and paging, tags, errors.
func TestGoSDK(t *testing.T) {
	l := start(t)
	c := client(l, "test", "test")
	ctx := context.Background()
	group, stream := "cruddur", "h1//usr/local/bin/flask/app/7"

	// Groups and streams.
	out, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)})
	must(t, "CreateLogGroup", err)
	if id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata); len(id) != 36 {
		t.Errorf("request id %q", id)
	}
	_, err = c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)})
	mustCode(t, "CreateLogGroup again", err, "ResourceAlreadyExistsException")
	_, err = c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("no spaces")})
	mustCode(t, "CreateLogGroup, bad name", err, "InvalidParameterException")
	now := time.Now()
	_, err = c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream),
		LogEvents: []types.InputLogEvent{event(now, "before the stream")}})
	mustCode(t, "PutLogEvents to a missing stream", err, "ResourceNotFoundException")
	_, err = c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("nope"), LogStreamName: aws.String(stream),
		LogEvents: []types.InputLogEvent{event(now, "x")}})
	mustCode(t, "PutLogEvents to a missing group", err, "ResourceNotFoundException")
	_, err = c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("nope"), LogStreamName: aws.String(stream)})
	mustCode(t, "CreateLogStream in a missing group", err, "ResourceNotFoundException")
	_, err = c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)})
	must(t, "CreateLogStream", err)
	_, err = c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String("a:b")})
	mustCode(t, "CreateLogStream, bad name", err, "InvalidParameterException")

	// PutLogEvents' rules.
	put := func(events ...types.InputLogEvent) (*cloudwatchlogs.PutLogEventsOutput, error) {
		return c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: events, SequenceToken: aws.String("ignored")})
	}
	_, err = put(event(now, "b"), event(now.Add(-time.Second), "a"))
	mustCode(t, "out of order", err, "InvalidParameterException")
	_, err = put(event(now.Add(-25*time.Hour), "a"), event(now, "b"))
	mustCode(t, "a day and an hour", err, "InvalidParameterException")
	_, err = put(event(now, strings.Repeat("x", 1<<20)))
	mustCode(t, "over 1 MiB", err, "InvalidParameterException")
	many := make([]types.InputLogEvent, 10_001)
	for i := range many {
		many[i] = event(now, "m")
	}
	_, err = put(many...)
	mustCode(t, "10,001 events", err, "InvalidParameterException")
	_, err = put(event(now, ""))
	mustCode(t, "an empty message", err, "InvalidParameterException")

	base := now.Add(-time.Hour).Truncate(time.Millisecond)
	var sent []string
	var batch []types.InputLogEvent
	// Events 2 and 3 share a millisecond: they must come back in the order sent.
	for i, offset := range []int{0, 1, 2, 2, 4, 5, 6} {
		msg := fmt.Sprintf("[%d] GET /api/activities/home 200 OK", i)
		batch = append(batch, event(base.Add(time.Duration(offset)*time.Second), msg))
		sent = append(sent, msg)
	}
	res, err := put(batch...)
	must(t, "PutLogEvents", err)
	if res.RejectedLogEventsInfo != nil {
		t.Errorf("nothing should be rejected: %+v", res.RejectedLogEventsInfo)
	}
	got := waitForEvents(t, c, group, stream, 7)
	for i, e := range got {
		if *e.Message != sent[i] || *e.Timestamp != *batch[i].Timestamp || *e.IngestionTime < now.UnixMilli()-1000 {
			t.Errorf("event %d: %s at %d, want %s at %d", i, *e.Message, *e.Timestamp, sent[i], *batch[i].Timestamp)
		}
	}

	// Rejection by index: two too old, one too new.
	res, err = put(event(now.Add(-15*24*time.Hour), "too old"), event(now.Add(-15*24*time.Hour+time.Minute), "too old too"),
		event(now.Add(-14*24*time.Hour+time.Hour), "kept"), event(now.Add(3*time.Hour), "too new"))
	must(t, "PutLogEvents with rejects", err)
	if r := res.RejectedLogEventsInfo; r == nil || aws.ToInt32(r.TooOldLogEventEndIndex) != 1 || aws.ToInt32(r.TooNewLogEventStartIndex) != 3 || r.ExpiredLogEventEndIndex != nil {
		t.Errorf("rejected %+v, want too old up to 1, too new from 3", r)
	}
	waitForEvents(t, c, group, stream, 8)

	// Retention: events older than it are expired, and stored ones removed.
	_, err = c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(group), RetentionInDays: aws.Int32(2)})
	mustCode(t, "retention not in the enum", err, "InvalidParameterException")
	_, err = c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(group), RetentionInDays: aws.Int32(1)})
	must(t, "PutRetentionPolicy", err)
	waitForEvents(t, c, group, stream, 7) // "kept" (13 days old) is gone
	res, err = put(event(now.Add(-2*24*time.Hour), "expired"), event(now, "fresh"))
	must(t, "PutLogEvents after retention", err)
	if r := res.RejectedLogEventsInfo; r == nil || aws.ToInt32(r.ExpiredLogEventEndIndex) != 0 || r.TooOldLogEventEndIndex != nil {
		t.Errorf("rejected %+v, want expired up to 0", r)
	}
	waitForEvents(t, c, group, stream, 8)
	sent = append(sent, "fresh")
	groups, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(group)})
	must(t, "DescribeLogGroups", err)
	if len(groups.LogGroups) != 1 || aws.ToInt32(groups.LogGroups[0].RetentionInDays) != 1 || *groups.LogGroups[0].Arn != "arn:aws:logs:eu-west-1:000000000000:log-group:cruddur:*" {
		t.Errorf("group %+v", groups.LogGroups)
	}
	_, err = c.DeleteRetentionPolicy(ctx, &cloudwatchlogs.DeleteRetentionPolicyInput{LogGroupName: aws.String(group)})
	must(t, "DeleteRetentionPolicy", err)

	// GetLogEvents: newest page first, forward paging that ends on the same token, bounds.
	page, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), Limit: aws.Int32(3)})
	must(t, "GetLogEvents", err)
	if msgs := messages(page.Events); !slices.Equal(msgs, sent[5:]) {
		t.Errorf("newest page %q, want %q", msgs, sent[5:])
	}
	var all []string
	token := ""
	for calls := 0; ; calls++ {
		in := &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), Limit: aws.Int32(3), StartFromHead: aws.Bool(true)}
		if token != "" {
			in.NextToken = aws.String(token)
		}
		page, err := c.GetLogEvents(ctx, in)
		must(t, "GetLogEvents forward", err)
		all = append(all, messages(page.Events)...)
		if *page.NextForwardToken == token || calls > 10 {
			break
		}
		token = *page.NextForwardToken
	}
	if !slices.Equal(all, sent) {
		t.Errorf("paged forward %q, want %q", all, sent)
	}
	again, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), NextToken: aws.String(token)})
	must(t, "GetLogEvents at the end", err)
	if len(again.Events) != 0 || *again.NextForwardToken != token {
		t.Errorf("at the end: %d events, token %s, want the token passed in", len(again.Events), *again.NextForwardToken)
	}
	bounded, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream),
		StartTime: batch[1].Timestamp, EndTime: batch[4].Timestamp, StartFromHead: aws.Bool(true)})
	must(t, "GetLogEvents in a range", err)
	if msgs := messages(bounded.Events); !slices.Equal(msgs, sent[1:4]) {
		t.Errorf("start inclusive, end exclusive: %q, want %q", msgs, sent[1:4])
	}
	_, err = c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), NextToken: aws.String("f/123")})
	mustCode(t, "a token lookout never gave", err, "InvalidParameterException")
	_, err = c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("nope")})
	mustCode(t, "GetLogEvents of a missing stream", err, "ResourceNotFoundException")

	// FilterLogEvents: inclusive end, patterns, stable event ids, a token until the end.
	filtered, err := c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group),
		StartTime: batch[1].Timestamp, EndTime: batch[4].Timestamp})
	must(t, "FilterLogEvents", err)
	if msgs := messages2(filtered.Events); !slices.Equal(msgs, sent[1:5]) || filtered.NextToken != nil {
		t.Errorf("filtered %q (token %v), want %q and no token", msgs, filtered.NextToken, sent[1:5])
	}
	var ids []string
	var paged []string
	var next *string
	for calls := 0; calls < 10; calls++ {
		p, err := c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(`"GET /api" -"[3]"`),
			Limit: aws.Int32(2), NextToken: next})
		must(t, "FilterLogEvents paged", err)
		paged = append(paged, messages2(p.Events)...)
		for _, e := range p.Events {
			ids = append(ids, *e.EventId)
		}
		if next = p.NextToken; next == nil {
			break
		}
	}
	want := slices.DeleteFunc(slices.Clone(sent[:7]), func(s string) bool { return strings.HasPrefix(s, "[3]") })
	if !slices.Equal(paged, want) {
		t.Errorf("filter pattern, paged: %q, want %q", paged, want)
	}
	again2, err := c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(`"GET /api" -"[3]"`)})
	must(t, "FilterLogEvents again", err)
	for i, e := range again2.Events {
		if *e.EventId != ids[i] || len(ids[i]) != 56 {
			t.Errorf("event id %d: %s, then %s", i, ids[i], *e.EventId)
		}
	}
	_, err = c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), LogStreamNames: []string{stream}, LogStreamNamePrefix: aws.String("h1")})
	mustCode(t, "stream names and a prefix", err, "InvalidParameterException")
	_, err = c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(`{ $.a = `)})
	mustCode(t, "a broken pattern", err, "InvalidParameterException")

	// Describe*: prefixes, order, paging.
	for _, g := range []string{"cruddur-b", "cruddur-a", "other"} {
		_, err = c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(g)})
		must(t, "CreateLogGroup", err)
	}
	var names []string
	pager := cloudwatchlogs.NewDescribeLogGroupsPaginator(c, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("cruddur"), Limit: aws.Int32(1)})
	for pager.HasMorePages() {
		p, err := pager.NextPage(ctx)
		must(t, "DescribeLogGroups page", err)
		for _, g := range p.LogGroups {
			names = append(names, *g.LogGroupName)
		}
	}
	if want := []string{"cruddur", "cruddur-a", "cruddur-b"}; !slices.Equal(names, want) {
		t.Errorf("groups paged %q, want %q", names, want)
	}
	_, err = c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("a"), LogGroupNamePattern: aws.String("b")})
	mustCode(t, "prefix and pattern", err, "InvalidParameterException")
	_, err = c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String("a-empty")})
	must(t, "CreateLogStream", err)
	streams, err := c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(group), OrderBy: types.OrderByLastEventTime, Descending: aws.Bool(true)})
	must(t, "DescribeLogStreams", err)
	if len(streams.LogStreams) != 2 || *streams.LogStreams[0].LogStreamName != stream || *streams.LogStreams[0].LastEventTimestamp != now.UnixMilli() ||
		*streams.LogStreams[0].FirstEventTimestamp != *batch[0].Timestamp || streams.LogStreams[1].LastEventTimestamp != nil {
		t.Errorf("streams by last event: %+v", streams.LogStreams)
	}
	_, err = c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(group), OrderBy: types.OrderByLastEventTime, LogStreamNamePrefix: aws.String("h")})
	mustCode(t, "LastEventTime with a prefix", err, "InvalidParameterException")
	_, err = c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupIdentifier: aws.String("arn:aws:logs:eu-west-1:000000000000:log-group:nope")})
	mustCode(t, "streams of a missing group", err, "ResourceNotFoundException")

	// Tags, by ARN and by name.
	arn := "arn:aws:logs:eu-west-1:000000000000:log-group:cruddur"
	_, err = c.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"app": "cruddur", "env": "dev"}})
	must(t, "TagResource", err)
	_, err = c.UntagResource(ctx, &cloudwatchlogs.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"env"}})
	must(t, "UntagResource", err)
	tags, err := c.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	must(t, "ListTagsForResource", err)
	//lint:ignore SA1019 the legacy tag calls are still made by clients such as watchtower
	legacy, err := c.ListTagsLogGroup(ctx, &cloudwatchlogs.ListTagsLogGroupInput{LogGroupName: aws.String(group)})
	must(t, "ListTagsLogGroup", err)
	if len(tags.Tags) != 1 || tags.Tags["app"] != "cruddur" || len(legacy.Tags) != 1 {
		t.Errorf("tags %v, legacy %v", tags.Tags, legacy.Tags)
	}
	tooMany := map[string]string{}
	for i := range 50 {
		tooMany[fmt.Sprint("k", i)] = "v"
	}
	_, err = c.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: aws.String(arn), Tags: tooMany})
	mustCode(t, "51 tags", err, "TooManyTagsException")

	// Deletes.
	_, err = c.DeleteLogStream(ctx, &cloudwatchlogs.DeleteLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String("a-empty")})
	must(t, "DeleteLogStream", err)
	_, err = c.DeleteLogStream(ctx, &cloudwatchlogs.DeleteLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String("a-empty")})
	mustCode(t, "DeleteLogStream again", err, "ResourceNotFoundException")
	_, err = c.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(group)})
	must(t, "DeleteLogGroup", err)
	_, err = c.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(group)})
	mustCode(t, "DeleteLogGroup again", err, "ResourceNotFoundException")
}

func messages(events []types.OutputLogEvent) []string {
	var out []string
	for _, e := range events {
		out = append(out, *e.Message)
	}
	return out
}

func messages2(events []types.FilteredLogEvent) []string {
	var out []string
	for _, e := range events {
		out = append(out, *e.Message)
	}
	return out
}
