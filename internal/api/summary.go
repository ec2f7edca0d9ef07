package api

import (
	"net/http"
	"slices"
	"strings"

	"lookout/internal/telemetry"
)

// traceSummary is one row of the web UI's search results.
type traceSummary struct {
	TraceID     string           `json:"traceID"`
	RootService string           `json:"rootService"`
	RootName    string           `json:"rootName"`
	Services    []serviceSummary `json:"services"` // sorted by name
	SpanCount   int              `json:"spanCount"`
	ErrorCount  int              `json:"errorCount"` // spans with error status
	Start       int64            `json:"start"`      // earliest span start, unix µs
	Duration    int64            `json:"duration"`   // earliest start to latest end, µs
}

type serviceSummary struct {
	Name       string `json:"name"`
	SpanCount  int    `json:"spanCount"`
	ErrorCount int    `json:"errorCount"`
}

// GET /api/v1/trace-summaries, with the parameters of /api/traces.
func (a *API) traceSummaries(r *http.Request) (any, error) {
	found, err := a.findTraces(r)
	if err != nil {
		return nil, err
	}
	data := make([]traceSummary, len(found.traces))
	for i, t := range found.traces {
		data[i] = summarize(t.id, t.spans)
	}
	return &envelope{Data: data, Total: len(data), Errors: found.issues}, nil
}

// summarize computes a trace's summary from its spans, in any order. The root is the
// earliest span without a parent or, when every span has one (the root is missing), the
// earliest span.
func summarize(id telemetry.TraceID, spans []telemetry.Span) traceSummary {
	sum := traceSummary{TraceID: id.String(), SpanCount: len(spans), Services: []serviceSummary{}}
	if len(spans) == 0 {
		return sum
	}
	root, earliest := -1, 0
	start, end := spans[0].StartUnixNano, spans[0].StartUnixNano
	byService := map[string]*serviceSummary{}
	for i := range spans {
		s := &spans[i]
		if s.StartUnixNano < spans[earliest].StartUnixNano {
			earliest = i
		}
		if s.ParentSpanID.IsZero() && (root < 0 || s.StartUnixNano < spans[root].StartUnixNano) {
			root = i
		}
		start = min(start, s.StartUnixNano)
		end = max(end, s.StartUnixNano, s.EndUnixNano)

		name := s.Service()
		svc := byService[name]
		if svc == nil {
			svc = &serviceSummary{Name: name}
			byService[name] = svc
		}
		svc.SpanCount++
		if s.Status.Code == telemetry.StatusError {
			svc.ErrorCount++
			sum.ErrorCount++
		}
	}
	if root < 0 {
		root = earliest
	}
	sum.RootService = spans[root].Service()
	sum.RootName = spans[root].Name
	sum.Start = micros(start)
	sum.Duration = (end - start) / 1000
	for _, svc := range byService {
		sum.Services = append(sum.Services, *svc)
	}
	slices.SortFunc(sum.Services, func(x, y serviceSummary) int { return strings.Compare(x.Name, y.Name) })
	return sum
}
