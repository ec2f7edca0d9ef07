package query

import (
	"context"
	"strings"
	"time"
)

// A Plan is a query with its meaning spelt out for a backend: each field resolved to where
// its values come from, filters as a tree of typed conditions, calculations as aggregates.
// Backends translate plans into their own SQL and decide nothing about what a query means.
type Plan struct {
	*Query
	Where      *Cond       // the events counted; nil for all
	Aggregates []Aggregate // one per calculation, in order
	GroupBy    []*Field    // one per breakdown, in order
	// Annotations reports whether span events and links can change the result. They cannot
	// when the filters need a field only spans have, nor when every calculation reads one.
	Annotations bool
	// RelatedSince is how early a related span (root., any.) may start; related spans start
	// before Query.End.
	RelatedSince time.Time
	// Selection picks BubbleUp's selected events (BubbleUpPlan): those passing the condition
	// (nil: all) and starting within [SelectedFrom, SelectedUntil) when these are set.
	Selection                   *Cond
	SelectedFrom, SelectedUntil time.Time
	// Compared are the standard fields BubbleUp compares (BubbleUpPlan), besides every
	// attribute.
	Compared []*Field
}

// Aggregation is what a backend computes for a calculation.
type Aggregation uint8

const (
	AggCount         Aggregation = iota + 1 // the weighted number of events; 0 for none
	AggCountDistinct                        // the number of distinct values (texts), unweighted
	AggSum                                  // the weighted sum
	AggAvg                                  // the weighted mean of the events that have a value
	AggMin
	AggMax
	AggPercentile // of the values each repeated by its weight, interpolated linearly
	AggHeatmap    // a Histogram, laid out by HeatmapLayout
	// AggConcurrency is the weighted number of events in progress during each time bucket
	// (Query.ConcurrencyBuckets).
	AggConcurrency
)

// Aggregate is a calculation as a backend computes it. For RATE_* ops it is the base op's
// aggregate (RATE_AVG is AVG); Query.Finish derives the rates, and CONCURRENCY's totals.
type Aggregate struct {
	Calculation
	Func     Aggregation
	Field    *Field  // nil for COUNT and CONCURRENCY
	Where    *Cond   // the calculation's own filters; nil for none
	Fraction float64 // for AggPercentile: 0.99 for P99
}

// RelationalWindow is how long before a query's range a related span (root. or any.) may
// start: a trace's root usually starts before its later spans.
const RelationalWindow = 10 * time.Minute

// Catalog is what a backend knows of the attributes of its stored events, for a plan to tell
// a field from a typo. It may take a name for known that no event in the query's range or
// datasets has; never the other way.
type Catalog interface {
	// SpanAttribute reports whether some span or resource has an attribute of that name. It
	// is asked for every field, so it must be cheap.
	SpanAttribute(name string) bool
	// MapAttribute reports whether some span's or resource's attribute of that name holds a
	// map.
	MapAttribute(ctx context.Context, name string) (bool, error)
	// AnnotationAttribute reports whether some span event or link has an attribute of that
	// name.
	AnnotationAttribute(ctx context.Context, name string) (bool, error)
	// Names lists the attribute names of the query's datasets, to suggest in place of an
	// unknown field.
	Names(ctx context.Context) ([]string, error)
}

// NewPlan resolves every field of q against what the backend's events have. A field that no
// event has is refused with an *Error naming it and the nearest known names.
func NewPlan(ctx context.Context, q *Query, cat Catalog) (*Plan, error) {
	p, _, err := newPlan(ctx, q, cat)
	return p, err
}

// SpanPlan plans q over spans alone, for raw events: span events and links are left out.
func SpanPlan(ctx context.Context, q *Query, cat Catalog) (*Plan, error) {
	p, err := NewPlan(ctx, q, cat)
	if err != nil {
		return nil, err
	}
	p.Annotations = false
	return p, nil
}

// BubbleUpPlan plans BubbleUp's comparison of the spans of sel with q's other spans.
func BubbleUpPlan(ctx context.Context, q *Query, sel Selection, cat Catalog) (*Plan, error) {
	p, r, err := newPlan(ctx, q, cat)
	if err != nil {
		return nil, err
	}
	if p.Selection, err = r.conditions(sel.Filters, false); err != nil {
		return nil, err
	}
	p.SelectedFrom, p.SelectedUntil = sel.Start, sel.End
	// The standard fields of spans, each once (span.kind, not type too), but identifiers,
	// meta.signal_type (the same for every span) and the numbers of span events and links:
	// those differ where exception.* and error do, and counting them would cost reading every
	// span's events.
	compared := map[Std]bool{StdSignalType: true, StdNumEvents: true, StdNumLinks: true}
	for i := range standardFields {
		sf := &standardFields[i]
		if sf.On&Spans != 0 && !sf.ID && !compared[sf.Std] {
			compared[sf.Std] = true
			p.Compared = append(p.Compared, r.standard(sf))
		}
	}
	p.Annotations = false
	return p, nil
}

func newPlan(ctx context.Context, q *Query, cat Catalog) (*Plan, *resolver, error) {
	r := &resolver{ctx: ctx, cat: cat, fields: map[string]*Field{}}
	p := &Plan{Query: q, RelatedSince: q.Start.Add(-RelationalWindow)}
	var err error
	annotations := false
	for _, c := range q.Calculations {
		a := Aggregate{Calculation: c}
		if c.Column != "" {
			if a.Field, err = r.field(c.Column); err != nil {
				return nil, nil, err
			}
		}
		if a.Where, err = r.conditions(c.Filters, strings.EqualFold(c.FilterCombination, "OR")); err != nil {
			return nil, nil, err
		}
		a.Func, a.Fraction = aggregation(c.Op)
		p.Aggregates = append(p.Aggregates, a)
		spansOnly := a.Field != nil && a.Field.SpansOnly() || a.Where.needsSpan()
		annotations = annotations || !spansOnly
	}
	if p.Where, err = r.conditions(q.Filters, q.Or); err != nil {
		return nil, nil, err
	}
	for _, b := range q.Breakdowns {
		f, err := r.field(b)
		if err != nil {
			return nil, nil, err
		}
		p.GroupBy = append(p.GroupBy, f)
	}
	p.Annotations = annotations && !p.Where.needsSpan()
	return p, r, nil
}

func aggregation(op string) (Aggregation, float64) {
	if base, ok := RateBase(op); ok {
		op = base
	}
	if f, ok := Percentile(op); ok {
		return AggPercentile, f
	}
	return map[string]Aggregation{
		OpCount: AggCount, OpCountDistinct: AggCountDistinct, OpSum: AggSum, OpAvg: AggAvg, OpMin: AggMin,
		OpMax: AggMax, OpHeatmap: AggHeatmap, OpConcurrency: AggConcurrency,
	}[op], 0
}

// resolver resolves the fields of one plan, each name once.
type resolver struct {
	ctx    context.Context
	cat    Catalog
	fields map[string]*Field
}

func (r *resolver) conditions(filters []Filter, or bool) (*Cond, error) {
	var terms []*Cond
	for _, fl := range filters {
		f, err := r.field(fl.Column)
		if err != nil {
			return nil, err
		}
		terms = append(terms, newTest(fl, f))
	}
	return combine(terms, or), nil
}

// field resolves a field name: a standard field, an attribute, a value inside a map
// attribute, an exception.* field, or one of those of a related span.
func (r *resolver) field(name string) (*Field, error) {
	if f, ok := r.fields[name]; ok {
		return f, nil
	}
	f, err := r.resolve(name)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, r.unknown(name)
	}
	r.fields[name] = f
	return f, nil
}

// resolve returns nil for a field no event has.
func (r *resolver) resolve(name string) (*Field, error) {
	if prefix, inner := Relation(name); prefix != "" {
		f, err := r.resolve(inner)
		if f == nil || err != nil {
			return nil, err
		}
		return &Field{Name: name, Related: &Related{Root: prefix == RootPrefix, Field: f}}, nil
	}
	if sf, ok := Standard(name); ok {
		return r.standard(sf), nil
	}
	if r.cat.SpanAttribute(name) {
		return &Field{Name: name, Attribute: name, Exception: strings.HasPrefix(name, "exception.")}, nil
	}
	if strings.HasPrefix(name, "exception.") {
		return &Field{Name: name, Attribute: name, Exception: true}, nil
	}
	// The longest known map attribute the name starts with.
	parts := strings.Split(name, ".")
	for n := len(parts) - 1; n > 0; n-- {
		outer := strings.Join(parts[:n], ".")
		if !r.cat.SpanAttribute(outer) {
			continue
		}
		isMap, err := r.cat.MapAttribute(r.ctx, outer)
		if err != nil {
			return nil, err
		}
		if isMap {
			return &Field{Name: name, Attribute: outer, Path: parts[n:]}, nil
		}
	}
	ok, err := r.cat.AnnotationAttribute(r.ctx, name)
	if !ok || err != nil {
		return nil, err
	}
	return &Field{Name: name, Attribute: name}, nil
}

// standard resolves a standard field, with the attribute that stands in on spans lacking it.
func (r *resolver) standard(sf *StandardField) *Field {
	f := &Field{Name: sf.Name, Standard: sf}
	if (sf.Optional || sf.On&Spans == 0) && r.cat.SpanAttribute(sf.Name) {
		f.Attribute = sf.Name
	}
	return f
}
