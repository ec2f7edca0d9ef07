package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"lookout/internal/logsearch"
	"lookout/internal/store"
)

// POST /api/v1/log-insights {"groups":[…],"query":"…","lookback":"1h"}: a Logs Insights
// query over the groups' records of the range (newest first, at most logScanLimit read),
// answered at once: the fields, the rows as text, and a syntax error's place.

type insightsRequest struct {
	Groups   []string `json:"groups"`
	Query    string   `json:"query"`
	Lookback string   `json:"lookback"`
}

type insightsView struct {
	Fields     []string      `json:"fields"`
	Rows       [][]string    `json:"rows"`
	Matched    int           `json:"matched"`
	Scanned    int           `json:"scanned"`
	Complete   bool          `json:"complete"`
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
	out := &insightsView{Fields: []string{}, Rows: [][]string{}}
	q, err := logsearch.ParseQuery(in.Query)
	var qe *logsearch.Error
	if errors.As(err, &qe) {
		out.QueryError = &patternError{qe.Start, qe.End, qe.Msg}
		return &envelope{Data: out}, nil
	}
	var rows []logsearch.Row
	lq := store.LogQuery{Groups: in.Groups, Start: a.now().Add(-lookback), End: a.now(), Descending: true, Limit: 5000}
	for len(rows) < logScanLimit {
		batch, err := a.logReader.Logs(r.Context(), lq)
		if err != nil {
			return nil, err
		}
		for i := range batch {
			rows = append(rows, logsearch.RecordRow(&batch[i]))
		}
		if len(batch) < lq.Limit {
			out.Complete = true
			break
		}
		last := batch[len(batch)-1]
		lq.After = &store.LogKey{TimeUnixNano: last.TimeUnixNano, ID: last.ID}
	}
	out.Scanned = len(rows)
	result, matched := q.Run(rows)
	out.Matched = matched
	out.Fields = q.Fields()
	if out.Fields == nil {
		out.Fields = []string{"@timestamp", "@message"}
	}
	for _, row := range result[:min(len(result), insightsMaxRows)] {
		texts := make([]string, len(out.Fields))
		for i, f := range out.Fields {
			texts[i] = logsearch.Render(row[f])
		}
		out.Rows = append(out.Rows, texts)
	}
	return &envelope{Data: out, Total: len(out.Rows)}, nil
}
