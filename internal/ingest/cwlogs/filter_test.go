package cwlogs_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// TestFilterPagesAcrossWindows pages with the AWS SDK for Go through a group of 30,000
// lines, more than FilterLogEvents' first time window holds, both ways, and checks that
// every matching line comes once, in order.
func TestFilterPagesAcrossWindows(t *testing.T) {
	l := start(t)
	c := client(l, "test", "test")
	ctx := context.Background()
	must(t, "CreateLogGroup", second(c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("g")})))
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	var want []string // every 1000th line says ERROR
	for s := range 3 {
		stream := fmt.Sprintf("s%d", s)
		must(t, "CreateLogStream", second(c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String(stream)})))
		var events []types.InputLogEvent
		for i := range 10_000 {
			n := s*10_000 + i
			level := "INFO"
			if n%1000 == 999 {
				level = "ERROR"
				want = append(want, fmt.Sprintf("line %d %s", n, level))
			}
			events = append(events, event(base.Add(time.Duration(n)*time.Millisecond), fmt.Sprintf("line %d %s", n, level)))
		}
		must(t, "PutLogEvents", second(c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String(stream), LogEvents: events})))
		waitForEvents(t, c, "g", stream, 10_000)
	}
	all, err := c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g"), FilterPattern: aws.String("ERROR")})
	must(t, "FilterLogEvents", err)
	if got := messages2(all.Events); !slices.Equal(got, want) || all.NextToken != nil {
		t.Errorf("one page: %d events (token %v), want %d and no token", len(got), all.NextToken, len(want))
	}
	for _, fromHead := range []bool{true, false} {
		var got []string
		in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g"), FilterPattern: aws.String("ERROR"), Limit: aws.Int32(7),
			StartFromHead: aws.Bool(fromHead), StartTime: aws.Int64(base.Add(-time.Second).UnixMilli())}
		for pages := 0; ; pages++ {
			page, err := c.FilterLogEvents(ctx, in)
			must(t, "FilterLogEvents paged", err)
			got = append(got, messages2(page.Events)...)
			if in.NextToken = page.NextToken; in.NextToken == nil || pages > 20 {
				break
			}
		}
		expected := slices.Clone(want)
		if !fromHead {
			slices.Reverse(expected)
		}
		if !slices.Equal(got, expected) {
			t.Errorf("startFromHead %v: paged %q, want %q", fromHead, got, expected)
		}
	}
}
