package cwlogs

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// fakeLogs records calls and answers as CloudWatch Logs does for a group and stream that do
// not exist yet.
type fakeLogs struct {
	mu      sync.Mutex
	calls   []string
	groups  map[string]bool
	streams map[string]bool
	batches [][]types.InputLogEvent
}

func (f *fakeLogs) record(call string) { f.mu.Lock(); f.calls = append(f.calls, call); f.mu.Unlock() }

func (f *fakeLogs) DescribeLogGroups(_ context.Context, in *cloudwatchlogs.DescribeLogGroupsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error) {
	f.record("DescribeLogGroups " + *in.LogGroupNamePrefix)
	out := &cloudwatchlogs.DescribeLogGroupsOutput{}
	for g := range f.groups {
		if strings.HasPrefix(g, *in.LogGroupNamePrefix) {
			out.LogGroups = append(out.LogGroups, types.LogGroup{LogGroupName: aws.String(g)})
		}
	}
	return out, nil
}

func (f *fakeLogs) CreateLogGroup(_ context.Context, in *cloudwatchlogs.CreateLogGroupInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error) {
	f.record("CreateLogGroup " + *in.LogGroupName)
	f.groups[*in.LogGroupName] = true
	return &cloudwatchlogs.CreateLogGroupOutput{}, nil
}

func (f *fakeLogs) CreateLogStream(_ context.Context, in *cloudwatchlogs.CreateLogStreamInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogStreamOutput, error) {
	f.record("CreateLogStream " + *in.LogStreamName)
	f.streams[*in.LogStreamName] = true
	return &cloudwatchlogs.CreateLogStreamOutput{}, nil
}

func (f *fakeLogs) PutLogEvents(_ context.Context, in *cloudwatchlogs.PutLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error) {
	f.record(fmt.Sprintf("PutLogEvents %d", len(in.LogEvents)))
	if !f.streams[*in.LogStreamName] {
		return nil, &types.ResourceNotFoundException{Message: aws.String("The specified log stream does not exist.")}
	}
	f.mu.Lock()
	f.batches = append(f.batches, in.LogEvents)
	f.mu.Unlock()
	return &cloudwatchlogs.PutLogEventsOutput{}, nil
}

func newFake() *fakeLogs {
	return &fakeLogs{groups: map[string]bool{"cruddur-old": true}, streams: map[string]bool{}}
}

func TestShipperFollowsWatchtowersCallSequence(t *testing.T) {
	f := newFake()
	s := NewShipper(f, "cruddur", "host/app/app/1", time.Hour, nil)
	base := time.UnixMilli(1_700_000_000_000)
	// Out of order: PutLogEvents wants them sorted.
	s.Add(base.Add(2*time.Millisecond), "second")
	s.Add(base, "first")
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"DescribeLogGroups cruddur", "CreateLogGroup cruddur", "PutLogEvents 2", "CreateLogStream host/app/app/1", "PutLogEvents 2"}
	if fmt.Sprint(f.calls) != fmt.Sprint(want) {
		t.Fatalf("calls %v, want %v", f.calls, want)
	}
	got := f.batches[0]
	if *got[0].Message != "first" || *got[1].Message != "second" || *got[0].Timestamp != base.UnixMilli() {
		t.Fatalf("batch %v %v", *got[0].Message, *got[1].Message)
	}
}

func TestShipperSplitsAtServiceLimits(t *testing.T) {
	f := newFake()
	f.groups["cruddur"], f.streams["s"] = true, true
	s := NewShipper(f, "cruddur", "s", time.Hour, nil)
	now := time.Now()
	for range maxBatchEvents + 5 {
		s.Add(now, "x")
	}
	big := strings.Repeat("y", 300<<10)
	for range 4 {
		s.Add(now, big)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, b := range f.batches {
		size := 0
		for _, e := range b {
			size += len(*e.Message) + eventOverhead
		}
		if len(b) > maxBatchEvents || size > maxBatchBytes {
			t.Fatalf("batch of %d events, %d bytes", len(b), size)
		}
		total += len(b)
	}
	if total != maxBatchEvents+9 {
		t.Fatalf("%d events sent, want %d", total, maxBatchEvents+9)
	}
}

func TestShipperSendsEveryInterval(t *testing.T) {
	f := newFake()
	f.groups["cruddur"], f.streams["s"] = true, true
	s := NewShipper(f, "cruddur", "s", time.Hour, nil)
	defer s.Close(context.Background())
	h := slog.New(NewHandler(s, slog.LevelInfo, func(context.Context) []slog.Attr { return []slog.Attr{slog.String("trace_id", "abc")} }))
	h.Debug("dropped below the level")
	h.With("user", "andrew").Info("hello", "n", 3)
	time.Sleep(600 * time.Millisecond)
	f.mu.Lock()
	n := len(f.batches)
	f.mu.Unlock()
	if n != 0 {
		t.Fatalf("sent before the interval")
	}
	s.SetInterval(100 * time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		f.mu.Lock()
		n = len(f.batches)
		f.mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n != 1 || len(f.batches[0]) != 1 {
		t.Fatalf("batches %v", f.batches)
	}
	if got, want := *f.batches[0][0].Message, "hello user=andrew n=3 trace_id=abc"; got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
}
