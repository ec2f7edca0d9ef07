package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"lookout/internal/query"
)

// testQuery checks Honeycomb queries, feature by feature, against results computed from the
// fixture's expected events (queryfixture.go) in plain Go.
func testQuery(t *testing.T, b Backend) {
	s := open(t, b)
	fx := newQueryFixture()
	// Two batches: a backend that learns which keys are frequent may keep the first few
	// spans' attributes differently from the rest; queries must see both.
	write(t, s, fx.spans[:40])
	write(t, s, fx.spans[40:])
	h := &queryHarness{s: s, fx: fx}
	for _, group := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"Calculations", h.calculations},
		{"Filters", h.filters},
		{"Relational", h.relational},
		{"Annotations", h.annotations},
		{"HavingsOrdersLimit", h.havingsOrdersLimit},
		{"Series", h.series},
		{"Heatmap", h.heatmap},
		{"UsageMode", h.usageMode},
		{"Concurrency", h.concurrency},
		{"UnknownFields", h.unknownFields},
		{"Injection", h.injection},
		{"Events", h.events},
		{"BubbleUp", h.bubbleUp},
	} {
		t.Run(group.name, group.fn)
	}
}

type queryHarness struct {
	s  *handle
	fx *queryFixture
}

// resolve fixes a spec's range to the fixture's 20 minutes (and one more).
func (h *queryHarness) resolve(t *testing.T, sp query.Spec) *query.Query {
	t.Helper()
	sp.StartTime, sp.EndTime = qbase.Unix(), qbase.Add(21*time.Minute).Unix()
	q, err := sp.Resolve(time.Now())
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	return q
}

func (h *queryHarness) run(t *testing.T, q *query.Query, datasets []string) *query.Result {
	t.Helper()
	res, err := h.s.RunQuery(context.Background(), q, datasets)
	if err != nil {
		t.Fatalf("RunQuery: %v", err)
	}
	return res
}

// count runs a COUNT with filters and compares it with the fixture's.
func (h *queryHarness) count(t *testing.T, sp query.Spec) {
	t.Helper()
	q := h.resolve(t, sp)
	want := weights(h.fx.selected(q, nil))
	res := h.run(t, q, nil)
	if len(res.Results) != 1 || !approx(res.Results[0].Data["COUNT"], want) {
		t.Errorf("COUNT %v, want %v", res.Results, want)
	}
}

// groups runs a query and compares every group's calculations with those computed from the
// fixture's events.
func (h *queryHarness) groups(t *testing.T, sp query.Spec, datasets []string) {
	t.Helper()
	q := h.resolve(t, sp)
	want := map[string][]any{}
	byKey := map[string][]xevent{}
	if len(q.Breakdowns) == 0 {
		byKey[""] = nil // no breakdown: one group, even of no events
	}
	for _, e := range h.fx.selected(q, datasets) {
		k := h.key(e, q.Breakdowns)
		byKey[k] = append(byKey[k], e)
	}
	for k, evs := range byKey {
		want[k] = h.fx.aggregates(evs, q.Calculations)
	}
	res := h.run(t, q, datasets)
	if len(res.Results) != len(want) {
		t.Errorf("%d groups, want %d", len(res.Results), len(want))
	}
	for _, r := range res.Results {
		var key []any
		for _, b := range q.Breakdowns {
			key = append(key, r.Data[b])
		}
		k := fmt.Sprintf("%#v", key)
		if len(q.Breakdowns) == 0 {
			k = ""
		}
		w, ok := want[k]
		if !ok {
			t.Errorf("unexpected group %s", k)
			continue
		}
		for i, c := range q.Calculations {
			if !approx(r.Data[c.Key()], w[i]) {
				t.Errorf("group %s: %s = %v, want %v", k, c.Key(), r.Data[c.Key()], w[i])
			}
		}
	}
}

// key is an event's group: its breakdown values.
func (h *queryHarness) key(e xevent, breakdowns []string) string {
	if len(breakdowns) == 0 {
		return ""
	}
	var key []any
	for _, b := range breakdowns {
		key = append(key, h.fx.field(e, b))
	}
	return fmt.Sprintf("%#v", key)
}

func (h *queryHarness) calculations(t *testing.T) {
	every := []query.Calculation{{Op: "COUNT"}, {Op: "SUM", Column: "duration_ms"}, {Op: "AVG", Column: "duration_ms"},
		{Op: "MIN", Column: "duration_ms"}, {Op: "MAX", Column: "duration_ms"}, {Op: "COUNT_DISTINCT", Column: "user.handle"},
		{Op: "P50", Column: "duration_ms"}, {Op: "P99", Column: "duration_ms"}, {Op: "AVG", Column: "db.rows"}, {Op: "SUM", Column: "db.rows"}}
	var percentiles []query.Calculation
	for _, op := range []string{"P001", "P01", "P05", "P10", "P20", "P25", "P50", "P75", "P80", "P90", "P95", "P99", "P999"} {
		percentiles = append(percentiles, query.Calculation{Op: op, Column: "duration_ms"})
	}
	for _, c := range []struct {
		name     string
		spec     query.Spec
		datasets []string
	}{
		{"CountByService", query.Spec{Breakdowns: []string{"service.name"}}, nil},
		{"EveryOpByRoute", query.Spec{Calculations: every, Breakdowns: []string{"http.route"}, Limit: 1000}, []string{"cruddur"}},
		{"PercentilesUnweighted", query.Spec{Calculations: percentiles}, []string{"uniform"}},
		{"ByResourceAttribute", query.Spec{Calculations: []query.Calculation{{Op: "COUNT"}, {Op: "MAX", Column: "host.cores"}}, Breakdowns: []string{"deployment.environment"}}, nil},
		{"ByIntAndBool", query.Spec{Breakdowns: []string{"http.status_code", "app.cache_hit"}, Limit: 1000}, nil},
		{"InsideMaps", query.Spec{Calculations: []query.Calculation{{Op: "COUNT"}, {Op: "MAX", Column: "user.geo.lat"}}, Breakdowns: []string{"user.tier"}}, nil},
		{"CalculationFilters", query.Spec{Calculations: []query.Calculation{{Op: "COUNT"},
			{Op: "COUNT", Name: "slow", Filters: []query.Filter{{Column: "duration_ms", Op: ">", Value: 20.0}}},
			{Op: "AVG", Column: "duration_ms", Name: "errors or gets", FilterCombination: "OR",
				Filters: []query.Filter{{Column: "error", Op: "=", Value: true}, {Column: "name", Op: "=", Value: "GET"}}}},
			Breakdowns: []string{"service.name"}}, nil},
		{"NothingMatches", query.Spec{Filters: []query.Filter{{Column: "name", Op: "=", Value: "no such span"}}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) { h.groups(t, c.spec, c.datasets) })
	}
}

func (h *queryHarness) filters(t *testing.T) {
	for _, f := range []query.Filter{
		{Column: "http.route", Op: "=", Value: "/api/messages"},
		{Column: "http.route", Op: "!=", Value: "/api/messages"}, // events without a route too
		{Column: "http.status_code", Op: "=", Value: 500.0},
		{Column: "http.status_code", Op: "=", Value: "500"}, // as text
		{Column: "http.status_code", Op: ">", Value: 200.0},
		{Column: "http.status_code", Op: ">=", Value: "201"}, // reads as a number
		{Column: "duration_ms", Op: "<", Value: 10.0},
		{Column: "duration_ms", Op: "<=", Value: "25.5"},
		{Column: "app.ratio", Op: ">", Value: 60.0},
		{Column: "name", Op: "starts-with", Value: "GET /api/m"},
		{Column: "name", Op: "does-not-start-with", Value: "GET"},
		{Column: "http.route", Op: "ends-with", Value: "{handle}"},
		{Column: "http.route", Op: "does-not-end-with", Value: "home"},
		{Column: "db.system", Op: "exists"},
		{Column: "db.system", Op: "does-not-exist"},
		{Column: "user.handle", Op: "contains", Value: "er1"},
		{Column: "user.handle", Op: "does-not-contain", Value: "1"},
		{Column: "http.status_code", Op: "in", Value: []any{404.0, 500.0}},
		{Column: "http.status_code", Op: "not-in", Value: []any{404.0, "500"}},
		{Column: "cache.key", Op: "not-in", Value: []any{"k1", "k2"}},
		{Column: "app.cache_hit", Op: "=", Value: true},
		{Column: "error", Op: "=", Value: true},
		{Column: "span.kind", Op: "=", Value: "client"},
		{Column: "type", Op: "=", Value: "server"},
		{Column: "status_code", Op: "=", Value: 2.0},
		{Column: "status_message", Op: "exists"},
		{Column: "deployment.environment", Op: "=", Value: "staging"}, // a resource attribute
		{Column: "trace.parent_id", Op: "does-not-exist"},
		{Column: "trace.trace_id", Op: "=", Value: hcTraceID(h.fx.spans[0].TraceID)},
		{Column: "trace.trace_id", Op: "starts-with", Value: "00000000000000"}, // shortened ids have no zero padding
		{Column: "library.name", Op: "=", Value: "cruddur"},
		{Column: "span.num_events", Op: ">=", Value: 1.0},
		{Column: "span.num_links", Op: "=", Value: 1.0},
		{Column: "user.tier", Op: "=", Value: "gold"},  // inside a map attribute
		{Column: "user.geo.lat", Op: ">", Value: 10.5}, // two maps deep
		{Column: "user.id", Op: "starts-with", Value: "u1"},
		{Column: "user.handle", Op: "exists"}, // a key of its own, not in the map
		{Column: "user.missing", Op: "does-not-exist"},
	} {
		t.Run(fmt.Sprintf("%s %s %v", f.Column, f.Op, f.Value), func(t *testing.T) {
			h.count(t, query.Spec{Filters: []query.Filter{f}})
		})
	}
	both := []query.Filter{{Column: "service.name", Op: "=", Value: "db"}, {Column: "deployment.environment", Op: "=", Value: "staging"}}
	for _, comb := range []string{"AND", "OR"} {
		t.Run(comb, func(t *testing.T) { h.count(t, query.Spec{Filters: both, FilterCombination: comb}) })
	}
}

func (h *queryHarness) relational(t *testing.T) {
	for _, f := range []query.Filter{
		{Column: "root.http.route", Op: "=", Value: "/api/messages"},
		{Column: "root.http.route", Op: "!=", Value: "/api/messages"},
		{Column: "root.http.status_code", Op: ">=", Value: 404.0},
		{Column: "root.user.tier", Op: "=", Value: "gold"},
		{Column: "root.exception.message", Op: "exists"},
		{Column: "any.db.rows", Op: ">", Value: 90.0},
		{Column: "any.cache.key", Op: "does-not-exist"}, // traces with a span without one: all
		{Column: "any.service.name", Op: "=", Value: "cache"},
	} {
		t.Run(fmt.Sprintf("%s %s %v", f.Column, f.Op, f.Value), func(t *testing.T) {
			h.count(t, query.Spec{Filters: []query.Filter{f}})
		})
	}
	for _, b := range []string{"root.http.route", "any.db.rows"} {
		t.Run("By "+b, func(t *testing.T) {
			h.groups(t, query.Spec{Breakdowns: []string{b}, Filters: []query.Filter{{Column: "service.name", Op: "=", Value: "db"}}, Limit: 1000}, nil)
		})
	}
}

// annotations: span events and links are events of their own.
func (h *queryHarness) annotations(t *testing.T) {
	for _, f := range []query.Filter{
		{Column: "meta.annotation_type", Op: "=", Value: "span_event"},
		{Column: "meta.annotation_type", Op: "=", Value: "link"},
		{Column: "meta.annotation_type", Op: "does-not-exist"},
		{Column: "parent_name", Op: "starts-with", Value: "GET /api"},
		{Column: "exception.message", Op: "=", Value: "connection refused"}, // the event's own and its span's copy
		{Column: "exception.escaped", Op: "does-not-exist"},                 // no event has it
		{Column: "message", Op: "=", Value: "retrying"},                     // an attribute span events alone have
		{Column: "link.reason", Op: "exists"},
		{Column: "trace.link.span_id", Op: "=", Value: "0000000000000063"},
		{Column: "meta.time_since_span_start_ms", Op: ">", Value: 0.7},
		{Column: "name", Op: "=", Value: "exception"},
	} {
		t.Run(fmt.Sprintf("%s %s %v", f.Column, f.Op, f.Value), func(t *testing.T) {
			h.count(t, query.Spec{Filters: []query.Filter{f}})
		})
	}
	t.Run("ByAnnotationType", func(t *testing.T) {
		h.groups(t, query.Spec{Breakdowns: []string{"meta.annotation_type", "error"}}, nil)
	})
	// Only spans have a duration: span events and links make no group of their own.
	t.Run("SpanFieldsOnly", func(t *testing.T) {
		calc := query.Calculation{Op: "P99", Column: "duration_ms"}
		q := h.resolve(t, query.Spec{Calculations: []query.Calculation{calc}, Breakdowns: []string{"meta.annotation_type"}})
		var spans []xevent
		for _, e := range h.fx.selected(q, nil) {
			if e.fields["meta.annotation_type"] == nil {
				spans = append(spans, e)
			}
		}
		res := h.run(t, q, nil)
		want := h.fx.aggregates(spans, []query.Calculation{calc})[0]
		if len(res.Results) != 1 || res.Results[0].Data["meta.annotation_type"] != nil || !approx(res.Results[0].Data[calc.Key()], want) {
			t.Errorf("results %v, want one group of spans with P99 %v", res.Results, want)
		}
	})
}

func (h *queryHarness) havingsOrdersLimit(t *testing.T) {
	type kv struct {
		k string // "" for events without a handle, which sort last by handle
		v float64
	}
	byHandle := func(a, b kv) int {
		return cmp.Or(cmp.Compare(boolInt(a.k == ""), boolInt(b.k == "")), cmp.Compare(a.k, b.k))
	}
	for _, c := range []struct {
		name string
		spec query.Spec
		keep func(v float64) bool
		less func(a, b kv) int
	}{
		{"HavingCountDescending", query.Spec{Breakdowns: []string{"user.handle"}, Limit: 5,
			Havings: []query.Having{{CalculateOp: "COUNT", Op: ">", Value: 40}},
			Orders:  []query.Order{{Op: "COUNT", Order: "descending"}, {Column: "user.handle"}}},
			func(v float64) bool { return v > 40 }, func(a, b kv) int { return cmp.Or(cmp.Compare(b.v, a.v), byHandle(a, b)) }},
		{"ByBreakdownAscending", query.Spec{Breakdowns: []string{"user.handle"}, Limit: 7, Orders: []query.Order{{Column: "user.handle"}},
			Havings: []query.Having{{CalculateOp: "COUNT", Op: "<=", Value: 100}}},
			func(v float64) bool { return v <= 100 }, byHandle},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := h.resolve(t, c.spec)
			counts := map[string]float64{}
			for _, e := range h.fx.selected(q, nil) {
				k, _ := e.fields["user.handle"].(string)
				counts[k] += e.w
			}
			var want []kv
			for k, v := range counts {
				if c.keep(v) {
					want = append(want, kv{k, v})
				}
			}
			slices.SortFunc(want, c.less)
			want = want[:min(q.Limit, len(want))]
			res := h.run(t, q, nil)
			var got []kv
			for _, r := range res.Results {
				v, _ := query.Number(r.Data["COUNT"])
				k, _ := r.Data["user.handle"].(string)
				got = append(got, kv{k, v})
			}
			if !slices.Equal(got, want) || len(want) < 2 {
				t.Errorf("got %v, want %v", got, want)
			}
			for _, row := range res.Series {
				k, _ := row.Data["user.handle"].(string)
				if !slices.ContainsFunc(want, func(x kv) bool { return x.k == k }) {
					t.Errorf("series has group %v outside the results", row.Data["user.handle"])
				}
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (h *queryHarness) series(t *testing.T) {
	q := h.resolve(t, query.Spec{Granularity: 60, Calculations: []query.Calculation{{Op: "COUNT"}, {Op: "MAX", Column: "duration_ms"}, {Op: "RATE_SUM", Column: "duration_ms"}}})
	count, maxd, sum := map[time.Time]float64{}, map[time.Time]float64{}, map[time.Time]float64{}
	for _, e := range h.fx.selected(q, nil) {
		b := q.Start.Add(e.ts.Sub(q.Start).Truncate(time.Minute)).UTC()
		count[b] += e.w
		if d, ok := e.fields["duration_ms"].(float64); ok {
			maxd[b] = math.Max(maxd[b], d)
			sum[b] += e.w * d
		}
	}
	res := h.run(t, q, nil)
	if len(res.Series) != len(count) {
		t.Fatalf("%d series rows, want %d", len(res.Series), len(count))
	}
	for _, r := range res.Series {
		b := *r.Time
		if !approx(r.Data["COUNT"], count[b]) || !approx(r.Data["MAX(duration_ms)"], maxd[b]) {
			t.Errorf("%v: COUNT %v MAX %v, want %v %v", b, r.Data["COUNT"], r.Data["MAX(duration_ms)"], count[b], maxd[b])
		}
		prev := b.Add(-time.Minute)
		if _, ok := sum[prev]; ok {
			if want := (sum[b] - sum[prev]) / 60; !approx(r.Data["RATE_SUM(duration_ms)"], want) {
				t.Errorf("%v: RATE_SUM %v, want %v", b, r.Data["RATE_SUM(duration_ms)"], want)
			}
		}
	}
}

func (h *queryHarness) heatmap(t *testing.T) {
	q := h.resolve(t, query.Spec{Calculations: []query.Calculation{{Op: "HEATMAP", Column: "duration_ms"}}, Breakdowns: []string{"service.name"}})
	evs := h.fx.selected(q, nil)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, e := range evs {
		if d, ok := e.fields["duration_ms"].(float64); ok {
			lo, hi = math.Min(lo, d), math.Max(hi, d)
		}
	}
	const n = 50
	width := (hi - lo) / n
	want := map[any]map[int]float64{}
	for _, e := range evs {
		d, ok := e.fields["duration_ms"].(float64)
		if !ok {
			continue
		}
		svc := e.fields["service.name"]
		if want[svc] == nil {
			want[svc] = map[int]float64{}
		}
		want[svc][min(int(math.Floor((d-lo)/width)), n-1)] += e.w
	}
	for _, r := range h.run(t, q, nil).Results {
		hist, ok := r.Data["HEATMAP(duration_ms)"].(*query.Histogram)
		if !ok {
			t.Fatalf("HEATMAP value %T", r.Data["HEATMAP(duration_ms)"])
		}
		got := map[int]float64{}
		for _, bk := range hist.Buckets {
			i := int(math.Round((bk.Lower - lo) / width))
			if !approx(bk.Lower, lo+float64(i)*width) {
				t.Errorf("bucket lower %v not on the grid from %v by %v", bk.Lower, lo, width)
			}
			got[i] = bk.Count
		}
		expectMap(t, got, want[r.Data["service.name"]])
	}
}

func (h *queryHarness) usageMode(t *testing.T) {
	q := h.resolve(t, query.Spec{UsageMode: true, Breakdowns: []string{"service.name"}})
	want := map[any]float64{}
	for _, e := range h.fx.selected(q, nil) {
		want[e.fields["service.name"]]++ // every event counts once, whatever its sample rate
	}
	got := map[any]float64{}
	for _, r := range h.run(t, q, nil).Results {
		got[r.Data["service.name"]], _ = query.Number(r.Data["COUNT"])
	}
	expectMap(t, got, want)
}

func (h *queryHarness) concurrency(t *testing.T) {
	q := h.resolve(t, query.Spec{Granularity: 60, Calculations: []query.Calculation{{Op: "CONCURRENCY"}}, Filters: []query.Filter{{Column: "duration_ms", Op: "exists"}}})
	want := map[time.Time]float64{}
	for _, e := range h.fx.selected(q, nil) {
		end := e.ts.Add(time.Duration(e.fields["duration_ms"].(float64) * 1e6))
		for b := q.Start.Add(e.ts.Sub(q.Start).Truncate(time.Minute)); b.Before(end) && b.Before(q.End); b = b.Add(time.Minute) {
			want[b.UTC()] += e.w
		}
	}
	got := map[time.Time]float64{}
	for _, r := range h.run(t, q, nil).Series {
		got[*r.Time], _ = query.Number(r.Data["CONCURRENCY"])
	}
	expectMap(t, got, want)
}

// unknownFields: a field no span, resource, span event or link has is the user's mistake,
// named with the nearest known fields.
func (h *queryHarness) unknownFields(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		spec query.Spec
		want string
	}{
		{query.Spec{Calculations: []query.Calculation{{Op: "P99", Column: "duration"}}}, `unknown column "duration"; did you mean duration_ms?`},
		{query.Spec{Filters: []query.Filter{{Column: "http.rout", Op: "exists"}}}, `unknown column "http.rout"; did you mean http.route?`},
		{query.Spec{Breakdowns: []string{"root.db.sytem"}}, `unknown column "root.db.sytem"; did you mean root.db.system?`},
		{query.Spec{Breakdowns: []string{"http.route.x"}}, `unknown column "http.route.x"; did you mean http.route?`}, // no map
	} {
		t.Run(c.want, func(t *testing.T) {
			q := h.resolve(t, c.spec)
			var qe *query.Error
			if _, err := h.s.RunQuery(ctx, q, nil); !errors.As(err, &qe) || !strings.HasPrefix(qe.Msg, c.want) {
				t.Errorf("RunQuery: %v, want %q", err, c.want)
			}
			if _, err := h.s.Events(ctx, q, nil, 1); !errors.As(err, &qe) || !strings.HasPrefix(qe.Msg, c.want) {
				t.Errorf("Events: %v, want %q", err, c.want)
			}
		})
	}
	// Per dataset: the suggestions are the dataset's fields.
	q := h.resolve(t, query.Spec{Breakdowns: []string{"db.row"}})
	if _, err := h.s.RunQuery(ctx, q, []string{"cruddur"}); err == nil || !strings.Contains(err.Error(), "db.rows") {
		t.Errorf("unknown field in a dataset: %v", err)
	}
	sel := query.Selection{Filters: []query.Filter{{Column: "eror", Op: "exists"}}}
	var qe *query.Error
	if _, err := h.s.BubbleUp(ctx, h.resolve(t, query.Spec{}), nil, sel); !errors.As(err, &qe) || !strings.Contains(qe.Msg, "did you mean error?") {
		t.Errorf("BubbleUp: %v", err)
	}
}

// injection: names and values that would change SQL are only ever data.
func (h *queryHarness) injection(t *testing.T) {
	ctx := context.Background()
	all := h.resolve(t, query.Spec{})
	before := h.run(t, all, nil).Results[0].Data["COUNT"]
	for _, hostile := range append([]string{"name\x00", "$2"}, hostileValues...) {
		t.Run(hostile, func(t *testing.T) {
			// An unknown field with this name is refused, its name quoted.
			q := h.resolve(t, query.Spec{Calculations: []query.Calculation{{Op: "SUM", Column: hostile}}})
			if _, err := h.s.RunQuery(ctx, q, nil); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", hostile)) {
				t.Errorf("hostile field: %v", err)
			}
			// As a value, it matches what has it.
			h.count(t, query.Spec{Filters: []query.Filter{{Column: hostileKey, Op: "=", Value: hostile}, {Column: "name", Op: "!=", Value: hostile}}})
		})
	}
	t.Run("ByHostileKey", func(t *testing.T) {
		h.groups(t, query.Spec{Breakdowns: []string{hostileKey}, Filters: []query.Filter{{Column: "root." + hostileKey, Op: "does-not-exist"}}}, nil)
	})
	if after := h.run(t, all, nil).Results[0].Data["COUNT"]; after != before {
		t.Errorf("COUNT changed from %v to %v", before, after)
	}
}

func (h *queryHarness) events(t *testing.T) {
	q := h.resolve(t, query.Spec{Filters: []query.Filter{{Column: "error", Op: "=", Value: true}, {Column: "meta.annotation_type", Op: "does-not-exist"}}})
	var want []xevent
	want = append(want, h.fx.selected(q, nil)...)
	slices.SortFunc(want, func(a, b xevent) int {
		return cmp.Compare(b.fields["duration_ms"].(float64), a.fields["duration_ms"].(float64))
	})
	got, err := h.s.Events(context.Background(), q, nil, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("%d events", len(got))
	}
	for i, ev := range got {
		w := want[i].fields
		for _, f := range []string{"duration_ms", "name", "service.name", "trace.span_id", "http.status_code", "user.geo.lat", "exception.message", "status_message", "span.num_events", "library.version"} {
			if fmt.Sprint(ev[f]) != fmt.Sprint(w[f]) {
				t.Errorf("event %d: %s = %v, want %v", i, f, ev[f], w[f])
			}
		}
	}
}

func (h *queryHarness) bubbleUp(t *testing.T) {
	q := h.resolve(t, query.Spec{Filters: []query.Filter{{Column: "service.name", Op: "=", Value: "backend-flask"}}})
	sel := query.Selection{Filters: []query.Filter{{Column: "error", Op: "=", Value: true}}}
	bu, err := h.s.BubbleUp(context.Background(), q, nil, sel)
	if err != nil {
		t.Fatal(err)
	}
	// BubbleUp compares spans: the query's spans with error status, and the others.
	var selected, baseline []xevent
	for _, e := range h.fx.selected(q, nil) {
		switch {
		case e.fields["meta.annotation_type"] != nil:
		case e.fields["error"] == true:
			selected = append(selected, e)
		default:
			baseline = append(baseline, e)
		}
	}
	selW, baseW := weights(selected), weights(baseline)
	if !approx(bu.Selected, selW) || !approx(bu.Baseline, baseW) {
		t.Errorf("selected %v baseline %v, want %v %v", bu.Selected, bu.Baseline, selW, baseW)
	}
	field := func(name string) query.FieldDiff {
		t.Helper()
		i := slices.IndexFunc(bu.Fields, func(f query.FieldDiff) bool { return f.Field == name })
		if i < 0 {
			t.Fatalf("no field %s in %v", name, fieldNames(bu.Fields))
		}
		return bu.Fields[i]
	}
	share := func(evs []xevent, pass func(v any) bool, name string) float64 {
		var w float64
		for _, e := range evs {
			if v, ok := e.fields[name]; ok && pass(v) {
				w += e.w
			}
		}
		return w / weights(evs)
	}

	t.Run("FewNumbersAreCategories", func(t *testing.T) {
		codes := field("http.status_code")
		if codes.Numeric || codes.Score != 1 || len(codes.Values) != 4 {
			t.Fatalf("http.status_code: %+v", codes)
		}
		for _, v := range codes.Values {
			is := func(x any) bool { return text(x) == v.Value }
			if !approx(v.Selected, share(selected, is, "http.status_code")) || !approx(v.Baseline, share(baseline, is, "http.status_code")) {
				t.Errorf("%s: selected %v baseline %v", v.Value, v.Selected, v.Baseline)
			}
		}
		if kind := field("span.kind"); kind.Numeric || kind.Values[0].Value != "server" {
			t.Errorf("span.kind: %+v", kind)
		}
	})

	t.Run("ManyNumbersInRoundRanges", func(t *testing.T) {
		d := field("duration_ms")
		if !d.Numeric || len(d.Values) > query.BubbleUpRanges || len(d.Values) < 2 {
			t.Fatalf("duration_ms: %+v", d)
		}
		width := *d.Values[0].Upper - *d.Values[0].Lower
		exp := math.Pow(10, math.Floor(math.Log10(width)))
		if m := width / exp; !slices.ContainsFunc([]float64{1, 2, 5}, func(x float64) bool { return approx(m, x) }) {
			t.Errorf("range width %v is not 1, 2 or 5 times a power of ten", width)
		}
		var selSum float64
		for _, v := range d.Values {
			if !approx(*v.Upper-*v.Lower, width) || !approx(math.Round(*v.Lower/width)*width, *v.Lower) {
				t.Errorf("range [%v, %v) is not on the grid of %v", *v.Lower, *v.Upper, width)
			}
			in := func(x any) bool { f := x.(float64); return f >= *v.Lower && f < *v.Upper }
			if !approx(v.Selected, share(selected, in, "duration_ms")) || !approx(v.Baseline, share(baseline, in, "duration_ms")) {
				t.Errorf("[%v, %v): selected %v baseline %v", *v.Lower, *v.Upper, v.Selected, v.Baseline)
			}
			selSum += v.Selected
		}
		if !approx(selSum, 1) {
			t.Errorf("the ranges hold %v of the selection", selSum)
		}
	})

	t.Run("Ranking", func(t *testing.T) {
		for i := 1; i < len(bu.Fields); i++ {
			a, b := bu.Fields[i-1], bu.Fields[i]
			if a.Score < b.Score || a.Score == b.Score && a.Field > b.Field {
				t.Errorf("%s (%v) ranked before %s (%v)", a.Field, a.Score, b.Field, b.Score)
			}
		}
		for _, f := range bu.Fields {
			if strings.HasPrefix(f.Field, "trace.") || f.Field == "user" || f.Field == "type" {
				t.Errorf("%s compared", f.Field)
			}
		}
	})
}

func weights(evs []xevent) (sum float64) {
	for _, e := range evs {
		sum += e.w
	}
	return sum
}

func fieldNames(fs []query.FieldDiff) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Field)
	}
	return out
}

// aggregates computes calculations over events as the query tests state them. A calculation
// over a field no event has a value of has no value (but COUNT, which is 0).
func (fx *queryFixture) aggregates(evs []xevent, calcs []query.Calculation) []any {
	out := make([]any, len(calcs))
	for i, c := range calcs {
		var vals, ws []float64
		var count, sum, wsum float64
		distinct := map[string]bool{}
		for _, e := range evs {
			if !fx.matchesAll(e, c.Filters, strings.EqualFold(c.FilterCombination, "OR")) {
				continue
			}
			count += e.w
			v, ok := e.fields[c.Column]
			if c.Column != "" && ok {
				distinct[text(v)] = true
			}
			if n, ok := number(v); ok {
				vals = append(vals, n)
				ws = append(ws, e.w)
				sum += e.w * n
				wsum += e.w
			}
		}
		switch c.Op {
		case "COUNT":
			out[i] = count
		case "COUNT_DISTINCT":
			out[i] = float64(len(distinct))
		}
		if len(vals) == 0 {
			continue
		}
		switch c.Op {
		case "SUM":
			out[i] = sum
		case "AVG":
			out[i] = sum / wsum
		case "MIN":
			out[i] = slices.Min(vals)
		case "MAX":
			out[i] = slices.Max(vals)
		default:
			if p, ok := query.Percentile(c.Op); ok {
				out[i] = weightedQuantile(vals, ws, p)
			}
		}
	}
	return out
}

func approx(got, want any) bool {
	if want == nil {
		return got == nil
	}
	g, ok1 := query.Number(got)
	w, ok2 := query.Number(want)
	if !ok1 || !ok2 {
		return false
	}
	return math.Abs(g-w) <= 1e-9*math.Max(1, math.Abs(w))
}

func expectMap[K comparable](t *testing.T, got, want map[K]float64) {
	t.Helper()
	if len(want) == 0 {
		t.Errorf("nothing expected: the fixture is wrong")
	}
	for k, w := range want {
		if !approx(got[k], w) {
			t.Errorf("%v: %v, want %v", k, got[k], w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected group %v = %v", k, got[k])
		}
	}
}
