package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"lookout/internal/logsearch"
)

// POST /api/v1/log-insights {"groups":[…],"query":"…","lookback":"1h"}: a Logs Insights
// query over the groups' records of the range (logsearch.Execute, at most logScanLimit read),
// answered at once: the fields, the rows as text, and a syntax error's place.

type insightsRequest struct {
	Groups   []string `json:"groups"`
	Query    string   `json:"query"`
	Lookback string   `json:"lookback"`
}

type insightsView struct {
	Fields     []string      `json:"fields"`
	By         []string      `json:"by,omitempty"` // the fields of Fields a stats groups the rows by
	Rows       [][]string    `json:"rows"`
	Matched    int           `json:"matched"`
	Scanned    int           `json:"scanned"`
	Complete   bool          `json:"complete"`
	Start      int64         `json:"start"` // the range read, in epoch milliseconds
	End        int64         `json:"end"`
	QueryError *patternError `json:"queryError,omitempty"`
}

// insightsMaxRows bounds the rows an answer carries.
const insightsMaxRows = 1000

func (a *API) logInsights(r *http.Request) (any, error) {
	var in insightsRequest
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10)).Decode(&in); err != nil {
		return nil, badRequest("the body must be JSON: {\"groups\":[…],\"query\":\"…\",\"lookback\":\"1h\"}")
	}
	if len(in.Groups) == 0 || len(in.Groups) > 50 {
		return nil, badRequest("name 1 to 50 log groups")
	}
	lookback, err := time.ParseDuration(in.Lookback)
	if err != nil || lookback <= 0 {
		return nil, badRequest("lookback must be a duration such as 1h")
	}
	now := a.now()
	out := &insightsView{Fields: []string{}, Rows: [][]string{}, Start: now.Add(-lookback).UnixMilli(), End: now.UnixMilli()}
	q, err := logsearch.ParseQuery(in.Query)
	var qe *logsearch.Error
	if errors.As(err, &qe) {
		out.QueryError = &patternError{qe.Start, qe.End, qe.Msg}
		return &envelope{Data: out}, nil
	}
	ans, err := logsearch.Execute(r.Context(), a.logReader, q, logsearch.Scope{Groups: in.Groups, Start: now.Add(-lookback), End: now,
		Limit: insightsMaxRows, MaxRead: logScanLimit})
	if err != nil {
		return nil, err
	}
	out.Scanned, out.Matched, out.Complete = int(ans.Scanned), int(ans.Matched), ans.Complete
	out.Fields, out.By = q.Fields(), q.GroupedBy()
	if out.Fields == nil {
		out.Fields = []string{"@timestamp", "@message"}
	}
	for _, row := range ans.Rows {
		texts := make([]string, len(out.Fields))
		for i, f := range out.Fields {
			texts[i] = logsearch.Render(row[f])
		}
		out.Rows = append(out.Rows, texts)
	}
	return &envelope{Data: out, Total: len(out.Rows)}, nil
}
