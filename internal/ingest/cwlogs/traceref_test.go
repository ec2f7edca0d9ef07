package cwlogs_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// TestLogLinesLinkToTraces: a PutLogEvents line that mentions a trace (traceparent, X-Ray
// root) is found by that trace id, as the trace page asks for its logs.
func TestLogLinesLinkToTraces(t *testing.T) {
	l := start(t)
	c := client(l, "test", "test")
	ctx := context.Background()
	must(t, "CreateLogGroup", second(c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("g")})))
	must(t, "CreateLogStream", second(c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s")})))
	now := time.Now()
	lines := map[string]string{
		"4bf92f3577b34da6a3ce929d0e0e4736": `{"msg":"charge failed","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}`,
		"5759e988bd862e3fe1be46a994272793": `GET /api/home 500 Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8`,
	}
	var events []types.InputLogEvent
	for _, m := range lines {
		events = append(events, event(now, m))
	}
	events = append(events, event(now, "no trace here"))
	must(t, "PutLogEvents", second(c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), LogEvents: events})))
	waitForEvents(t, c, "g", "s", 3)
	for trace, line := range lines {
		resp, err := http.Get("http://" + l.Addrs().UI + "/api/v1/logs?lookback=1h&traceID=" + trace)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Data []struct{ Body, TraceID string }
		}
		json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if len(got.Data) != 1 || got.Data[0].Body != line || got.Data[0].TraceID != trace {
			t.Errorf("logs of trace %s: %+v, want %s", trace, got.Data, line)
		}
	}
}
