package cwlogs

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"lookout/internal/aws"
	"lookout/internal/logsearch"
	"lookout/internal/telemetry"
)

// StartLiveTail answers with an event stream (application/vnd.amazon.eventstream): the
// initial-response the SDKs wait for, a sessionStart, then sessionUpdates with the events
// that arrived, at most 500 (a sample, flagged, when more did): as soon as events arrive but
// at most once a second, and an empty one after a quiet second, until the client goes away
// or the session reaches AWS's three hours.

const (
	liveTailEvery      = time.Second
	liveTailMaxEvents  = 500
	liveTailMaxSession = 3 * time.Hour
)

type liveTailInput struct {
	LogGroupIdentifiers   []string `json:"logGroupIdentifiers"`
	LogStreamNames        []string `json:"logStreamNames,omitempty"`
	LogStreamNamePrefixes []string `json:"logStreamNamePrefixes,omitempty"`
	LogEventFilterPattern string   `json:"logEventFilterPattern,omitempty"`
}

type liveTailEvent struct {
	LogStreamName      string `json:"logStreamName"`
	LogGroupIdentifier string `json:"logGroupIdentifier"`
	Message            string `json:"message"`
	Timestamp          int64  `json:"timestamp"`
	IngestionTime      int64  `json:"ingestionTime"`
}

// parseLiveTail validates a StartLiveTail request and returns the record filter it asks for.
func (h *Handler) parseLiveTail(ctx context.Context, body []byte) (*liveTailInput, func(*telemetry.LogRecord) bool, error) {
	var in liveTailInput
	if err := decode(body, &in); err != nil {
		return nil, nil, err
	}
	if n := len(in.LogGroupIdentifiers); n < 1 || n > 10 {
		return nil, nil, validation("logGroupIdentifiers", n, "have length between 1 and 10")
	}
	if in.LogStreamNames != nil && in.LogStreamNamePrefixes != nil {
		return nil, nil, invalidParameter("logStreamNames and logStreamNamePrefixes are mutually exclusive")
	}
	if (in.LogStreamNames != nil || in.LogStreamNamePrefixes != nil) && len(in.LogGroupIdentifiers) != 1 {
		return nil, nil, invalidParameter("logStreamNames and logStreamNamePrefixes need exactly one log group")
	}
	if n := len(in.LogStreamNames); in.LogStreamNames != nil && (n < 1 || n > 100) {
		return nil, nil, validation("logStreamNames", n, "have length between 1 and 100")
	}
	if n := len(in.LogStreamNamePrefixes); in.LogStreamNamePrefixes != nil && (n < 1 || n > 5) {
		return nil, nil, validation("logStreamNamePrefixes", n, "have length between 1 and 5")
	}
	groups := make([]string, len(in.LogGroupIdentifiers))
	for i, id := range in.LogGroupIdentifiers {
		g, err := groupFromIdentifier("logGroupIdentifiers", id)
		if err != nil {
			return nil, nil, err
		}
		if h.groupMissing(ctx, g) {
			return nil, nil, errGroupNotFound
		}
		groups[i] = g
	}
	if len(in.LogEventFilterPattern) > logsearch.MaxFilterLength {
		return nil, nil, validation("logEventFilterPattern", truncate(in.LogEventFilterPattern, 100), "have length less than or equal to 1024")
	}
	pattern, err := logsearch.ParseFilter(in.LogEventFilterPattern)
	if err != nil {
		return nil, nil, invalidParameter("Invalid filter pattern: %v", err)
	}
	match := func(r *telemetry.LogRecord) bool {
		if !slices.Contains(groups, r.Group) {
			return false
		}
		if in.LogStreamNames != nil && !slices.Contains(in.LogStreamNames, r.Stream) {
			return false
		}
		if in.LogStreamNamePrefixes != nil && !slices.ContainsFunc(in.LogStreamNamePrefixes, func(p string) bool { return strings.HasPrefix(r.Stream, p) }) {
			return false
		}
		return pattern.Match(r.Body.AsString())
	}
	return &in, match, nil
}

func (h *Handler) startLiveTail(w http.ResponseWriter, r *http.Request, req *request) {
	if h.tail == nil {
		aws.JSON11.WriteError(w, aws.Errorf(http.StatusBadRequest, "UnknownOperationException", "Live Tail is not available"))
		return
	}
	in, match, err := h.parseLiveTail(r.Context(), req.body)
	if err != nil {
		h.writeError(w, r, "StartLiveTail", err)
		return
	}
	session := h.tail.Watch(match)
	defer session.Close()
	ids := map[string]string{} // group name → the identifier the client gave
	for _, id := range in.LogGroupIdentifiers {
		g, _ := groupFromIdentifier("", id)
		ids[g] = id
	}

	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.WriteHeader(http.StatusOK)
	stream := &eventWriter{w: w, rc: http.NewResponseController(w), enc: eventstream.NewEncoder()}
	stream.event("initial-response", struct{}{})
	stream.event("sessionStart", struct {
		RequestID string `json:"requestId"`
		SessionID string `json:"sessionId"`
		*liveTailInput
	}{aws.RequestID(r.Context()), aws.RequestID(r.Context()), in})

	// An update goes out as soon as records arrive, but at most once a second; a quiet
	// session gets an empty update every second, as AWS sends them.
	next := time.NewTimer(liveTailEvery)
	defer next.Stop()
	var last time.Time // of the last update: none yet
	pending := false
	timeout := time.NewTimer(liveTailMaxSession)
	defer timeout.Stop()
	for stream.err == nil {
		select {
		case <-r.Context().Done():
			return
		case <-session.Done():
			return
		case <-timeout.C:
			stream.exception("SessionTimeoutException", "The Live Tail session has ended after 3 hours.")
			return
		case <-session.Ready():
			if wait := liveTailEvery - time.Since(last); wait > 0 {
				pending = true
				next.Reset(wait)
				continue
			}
		case <-next.C:
		}
		records, dropped := session.Take()
		if len(records) == 0 && dropped == 0 && pending && time.Since(last) < liveTailEvery {
			continue
		}
		stream.event("sessionUpdate", sessionUpdate(records, dropped, ids))
		last, pending = time.Now(), false
		next.Reset(liveTailEvery)
	}
}

// sessionUpdate is one update's payload: every record, or an even sample of 500 of them.
func sessionUpdate(records []telemetry.LogRecord, dropped int, ids map[string]string) any {
	sampled := dropped > 0 || len(records) > liveTailMaxEvents
	if len(records) > liveTailMaxEvents {
		sample := make([]telemetry.LogRecord, liveTailMaxEvents)
		for i := range sample {
			sample[i] = records[i*len(records)/liveTailMaxEvents]
		}
		records = sample
	}
	events := make([]liveTailEvent, len(records))
	for i := range records {
		rec := &records[i]
		events[i] = liveTailEvent{LogStreamName: rec.Stream, LogGroupIdentifier: ids[rec.Group], Message: rec.Body.AsString(),
			Timestamp: rec.TimeUnixNano / 1e6, IngestionTime: rec.ObservedTimeUnixNano / 1e6}
	}
	type metadata struct {
		Sampled bool `json:"sampled"`
	}
	return struct {
		SessionMetadata metadata        `json:"sessionMetadata"`
		SessionResults  []liveTailEvent `json:"sessionResults"`
	}{metadata{sampled}, events}
}

// eventWriter writes event-stream messages, flushing each; it keeps the first error (the
// client went away) and writes nothing after it.
type eventWriter struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	enc *eventstream.Encoder
	err error
}

func (e *eventWriter) event(eventType string, payload any) {
	e.write(eventMessage(":event-type", eventType, "event", payload))
}

func (e *eventWriter) exception(code, message string) {
	e.write(eventMessage(":exception-type", code, "exception", struct {
		Message string `json:"message"`
	}{message}))
}

func (e *eventWriter) write(msg eventstream.Message) {
	if e.err != nil {
		return
	}
	if e.err = e.enc.Encode(e.w, msg); e.err == nil {
		e.err = e.rc.Flush()
	}
}

// eventMessage is an event-stream message of the given kind with a JSON payload.
func eventMessage(typeHeader, typeName, messageType string, payload any) eventstream.Message {
	body, _ := json.Marshal(payload) // structs of strings, numbers and bools: cannot fail
	var msg eventstream.Message
	msg.Headers.Set(":message-type", eventstream.StringValue(messageType))
	msg.Headers.Set(typeHeader, eventstream.StringValue(typeName))
	msg.Headers.Set(":content-type", eventstream.StringValue("application/json"))
	msg.Payload = body
	return msg
}
