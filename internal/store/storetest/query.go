package storetest

import (
	"context"
	"math"
	"slices"
	"sort"
	"testing"
	"time"

	"lookout/internal/query"
)

// testQuery checks Honeycomb queries against results computed from the fixture's expected
// events.
func testQuery(t *testing.T, b Backend) {
	s := open(t, b)
	fx := newQueryFixture()
	// Two batches: a backend that learns which keys are frequent may keep the first few
	// spans' attributes differently from the rest; queries must see both.
	write(t, s, fx.spans[:40])
	write(t, s, fx.spans[40:])
	ctx := context.Background()
	spec := func(sp query.Spec) *query.Query {
		t.Helper()
		sp.StartTime, sp.EndTime = qbase.Unix(), qbase.Add(21*time.Minute).Unix()
		q, err := sp.Resolve(time.Now())
		if err != nil {
			t.Fatalf("Resolve: %v", err)
		}
		return q
	}
	run := func(t *testing.T, q *query.Query, datasets []string) *query.Result {
		t.Helper()
		res, err := s.RunQuery(ctx, q, datasets)
		if err != nil {
			t.Fatalf("RunQuery: %v", err)
		}
		return res
	}
	total := func(t *testing.T, q *query.Query, datasets []string) float64 {
		t.Helper()
		res := run(t, q, datasets)
		if len(res.Results) == 0 {
			return 0
		}
		v, _ := query.Number(res.Results[0].Data[q.Calculations[0].Key()])
		return v
	}
	weights := func(evs []xevent) (sum float64) {
		for _, e := range evs {
			sum += e.w
		}
		return sum
	}

	t.Run("CountByService", func(t *testing.T) {
		q := spec(query.Spec{Breakdowns: []string{"service.name"}})
		want := map[any]float64{}
		for _, e := range fx.selected(q, nil) {
			want[e.fields["service.name"]] += e.w
		}
		got := map[any]float64{}
		for _, r := range run(t, q, nil).Results {
			got[r.Data["service.name"]], _ = query.Number(r.Data["COUNT"])
		}
		expectMap(t, got, want)
	})

	t.Run("CalculationsByRoute", func(t *testing.T) {
		calcs := []query.Calculation{{Op: "COUNT"}, {Op: "SUM", Column: "duration_ms"}, {Op: "AVG", Column: "duration_ms"},
			{Op: "MIN", Column: "duration_ms"}, {Op: "MAX", Column: "duration_ms"}, {Op: "COUNT_DISTINCT", Column: "user.handle"},
			{Op: "P50", Column: "duration_ms"}, {Op: "P99", Column: "duration_ms"}, {Op: "AVG", Column: "db.rows"}}
		q := spec(query.Spec{Calculations: calcs, Breakdowns: []string{"http.route"}, Limit: 1000})
		groups := map[any][]xevent{}
		for _, e := range fx.selected(q, []string{"cruddur"}) {
			groups[e.fields["http.route"]] = append(groups[e.fields["http.route"]], e)
		}
		res := run(t, q, []string{"cruddur"})
		if len(res.Results) != len(groups) {
			t.Fatalf("%d groups, want %d", len(res.Results), len(groups))
		}
		for _, r := range res.Results {
			evs := groups[r.Data["http.route"]]
			want := aggregates(evs, calcs)
			for i, c := range calcs {
				if !approx(r.Data[c.Key()], want[i]) {
					t.Errorf("route %v: %s = %v, want %v", r.Data["http.route"], c.Key(), r.Data[c.Key()], want[i])
				}
			}
		}
	})

	t.Run("PercentilesUnweighted", func(t *testing.T) {
		var calcs []query.Calculation
		for _, op := range []string{"P001", "P01", "P05", "P10", "P20", "P25", "P50", "P75", "P80", "P90", "P95", "P99", "P999"} {
			calcs = append(calcs, query.Calculation{Op: op, Column: "duration_ms"})
		}
		q := spec(query.Spec{Calculations: calcs})
		evs := fx.selected(q, []string{"uniform"})
		res := run(t, q, []string{"uniform"})
		want := aggregates(evs, calcs)
		for i, c := range calcs {
			if !approx(res.Results[0].Data[c.Key()], want[i]) {
				t.Errorf("%s = %v, want %v", c.Key(), res.Results[0].Data[c.Key()], want[i])
			}
		}
	})

	t.Run("Filters", func(t *testing.T) {
		filters := []query.Filter{
			{Column: "http.route", Op: "=", Value: "/api/messages"},
			{Column: "http.route", Op: "!=", Value: "/api/messages"},
			{Column: "http.status_code", Op: "=", Value: 500.0},
			{Column: "http.status_code", Op: ">", Value: 200.0},
			{Column: "http.status_code", Op: ">=", Value: 201.0},
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
			{Column: "cache.key", Op: "not-in", Value: []any{"k1", "k2"}},
			{Column: "app.cache_hit", Op: "=", Value: true},
			{Column: "error", Op: "=", Value: true},
			{Column: "span.kind", Op: "=", Value: "client"},
			{Column: "status_code", Op: "=", Value: 2.0},
			{Column: "deployment.environment", Op: "=", Value: "staging"},
			{Column: "trace.parent_id", Op: "does-not-exist"},
			{Column: "meta.annotation_type", Op: "=", Value: "span_event"},
			{Column: "meta.annotation_type", Op: "=", Value: "link"},
			{Column: "exception.message", Op: "=", Value: "connection refused"},
			{Column: "trace.trace_id", Op: "=", Value: hcTraceID(fx.spans[0].TraceID)},
			{Column: "trace.trace_id", Op: "starts-with", Value: "00000000000000"}, // shortened ids have no zero padding
			{Column: "parent_name", Op: "starts-with", Value: "GET /api"},
			{Column: "library.name", Op: "=", Value: "cruddur"},
			{Column: "root.http.route", Op: "=", Value: "/api/messages"},
			{Column: "root.http.status_code", Op: ">=", Value: 404.0},
			{Column: "any.db.rows", Op: ">", Value: 90.0},
			{Column: "user.tier", Op: "=", Value: "gold"},  // inside a map attribute
			{Column: "user.geo.lat", Op: ">", Value: 10.5}, // two maps deep
			{Column: "user.id", Op: "starts-with", Value: "u1"},
			{Column: "user.handle", Op: "exists"}, // a key of its own, not in the map
			{Column: "user.missing", Op: "does-not-exist"},
		}
		for _, f := range filters {
			q := spec(query.Spec{Filters: []query.Filter{f}})
			want := weights(fx.selected(q, nil))
			if got := total(t, q, nil); got != want {
				t.Errorf("%s %s %v: COUNT %v, want %v", f.Column, f.Op, f.Value, got, want)
			}
		}
	})

	t.Run("AndOr", func(t *testing.T) {
		fs := []query.Filter{{Column: "service.name", Op: "=", Value: "db"}, {Column: "deployment.environment", Op: "=", Value: "staging"}}
		for _, comb := range []string{"AND", "OR"} {
			q := spec(query.Spec{Filters: fs, FilterCombination: comb})
			want := weights(fx.selected(q, nil))
			if got := total(t, q, nil); got != want || want == 0 {
				t.Errorf("%s: COUNT %v, want %v", comb, got, want)
			}
		}
	})

	t.Run("HavingsOrdersLimit", func(t *testing.T) {
		q := spec(query.Spec{
			Breakdowns: []string{"user.handle"},
			Havings:    []query.Having{{CalculateOp: "COUNT", Op: ">", Value: 40}},
			Orders:     []query.Order{{Op: "COUNT", Order: "descending"}, {Column: "user.handle"}},
			Limit:      5,
		})
		counts := map[string]float64{} // events without a handle group under ""
		for _, e := range fx.selected(q, nil) {
			h, _ := e.fields["user.handle"].(string)
			counts[h] += e.w
		}
		type kv struct {
			k string
			v float64
		}
		var want []kv
		for k, v := range counts {
			if v > 40 {
				want = append(want, kv{k, v})
			}
		}
		sort.Slice(want, func(i, j int) bool {
			if want[i].v != want[j].v {
				return want[i].v > want[j].v
			}
			return want[i].k < want[j].k
		})
		want = want[:min(5, len(want))]
		res := run(t, q, nil)
		var got []kv
		for _, r := range res.Results {
			v, _ := query.Number(r.Data["COUNT"])
			h, _ := r.Data["user.handle"].(string)
			got = append(got, kv{h, v})
		}
		if !slices.Equal(got, want) || len(want) < 2 {
			t.Errorf("got %v, want %v", got, want)
		}
		for _, row := range res.Series {
			h, _ := row.Data["user.handle"].(string)
			if !slices.ContainsFunc(want, func(x kv) bool { return x.k == h }) {
				t.Errorf("series has group %v outside the results", row.Data["user.handle"])
			}
		}
	})

	t.Run("Series", func(t *testing.T) {
		sp := query.Spec{Granularity: 60, Calculations: []query.Calculation{{Op: "COUNT"}, {Op: "MAX", Column: "duration_ms"}, {Op: "RATE_SUM", Column: "duration_ms"}}}
		q := spec(sp)
		count := map[time.Time]float64{}
		maxd := map[time.Time]float64{}
		sum := map[time.Time]float64{}
		for _, e := range fx.selected(q, nil) {
			b := q.Start.Add(e.ts.Sub(q.Start).Truncate(time.Minute)).UTC()
			count[b] += e.w
			if d, ok := e.fields["duration_ms"].(float64); ok {
				maxd[b] = math.Max(maxd[b], d)
				sum[b] += e.w * d
			}
		}
		res := run(t, q, nil)
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
	})

	t.Run("Heatmap", func(t *testing.T) {
		q := spec(query.Spec{Calculations: []query.Calculation{{Op: "HEATMAP", Column: "duration_ms"}}, Breakdowns: []string{"service.name"}})
		evs := fx.selected(q, nil)
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
		res := run(t, q, nil)
		for _, r := range res.Results {
			h, ok := r.Data["HEATMAP(duration_ms)"].(*query.Histogram)
			if !ok {
				t.Fatalf("HEATMAP value %T", r.Data["HEATMAP(duration_ms)"])
			}
			got := map[int]float64{}
			for _, bk := range h.Buckets {
				i := int(math.Round((bk.Lower - lo) / width))
				if !approx(bk.Lower, lo+float64(i)*width) {
					t.Errorf("bucket lower %v not on the grid from %v by %v", bk.Lower, lo, width)
				}
				got[i] = bk.Count
			}
			expectMap(t, got, want[r.Data["service.name"]])
		}
	})

	t.Run("MapFieldBreakdown", func(t *testing.T) {
		q := spec(query.Spec{Breakdowns: []string{"user.tier"}, Calculations: []query.Calculation{{Op: "COUNT"}, {Op: "MAX", Column: "user.geo.lat"}}})
		want := map[any]float64{}
		maxLat := map[any]float64{}
		for _, e := range fx.selected(q, nil) {
			tier := e.fields["user.tier"]
			want[tier] += e.w
			if lat, ok := e.fields["user.geo.lat"].(float64); ok {
				if m, seen := maxLat[tier]; !seen || lat > m {
					maxLat[tier] = lat
				}
			}
		}
		got := map[any]float64{}
		for _, r := range run(t, q, nil).Results {
			got[r.Data["user.tier"]], _ = query.Number(r.Data["COUNT"])
			if want, ok := maxLat[r.Data["user.tier"]]; ok && !approx(r.Data["MAX(user.geo.lat)"], want) {
				t.Errorf("%v: MAX(user.geo.lat) %v, want %v", r.Data["user.tier"], r.Data["MAX(user.geo.lat)"], want)
			}
		}
		expectMap(t, got, want)
	})

	t.Run("RootBreakdown", func(t *testing.T) {
		q := spec(query.Spec{Breakdowns: []string{"root.http.route"}, Filters: []query.Filter{{Column: "service.name", Op: "=", Value: "db"}}})
		want := map[any]float64{}
		for _, e := range fx.selected(q, nil) {
			want[fx.field(e, "root.http.route")] += e.w
		}
		got := map[any]float64{}
		for _, r := range run(t, q, nil).Results {
			got[r.Data["root.http.route"]], _ = query.Number(r.Data["COUNT"])
		}
		expectMap(t, got, want)
	})

	t.Run("NothingMatches", func(t *testing.T) {
		q := spec(query.Spec{Filters: []query.Filter{{Column: "name", Op: "=", Value: "no such span"}}})
		res := run(t, q, nil)
		if len(res.Results) != 1 || res.Results[0].Data["COUNT"] != int64(0) {
			t.Errorf("COUNT of nothing: %+v", res.Results)
		}
	})

	t.Run("UsageMode", func(t *testing.T) {
		q := spec(query.Spec{UsageMode: true})
		if got, want := total(t, q, nil), float64(len(fx.selected(q, nil))); got != want {
			t.Errorf("usage mode COUNT %v, want %v", got, want)
		}
	})

	t.Run("Concurrency", func(t *testing.T) {
		q := spec(query.Spec{Granularity: 60, Calculations: []query.Calculation{{Op: "CONCURRENCY"}}, Filters: []query.Filter{{Column: "duration_ms", Op: "exists"}}})
		want := map[time.Time]float64{}
		for _, e := range fx.selected(q, nil) {
			end := e.ts.Add(time.Duration(e.fields["duration_ms"].(float64) * 1e6))
			for b := q.Start.Add(e.ts.Sub(q.Start).Truncate(time.Minute)); b.Before(end) && b.Before(q.End); b = b.Add(time.Minute) {
				want[b.UTC()] += e.w
			}
		}
		res := run(t, q, nil)
		got := map[time.Time]float64{}
		for _, r := range res.Series {
			got[*r.Time], _ = query.Number(r.Data["CONCURRENCY"])
		}
		expectMap(t, got, want)
	})

	t.Run("Injection", func(t *testing.T) {
		hostile := []string{`' OR '1'='1`, `"); DROP TABLE spans; --`, `x\'; SELECT 1; --`, "$1", "name\x00"}
		before := total(t, spec(query.Spec{}), nil)
		for _, h := range hostile {
			q := spec(query.Spec{
				Calculations: []query.Calculation{{Op: "COUNT"}, {Op: "SUM", Column: h}},
				Filters:      []query.Filter{{Column: h, Op: "does-not-exist"}, {Column: "name", Op: "!=", Value: h}, {Column: "root." + h, Op: "does-not-exist"}},
				Breakdowns:   []string{h},
			})
			res := run(t, q, nil)
			if len(res.Results) != 1 || res.Results[0].Data[h] != nil || !approx(res.Results[0].Data["COUNT"], before) {
				t.Errorf("hostile name %q: %+v", h, res.Results)
			}
		}
		if after := total(t, spec(query.Spec{}), nil); after != before {
			t.Errorf("COUNT changed from %v to %v", before, after)
		}
	})

	t.Run("Events", func(t *testing.T) {
		q := spec(query.Spec{Filters: []query.Filter{{Column: "error", Op: "=", Value: true}, {Column: "meta.annotation_type", Op: "does-not-exist"}}})
		var want []float64
		for _, e := range fx.selected(q, nil) {
			want = append(want, e.fields["duration_ms"].(float64))
		}
		slices.Sort(want)
		slices.Reverse(want)
		got, err := s.Events(ctx, q, nil, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 5 {
			t.Fatalf("%d events", len(got))
		}
		for i, ev := range got {
			if !approx(ev["duration_ms"], want[i]) || ev["error"] != true || ev["exception.message"] != "connection refused" {
				t.Errorf("event %d: duration %v error %v exception %v, want duration %v", i, ev["duration_ms"], ev["error"], ev["exception.message"], want[i])
			}
		}
	})

	t.Run("BubbleUp", func(t *testing.T) {
		q := spec(query.Spec{Filters: []query.Filter{{Column: "service.name", Op: "=", Value: "backend-flask"}}})
		sel := query.Selection{Filters: []query.Filter{{Column: "error", Op: "=", Value: true}}}
		bu, err := s.BubbleUp(ctx, q, nil, sel)
		if err != nil {
			t.Fatal(err)
		}
		var selW, baseW, sel500, base500 float64
		for _, e := range fx.selected(q, nil) {
			if e.fields["meta.annotation_type"] != nil {
				continue // BubbleUp compares spans
			}
			is500 := e.fields["http.status_code"] == int64(500)
			if e.fields["error"] == true {
				selW += e.w
				if is500 {
					sel500 += e.w
				}
			} else {
				baseW += e.w
				if is500 {
					base500 += e.w
				}
			}
		}
		if !approx(bu.Selected, selW) || !approx(bu.Baseline, baseW) {
			t.Errorf("selected %v baseline %v, want %v %v", bu.Selected, bu.Baseline, selW, baseW)
		}
		i := slices.IndexFunc(bu.Fields, func(f query.FieldDiff) bool { return f.Field == "http.status_code" })
		if i < 0 || i > 2 {
			t.Fatalf("http.status_code ranked %d in %v", i, fieldNames(bu.Fields))
		}
		f := bu.Fields[i]
		if !f.Numeric {
			t.Errorf("http.status_code not numeric")
		}
		// The range holding 500 must hold the selection's 500s and the baseline's.
		var found bool
		for _, v := range f.Values {
			if *v.Lower <= 500 && 500 <= *v.Upper && *v.Upper == 500 {
				found = true
				if !approx(v.Selected, sel500/selW) || !approx(v.Baseline, base500/baseW) {
					t.Errorf("500s: selected %v baseline %v, want %v %v", v.Selected, v.Baseline, sel500/selW, base500/baseW)
				}
			}
		}
		if !found {
			t.Errorf("no range ending at 500 in %+v", f.Values)
		}
	})
}

func fieldNames(fs []query.FieldDiff) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Field)
	}
	return out
}

// aggregates computes calculations over events as the query tests state them.
func aggregates(evs []xevent, calcs []query.Calculation) []any {
	out := make([]any, len(calcs))
	for i, c := range calcs {
		var vals, ws []float64
		var count, sum, wsum float64
		distinct := map[string]bool{}
		for _, e := range evs {
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
		case "SUM":
			out[i] = sum
		case "AVG":
			if wsum > 0 {
				out[i] = sum / wsum
			}
		case "MIN":
			if len(vals) > 0 {
				out[i] = slices.Min(vals)
			}
		case "MAX":
			if len(vals) > 0 {
				out[i] = slices.Max(vals)
			}
		default:
			if p, ok := query.Percentile(c.Op); ok && len(vals) > 0 {
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
