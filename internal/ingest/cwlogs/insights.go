package cwlogs

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"lookout/internal/aws"
	"lookout/internal/logsearch"
	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// Logs Insights: StartQuery runs a query in the background over the records of its groups
// and time range (logsearch.Execute: in the store when it can aggregate them there, else
// over the records read, newest first, at most insightsMaxScan of them); GetQueryResults reads its status and rows; StopQuery cancels it;
// DescribeQueries lists recent queries. Queries live in memory: a restart forgets them, as
// AWS forgets them after 7 days.

const (
	insightsMaxScan    = 10_000_000 // records one query reads at most
	insightsMaxRows    = 10_000     // rows a query answers at most (AWS's default limit)
	insightsMaxRunning = 100        // AWS's concurrent query quota
	insightsKept       = 1000       // finished queries kept for GetQueryResults
)

// query is one StartQuery's state.
type query struct {
	id, text string
	groups   []string
	created  time.Time
	cancel   context.CancelFunc

	mu       sync.Mutex
	status   string // Running, Complete, Failed, Cancelled
	rows     [][]resultField
	stats    queryStatistics
	duration time.Duration
}

type resultField struct {
	Field string `json:"field"`
	Value string `json:"value"`
}

type queryStatistics struct {
	RecordsMatched   float64 `json:"recordsMatched"`
	RecordsScanned   float64 `json:"recordsScanned"`
	BytesScanned     float64 `json:"bytesScanned"`
	LogGroupsScanned float64 `json:"logGroupsScanned"`
}

// queries are the Insights queries of a Handler.
type queries struct {
	mu    sync.Mutex
	byID  map[string]*query
	order []*query // oldest first
}

func (qs *queries) add(q *query) error {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	running := 0
	for _, o := range qs.order {
		if o.state() == "Running" {
			running++
		}
	}
	if running >= insightsMaxRunning {
		return aws.Errorf(http.StatusBadRequest, "LimitExceededException", "at most %d queries may run at once", insightsMaxRunning)
	}
	if qs.byID == nil {
		qs.byID = map[string]*query{}
	}
	if len(qs.order) >= insightsKept && qs.order[0].state() != "Running" {
		delete(qs.byID, qs.order[0].id)
		qs.order = qs.order[1:]
	}
	qs.byID[q.id] = q
	qs.order = append(qs.order, q)
	return nil
}

func (qs *queries) get(id string) (*query, error) {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	q, ok := qs.byID[id]
	if !ok {
		return nil, aws.Errorf(http.StatusBadRequest, "ResourceNotFoundException", "The specified query does not exist.")
	}
	return q, nil
}

func (q *query) state() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.status
}

func malformedQuery(err error) error {
	var pe *logsearch.Error
	if !errors.As(err, &pe) {
		return err
	}
	return &aws.Error{Status: http.StatusBadRequest, Code: "MalformedQueryException", Message: pe.Error(),
		Members: map[string]any{"queryCompileError": map[string]any{
			"location": map[string]int{"startCharOffset": pe.Start, "endCharOffset": pe.End},
			"message":  pe.Msg,
		}}}
}

func (h *Handler) startQuery(ctx context.Context, req *request) (any, error) {
	var in struct {
		LogGroupName        string   `json:"logGroupName"`
		LogGroupNames       []string `json:"logGroupNames"`
		LogGroupIdentifiers []string `json:"logGroupIdentifiers"`
		StartTime           *int64   `json:"startTime"`
		EndTime             *int64   `json:"endTime"`
		QueryString         string   `json:"queryString"`
		Limit               *int     `json:"limit"`
	}
	if err := decode(req.body, &in); err != nil {
		return nil, err
	}
	ids := in.LogGroupIdentifiers
	switch given := btoi(in.LogGroupName != "") + btoi(in.LogGroupNames != nil) + btoi(in.LogGroupIdentifiers != nil); {
	case given != 1:
		return nil, invalidParameter("Exactly one of logGroupName, logGroupNames and logGroupIdentifiers is required")
	case in.LogGroupName != "":
		ids = []string{in.LogGroupName}
	case in.LogGroupNames != nil:
		ids = in.LogGroupNames
	}
	if len(ids) < 1 || len(ids) > 50 {
		return nil, validation("logGroupNames", len(ids), "have length between 1 and 50")
	}
	var groups []string
	for _, id := range ids {
		g, err := groupFromIdentifier("logGroupIdentifiers", id)
		if err != nil {
			return nil, err
		}
		if h.groupMissing(ctx, g) {
			return nil, errGroupNotFound
		}
		groups = append(groups, g)
	}
	if in.StartTime == nil || in.EndTime == nil || *in.StartTime < 0 || *in.EndTime < *in.StartTime {
		return nil, invalidParameter("startTime and endTime (epoch seconds, startTime not after endTime) are required")
	}
	limit, err := checkLimit(in.Limit, insightsMaxRows, insightsMaxRows)
	if err != nil {
		return nil, err
	}
	if in.QueryString == "" {
		return nil, validation("queryString", "", "have length greater than or equal to 1")
	}
	parsed, err := logsearch.ParseQuery(in.QueryString)
	if err != nil {
		return nil, malformedQuery(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	// The StartQuery request's id, a random UUID, names the query.
	q := &query{id: aws.RequestID(ctx), text: in.QueryString, groups: groups, created: h.now(), cancel: cancel, status: "Running"}
	if err := h.queries.add(q); err != nil {
		cancel()
		return nil, err
	}
	start, end := time.Unix(*in.StartTime, 0), time.Unix(*in.EndTime+1, 0) // both bounds inclusive, in seconds
	go h.runQuery(runCtx, q, parsed, start, end, limit)
	return struct {
		QueryID string `json:"queryId"`
	}{q.id}, nil
}

func ptr[T any](v T) *T { return &v }

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// runQuery answers q over the records of its groups in [start, end) (logsearch.Execute).
func (h *Handler) runQuery(ctx context.Context, q *query, parsed *logsearch.Query, start, end time.Time, limit int) {
	defer q.cancel()
	began := time.Now()
	row := recordRow
	if parsed.HasStats() && !strings.Contains(q.text, "@ptr") {
		row = logRow // aggregates have no @ptr, and making one for each record read costs
	}
	ans, err := logsearch.Execute(ctx, h.store, parsed, logsearch.Scope{Groups: q.groups, Start: start, End: end,
		Limit: limit, MaxRead: insightsMaxScan, Row: row})
	var results [][]resultField
	var stats queryStatistics
	if err == nil {
		fields := parsed.Fields()
		if fields == nil {
			fields = []string{"@timestamp", "@message"}
		}
		if !parsed.HasStats() {
			fields = append(slices.Clone(fields), "@ptr")
		}
		results = make([][]resultField, 0, len(ans.Rows))
		for _, r := range ans.Rows {
			row := []resultField{}
			for _, f := range fields {
				if v, ok := r[f]; ok && v != nil {
					row = append(row, resultField{f, logsearch.Render(v)})
				}
			}
			results = append(results, row)
		}
		stats = queryStatistics{LogGroupsScanned: float64(len(q.groups)), RecordsMatched: float64(ans.Matched),
			RecordsScanned: float64(ans.Scanned), BytesScanned: float64(ans.ScannedBytes)}
	}

	q.mu.Lock()
	defer q.mu.Unlock()
	q.duration = time.Since(began)
	switch {
	case q.status == "Cancelled":
	case err != nil && ctx.Err() != nil:
		q.status = "Cancelled"
	case err != nil:
		h.log.Error("Logs Insights query failed", "query", q.id, "err", err)
		q.status = "Failed"
	default:
		q.status, q.rows, q.stats = "Complete", results, stats
	}
}

// logRow is a record as Insights sees it, with CloudWatch's @log (account:group).
func logRow(r *telemetry.LogRecord) logsearch.Row {
	row := logsearch.RecordRow(r)
	row["@log"] = account + ":" + r.Group
	return row
}

// recordRow is logRow with the @ptr GetLogRecord reads.
func recordRow(r *telemetry.LogRecord) logsearch.Row {
	row := logRow(r)
	row["@ptr"] = recordPointer(r)
	return row
}

// recordPointer is a record's @ptr: its group and key, for GetLogRecord.
func recordPointer(r *telemetry.LogRecord) string {
	return base64.RawURLEncoding.EncodeToString([]byte(r.Group + "\x00" + keyDigits(keyOf(r))))
}

func (h *Handler) getQueryResults(ctx context.Context, req *request) (any, error) {
	var in struct {
		QueryID string `json:"queryId"`
	}
	if err := decode(req.body, &in); err != nil {
		return nil, err
	}
	q, err := h.queries.get(in.QueryID)
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	rows := q.rows
	if rows == nil {
		rows = [][]resultField{}
	}
	return struct {
		QueryLanguage string          `json:"queryLanguage"`
		Results       [][]resultField `json:"results"`
		Statistics    queryStatistics `json:"statistics"`
		Status        string          `json:"status"`
	}{"CWLI", rows, q.stats, q.status}, nil
}

func (h *Handler) stopQuery(ctx context.Context, req *request) (any, error) {
	var in struct {
		QueryID string `json:"queryId"`
	}
	if err := decode(req.body, &in); err != nil {
		return nil, err
	}
	q, err := h.queries.get(in.QueryID)
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.status != "Running" {
		return nil, invalidParameter("The query has already ended (%s).", q.status)
	}
	q.status = "Cancelled"
	q.cancel()
	return struct {
		Success bool `json:"success"`
	}{true}, nil
}

func (h *Handler) describeQueries(ctx context.Context, req *request) (any, error) {
	var in struct {
		LogGroupName string `json:"logGroupName"`
		Status       string `json:"status"`
		MaxResults   *int   `json:"maxResults"`
	}
	if err := decode(req.body, &in); err != nil {
		return nil, err
	}
	limit, err := checkLimit(in.MaxResults, 1000, 1000)
	if err != nil {
		return nil, err
	}
	type info struct {
		QueryID       string `json:"queryId"`
		QueryString   string `json:"queryString"`
		Status        string `json:"status"`
		CreateTime    int64  `json:"createTime"`
		LogGroupName  string `json:"logGroupName"`
		QueryLanguage string `json:"queryLanguage"`
	}
	out := struct {
		Queries []info `json:"queries"`
	}{Queries: []info{}}
	h.queries.mu.Lock()
	all := slices.Clone(h.queries.order)
	h.queries.mu.Unlock()
	for _, q := range slices.Backward(all) { // newest first
		status := q.state()
		if (in.Status != "" && status != in.Status) || (in.LogGroupName != "" && !slices.Contains(q.groups, in.LogGroupName)) {
			continue
		}
		out.Queries = append(out.Queries, info{q.id, q.text, status, millis(q.created), q.groups[0], "CWLI"})
		if len(out.Queries) == limit {
			break
		}
	}
	return out, nil
}

func (h *Handler) getLogRecord(ctx context.Context, req *request) (any, error) {
	var in struct {
		LogRecordPointer string `json:"logRecordPointer"`
	}
	if err := decode(req.body, &in); err != nil {
		return nil, err
	}
	bad := invalidParameter("The specified logRecordPointer is invalid.")
	raw, err := base64.RawURLEncoding.DecodeString(in.LogRecordPointer)
	if err != nil {
		return nil, bad
	}
	group, digits, ok := strings.Cut(string(raw), "\x00")
	k, okKey := parseKeyDigits(digits)
	if !ok || !okKey {
		return nil, bad
	}
	at := time.Unix(0, k.TimeUnixNano)
	records, err := h.store.Logs(ctx, store.LogQuery{Group: group, Start: at, End: at.Add(1), After: ptr(justBefore(k)), Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(records) == 0 || records[0].ID != k.ID {
		return nil, aws.Errorf(http.StatusBadRequest, "ResourceNotFoundException", "The specified log record does not exist.")
	}
	fields := map[string]string{}
	for name, v := range recordRow(&records[0]) {
		fields[name] = logsearch.Render(v)
	}
	return struct {
		LogRecord map[string]string `json:"logRecord"`
	}{fields}, nil
}

// fieldsWindow is how far around GetLogGroupFields' time it looks, and fieldsSample how
// many records of that window it reads.
const (
	fieldsWindow = 8 * time.Minute
	fieldsSample = 1000
)

func (h *Handler) getLogGroupFields(ctx context.Context, req *request) (any, error) {
	var in struct {
		LogGroupName       string `json:"logGroupName"`
		LogGroupIdentifier string `json:"logGroupIdentifier"`
		Time               *int64 `json:"time"`
	}
	if err := decode(req.body, &in); err != nil {
		return nil, err
	}
	group, err := groupOf(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if h.groupMissing(ctx, group) {
		return nil, errGroupNotFound
	}
	q := store.LogQuery{Group: group, Start: h.now().Add(-15 * time.Minute), Descending: true, Limit: fieldsSample}
	if in.Time != nil {
		at := time.Unix(*in.Time, 0)
		q.Start, q.End = at.Add(-fieldsWindow), at.Add(fieldsWindow)
	}
	records, err := h.store.Logs(ctx, q)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for i := range records {
		for name := range recordRow(&records[i]) {
			if name != "@ptr" {
				counts[name]++
			}
		}
	}
	type field struct {
		Name    string `json:"name"`
		Percent int    `json:"percent"`
	}
	out := struct {
		LogGroupFields []field `json:"logGroupFields"`
	}{LogGroupFields: []field{}}
	for name, n := range counts {
		out.LogGroupFields = append(out.LogGroupFields, field{name, n * 100 / len(records)})
	}
	slices.SortFunc(out.LogGroupFields, func(a, b field) int {
		if a.Percent != b.Percent {
			return b.Percent - a.Percent
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}
