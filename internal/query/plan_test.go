package query

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeCatalog is a backend's knowledge of attribute names, written out.
type fakeCatalog struct {
	spans       map[string]bool // span or resource attributes; true for maps
	annotations []string
	err         error
}

func (c fakeCatalog) SpanAttribute(name string) bool {
	_, ok := c.spans[name]
	return ok
}

func (c fakeCatalog) MapAttribute(_ context.Context, name string) (bool, error) {
	return c.spans[name], c.err
}

func (c fakeCatalog) AnnotationAttribute(_ context.Context, name string) (bool, error) {
	return slices.Contains(c.annotations, name), c.err
}

func (c fakeCatalog) Names(context.Context) ([]string, error) {
	var names []string
	for n := range c.spans {
		names = append(names, n)
	}
	return append(names, c.annotations...), c.err
}

var shop = fakeCatalog{
	spans:       map[string]bool{"http.route": false, "user": true, "status_message": false, "exception.type": false, "cart": false},
	annotations: []string{"message"},
}

func plan(t *testing.T, body string) (*Plan, error) {
	t.Helper()
	q, err := resolve(t, body)
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return NewPlan(context.Background(), q, shop)
}

func mustPlan(t *testing.T, body string) *Plan {
	t.Helper()
	p, err := plan(t, body)
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return p
}

func TestFieldResolution(t *testing.T) {
	for _, c := range []struct {
		name string
		want Field // Standard is compared by name
	}{
		{"duration_ms", Field{Name: "duration_ms", Standard: &StandardField{Name: "duration_ms"}}},
		{"service_name", Field{Name: "service_name", Standard: &StandardField{Name: "service_name"}}},
		// A span may carry an attribute named like an optional standard field it lacks.
		{"status_message", Field{Name: "status_message", Standard: &StandardField{Name: "status_message"}, Attribute: "status_message"}},
		{"http.route", Field{Name: "http.route", Attribute: "http.route"}},
		{"user.geo.lat", Field{Name: "user.geo.lat", Attribute: "user", Path: []string{"geo", "lat"}}},
		{"exception.type", Field{Name: "exception.type", Attribute: "exception.type", Exception: true}},
		{"exception.message", Field{Name: "exception.message", Attribute: "exception.message", Exception: true}},
		{"message", Field{Name: "message", Attribute: "message"}},
	} {
		p := mustPlan(t, `{"breakdowns":["`+c.name+`"]}`)
		got := *p.GroupBy[0]
		if (got.Standard == nil) != (c.want.Standard == nil) || got.Standard != nil && got.Standard.Name != c.want.Standard.Name {
			t.Errorf("%s: standard %+v, want %+v", c.name, got.Standard, c.want.Standard)
		}
		got.Standard, c.want.Standard = nil, nil
		if got.Name != c.want.Name || got.Attribute != c.want.Attribute || !slices.Equal(got.Path, c.want.Path) || got.Exception != c.want.Exception || got.Related != nil {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
	p := mustPlan(t, `{"breakdowns":["root.user.geo.lat"],"filters":[{"column":"any.duration_ms","op":">","value":3}]}`)
	if r := p.GroupBy[0].Related; r == nil || !r.Root || r.Field.Attribute != "user" || !slices.Equal(r.Field.Path, []string{"geo", "lat"}) {
		t.Errorf("root.user.geo.lat: %+v", p.GroupBy[0])
	}
	if r := p.Where.Field.Related; r == nil || r.Root || r.Field.Standard.Std != StdDuration {
		t.Errorf("any.duration_ms: %+v", p.Where.Field)
	}
	if want := p.Start.Add(-10 * time.Minute); !p.RelatedSince.Equal(want) {
		t.Errorf("related spans since %v, want %v", p.RelatedSince, want)
	}
	// One field per name, however often the query names it.
	p = mustPlan(t, `{"calculations":[{"op":"MAX","column":"http.route"}],"filters":[{"column":"http.route","op":"exists"}],"breakdowns":["http.route"]}`)
	if p.Aggregates[0].Field != p.Where.Field || p.Where.Field != p.GroupBy[0] {
		t.Errorf("http.route resolved more than once")
	}
}

func TestUnknownFields(t *testing.T) {
	for body, want := range map[string]string{
		`{"calculations":[{"op":"P99","column":"duration"}]}`:                        `unknown column "duration"; did you mean duration_ms?`,
		`{"filters":[{"column":"http.rout","op":"exists"}]}`:                         `unknown column "http.rout"; did you mean http.route?`,
		`{"breakdowns":["root.duration"]}`:                                           `unknown column "root.duration"; did you mean root.duration_ms?`,
		`{"breakdowns":["cart.items"]}`:                                              `unknown column "cart.items"; did you mean cart?`, // cart is no map
		`{"breakdowns":["zzzzzzzz"]}`:                                                `unknown column "zzzzzzzz": no span, span event or link has it`,
		`{"calculations":[{"op":"COUNT","filters":[{"column":"x","op":"exists"}]}]}`: `unknown column "x"`,
	} {
		_, err := plan(t, body)
		var qe *Error
		if !errors.As(err, &qe) || !strings.HasPrefix(qe.Msg, want) {
			t.Errorf("%s: %v, want %q", body, err, want)
		}
	}
	// Several near names, nearest first.
	near := nearest("servce.name", []string{"service.name", "service.version", "service.names", "zone"})
	if !slices.Equal(near, []string{"service.name", "service.names"}) {
		t.Errorf("near servce.name: %v", near)
	}
	q, _ := resolve(t, `{"breakdowns":["nope"]}`)
	broken := fakeCatalog{err: errors.New("disk on fire")}
	if _, err := NewPlan(context.Background(), q, broken); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("catalog failure: %v", err)
	}
}

func TestConditions(t *testing.T) {
	p := mustPlan(t, `{"filters":[
		{"column":"http.route","op":"=","value":"/cart"},
		{"column":"status_code","op":"!=","value":500},
		{"column":"duration_ms","op":"<=","value":"25.5"},
		{"column":"http.route","op":">","value":"/b"},
		{"column":"http.route","op":"does-not-start-with","value":5},
		{"column":"status_code","op":"in","value":[404,500]},
		{"column":"http.route","op":"not-in","value":[404,"/x"]},
		{"column":"error","op":"=","value":true},
		{"column":"message","op":"does-not-exist"}],"filter_combination":"OR"}`)
	want := []Cond{
		{Test: Equal, Values: []any{"/cart"}},
		{Test: Equal, Not: true, Number: true, Values: []any{500.0}},
		{Test: LessEqual, Number: true, Values: []any{25.5}},
		{Test: Greater, Values: []any{"/b"}},
		{Test: StartsWith, Not: true, Values: []any{"5"}},
		{Test: In, Number: true, Values: []any{404.0, 500.0}},
		{Test: In, Not: true, Values: []any{"404", "/x"}},
		{Test: Equal, Values: []any{"true"}},
		{Test: Exists, Not: true},
	}
	if !p.Where.Or || len(p.Where.Terms) != len(want) {
		t.Fatalf("where: %+v", p.Where)
	}
	for i, w := range want {
		got := p.Where.Terms[i]
		if got.Test != w.Test || got.Not != w.Not || got.Number != w.Number || !slices.Equal(got.Values, w.Values) {
			t.Errorf("filter %d: %+v, want %+v", i, got, w)
		}
	}
}

func TestAggregates(t *testing.T) {
	p := mustPlan(t, `{"calculations":[{"op":"RATE_AVG","column":"duration_ms"},{"op":"P99","column":"duration_ms"},{"op":"CONCURRENCY"},
		{"op":"COUNT","filters":[{"column":"http.route","op":"exists"},{"column":"error","op":"exists"}],"filter_combination":"OR"}]}`)
	a := p.Aggregates
	if a[0].Func != AggAvg || a[0].Field.Name != "duration_ms" || a[1].Func != AggPercentile || a[1].Fraction != 0.99 ||
		a[2].Func != AggConcurrency || a[2].Field != nil || a[3].Func != AggCount || a[3].Where == nil || !a[3].Where.Or || len(a[3].Where.Terms) != 2 {
		t.Errorf("aggregates: %+v", a)
	}
}

// Span events and links count unless the filters need a field only spans have, or every
// calculation reads one.
func TestWhenAnnotationsCount(t *testing.T) {
	for body, want := range map[string]bool{
		`{}`: true,
		`{"calculations":[{"op":"P99","column":"duration_ms"}]}`:                                                                   false,
		`{"calculations":[{"op":"P99","column":"duration_ms"},{"op":"COUNT"}]}`:                                                    true,
		`{"calculations":[{"op":"MAX","column":"http.route"}]}`:                                                                    true,
		`{"calculations":[{"op":"COUNT","filters":[{"column":"status_code","op":"exists"}]}]}`:                                     false,
		`{"filters":[{"column":"duration_ms","op":">","value":5}]}`:                                                                false,
		`{"filters":[{"column":"duration_ms","op":"does-not-exist"}]}`:                                                             true,
		`{"filters":[{"column":"span.kind","op":"!=","value":"client"}]}`:                                                          true,
		`{"filters":[{"column":"duration_ms","op":">","value":5},{"column":"name","op":"exists"}]}`:                                false,
		`{"filters":[{"column":"duration_ms","op":">","value":5},{"column":"name","op":"exists"}],"filter_combination":"OR"}`:      true,
		`{"filters":[{"column":"duration_ms","op":">","value":5},{"column":"span.kind","op":"exists"}],"filter_combination":"OR"}`: false,
		`{"filters":[{"column":"root.duration_ms","op":">","value":5}]}`:                                                           true,
	} {
		if got := mustPlan(t, body).Annotations; got != want {
			t.Errorf("%s: annotations %v, want %v", body, got, want)
		}
	}
}

func TestBubbleUpPlan(t *testing.T) {
	q, _ := resolve(t, `{"filters":[{"column":"http.route","op":"exists"}]}`)
	sel := Selection{Filters: []Filter{{Column: "error", Op: "=", Value: true}}, Start: now.Add(-time.Minute)}
	p, err := BubbleUpPlan(context.Background(), q, sel, shop)
	if err != nil {
		t.Fatal(err)
	}
	var compared []string
	for _, f := range p.Compared {
		compared = append(compared, f.Name)
	}
	// Spans' standard fields but identifiers and counts, each field once (span.kind, not type too).
	for _, name := range []string{"name", "service.name", "duration_ms", "span.kind", "status_code", "error", "status_message", "library.name"} {
		if !slices.Contains(compared, name) {
			t.Errorf("%s not compared: %v", name, compared)
		}
	}
	for _, name := range []string{"type", "trace.trace_id", "trace.span_id", "trace.parent_id", "meta.annotation_type", "service_name", "span.num_events", "meta.signal_type"} {
		if slices.Contains(compared, name) {
			t.Errorf("%s compared: %v", name, compared)
		}
	}
	if p.Annotations || p.Selection == nil || p.Selection.Field.Name != "error" || !p.SelectedFrom.Equal(sel.Start) || !p.SelectedUntil.IsZero() {
		t.Errorf("plan: %+v", p)
	}
	sel.Filters[0].Column = "eror"
	if _, err := BubbleUpPlan(context.Background(), q, sel, shop); err == nil || !strings.Contains(err.Error(), "did you mean error?") {
		t.Errorf("unknown selected field: %v", err)
	}
}
