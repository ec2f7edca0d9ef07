package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"lookout/internal/livetail"
	"lookout/internal/logsearch"
	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// The log pages' endpoints, when the store keeps log groups:
//
//	GET /api/v1/log-groups                      groups with their sizes, last event, retention
//	GET /api/v1/log-groups/{group}/streams      a group's streams, newest event first
//	GET /api/v1/log-events?group=&stream=&pattern=&start=&end=&lookback=&limit=
//	                                            a group's records matching a filter pattern,
//	                                            newest first, and their count over time
//	GET /api/v1/log-tail?group=&pattern=        Server-Sent Events: each record as it arrives
//	POST /api/v1/log-insights                   a Logs Insights query (loginsights.go)

// logScanLimit bounds the records one log-events request reads to answer.
const logScanLimit = 200_000

type logGroupView struct {
	Name          string     `json:"name"`
	Created       time.Time  `json:"created"`
	RetentionDays int        `json:"retentionDays,omitempty"`
	Streams       int        `json:"streams"`
	Records       int64      `json:"records"`
	StoredBytes   int64      `json:"storedBytes"`
	LastEvent     *time.Time `json:"lastEvent,omitempty"`
	MissingStream string     `json:"missingStream,omitempty"`
	MissingAt     *time.Time `json:"missingAt,omitempty"`
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (a *API) registerLogs(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/log-groups", a.wrap(a.logGroups))
	mux.Handle("GET /api/v1/log-groups/{group}/streams", a.wrap(a.logStreams))
	mux.Handle("GET /api/v1/log-events", a.wrap(a.logEvents))
	mux.Handle("POST /api/v1/log-insights", a.wrap(a.logInsights)) // loginsights.go
	if a.tail != nil {
		mux.HandleFunc("GET /api/v1/log-tail", a.logTail)
	}
}

func (a *API) logGroups(r *http.Request) (any, error) {
	groups, err := a.logCatalogue.LogGroups(r.Context(), store.LogGroupQuery{})
	if err != nil {
		return nil, err
	}
	out := make([]logGroupView, len(groups))
	for i, g := range groups {
		out[i] = logGroupView{Name: g.Name, Created: g.Created, RetentionDays: g.RetentionDays, Streams: g.Streams, Records: g.Records,
			StoredBytes: g.StoredBytes, LastEvent: timeOrNil(g.LastEvent), MissingStream: g.MissingStream, MissingAt: timeOrNil(g.MissingAt)}
	}
	return out, nil
}

type logStreamView struct {
	Name          string     `json:"name"`
	Created       time.Time  `json:"created"`
	FirstEvent    *time.Time `json:"firstEvent,omitempty"`
	LastEvent     *time.Time `json:"lastEvent,omitempty"`
	LastIngestion *time.Time `json:"lastIngestion,omitempty"`
	Records       int64      `json:"records"`
	StoredBytes   int64      `json:"storedBytes"`
}

func (a *API) logStreams(r *http.Request) (any, error) {
	streams, err := a.logCatalogue.LogStreams(r.Context(), store.LogStreamQuery{Group: r.PathValue("group"), ByLastEvent: true, Descending: true, Limit: 1000})
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("no such log group")
	}
	if err != nil {
		return nil, err
	}
	out := make([]logStreamView, len(streams))
	for i, s := range streams {
		out[i] = logStreamView{Name: s.Name, Created: s.Created, FirstEvent: timeOrNil(s.FirstEvent), LastEvent: timeOrNil(s.LastEvent),
			LastIngestion: timeOrNil(s.LastIngestion), Records: s.Records, StoredBytes: s.StoredBytes}
	}
	return out, nil
}

type logEventView struct {
	ID      string    `json:"id"`
	Time    time.Time `json:"time"`
	Stream  string    `json:"stream"`
	Message string    `json:"message"`
	TraceID string    `json:"traceID,omitempty"`
	SpanID  string    `json:"spanID,omitempty"`
}

// patternError places a filter pattern's syntax error for the pattern box.
type patternError struct {
	Start int    `json:"start"`
	End   int    `json:"end"`
	Msg   string `json:"msg"`
}

type logEventsView struct {
	Events       []logEventView `json:"events"`
	Histogram    []histogramBin `json:"histogram"`
	BinSeconds   int64          `json:"binSeconds"`
	Matched      int            `json:"matched"`
	Scanned      int            `json:"scanned"`
	Complete     bool           `json:"complete"` // every record of the range was read
	PatternError *patternError  `json:"patternError,omitempty"`
}

type histogramBin struct {
	Time  time.Time `json:"time"`
	Count int       `json:"count"`
}

func (a *API) logEvents(r *http.Request) (any, error) {
	q := r.URL.Query()
	start, end, err := parseTimeRange(q, a.now())
	if err != nil {
		return nil, err
	}
	limit, err := parseLimit(q.Get("limit"))
	if err != nil {
		return nil, err
	}
	if q.Get("group") == "" {
		return nil, badRequest("group is required")
	}
	out := &logEventsView{Events: []logEventView{}, Histogram: []histogramBin{}}
	pattern, err := logsearch.ParseFilter(q.Get("pattern"))
	var pe *logsearch.Error
	if errors.As(err, &pe) {
		out.PatternError = &patternError{pe.Start, pe.End, pe.Msg}
		return &envelope{Data: out}, nil
	}
	if start.IsZero() {
		start = a.now().Add(-time.Hour)
	}
	if end.IsZero() {
		end = a.now()
	}
	bin := histogramBinFor(end.Sub(start))
	counts := map[int64]int{}
	lq := store.LogQuery{Group: q.Get("group"), Stream: q.Get("stream"), Start: start, End: end, Contains: pattern.Literals(), Descending: true, Limit: 5000}
	for out.Scanned < logScanLimit {
		batch, err := a.logReader.Logs(r.Context(), lq)
		if err != nil {
			return nil, err
		}
		for i := range batch {
			rec := &batch[i]
			out.Scanned++
			msg := rec.Body.AsString()
			if !pattern.Match(msg) {
				continue
			}
			out.Matched++
			counts[rec.TimeUnixNano/int64(bin)*int64(bin)]++
			if len(out.Events) < limit {
				out.Events = append(out.Events, toLogEventView(rec, msg))
			}
		}
		if len(batch) < lq.Limit {
			out.Complete = true
			break
		}
		last := batch[len(batch)-1]
		lq.After = &store.LogKey{TimeUnixNano: last.TimeUnixNano, ID: last.ID}
	}
	for t := start.UnixNano() / int64(bin) * int64(bin); t < end.UnixNano(); t += int64(bin) {
		out.Histogram = append(out.Histogram, histogramBin{time.Unix(0, t).UTC(), counts[t]})
	}
	out.BinSeconds = int64(bin / time.Second)
	return &envelope{Data: out, Total: len(out.Events)}, nil
}

// histogramBinFor picks a bin of a round length that gives at most about 120 bins.
func histogramBinFor(span time.Duration) time.Duration {
	for _, d := range []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute,
		10 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour} {
		if span/d <= 120 {
			return d
		}
	}
	return 24 * time.Hour
}

func toLogEventView(r *telemetry.LogRecord, msg string) logEventView {
	v := logEventView{ID: strconv.FormatUint(r.ID, 10), Time: time.Unix(0, r.TimeUnixNano).UTC(), Stream: r.Stream, Message: msg}
	if !r.TraceID.IsZero() {
		v.TraceID, v.SpanID = r.TraceID.String(), r.SpanID.String()
	}
	return v
}

// logTail streams the records of a group that match a pattern as Server-Sent Events, one
// "records" event a second at most, until the client leaves or lookout stops.
func (a *API) logTail(w http.ResponseWriter, r *http.Request) {
	group := r.URL.Query().Get("group")
	pattern, err := logsearch.ParseFilter(r.URL.Query().Get("pattern"))
	if group == "" || err != nil {
		http.Error(w, "a group and a valid filter pattern are required", http.StatusBadRequest)
		return
	}
	session := a.tail.Watch(func(rec *telemetry.LogRecord) bool { return rec.Group == group && pattern.Match(rec.Body.AsString()) })
	defer session.Close()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if _, err := w.Write([]byte(": live\n\n")); err != nil || rc.Flush() != nil {
		return
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-session.Done():
			return
		case <-tick.C:
		}
		records, dropped := session.Take()
		if len(records) == 0 && dropped == 0 {
			continue
		}
		events := make([]logEventView, len(records))
		for i := range records {
			events[i] = toLogEventView(&records[i], records[i].Body.AsString())
		}
		body, _ := json.Marshal(struct {
			Events  []logEventView `json:"events"`
			Dropped int            `json:"dropped"`
		}{events, dropped}) // strings, times and ints: cannot fail
		// JSON has no raw newlines, so the payload is one SSE data line.
		if _, err := w.Write([]byte("event: records\ndata: " + strings.TrimSpace(string(body)) + "\n\n")); err != nil || rc.Flush() != nil {
			return
		}
	}
}

// TailLogsFrom makes /api/v1/log-tail stream the records hub hands out.
func (a *API) TailLogsFrom(hub *livetail.Hub) { a.tail = hub }
