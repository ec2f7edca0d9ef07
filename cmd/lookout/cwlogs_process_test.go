package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

func logsClient(p *process) *cloudwatchlogs.Client {
	return cloudwatchlogs.New(cloudwatchlogs.Options{
		Region: "eu-west-1", BaseEndpoint: aws.String("http://" + p.http), RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, nil
		}),
	})
}

// TestCrashKeepsAcknowledgedPutLogEvents kills lookout with SIGKILL while the AWS SDK for Go
// sends PutLogEvents, restarts it on the same data, and reads every acknowledged batch back
// with GetLogEvents, in its group and stream.
func TestCrashKeepsAcknowledgedPutLogEvents(t *testing.T) {
	data := t.TempDir()
	p := launch(t, data)
	ctx := context.Background()
	c := logsClient(p)
	const group, stream, perBatch = "cruddur", "host//usr/local/bin/flask/app/1", 100
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		acked = map[string]bool{}
		wg    sync.WaitGroup
	)
	deadline := time.Now().Add(1500 * time.Millisecond)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; time.Now().Before(deadline); n++ {
				batch := fmt.Sprintf("w%d-b%d", w, n)
				events := make([]types.InputLogEvent, perBatch)
				at := time.Now().UnixMilli()
				for i := range events {
					events[i] = types.InputLogEvent{Timestamp: aws.Int64(at), Message: aws.String(batch + " GET /api/activities/home 200 OK")}
				}
				_, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: events})
				if err == nil {
					mu.Lock()
					acked[batch] = true
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	if len(acked) < 4 {
		t.Fatalf("only %d batches were acknowledged before the kill; stderr:\n%s", len(acked), p.stderr)
	}

	restarted := launch(t, data)
	waitReady(t, restarted)
	c = logsClient(restarted)
	count := map[string]int{}
	token := ""
	for {
		in := &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)}
		if token != "" {
			in.NextToken = aws.String(token)
		}
		out, err := c.GetLogEvents(ctx, in)
		if err != nil {
			t.Fatalf("GetLogEvents after restart: %v", err)
		}
		for _, e := range out.Events {
			batch, _, _ := strings.Cut(*e.Message, " ")
			count[batch]++
		}
		if *out.NextForwardToken == token {
			break
		}
		token = *out.NextForwardToken
	}
	for batch := range acked {
		if count[batch] != perBatch {
			t.Errorf("batch %s (acknowledged before the kill) has %d events after restart, want %d", batch, count[batch], perBatch)
		}
	}
	t.Logf("%d acknowledged PutLogEvents batches (%d events) all present after kill -9", len(acked), len(acked)*perBatch)
}
