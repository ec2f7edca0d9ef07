package api

import (
	"net/http"
	"strconv"
	"time"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// GET /api/v1/logs?group=&stream=&traceID=&start=&end=&lookback=&limit=&order=desc: log
// records, oldest first (newest first with order=desc). start, end and lookback work as in
// Jaeger's trace search (unix microseconds; absent means unbounded); limit as there too.

// logRecord is a log record as the API shows it: values as plain JSON, ids as text.
type logRecord struct {
	ID           string         `json:"id"` // a uint64, as text: JSON numbers lose its low digits
	Time         time.Time      `json:"time"`
	ObservedTime time.Time      `json:"observedTime"`
	Group        string         `json:"group"`
	Stream       string         `json:"stream"`
	Severity     int            `json:"severity,omitempty"`
	SeverityText string         `json:"severityText,omitempty"`
	EventName    string         `json:"eventName,omitempty"`
	Body         any            `json:"body"`
	Attributes   map[string]any `json:"attributes,omitempty"`
	Resource     map[string]any `json:"resource,omitempty"`
	TraceID      string         `json:"traceID,omitempty"`
	SpanID       string         `json:"spanID,omitempty"`
}

func (a *API) logs(r *http.Request) (any, error) {
	q := r.URL.Query()
	start, end, err := parseTimeRange(q, a.now())
	if err != nil {
		return nil, err
	}
	lq := store.LogQuery{Group: q.Get("group"), Stream: q.Get("stream"), Start: start, End: end, Descending: q.Get("order") == "desc"}
	if lq.Limit, err = parseLimit(q.Get("limit")); err != nil {
		return nil, err
	}
	if s := q.Get("traceID"); s != "" {
		if lq.TraceID, err = parseTraceID(s); err != nil {
			return nil, err
		}
	}
	records, err := a.logReader.Logs(r.Context(), lq)
	if err != nil {
		return nil, err
	}
	out := make([]logRecord, len(records))
	for i := range records {
		out[i] = toLogRecord(&records[i])
	}
	return out, nil
}

func toLogRecord(r *telemetry.LogRecord) logRecord {
	out := logRecord{
		ID: strconv.FormatUint(r.ID, 10), Time: time.Unix(0, r.TimeUnixNano).UTC(), ObservedTime: time.Unix(0, r.ObservedTimeUnixNano).UTC(),
		Group: r.Group, Stream: r.Stream, Severity: int(r.Severity), SeverityText: r.SeverityText, EventName: r.EventName,
		Body: r.Body.Plain(), Attributes: attrMap(r.Attributes), Resource: attrMap(r.Resource.Attributes),
	}
	if !r.TraceID.IsZero() {
		out.TraceID, out.SpanID = r.TraceID.String(), r.SpanID.String()
	}
	return out
}

func attrMap(attrs telemetry.Attributes) map[string]any {
	if len(attrs) == 0 {
		return nil
	}
	m := make(map[string]any, len(attrs))
	for _, kv := range attrs {
		if _, dup := m[kv.Key]; !dup {
			m[kv.Key] = kv.Value.Plain()
		}
	}
	return m
}
