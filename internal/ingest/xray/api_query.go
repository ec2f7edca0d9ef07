package xray

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"lookout/internal/aws"
	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// epochTime is a timestamp in a request: epoch seconds as a number (rest-json's own form),
// or an ISO-8601 string, which some clients send.
type epochTime struct{ time.Time }

func (t *epochTime) UnmarshalJSON(b []byte) error {
	if f, err := strconv.ParseFloat(string(b), 64); err == nil {
		t.Time = time.Unix(0, int64(f*1e9))
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	parsed, err := time.Parse(time.RFC3339Nano, s)
	t.Time = parsed
	return err
}

// timeRange reads a request's StartTime and EndTime, which are required.
func timeRange(start, end *epochTime) (time.Time, time.Time, *aws.Error) {
	if start == nil || end == nil {
		return time.Time{}, time.Time{}, invalid("StartTime and EndTime are required")
	}
	if !start.Before(end.Time) {
		return time.Time{}, time.Time{}, invalid("StartTime must be before EndTime")
	}
	return start.Time, end.Time, nil
}

func (a *API) load(ctx context.Context, ids []telemetry.TraceID) ([]*view, *aws.Error) {
	views := make([]*view, 0, len(ids))
	for _, id := range ids {
		v, aerr := a.view(ctx, id)
		if aerr != nil {
			return nil, aerr
		}
		if v != nil {
			views = append(views, v)
		}
	}
	return views, nil
}

// view reads a trace whole; nil when it is gone.
func (a *API) view(ctx context.Context, id telemetry.TraceID) (*view, *aws.Error) {
	spans, err := a.cfg.Traces.Trace(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, internal(err)
	}
	return newView(id, spans), nil
}

// segments is the store's reading of traces as segments.
func (a *API) segments() (store.SegmentReader, *aws.Error) {
	s, ok := a.cfg.Traces.(store.SegmentReader)
	if !ok {
		return nil, internal(errors.New("the store cannot read traces as segments"))
	}
	return s, nil
}

// filterOf parses a request's filter expression, with the groups it may name.
func (a *API) filterOf(ctx context.Context, expr string) (filter, *aws.Error) {
	var groups map[string]Group
	if strings.Contains(strings.ToLower(expr), "group.") {
		var aerr *aws.Error
		if groups, aerr = a.groups(ctx); aerr != nil {
			return nil, aerr
		}
	}
	f, err := parseFilter(expr, func(byARN bool, nameOrARN string) (string, bool) {
		for _, g := range groups {
			if byARN && g.GroupARN == nameOrARN || !byARN && g.GroupName == nameOrARN {
				return g.FilterExpression, true
			}
		}
		return "", false
	})
	if err != nil {
		return nil, invalid("%v", err)
	}
	return f, nil
}

// Bounds of GetTraceSummaries. The store selects the traces a filter may match, newest first;
// each is read whole and the filter evaluated exactly on it.
const (
	summariesPage    = 100  // summaries a page holds
	maxSummaryTraces = 1000 // traces a request reads at most: past them, a page ends early, with a NextToken
	// summaryLookaround is how far outside the range the store looks at a trace's spans, so
	// that a filter sees those that started a little before or after it.
	summaryLookaround = 5 * time.Minute
)

// GetTraceSummaries: the traces of a time range that match a filter expression, newest
// first, a page at a time.
func (a *API) getTraceSummaries(ctx context.Context, body []byte) (any, *aws.Error) {
	var req struct {
		StartTime, EndTime *epochTime
		TimeRangeType      string
		Sampling           bool
		SamplingStrategy   *samplingStrategy
		FilterExpression   string
		NextToken          string
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	start, end, aerr := timeRange(req.StartTime, req.EndTime)
	if aerr != nil {
		return nil, aerr
	}
	switch req.TimeRangeType {
	case "", "TraceId", "Event", "Service":
	default:
		return nil, invalid("TimeRangeType must be TraceId, Event or Service")
	}
	offset := 0
	if req.NextToken != "" {
		n, err := strconv.Atoi(req.NextToken)
		if err != nil || n < 0 {
			return nil, invalid("NextToken is not one lookout gave")
		}
		offset = n
	}
	rate := 1.0
	if req.Sampling {
		if rate, aerr = req.SamplingStrategy.rate(); aerr != nil {
			return nil, aerr
		}
	}
	out, aerr := a.traceSummaries(ctx, start, end, req.TimeRangeType == "TraceId", req.FilterExpression, offset)
	if aerr == nil && rate < 1 {
		out["TraceSummaries"] = sampledSummaries(out["TraceSummaries"].([]any), rate)
	}
	return out, aerr
}

// samplingStrategy is how a GetTraceSummaries with Sampling set thins its answer.
type samplingStrategy struct {
	Name  string
	Value float64
}

// defaultSummaryRate is the share of traces a sampled GetTraceSummaries without a strategy
// returns.
const defaultSummaryRate = 0.1

// rate is the share of traces a strategy keeps. lookout reads the same traces for either
// name, so PartialScan and FixedRate both keep that share.
func (s *samplingStrategy) rate() (float64, *aws.Error) {
	if s == nil {
		return defaultSummaryRate, nil
	}
	if s.Name != "PartialScan" && s.Name != "FixedRate" {
		return 0, invalid("SamplingStrategy.Name must be PartialScan or FixedRate")
	}
	if !(s.Value > 0 && s.Value <= 1) {
		return 0, invalid("SamplingStrategy.Value must be more than 0 and at most 1")
	}
	return s.Value, nil
}

// sampledSummaries keeps the summaries whose trace id falls in the first rate of the ids'
// random part, so that every page of a query, and a query asked again, keeps the same traces.
func sampledSummaries(summaries []any, rate float64) []any {
	kept := []any{}
	for _, s := range summaries {
		id, err := ParseTraceID(s.(map[string]any)["Id"].(string))
		if err == nil && float64(id.Low()) < rate*(1<<64) {
			kept = append(kept, s)
		}
	}
	return kept
}

// traceSummaries is GetTraceSummaries' answer: the summaries of the traces of [start, end]
// that match expr, from the offset-th trace the store selected for it. A trace is in the
// range when one of its spans started in it, or with byTraceID when the time its X-Ray trace
// id carries (the epoch seconds of its first part) is.
func (a *API) traceSummaries(ctx context.Context, start, end time.Time, byTraceID bool, expr string, offset int) (map[string]any, *aws.Error) {
	f, aerr := a.filterOf(ctx, expr)
	if aerr != nil {
		return nil, aerr
	}
	summaries := []any{}
	m := traceMatch{start: start, end: end, byTraceID: byTraceID, filter: f, offset: offset, maxRead: maxSummaryTraces}
	read, all, aerr := a.eachMatch(ctx, m, func(v *view) bool {
		summaries = append(summaries, summary(v))
		return len(summaries) < summariesPage
	})
	if aerr != nil {
		return nil, aerr
	}
	out := map[string]any{"TraceSummaries": summaries, "ApproximateTime": epochSeconds(end.UnixNano()), "TracesProcessedCount": read}
	if !all {
		out["NextToken"] = strconv.Itoa(offset + read)
	}
	return out, nil
}

// traceMatch is what eachMatch looks for: the traces of [start, end] (by their spans' starts,
// or with byTraceID by the time their id carries) that filter matches, from the offset-th
// the store selects, at most maxRead of them.
type traceMatch struct {
	start, end      time.Time
	byTraceID       bool
	filter          filter
	offset, maxRead int
}

// eachMatch calls fn with each trace m looks for, newest first, until fn returns false. It
// returns how many traces the store selected were read, and whether those were all.
func (a *API) eachMatch(ctx context.Context, m traceMatch, fn func(v *view) bool) (read int, all bool, aerr *aws.Error) {
	segments, aerr := a.segments()
	if aerr != nil {
		return 0, false, aerr
	}
	known, err := a.cfg.Traces.Services(ctx)
	if err != nil {
		return 0, false, internal(err)
	}
	q := store.TraceMatch{Keys: segmentKeys, Start: m.start.Add(-summaryLookaround), End: m.end.Add(summaryLookaround),
		Cond: storeCondition(m.filter, func(name string) bool { return slices.Contains(known, name) }), Offset: m.offset,
		Limit: summariesPage} // a page's worth first; more below while few of them match
	for {
		ids, err := segments.MatchTraces(ctx, q)
		if err != nil {
			return read, false, internal(err)
		}
		traces, err := segments.Traces(ctx, ids)
		if err != nil {
			return read, false, internal(err)
		}
		for i, id := range ids {
			q.Offset++
			read++
			if len(traces[i]) == 0 {
				continue // gone since
			}
			v := newView(id, traces[i])
			var within bool
			if m.byTraceID {
				within = idTimeWithin(id, m.start, m.end)
			} else {
				within = v.startsWithin(m.start, m.end)
			}
			if within && m.filter.match(&scope{v: v}) && !fn(v) || read == m.maxRead {
				return read, false, nil
			}
		}
		if len(ids) < q.Limit {
			return read, true, nil // every selected trace is read
		}
		// Ask for more at once while the selected traces fail the filter or lie outside the
		// range (the store looks around it): a search costs more than reading a trace.
		q.Limit = min(2*q.Limit, m.maxRead-read)
	}
}

func epochSeconds(ns int64) float64 { return float64(ns) / 1e9 }

// traceIDsOf reads a request's trace ids.
func traceIDsOf(texts []string) ([]telemetry.TraceID, *aws.Error) {
	ids := make([]telemetry.TraceID, 0, len(texts))
	for _, t := range texts {
		id, ok := parseAnyTraceID(t)
		if !ok {
			return nil, invalid("%q is not a trace id", t)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// groupFilter is the filter of the group a request names, or one matching every trace.
func (a *API) groupFilter(ctx context.Context, name, arn string) (filter, *aws.Error) {
	if name == "" && arn == "" || name == "Default" {
		return always{}, nil
	}
	g, aerr := a.group(ctx, name, arn)
	if aerr != nil {
		return nil, aerr
	}
	return a.filterOf(ctx, g.FilterExpression)
}

// GetServiceGraph: the services of a time range's traces (a group's traces when one is
// named) and the calls between them.
func (a *API) getServiceGraph(ctx context.Context, body []byte) (any, *aws.Error) {
	var req struct {
		StartTime, EndTime  *epochTime
		GroupName, GroupARN string
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	start, end, aerr := timeRange(req.StartTime, req.EndTime)
	if aerr != nil {
		return nil, aerr
	}
	graph, _, _, aerr := a.serviceGraph(ctx, start, end, req.GroupName, req.GroupARN)
	return graph, aerr
}

// maxGraphTraces bounds the traces a group's graph and the time series statistics read, each
// whole.
const maxGraphTraces = 2000

// serviceGraph is GetServiceGraph's answer for a time range and a group (none: every trace).
// It also returns how many traces it is drawn from, and whether those are a sample of the
// range's: the store counts every call of the range, and a group's graph is drawn from the
// group's traces, newest first, read whole (at most maxGraphTraces).
func (a *API) serviceGraph(ctx context.Context, start, end time.Time, groupName, groupARN string) (map[string]any, int, bool, *aws.Error) {
	f, aerr := a.groupFilter(ctx, groupName, groupARN)
	if aerr != nil {
		return nil, 0, false, aerr
	}
	g := newGraph()
	traces, sampled := 0, false
	if _, every := f.(always); every {
		segments, aerr := a.segments()
		if aerr != nil {
			return nil, 0, false, aerr
		}
		calls, err := segments.ServiceCalls(ctx, store.ServiceCallQuery{Keys: segmentKeys, Start: start, End: end})
		if err != nil {
			return nil, 0, false, internal(err)
		}
		traces = g.addCalls(calls)
	} else {
		m := traceMatch{start: start, end: end, filter: f, maxRead: maxGraphTraces}
		_, all, aerr := a.eachMatch(ctx, m, func(v *view) bool {
			g.add(v)
			traces++
			return true
		})
		if aerr != nil {
			return nil, 0, false, aerr
		}
		sampled = !all
	}
	return map[string]any{"StartTime": epochSeconds(start.UnixNano()), "EndTime": epochSeconds(end.UnixNano()),
		"Services": g.services(), "ContainsOldGroupVersions": false}, traces, sampled, nil
}

// GetTraceGraph: the service graph of given traces.
func (a *API) getTraceGraph(ctx context.Context, body []byte) (any, *aws.Error) {
	var req struct{ TraceIds []string }
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	ids, aerr := traceIDsOf(req.TraceIds)
	if aerr != nil {
		return nil, aerr
	}
	views, aerr := a.load(ctx, ids)
	if aerr != nil {
		return nil, aerr
	}
	g := newGraph()
	for _, v := range views {
		g.add(v)
	}
	return map[string]any{"Services": g.services()}, nil
}

// GetTimeSeriesServiceStatistics: a node's or an edge's statistics per period, the node or
// edge chosen with service() or edge() (id() inside), in the newest traces through it (of a
// group's, when one is named), read whole (at most maxGraphTraces).
func (a *API) getTimeSeriesServiceStatistics(ctx context.Context, body []byte) (any, *aws.Error) {
	var req struct {
		StartTime, EndTime       *epochTime
		GroupName, GroupARN      string
		EntitySelectorExpression string
		Period                   int
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	start, end, aerr := timeRange(req.StartTime, req.EndTime)
	if aerr != nil {
		return nil, aerr
	}
	period := time.Duration(req.Period) * time.Second
	if req.Period == 0 {
		period = time.Minute
	} else if req.Period%60 != 0 {
		return nil, invalid("Period must be a multiple of 60 seconds")
	}
	if end.Sub(start)/period > 1440 {
		return nil, invalid("the time range holds more than 1440 periods")
	}
	sel, aerr := a.filterOf(ctx, req.EntitySelectorExpression)
	if aerr != nil {
		return nil, aerr
	}
	group, aerr := a.groupFilter(ctx, req.GroupName, req.GroupARN)
	if aerr != nil {
		return nil, aerr
	}
	buckets := map[int64]*stats{}
	_, isEdge := sel.(*onEdge)
	m := traceMatch{start: start, end: end, filter: allOf{group, sel}, maxRead: maxGraphTraces}
	_, _, aerr = a.eachMatch(ctx, m, func(v *view) bool {
		for _, n := range v.nodes {
			var chosen bool
			switch f := sel.(type) {
			case *onEdge:
				chosen = n.caller != nil && f.from.matches(n.caller) && f.to.matches(n)
			case *inService:
				chosen = f.sel.matches(n)
			default:
				chosen = sel.match(&scope{v: v, node: n})
			}
			if !chosen {
				continue
			}
			at := time.Unix(0, n.span.StartUnixNano).Truncate(period).Unix()
			if buckets[at] == nil {
				buckets[at] = &stats{}
			}
			buckets[at].add(n)
		}
		return true
	})
	if aerr != nil {
		return nil, aerr
	}
	out := []any{}
	for at := start.Truncate(period); at.Before(end); at = at.Add(period) {
		s, ok := buckets[at.Unix()]
		if !ok {
			continue
		}
		point := map[string]any{"Timestamp": float64(at.Unix()), "ResponseTimeHistogram": histogram(s.histogram)}
		if isEdge {
			point["EdgeSummaryStatistics"] = s.summary()
		} else {
			point["ServiceSummaryStatistics"] = s.summary()
		}
		out = append(out, point)
	}
	return map[string]any{"TimeSeriesServiceStatistics": out, "ContainsOldGroupVersions": false}, nil
}

// idTimeWithin reports whether the time an X-Ray trace id carries is in [start, end], to the
// second.
func idTimeWithin(id telemetry.TraceID, start, end time.Time) bool {
	at := int64(id.High() >> 32)
	return at >= start.Unix() && at <= end.Unix()
}
