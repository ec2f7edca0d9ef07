package xray

import (
	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// storeCondition is a condition on a trace's spans that the store can check and that holds
// for every trace f matches: GetTraceSummaries asks the store for the traces it holds for,
// newest first, and evaluates f exactly on those alone. known reports whether a name is a
// service that sent spans.
//
// Negations are pushed down to the keywords. A keyword that describes one span (the entry
// point's at the trace's level, a node's within service() or edge()) becomes "some span
// passes", which the entry point's or the node's span does; annotations, users and partial,
// which look at every span in scope, are exact at the trace's level and may be negated
// there. What the store cannot express (trace durations, inferred nodes, negated service()
// and edge(), numbers under negation, availability zones and instances) holds for every
// trace, as do root causes but for their trace having a fault or an error at all.
func storeCondition(f filter, known func(string) bool) store.TraceCondition {
	return (&conditionBuilder{known: known}).of(f, nodeScope{}, false)
}

// nodeScope is where a keyword is evaluated: the trace's level, or a node of a service.
type nodeScope struct {
	inNode  bool
	service string // empty: any service
}

type conditionBuilder struct{ known func(string) bool }

var anyTrace = store.TraceCondition{}

func some(t store.SpanTest) store.TraceCondition { return store.TraceCondition{Some: &t} }

func (b *conditionBuilder) of(f filter, at nodeScope, negated bool) store.TraceCondition {
	switch f := f.(type) {
	case allOf, anyOf:
		var pair [2]filter
		conjunction := false
		if a, ok := f.(allOf); ok {
			pair, conjunction = a, true
		} else {
			pair = f.(anyOf)
		}
		both := []store.TraceCondition{b.of(pair[0], at, negated), b.of(pair[1], at, negated)}
		if conjunction != negated {
			return store.TraceCondition{And: both}
		}
		return store.TraceCondition{Or: both}
	case not:
		return b.of(f.f, at, !negated)
	case *compare:
		return b.compare(f, at, negated)
	case *inService:
		name := ""
		if f.sel != nil {
			name = f.sel.name
		}
		return b.within(f.inner, b.scopeOf(name), negated)
	case *onEdge:
		return b.within(f.inner, b.scopeOf(f.to.name), negated)
	case *rootCauseFilter:
		// A fault or error begins somewhere only when some span has one; what the cause's
		// services, entities and exceptions must be is left to the exact evaluation.
		if negated || f.kind == causeResponseTime {
			return anyTrace
		}
		return some(store.SpanTest{What: map[causeKind]string{causeFault: "fault", causeError: "error"}[f.kind]})
	}
	return anyTrace
}

// scopeOf is the scope of a node named name: its service's spans when it is a service.
func (b *conditionBuilder) scopeOf(name string) nodeScope {
	if name != "" && b.known(name) {
		return nodeScope{inNode: true, service: name}
	}
	return nodeScope{inNode: true}
}

// within is the condition of a node matching inner in a scope: some span of it, and inner.
func (b *conditionBuilder) within(inner filter, at nodeScope, negated bool) store.TraceCondition {
	if negated {
		return anyTrace // no such node: the store cannot tell nodes apart
	}
	exists := some(store.SpanTest{Service: at.service})
	if inner == nil {
		return exists
	}
	c := b.of(inner, at, false)
	if c.HoldsWithoutTests() {
		return store.TraceCondition{And: []store.TraceCondition{exists, c}}
	}
	return c // a span of the node passes one of its tests, which name the service
}

func (b *conditionBuilder) compare(c *compare, at nodeScope, negated bool) store.TraceCondition {
	t := store.SpanTest{Service: at.service}
	wholeTrace := false // the keyword looks at every span of the trace
	switch {
	case c.keyword == "annotation":
		t.What, t.Key, t.Op = "attribute", c.annotation, c.op
		switch {
		case c.isText:
			t.Value = telemetry.StringValue(c.value)
		case c.isNumber:
			t.Value = telemetry.DoubleValue(c.number)
		case c.isBool:
			t.Value = telemetry.BoolValue(c.value == "true")
		}
		wholeTrace = true
	case c.keyword == "user" || c.keyword == "resource.arn":
		key := AttrUser
		if c.keyword == "resource.arn" {
			key = wholeTraceTexts[c.keyword].key
		}
		t.What, t.Key, t.Op, t.Value = "attribute", key, c.op, telemetry.StringValue(c.value)
		wholeTrace = true
	case c.keyword == "availabilityzone" || c.keyword == "instance.id":
		return anyTrace // resource attributes, which the store's tests do not read
	case c.keyword == "partial":
		t.What = "in_progress"
		wholeTrace = true
	case c.keyword == "ok" || c.keyword == "error" || c.keyword == "fault" || c.keyword == "throttle":
		t.What = c.keyword
	case c.keyword == "responsetime" || c.keyword == "duration" && at.inNode || c.keyword == "http.status":
		if negated {
			return anyTrace // a span without the number matches the negation
		}
		t.What, t.Op, t.Value = "duration", c.op, telemetry.DoubleValue(c.number)
		if c.keyword == "http.status" {
			t.What = "http.status"
		}
		return some(t)
	case httpKeywords[c.keyword] != "":
		key := httpKeywords[c.keyword]
		t.What, t.Key, t.Op, t.Value, t.Negate = "attribute", key, c.op, telemetry.StringValue(c.value), negated
		current := t // the attribute under OpenTelemetry's current name
		current.Key = httpNames[key]
		return store.TraceCondition{Or: []store.TraceCondition{some(t), some(current)}}
	default: // root, inferred, name, type, a trace's duration
		return anyTrace
	}
	if boolKeywords[c.keyword] && c.op != "" {
		// keyword = true, keyword != false: the keyword holds; otherwise it does not.
		negated = negated != ((c.value == "true") != (c.op == "="))
		t.Op = ""
	}
	if wholeTrace && !at.inNode {
		if negated {
			return store.TraceCondition{Not: &store.TraceCondition{Some: &t}}
		}
		return some(t)
	}
	t.Negate = negated
	return some(t)
}
