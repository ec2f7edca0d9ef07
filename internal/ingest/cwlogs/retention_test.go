package cwlogs_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"lookout/internal/server"
)

// TestRetentionExpiresRecords: records that reach a group past its retention (OTLP records
// carry any time) are removed by the server's retention loop.
func TestRetentionExpiresRecords(t *testing.T) {
	l := start(t, func(c *server.Config) { c.RetentionEvery = 100 * time.Millisecond })
	c := client(l, "test", "test")
	ctx := context.Background()
	must(t, "CreateLogGroup", second(c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("svc")})))
	must(t, "PutRetentionPolicy", second(c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("svc"), RetentionInDays: aws.Int32(1)})))
	now := time.Now()
	body := fmt.Sprintf(`{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},
		"scopeLogs":[{"logRecords":[{"timeUnixNano":"%d","body":{"stringValue":"two days old"}},{"timeUnixNano":"%d","body":{"stringValue":"fresh"}}]}]}]}`,
		now.Add(-48*time.Hour).UnixNano(), now.UnixNano())
	resp, err := http.Post(l.endpoint()+"/v1/logs", "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("OTLP export: %v %v", err, resp)
	}
	resp.Body.Close()
	var got []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		out, err := c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("svc")})
		must(t, "FilterLogEvents", err)
		if got = messages2(out.Events); slices.Equal(got, []string{"fresh"}) {
			return
		}
	}
	t.Errorf("group holds %q, want only the fresh record", got)
}
