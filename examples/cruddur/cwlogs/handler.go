// Package cwlogs is a log/slog handler that ships records to CloudWatch Logs as Python's
// watchtower handler does: one group, one stream per process named {host}/{program}/app/{pid},
// events batched and sent every interval (watchtower waits 60 s), at 10,000 events or 1 MiB,
// or on Close; the group looked up and created at the first send, the stream created only when
// a PutLogEvents fails because it is missing.
package cwlogs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// API is the part of the CloudWatch Logs client the handler calls.
type API interface {
	DescribeLogGroups(context.Context, *cloudwatchlogs.DescribeLogGroupsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error)
	CreateLogGroup(context.Context, *cloudwatchlogs.CreateLogGroupInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error)
	CreateLogStream(context.Context, *cloudwatchlogs.CreateLogStreamInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogStreamOutput, error)
	PutLogEvents(context.Context, *cloudwatchlogs.PutLogEventsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error)
}

// A batch's limits, as CloudWatch Logs sets them; an event counts its message and 26 bytes.
const (
	maxBatchEvents = 10_000
	maxBatchBytes  = 1 << 20
	eventOverhead  = 26
	// maxQueued bounds memory when the service is unreachable: older events are dropped.
	maxQueued = 10 * maxBatchEvents
)

// DefaultInterval is watchtower's send interval.
const DefaultInterval = 60 * time.Second

// StreamName is watchtower's default stream name for this process.
func StreamName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%s/app/%d", host, filepath.Base(os.Args[0]), os.Getpid())
}

// Shipper queues events and sends them in batches. It is safe for concurrent use.
type Shipper struct {
	api           API
	group, stream string
	interval      atomic.Int64 // nanoseconds
	onError       func(error)

	mu    sync.Mutex
	queue []types.InputLogEvent
	bytes int
	full  chan struct{}

	sendMu       sync.Mutex // one send at a time, in order
	groupChecked bool

	stop chan struct{}
	done chan struct{}
}

// NewShipper starts a shipper sending to group and stream every interval; onError (may be nil)
// hears about failed sends.
func NewShipper(api API, group, stream string, interval time.Duration, onError func(error)) *Shipper {
	s := &Shipper{api: api, group: group, stream: stream, onError: onError,
		full: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	s.SetInterval(interval)
	go s.run()
	return s
}

// SetInterval changes how long events wait before they are sent.
func (s *Shipper) SetInterval(d time.Duration) { s.interval.Store(int64(d)) }

// Add queues one event.
func (s *Shipper) Add(t time.Time, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) >= maxQueued {
		s.bytes -= len(*s.queue[0].Message) + eventOverhead
		s.queue = s.queue[1:]
	}
	s.queue = append(s.queue, types.InputLogEvent{Timestamp: aws.Int64(t.UnixMilli()), Message: aws.String(message)})
	s.bytes += len(message) + eventOverhead
	if len(s.queue) >= maxBatchEvents || s.bytes >= maxBatchBytes {
		select {
		case s.full <- struct{}{}:
		default:
		}
	}
}

// Close sends what is queued and stops.
func (s *Shipper) Close(ctx context.Context) error {
	close(s.stop)
	<-s.done
	return s.Flush(ctx)
}

func (s *Shipper) run() {
	defer close(s.done)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case <-s.stop:
			return
		case <-s.full:
		case now := <-tick.C:
			if now.Sub(last) < time.Duration(s.interval.Load()) {
				continue
			}
		}
		last = time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := s.Flush(ctx); err != nil && s.onError != nil {
			s.onError(err)
		}
		cancel()
	}
}

// Flush sends every queued event now, in batches within CloudWatch Logs' limits.
func (s *Shipper) Flush(ctx context.Context) error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	s.mu.Lock()
	events := s.queue
	s.queue, s.bytes = nil, 0
	s.mu.Unlock()
	if len(events) == 0 {
		return nil
	}
	if err := s.ensureGroup(ctx); err != nil {
		return err
	}
	slices.SortStableFunc(events, func(a, b types.InputLogEvent) int { return cmp.Compare(*a.Timestamp, *b.Timestamp) })
	for len(events) > 0 {
		n, size := 0, 0
		for n < len(events) && n < maxBatchEvents && size+len(*events[n].Message)+eventOverhead <= maxBatchBytes {
			size += len(*events[n].Message) + eventOverhead
			n++
		}
		n = max(n, 1)
		if err := s.put(ctx, events[:n]); err != nil {
			return err
		}
		events = events[n:]
	}
	return nil
}

// ensureGroup looks the group up once and creates it when missing.
func (s *Shipper) ensureGroup(ctx context.Context) error {
	if s.groupChecked {
		return nil
	}
	out, err := s.api.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(s.group)})
	if err != nil {
		return fmt.Errorf("describe log groups: %w", err)
	}
	if !slices.ContainsFunc(out.LogGroups, func(g types.LogGroup) bool { return aws.ToString(g.LogGroupName) == s.group }) {
		_, err := s.api.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(s.group)})
		var exists *types.ResourceAlreadyExistsException
		if err != nil && !errors.As(err, &exists) {
			return fmt.Errorf("create log group: %w", err)
		}
	}
	s.groupChecked = true
	return nil
}

// put sends one batch, creating the stream when the service says it is missing.
func (s *Shipper) put(ctx context.Context, batch []types.InputLogEvent) error {
	in := &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(s.group), LogStreamName: aws.String(s.stream), LogEvents: batch}
	_, err := s.api.PutLogEvents(ctx, in)
	var missing *types.ResourceNotFoundException
	if errors.As(err, &missing) {
		_, err = s.api.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: in.LogGroupName, LogStreamName: in.LogStreamName})
		var exists *types.ResourceAlreadyExistsException
		if err != nil && !errors.As(err, &exists) {
			return fmt.Errorf("create log stream: %w", err)
		}
		_, err = s.api.PutLogEvents(ctx, in)
	}
	if err != nil {
		return fmt.Errorf("put log events: %w", err)
	}
	return nil
}

// Handler is a slog.Handler writing each record's message, then its attributes as key=value, to
// a Shipper, as a Python logger with watchtower's handler and a "%(message)s" format would.
type Handler struct {
	shipper *Shipper
	level   slog.Leveler
	attrs   string
	// contextAttrs adds attributes taken from a record's context (a trace id).
	contextAttrs func(context.Context) []slog.Attr
}

// NewHandler returns a handler of records at level or above; contextAttrs may be nil.
func NewHandler(s *Shipper, level slog.Leveler, contextAttrs func(context.Context) []slog.Attr) *Handler {
	return &Handler{shipper: s, level: level, contextAttrs: contextAttrs}
}

func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool { appendAttr(&b, a); return true })
	if h.contextAttrs != nil {
		for _, a := range h.contextAttrs(ctx) {
			appendAttr(&b, a)
		}
	}
	h.shipper.Add(r.Time, b.String())
	return nil
}

func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range attrs {
		appendAttr(&b, a)
	}
	c := *h
	c.attrs = b.String()
	return &c
}

// WithGroup is accepted and ignored: messages are flat text.
func (h *Handler) WithGroup(string) slog.Handler { return h }

func appendAttr(b *strings.Builder, a slog.Attr) {
	if a.Equal(slog.Attr{}) {
		return
	}
	fmt.Fprintf(b, " %s=%v", a.Key, a.Value.Resolve())
}
