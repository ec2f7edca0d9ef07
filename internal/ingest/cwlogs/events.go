package cwlogs

import (
	"context"
	"math"
	"slices"
	"time"

	"lookout/internal/logsearch"
	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// Reading events back: GetLogEvents (one stream, tokens both ways) and FilterLogEvents (a
// group, a filter pattern, one token onwards).

const (
	maxPageEvents = 10_000
	maxPageBytes  = 1 << 20 // GetLogEvents answers at most this much message text
)

func keyOf(r *telemetry.LogRecord) store.LogKey {
	return store.LogKey{TimeUnixNano: r.TimeUnixNano, ID: r.ID}
}

// timeArg is an optional epoch-milliseconds member as a time (zero when absent).
func timeArg(ms *int64) time.Time {
	if ms == nil {
		return time.Time{}
	}
	return time.UnixMilli(*ms)
}

type outputEvent struct {
	LogStreamName string `json:"logStreamName,omitempty"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId,omitempty"`
}

func (h *Handler) getLogEvents(ctx context.Context, req *request) (any, error) {
	var in struct {
		LogGroupName       string `json:"logGroupName"`
		LogGroupIdentifier string `json:"logGroupIdentifier"`
		LogStreamName      string `json:"logStreamName"`
		StartTime          *int64 `json:"startTime"`
		EndTime            *int64 `json:"endTime"`
		NextToken          string `json:"nextToken"`
		Limit              *int   `json:"limit"`
		StartFromHead      bool   `json:"startFromHead"`
	}
	if err := decode(req.body, &in); err != nil {
		return nil, err
	}
	group, err := groupOf(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if err := checkStreamName("logStreamName", in.LogStreamName); err != nil {
		return nil, err
	}
	limit, err := checkLimit(in.Limit, maxPageEvents, maxPageEvents)
	if err != nil {
		return nil, err
	}
	dir := backward // the newest page first, unless asked otherwise
	if in.StartFromHead {
		dir = forward
	}
	var cursor *store.LogKey
	if in.NextToken != "" {
		d, k, ok := parseKeyToken(in.NextToken)
		if !ok {
			return nil, errBadToken
		}
		dir, cursor = d, &k
	}
	if err := h.streamExists(ctx, group, in.LogStreamName); err != nil {
		return nil, err
	}
	records, err := h.store.Logs(ctx, store.LogQuery{Group: group, Stream: in.LogStreamName,
		Start: timeArg(in.StartTime), End: timeArg(in.EndTime), After: cursor, Limit: limit, Descending: dir == backward})
	if err != nil {
		return nil, err
	}
	records = withinBytes(records, maxPageBytes)
	if dir == backward {
		slices.Reverse(records)
	}
	out := struct {
		Events            []outputEvent `json:"events"`
		NextForwardToken  string        `json:"nextForwardToken"`
		NextBackwardToken string        `json:"nextBackwardToken"`
	}{Events: make([]outputEvent, len(records))}
	for i := range records {
		r := &records[i]
		out.Events[i] = outputEvent{Timestamp: r.TimeUnixNano / 1e6, Message: r.Body.AsString(), IngestionTime: r.ObservedTimeUnixNano / 1e6}
	}
	switch {
	case len(records) > 0:
		out.NextForwardToken = keyToken(forward, keyOf(&records[len(records)-1]))
		out.NextBackwardToken = keyToken(backward, keyOf(&records[0]))
	case cursor == nil:
		out.NextForwardToken, out.NextBackwardToken = keyToken(forward, firstKey), keyToken(backward, lastKey)
	case dir == forward: // the end: the same token again, which is how clients know
		out.NextForwardToken, out.NextBackwardToken = in.NextToken, keyToken(backward, justAfter(*cursor))
	default:
		out.NextForwardToken, out.NextBackwardToken = keyToken(forward, justBefore(*cursor)), in.NextToken
	}
	return out, nil
}

// withinBytes keeps the leading records whose messages fit in limit bytes (at least one).
func withinBytes(records []telemetry.LogRecord, limit int) []telemetry.LogRecord {
	size := 0
	for i := range records {
		size += len(records[i].Body.AsString()) + eventOverhead
		if size > limit && i > 0 {
			return records[:i]
		}
	}
	return records
}

// streamExists answers ResourceNotFoundException for a missing group or stream.
func (h *Handler) streamExists(ctx context.Context, group, stream string) error {
	streams, err := h.store.LogStreams(ctx, store.LogStreamQuery{Group: group, Name: stream})
	if err != nil {
		return storeError(err, errGroupNotFound, nil)
	}
	if len(streams) == 0 {
		return errStreamNotFound
	}
	return nil
}

// FilterLogEvents reads the group in time windows (windows.go), matching each record the
// store finds holding the pattern's literal texts against the pattern, and stops at the
// limit or once its windows have held scanBudget of the group's records, answering with a
// token to go on from there: pages may hold fewer events than asked for, as AWS's do.
const (
	scanBatch  = 2_000
	scanBudget = 200_000
)

// startFromHeadSince is the earliest startTime FilterLogEvents reads newest-first from.
var startFromHeadSince = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func (h *Handler) filterLogEvents(ctx context.Context, req *request) (any, error) {
	var in struct {
		LogGroupName        string   `json:"logGroupName"`
		LogGroupIdentifier  string   `json:"logGroupIdentifier"`
		LogStreamNames      []string `json:"logStreamNames"`
		LogStreamNamePrefix string   `json:"logStreamNamePrefix"`
		StartTime           *int64   `json:"startTime"`
		EndTime             *int64   `json:"endTime"`
		FilterPattern       string   `json:"filterPattern"`
		NextToken           string   `json:"nextToken"`
		Limit               *int     `json:"limit"`
		StartFromHead       *bool    `json:"startFromHead"`
	}
	if err := decode(req.body, &in); err != nil {
		return nil, err
	}
	group, err := groupOf(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if in.LogStreamNames != nil && in.LogStreamNamePrefix != "" {
		return nil, invalidParameter("logStreamNames and logStreamNamePrefix are mutually exclusive")
	}
	if in.LogStreamNames != nil && (len(in.LogStreamNames) < 1 || len(in.LogStreamNames) > 100) {
		return nil, validation("logStreamNames", len(in.LogStreamNames), "have length between 1 and 100")
	}
	for _, s := range in.LogStreamNames {
		if err := checkStreamName("logStreamNames", s); err != nil {
			return nil, err
		}
	}
	limit, err := checkLimit(in.Limit, maxPageEvents, maxPageEvents)
	if err != nil {
		return nil, err
	}
	if len(in.FilterPattern) > 1024 {
		return nil, validation("filterPattern", truncate(in.FilterPattern, 100), "have length less than or equal to 1024")
	}
	pattern, err := logsearch.ParseFilter(in.FilterPattern)
	if err != nil {
		return nil, invalidParameter("Invalid filter pattern: %v", err)
	}
	start := timeArg(in.StartTime)
	q := store.LogQuery{Group: group, Streams: in.LogStreamNames, StreamPrefix: in.LogStreamNamePrefix, Start: start,
		Contains: pattern.Literals(), Limit: scanBatch}
	if in.EndTime != nil {
		q.End = time.UnixMilli(*in.EndTime + 1) // FilterLogEvents' endTime is inclusive
	}
	if in.StartFromHead != nil && !*in.StartFromHead {
		if start.Before(startFromHeadSince) {
			return nil, invalidParameter("startFromHead=false requires a startTime on or after 2024-01-01T00:00:00Z")
		}
		q.Descending = true
	}
	if in.NextToken != "" {
		d, k, ok := parseKeyToken(in.NextToken)
		if !ok {
			return nil, errBadToken
		}
		q.Descending, q.After = d == backward, &k
	}
	windows, err := h.groupWindows(ctx, group, q.Start, q.End, q.After, q.Descending, scanBudget)
	if err != nil {
		return nil, err
	}
	out := struct {
		Events             []outputEvent `json:"events"`
		SearchedLogStreams []struct{}    `json:"searchedLogStreams"`
		NextToken          string        `json:"nextToken,omitempty"`
	}{Events: []outputEvent{}, SearchedLogStreams: []struct{}{}}
	done := false
	for !done && len(out.Events) < limit {
		lo, hi, ok := windows.next()
		if !ok {
			done = windows.spent()
			break
		}
		q.Start, q.End = time.Unix(0, lo), time.Unix(0, hi)
		for full := false; !full; {
			batch, err := h.store.Logs(ctx, q)
			if err != nil {
				return nil, err
			}
			for i := range batch {
				r := &batch[i]
				k := keyOf(r)
				q.After = &k
				if msg := r.Body.AsString(); pattern.Match(msg) {
					out.Events = append(out.Events, outputEvent{LogStreamName: r.Stream, Timestamp: r.TimeUnixNano / 1e6, Message: msg,
						IngestionTime: r.ObservedTimeUnixNano / 1e6, EventID: keyDigits(k)})
					if full = len(out.Events) == limit; full {
						// The last record of the range fills the page: no token leads on.
						done = i == len(batch)-1 && len(batch) < q.Limit && windows.spent()
						break
					}
				}
			}
			if !full && len(batch) < q.Limit { // the window is read: go on after it
				q.After = &store.LogKey{TimeUnixNano: hi - 1, ID: math.MaxUint64}
				if q.Descending {
					q.After = &store.LogKey{TimeUnixNano: lo}
				}
				break
			}
		}
	}
	if !done && q.After != nil {
		dir := forward
		if q.Descending {
			dir = backward
		}
		out.NextToken = keyToken(dir, *q.After)
	}
	return out, nil
}
