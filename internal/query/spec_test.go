package query

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"lookout/internal/telemetry"
)

var now = time.Date(2026, 11, 26, 12, 0, 30, 0, time.UTC)

func resolve(t *testing.T, body string) (*Query, error) {
	t.Helper()
	var s Spec
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return s.Resolve(now)
}

func TestResolveDefaults(t *testing.T) {
	q, err := resolve(t, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Calculations) != 1 || q.Calculations[0].Key() != "COUNT" || q.Limit != DefaultLimit {
		t.Errorf("defaults: %+v", q)
	}
	if q.End.Sub(q.Start) != 2*time.Hour || q.End.Before(now) || q.End.Sub(now) > time.Second {
		t.Errorf("range %v – %v", q.Start, q.End)
	}
	if q.Granularity != time.Minute { // 2 h in at most 150 round buckets
		t.Errorf("granularity %v", q.Granularity)
	}
	q, _ = resolve(t, `{"start_time": 1000, "time_range": 600, "granularity": 60}`)
	if q.Start.Unix() != 1000 || q.End.Unix() != 1600 || q.Granularity != time.Minute {
		t.Errorf("start+range: %v %v %v", q.Start.Unix(), q.End.Unix(), q.Granularity)
	}
	q, _ = resolve(t, `{"end_time": 5000, "time_range": 1000}`)
	if q.Start.Unix() != 4000 {
		t.Errorf("end+range start %d", q.Start.Unix())
	}
}

func TestValidate(t *testing.T) {
	for body, want := range map[string]string{
		`{"calculations":[{"op":"P42","column":"x"}]}`:              "unknown calculation op",
		`{"calculations":[{"op":"AVG"}]}`:                           "needs a column",
		`{"calculations":[{"op":"COUNT","column":"x"}]}`:            "takes no column",
		`{"filters":[{"column":"x","op":"~"}]}`:                     "unknown filter op",
		`{"filters":[{"column":"x","op":"exists","value":1}]}`:      "takes no value",
		`{"filters":[{"column":"x","op":"in","value":"a"}]}`:        "non-empty list",
		`{"filters":[{"column":"x","op":"=","value":{"a":1}}]}`:     "string, number or boolean",
		`{"filters":[{"column":"","op":"exists"}]}`:                 "must not be empty",
		`{"filter_combination":"XOR"}`:                              "AND or OR",
		`{"breakdowns":["a"],"orders":[{"column":"b"}]}`:            "neither a breakdown",
		`{"orders":[{"op":"P99","column":"d"}]}`:                    "not one of the query's calculations",
		`{"havings":[{"calculate_op":"COUNT","op":"~","value":1}]}`: "having op",
		`{"calculations":[{"op":"HEATMAP","column":"d"}],"havings":[{"calculate_op":"HEATMAP","column":"d","op":">","value":1}]}`: "HEATMAP cannot",
		`{"limit":1001}`: "limit",
		`{"time_range":60,"start_time":1,"end_time":100}`:       "not both",
		`{"start_time":100,"end_time":50}`:                      "after start_time",
		`{"time_range":3600,"granularity":1}`:                   "granularity",
		`{"calculations":[{"op":"SUM","column":"root.x"}]}`:     "relational fields",
		`{"breakdowns":["parent.name"]}`:                        "parent. fields",
		`{"formulas":[{"name":"x","expression":"1"}]}`:          "formulas are not supported",
		`{"calculated_fields":[{"name":"x","expression":"1"}]}`: "calculated_fields are not supported",
		`{"compare_time_offset_seconds":3600}`:                  "compare_time_offset_seconds",
	} {
		_, err := resolve(t, body)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one saying %q", body, err, want)
		}
		if _, ok := err.(*Error); err != nil && !ok {
			t.Errorf("%s: error of type %T, want *Error", body, err)
		}
	}
	if _, err := resolve(t, `{"breakdowns":["root.http.route"],"filters":[{"column":"any.db.system","op":"exists"}],"orders":[{"column":"root.http.route","order":"descending"}]}`); err != nil {
		t.Errorf("relational breakdown and filter: %v", err)
	}
}

func TestIDDependsOnContent(t *testing.T) {
	a := Spec{Calculations: []Calculation{{Op: "COUNT"}}, TimeRange: 60}
	b := Spec{Calculations: []Calculation{{Op: "COUNT"}}, TimeRange: 60}
	c := Spec{Calculations: []Calculation{{Op: "COUNT"}}, TimeRange: 120}
	if a.ID() != b.ID() || a.ID() == c.ID() {
		t.Errorf("ids %s %s %s", a.ID(), b.ID(), c.ID())
	}
}

func TestFinishOrdersHavingsLimitRates(t *testing.T) {
	q, err := resolve(t, `{"calculations":[{"op":"COUNT"},{"op":"RATE_SUM","column":"x"},{"op":"CONCURRENCY"}],"breakdowns":["g"],
		"havings":[{"calculate_op":"COUNT","op":">=","value":2}],"limit":2,"start_time":600,"end_time":900,"granularity":60}`)
	if err != nil {
		t.Fatal(err)
	}
	groups := []*Group{
		{Key: []any{"a"}, Total: []any{int64(5), 100.0, nil}, Buckets: map[int64][]any{0: {int64(2), 60.0, 3.0}, 1: {int64(3), 180.0, 7.0}}},
		{Key: []any{"b"}, Total: []any{int64(1), 1.0, nil}, Buckets: map[int64][]any{0: {int64(1), 1.0, 1.0}}},
		{Key: []any{"c"}, Total: []any{int64(9), 0.0, nil}, Buckets: map[int64][]any{4: {int64(9), 0.0, 2.0}}},
		{Key: []any{nil}, Total: []any{int64(5), 0.0, nil}, Buckets: map[int64][]any{}},
	}
	res := q.Finish(groups)
	var keys []any
	for _, r := range res.Results {
		keys = append(keys, r.Data["g"])
	}
	// b fails the having; by COUNT descending: c (9), then a and nil tie at 5: a first
	// (values before missing); the limit keeps two.
	if len(keys) != 2 || keys[0] != "c" || keys[1] != "a" {
		t.Fatalf("results %v", keys)
	}
	a := res.Results[1].Data
	// RATE_SUM: (180 - 60) / 60 s at bucket 1, nothing at bucket 0; the total is their mean.
	if a["RATE_SUM(x)"] != 2.0 || a["CONCURRENCY"] != 7.0 {
		t.Errorf("group a: %v", a)
	}
	var sawA1 bool
	for _, r := range res.Series {
		if r.Data["g"] == "a" && r.Time.Equal(time.Unix(660, 0)) {
			sawA1 = true
			if r.Data["RATE_SUM(x)"] != 2.0 {
				t.Errorf("series a@60: %v", r.Data)
			}
		}
		if r.Data["g"] == "b" {
			t.Errorf("series has group b, which the having removed")
		}
	}
	if !sawA1 {
		t.Errorf("series lacks a@60: %+v", res.Series)
	}
}

// FuzzSpec: any JSON either resolves or is refused with an *Error; a resolved query is planned
// or refused with an *Error, and can be finished without panicking.
func FuzzSpec(f *testing.F) {
	f.Add(`{"calculations":[{"op":"P99","column":"duration_ms"}],"breakdowns":["service.name"],"orders":[{"op":"P99","column":"duration_ms","order":"descending"}],"time_range":3600}`)
	f.Add(`{"filters":[{"column":"http.route","op":"in","value":["/a",1,true]}],"filter_combination":"OR","havings":[{"calculate_op":"COUNT","op":">","value":3}]}`)
	f.Add(`{"calculations":[{"op":"RATE_MAX","column":"x"},{"op":"CONCURRENCY"}],"start_time":10,"end_time":70,"granularity":1}`)
	f.Add(`{"calculations":[{"op":"AVG","column":"user.geo.lat"}],"filters":[{"column":"root.exception.type","op":"does-not-exist"}],"breakdowns":["any.message"]}`)
	f.Fuzz(func(t *testing.T, body string) {
		var s Spec
		if json.Unmarshal([]byte(body), &s) != nil {
			return
		}
		q, err := s.Resolve(now)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if q.End.Before(q.Start) || q.Granularity <= 0 || q.Limit < 1 || q.Limit > MaxLimit {
			t.Fatalf("resolved badly: %v %v %v %d", q.Start, q.End, q.Granularity, q.Limit)
		}
		if p, err := NewPlan(context.Background(), q, shop); err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("plan error of type %T: %v", err, err)
			}
		} else if len(p.Aggregates) != len(q.Calculations) || len(p.GroupBy) != len(q.Breakdowns) {
			t.Fatalf("plan of %d aggregates and %d groups for %s", len(p.Aggregates), len(p.GroupBy), body)
		}
		key := make([]any, len(q.Breakdowns))
		vals := make([]any, len(q.Calculations))
		for i := range vals {
			vals[i] = float64(i)
		}
		q.Finish([]*Group{{Key: key, Total: vals, Buckets: map[int64][]any{0: append([]any{}, vals...)}}})
	})
}

func TestSpanEventFlattensMaps(t *testing.T) {
	deep := telemetry.MapValue(telemetry.KeyValue{Key: "x", Value: telemetry.IntValue(1)})
	for range 5 {
		deep = telemetry.MapValue(telemetry.KeyValue{Key: "d", Value: deep})
	}
	sp := telemetry.Span{Name: "op", Resource: &telemetry.Resource{Attributes: telemetry.Attributes{{Key: "service.name", Value: telemetry.StringValue("svc")}}},
		Attributes: telemetry.Attributes{
			{Key: "user", Value: telemetry.MapValue(telemetry.KeyValue{Key: "id", Value: telemetry.StringValue("u1")},
				telemetry.KeyValue{Key: "geo", Value: telemetry.MapValue(telemetry.KeyValue{Key: "lat", Value: telemetry.DoubleValue(1.5)})})},
			{Key: "deep", Value: deep},
		}}
	ev := SpanEvent(&sp)
	if ev["user.id"] != "u1" || ev["user.geo.lat"] != 1.5 || ev["user"] != nil {
		t.Errorf("flattened: %v", ev)
	}
	// Five levels of maps become dotted keys; a map deeper than that stays JSON text.
	if v, ok := ev["deep.d.d.d.d.d"].(string); !ok || v != `{"x":1}` {
		t.Errorf("deep: %v", ev)
	}
}

func TestTop(t *testing.T) {
	groups := func() []*Group {
		var gs []*Group
		for i, n := range []int64{5, 9, 1, 7} {
			gs = append(gs, &Group{Key: []any{string(rune('a' + i))}, Total: []any{n, float64(i)}})
		}
		return gs
	}
	keys := func(gs []*Group) (out []any) {
		for _, g := range gs {
			out = append(out, g.Key[0])
		}
		return out
	}
	none := func(Calculation) bool { return false }
	q, _ := resolve(t, `{"calculations":[{"op":"COUNT"},{"op":"P99","column":"x"}],"breakdowns":["g"],"limit":2,"havings":[{"calculate_op":"COUNT","op":">","value":1}]}`)
	if got := keys(q.Top(groups(), none)); len(got) != 2 || got[0] != "b" || got[1] != "d" {
		t.Errorf("top by COUNT: %v", got)
	}
	// Ordered by a percentile the backend will recompute: nothing can be dropped yet.
	q, _ = resolve(t, `{"calculations":[{"op":"COUNT"},{"op":"P99","column":"x"}],"breakdowns":["g"],"limit":1,"orders":[{"op":"P99","column":"x"}]}`)
	pct := func(c Calculation) bool { return c.Op == "P99" }
	if got := q.Top(groups(), pct); len(got) != 4 {
		t.Errorf("pending order kept %d groups", len(got))
	}
	q, _ = resolve(t, `{"calculations":[{"op":"RATE_SUM","column":"x"}],"breakdowns":["g"],"limit":1}`)
	if got := q.Top(groups(), none); len(got) != 4 {
		t.Errorf("rates kept %d groups", len(got))
	}
}
