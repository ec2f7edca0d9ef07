package cwlogs

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"lookout/internal/logsearch"
	"lookout/internal/sources"
	"lookout/internal/telemetry"
)

// PutLogEvents' limits, as AWS sets them.
const (
	maxBatchEvents   = 10_000
	maxBatchBytes    = 1_048_576 // messages in UTF-8 plus eventOverhead each
	eventOverhead    = 26
	maxFuture        = 2 * time.Hour
	maxAge           = 14 * 24 * time.Hour
	maxBatchDuration = 24 * time.Hour
)

// putInput is a decoded PutLogEvents request.
type putInput struct {
	LogGroupName  string       `json:"logGroupName"`
	LogStreamName string       `json:"logStreamName"`
	LogEvents     []inputEvent `json:"logEvents"`
	// sequenceToken is ignored, as AWS now ignores it.
}

type inputEvent struct {
	Timestamp *int64  `json:"timestamp"`
	Message   *string `json:"message"`
}

// parsePut decodes and validates a PutLogEvents request as far as it can without the store.
func parsePut(body []byte) (*putInput, error) {
	in, ok := decodePut(body)
	if !ok {
		in = &putInput{}
		if err := decode(body, in); err != nil {
			return nil, err
		}
	}
	if err := checkGroupName("logGroupName", in.LogGroupName); err != nil {
		return nil, err
	}
	if err := checkStreamName("logStreamName", in.LogStreamName); err != nil {
		return nil, err
	}
	if n := len(in.LogEvents); n < 1 || n > maxBatchEvents {
		return nil, validation("logEvents", n, "have length between 1 and 10000")
	}
	size := 0
	for i, e := range in.LogEvents {
		switch {
		case e.Timestamp == nil:
			return nil, validation("logEvents."+strconv.Itoa(i+1)+".member.timestamp", "null", "not be null")
		case *e.Timestamp < 0:
			return nil, validation("logEvents."+strconv.Itoa(i+1)+".member.timestamp", *e.Timestamp, "have value greater than or equal to 0")
		case e.Message == nil:
			return nil, validation("logEvents."+strconv.Itoa(i+1)+".member.message", "null", "not be null")
		case *e.Message == "":
			return nil, validation("logEvents."+strconv.Itoa(i+1)+".member.message", "", "have length greater than or equal to 1")
		}
		size += len(*e.Message) + eventOverhead
	}
	if size > maxBatchBytes {
		return nil, invalidParameter("Upload too large: %d bytes exceeds limit of %d", size, maxBatchBytes)
	}
	return in, nil
}

// rejectedInfo says which events of a batch were refused, by index.
type rejectedInfo struct {
	TooNewLogEventStartIndex *int `json:"tooNewLogEventStartIndex,omitempty"`
	TooOldLogEventEndIndex   *int `json:"tooOldLogEventEndIndex,omitempty"`
	ExpiredLogEventEndIndex  *int `json:"expiredLogEventEndIndex,omitempty"`
}

// admit checks a batch's order and returns the range [lo, hi) of its events that are
// stored: those more than 2 hours ahead of now are too new (a suffix: the batch is in
// order), those older than 14 days too old and those older than the group's retention
// expired (prefixes). AWS's indexes for the prefixes name their last event, for the suffix
// its first.
func admit(events []inputEvent, now time.Time, retentionDays int) (lo, hi int, info *rejectedInfo, err error) {
	for i := 1; i < len(events); i++ {
		if *events[i].Timestamp < *events[i-1].Timestamp {
			return 0, 0, nil, invalidParameter("Log events in a single PutLogEvents request must be in chronological order.")
		}
	}
	ms := func(i int) int64 { return *events[i].Timestamp }
	newest := now.Add(maxFuture).UnixMilli()
	oldest := now.Add(-maxAge).UnixMilli()
	expiry := int64(-1)
	if retentionDays > 0 {
		expiry = now.Add(-time.Duration(retentionDays) * 24 * time.Hour).UnixMilli()
	}
	hi = len(events)
	for hi > 0 && ms(hi-1) > newest {
		hi--
	}
	tooOld, expired := -1, -1
	for i := 0; i < hi && ms(i) < oldest; i++ {
		tooOld = i
	}
	for i := 0; i < hi && ms(i) < expiry; i++ {
		expired = i
	}
	lo = max(tooOld, expired) + 1
	if hi < len(events) || tooOld >= 0 || expired >= 0 {
		info = &rejectedInfo{}
		if hi < len(events) {
			info.TooNewLogEventStartIndex = &hi
		}
		if tooOld >= 0 {
			info.TooOldLogEventEndIndex = &tooOld
		}
		if expired >= 0 {
			info.ExpiredLogEventEndIndex = &expired
		}
	}
	if lo < hi && ms(hi-1)-ms(lo) > maxBatchDuration.Milliseconds() {
		return 0, 0, nil, invalidParameter("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
	}
	return lo, max(lo, hi), info, nil
}

func (h *Handler) putLogEvents(ctx context.Context, req *request) (any, error) {
	in, err := parsePut(req.body)
	if err != nil {
		return nil, err
	}
	group, stream := in.LogGroupName, in.LogStreamName
	now := h.now()
	retention, found, err := h.known.streamRetention(ctx, group, stream, now)
	if err != nil {
		return nil, storeError(err, errGroupNotFound, nil)
	}
	if !found {
		if h.groupMissing(ctx, group) {
			return nil, errGroupNotFound
		}
		// watchtower creates its streams on this answer; the note tells people why the
		// group is empty if nothing does.
		if err := h.store.NoteMissingStream(ctx, group, stream, now); err != nil {
			h.log.Warn("cannot note a write to a missing log stream", "err", err)
		}
		sources.Observe(ctx).Expected() // watchtower's way of creating a stream, not a fault
		return nil, errStreamNotFound
	}
	lo, hi, info, err := admit(in.LogEvents, now, retention)
	if err != nil {
		return nil, err
	}
	if records := toRecords(in, lo, hi, now); len(records) > 0 {
		if err := h.sink.Write(ctx, records); err != nil {
			return nil, &sinkError{err}
		}
		noteLateBatch(ctx, group, stream, now.Sub(time.Unix(0, records[0].TimeUnixNano)))
	}
	return struct {
		Rejected *rejectedInfo `json:"rejectedLogEventsInfo,omitempty"`
	}{info}, nil
}

// lateBatch is how long after its first event a batch arrives before the sources page says so.
const lateBatch = 30 * time.Second

// noteLateBatch tells the sources page when a batch's first event waited longer than
// lateBatch: lines that show up a minute after they happened look lost.
func noteLateBatch(ctx context.Context, group, stream string, waited time.Duration) {
	if waited < lateBatch {
		return
	}
	sources.Observe(ctx).Warn("log group "+group, "late-batches", fmt.Sprintf(
		"Log stream %s of %s sends its lines in batches that arrive up to %s after their first line was written. "+
			"watchtower holds a batch for send_interval, 60 seconds by default: set send_interval=1 (or a smaller "+
			"interval in your handler) to see lines as they happen.", stream, group, waited.Round(time.Second)))
}

// toRecords turns events [lo, hi) of a batch into log records.
func toRecords(in *putInput, lo, hi int, now time.Time) []telemetry.LogRecord {
	if lo >= hi {
		return nil
	}
	res := &telemetry.Resource{Attributes: telemetry.Attributes{
		{Key: telemetry.ServiceNameKey, Value: telemetry.StringValue(in.LogGroupName)},
	}}
	records := make([]telemetry.LogRecord, hi-lo)
	for i := range records {
		e := in.LogEvents[lo+i]
		r := &records[i]
		r.TimeUnixNano, r.ObservedTimeUnixNano = *e.Timestamp*int64(time.Millisecond), now.UnixNano()
		r.Body = telemetry.StringValue(*e.Message)
		r.Resource, r.Group, r.Stream = res, in.LogGroupName, in.LogStreamName
		r.TraceID, r.SpanID, _ = logsearch.TraceRef(*e.Message) // links the line to its trace
		r.Ingest = telemetry.IngestInfo{Protocol: Protocol}
	}
	return records
}
