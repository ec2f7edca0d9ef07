package xray

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"time"

	dto "github.com/prometheus/client_model/go"

	"lookout/internal/metrics"
	"lookout/internal/xray/sampling"
)

// RegisterUI adds the X-Ray endpoints of lookout's own API, for the UI's X-Ray page, to the
// UI listener's mux. They answer in the envelope of lookout's other /api/v1 endpoints:
//
//	GET /api/v1/xray/service-graph?start=&end=&group=   the service graph (start and end in
//	                                                    epoch milliseconds; group by name), with
//	                                                    TracesRead, the traces it was built from,
//	                                                    and Sampled when they are not all of them
//	GET /api/v1/xray/trace-summaries?start=&end=&filter=
//	                                                    GetTraceSummaries' first page; a filter
//	                                                    that cannot be used is a 400 naming the
//	                                                    position
//	GET /api/v1/xray/status                             documents received, stored, dropped
//	                                                    and refused; recent problems; groups;
//	                                                    sampling rules, and the last hour's
//	                                                    statistics of each by the minute
//	                                                    (samplingMinutes)
func (a *API) RegisterUI(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/xray/service-graph", a.uiServiceGraph)
	mux.HandleFunc("GET /api/v1/xray/trace-summaries", a.uiTraceSummaries)
	mux.HandleFunc("GET /api/v1/xray/status", a.uiStatus)
}

func writeEnvelope(w http.ResponseWriter, status int, data any, msg string) {
	env := map[string]any{"data": data, "total": 0, "limit": 0, "offset": 0, "errors": nil}
	if msg != "" {
		env["errors"] = []any{map[string]any{"code": status, "msg": msg}}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(env)
}

// uiRange reads start and end, epoch milliseconds, by default the last hour.
func uiRange(r *http.Request) (time.Time, time.Time, bool) {
	q := r.URL.Query()
	ms := func(key string, def time.Time) (time.Time, bool) {
		if q.Get(key) == "" {
			return def, true
		}
		n, err := strconv.ParseInt(q.Get(key), 10, 64)
		return time.UnixMilli(n), err == nil
	}
	now := time.Now()
	start, ok1 := ms("start", now.Add(-time.Hour))
	end, ok2 := ms("end", now)
	return start, end, ok1 && ok2 && start.Before(end)
}

const badRange = "start and end are epoch milliseconds, start before end"

func (a *API) uiServiceGraph(w http.ResponseWriter, r *http.Request) {
	start, end, ok := uiRange(r)
	if !ok {
		writeEnvelope(w, http.StatusBadRequest, nil, badRange)
		return
	}
	graph, read, sampled, aerr := a.serviceGraph(r.Context(), start, end, r.URL.Query().Get("group"), "")
	if aerr != nil {
		writeEnvelope(w, aerr.Status, nil, aerr.Message)
		return
	}
	graph["TracesRead"], graph["Sampled"] = read, sampled
	writeEnvelope(w, http.StatusOK, graph, "")
}

func (a *API) uiTraceSummaries(w http.ResponseWriter, r *http.Request) {
	start, end, ok := uiRange(r)
	if !ok {
		writeEnvelope(w, http.StatusBadRequest, nil, badRange)
		return
	}
	out, aerr := a.traceSummaries(r.Context(), start, end, false, r.URL.Query().Get("filter"), 0)
	if aerr != nil {
		writeEnvelope(w, aerr.Status, nil, aerr.Message)
		return
	}
	writeEnvelope(w, http.StatusOK, out, "")
}

// counts is how many documents came in one way, by outcome.
type counts struct {
	Received, Stored, Dropped, Refused int64
}

func (a *API) uiStatus(w http.ResponseWriter, r *http.Request) {
	in := a.cfg.Ingester
	count := func(via, outcome string) int64 {
		var m dto.Metric
		in.docs.WithLabelValues(via, outcome).Write(&m)
		return int64(m.GetCounter().GetValue())
	}
	docs := map[string]counts{}
	for _, via := range []string{ViaUDP, ViaAPI} {
		docs[via] = counts{count(via, metrics.Received), count(via, metrics.Stored), count(via, metrics.Dropped), count(via, metrics.Refused)}
	}
	groups, aerr := a.groups(r.Context())
	if aerr != nil {
		writeEnvelope(w, aerr.Status, nil, aerr.Message)
		return
	}
	names := []string{}
	for name := range groups {
		names = append(names, name)
	}
	sort.Strings(names)
	writeEnvelope(w, http.StatusOK, map[string]any{"documents": docs, "problems": in.Problems().List(), "groups": names,
		"rules": a.cfg.Sampler.Rules(), "samplingMinutes": samplingMinutes(a.cfg.Sampler.Statistics(), time.Now())}, "")
}

// ruleMinutes are a sampling rule's requests, samples and borrows in each minute of the last
// hour, oldest first, as the SDKs reported them.
type ruleMinutes struct {
	RuleName                    string
	Requests, Sampled, Borrowed []int64
}

// samplingMinutes gathers the last hour's sampling reports of each rule by the minute they
// were received in, the last minute ending at now, for the UI's rates per second.
func samplingMinutes(stats []sampling.Statistic, now time.Time) []ruleMinutes {
	const minutes = 60
	end := float64(now.UnixNano()) / 1e9
	out := []ruleMinutes{}
	at := map[string]int{}
	for _, st := range stats {
		k := minutes - 1 - int(max(end-st.Timestamp, 0)/60)
		if k < 0 {
			continue
		}
		i, ok := at[st.RuleName]
		if !ok {
			i = len(out)
			at[st.RuleName] = i
			out = append(out, ruleMinutes{RuleName: st.RuleName, Requests: make([]int64, minutes),
				Sampled: make([]int64, minutes), Borrowed: make([]int64, minutes)})
		}
		out[i].Requests[k] += st.RequestCount
		out[i].Sampled[k] += st.SampledCount
		out[i].Borrowed[k] += st.BorrowCount
	}
	return out
}
