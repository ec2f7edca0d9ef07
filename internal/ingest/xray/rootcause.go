package xray

import (
	"slices"

	"lookout/internal/telemetry"
)

// Root causes say where a trace's fault, error or response time begins. TraceSummary's
// FaultRootCauses, ErrorRootCauses and ResponseTimeRootCauses and the rootcause.* filters
// read the same ones, so that a filter matches the traces whose summaries show what it asks.
//
// A root cause is the chain of services from the entry point to the service where it
// begins. Each service has the path of its entities: its segment, then the subsegments down
// to the one that calls the next service, or, in the last service, down to the entity where
// it begins.

// causeKind is what a root cause is the root cause of.
type causeKind int

const (
	causeFault causeKind = iota
	causeError
	causeResponseTime
)

var causeKinds = map[string]causeKind{"fault": causeFault, "error": causeError, "responsetime": causeResponseTime}

type rootCause struct {
	services        []causeService // the entry point's first
	clientImpacting bool
}

type causeService struct {
	n    *node
	path []causeEntity
}

type causeEntity struct {
	sp     *telemetry.Span
	name   string  // the service's for its segment, else the subsegment's
	remote bool    // a call to a service outside (an inferred node, or the subsegment of such a call)
	share  float64 // of the entry point's response time (response time root causes only)
}

// rootCauses are the trace's root causes of a kind, computed once.
func (v *view) rootCauses(kind causeKind) []rootCause {
	if v.causes[kind] == nil {
		var found []rootCause
		if kind == causeResponseTime {
			found = responseTimeCauses(v)
		} else {
			found = failureCauses(v, kind)
		}
		v.causes[kind] = &found
	}
	return *v.causes[kind]
}

// failsAs reports whether a span's outcome is a fault, or an error.
func failsAs(sp *telemetry.Span, kind causeKind) bool {
	_, fault, failed, _ := (&node{span: sp}).status()
	return kind == causeFault && fault || kind == causeError && failed
}

// failureCauses are the nodes where a fault or an error begins: failing nodes none of whose
// callees fail the same way.
func failureCauses(v *view, kind causeKind) []rootCause {
	calleeFails := map[*node]bool{}
	for _, n := range v.nodes {
		if n.caller != nil && failsAs(n.span, kind) {
			calleeFails[n.caller] = true
		}
	}
	var out []rootCause
	for _, n := range v.nodes {
		if !failsAs(n.span, kind) || calleeFails[n] {
			continue
		}
		leaf := deepest(n, func(sp *telemetry.Span) bool { return failsAs(sp, kind) }, nil)
		out = append(out, rootCause{services: chain(n, leaf), clientImpacting: n.caller == nil || failsAs(v.root().span, kind)})
	}
	return out
}

// responseTimeCauses follow the time of a finished entry point: from a node to its slowest
// callee, and within the last node from a span to its slowest child, as long as the callee
// or child takes at least half of the time of the one that calls it (else most of the
// time is the caller's own). Coverage is each entity's share of the entry point's time.
func responseTimeCauses(v *view) []rootCause {
	root := v.root()
	total := root.seconds()
	if root.span.InProgress || total <= 0 {
		return nil
	}
	slowestCallee := map[*node]*node{}
	for _, m := range v.nodes {
		if s, ok := slowestCallee[m.caller]; m.caller != nil && (!ok || m.seconds() > s.seconds()) {
			slowestCallee[m.caller] = m
		}
	}
	n := root
	for range len(v.nodes) { // callers form a forest (breakCallerCycles): each step goes down
		slowest := slowestCallee[n]
		if slowest == nil || slowest.seconds() < n.seconds()/2 {
			break
		}
		n = slowest
	}
	leaf := deepest(n, nil, func(child, parent *telemetry.Span) bool { return spanSeconds(child) >= spanSeconds(parent)/2 })
	rc := rootCause{services: chain(n, leaf), clientImpacting: true}
	for i := range rc.services {
		for j := range rc.services[i].path {
			e := &rc.services[i].path[j]
			e.share = spanSeconds(e.sp) / total
		}
	}
	return []rootCause{rc}
}

// deepest walks down a node's spans from its segment: to the first child (by start) that
// fails, or to the slowest child that takes enough of its parent's time, until there is
// none. It returns the span it stops at.
func deepest(n *node, fails func(*telemetry.Span) bool, enough func(child, parent *telemetry.Span) bool) *telemetry.Span {
	at := n.span
	for depth := 0; depth < maxDepth && !n.inferred; depth++ {
		var next *telemetry.Span
		for _, sp := range n.spans[1:] {
			if sp.ParentSpanID != at.SpanID {
				continue
			}
			switch {
			case fails != nil && fails(sp) && (next == nil || sp.StartUnixNano < next.StartUnixNano):
				next = sp
			case enough != nil && enough(sp, at) && (next == nil || spanSeconds(sp) > spanSeconds(next)):
				next = sp
			}
		}
		if next == nil {
			break
		}
		at = next
	}
	return at
}

// chain is the root cause that ends at leaf, a span of last: the services from the entry
// point to last, each with its entities.
func chain(last *node, leaf *telemetry.Span) []causeService {
	var nodes []*node
	for m := last; m != nil && len(nodes) <= maxDepth; m = m.caller {
		nodes = append(nodes, m)
	}
	slices.Reverse(nodes)
	out := make([]causeService, len(nodes))
	for i, m := range nodes {
		to := leaf
		if i+1 < len(nodes) {
			to = spanOf(m, nodes[i+1].span.ParentSpanID)
		}
		out[i] = causeService{n: m, path: entityPath(m, to)}
	}
	return out
}

// spanOf is the span of a node with an id, or its segment's.
func spanOf(n *node, id telemetry.SpanID) *telemetry.Span {
	for _, sp := range n.spans {
		if sp.SpanID == id {
			return sp
		}
	}
	return n.span
}

// entityPath is the spans of a node from its segment down to one of them.
func entityPath(n *node, to *telemetry.Span) []causeEntity {
	if n.inferred || to == nil {
		return []causeEntity{{sp: n.span, name: n.name, remote: n.inferred}}
	}
	var path []causeEntity
	for sp := to; len(path) <= maxDepth; sp = spanOf(n, sp.ParentSpanID) {
		if sp == n.span {
			path = append(path, causeEntity{sp: sp, name: n.name})
			break
		}
		path = append(path, causeEntity{sp: sp, name: sp.Name, remote: calleeType(sp) != ""})
	}
	slices.Reverse(path)
	return path
}

// causeException is an exception recorded on an entity.
type causeException struct{ name, message string }

func exceptionsOf(sp *telemetry.Span) []causeException {
	var out []causeException
	for _, ev := range sp.Events {
		if ev.Name != "exception" {
			continue
		}
		typ, _ := ev.Attributes.Get("exception.type")
		msg, _ := ev.Attributes.Get("exception.message")
		out = append(out, causeException{name: typ.AsString(), message: msg.AsString()})
	}
	return out
}

// apiRootCauses are root causes as TraceSummary gives them: with each entity's exceptions,
// or for response time its coverage.
func apiRootCauses(causes []rootCause, kind causeKind) []any {
	out := []any{}
	for _, rc := range causes {
		services := []any{}
		for _, s := range rc.services {
			path := []any{}
			for _, e := range s.path {
				entity := map[string]any{"Name": e.name, "Remote": e.remote}
				if kind == causeResponseTime {
					entity["Coverage"] = e.share
				} else {
					entity["Exceptions"] = apiExceptions(e.sp)
				}
				path = append(path, entity)
			}
			svc := serviceID(s.n)
			svc["EntityPath"], svc["Inferred"] = path, s.n.inferred
			services = append(services, svc)
		}
		out = append(out, map[string]any{"Services": services, "ClientImpacting": rc.clientImpacting})
	}
	return out
}

func apiExceptions(sp *telemetry.Span) []any {
	out := []any{}
	for _, x := range exceptionsOf(sp) {
		out = append(out, map[string]any{"Name": x.name, "Message": x.message})
	}
	return out
}

// rootCauseFilter matches a trace with a root cause of its kind one of whose services,
// entities or exceptions (what) the inner filter matches.
type rootCauseFilter struct {
	kind  causeKind
	what  string
	inner filter
}

func (f *rootCauseFilter) match(s *scope) bool {
	for _, rc := range s.v.rootCauses(f.kind) {
		elems := rc.elements(f.what)
		for i := range elems {
			if f.inner.match(&scope{v: s.v, elem: &elems[i]}) {
				return true
			}
		}
	}
	return false
}

// causeElement is a service, an entity or an exception of a root cause, with its place
// among those of the cause, from 0: services from the entry point's, entities down the path
// across the services, exceptions in the order of their entities.
type causeElement struct {
	index, count int
	svc          *causeService
	ent          *causeEntity
	exc          *causeException
}

func (rc rootCause) elements(what string) []causeElement {
	var out []causeElement
	for i := range rc.services {
		s := &rc.services[i]
		if what == "service" {
			out = append(out, causeElement{svc: s})
			continue
		}
		for j := range s.path {
			if what == "entity" {
				out = append(out, causeElement{ent: &s.path[j]})
				continue
			}
			for _, x := range exceptionsOf(s.path[j].sp) {
				out = append(out, causeElement{exc: &x})
			}
		}
	}
	for i := range out {
		out[i].index, out[i].count = i, len(out)
	}
	return out
}

// matchElement evaluates a keyword of a root-cause block; the parser lets through only
// those the element has.
func (c *compare) matchElement(e *causeElement) bool {
	switch c.keyword {
	case "first":
		return c.holds(e.index == 0)
	case "last":
		return c.holds(e.index == e.count-1)
	case "remote":
		return c.holds(e.ent.remote)
	case "inferred":
		return c.holds(e.svc.n.inferred)
	case "index":
		return compareNumbers(float64(e.index), c.op, c.number)
	case "coverage":
		return compareNumbers(e.ent.share, c.op, c.number)
	}
	var text string
	switch {
	case c.keyword == "message":
		text = e.exc.message
	case c.keyword == "type":
		text = e.svc.n.typ
	case e.svc != nil:
		text = e.svc.n.name
	case e.ent != nil:
		text = e.ent.name
	default:
		text = e.exc.name
	}
	if c.op == "" {
		return text != ""
	}
	return compareTexts(text, c.op, c.value)
}

// rootCauseJSON matches a trace with a root cause, of any kind, like one of causes.
type rootCauseJSON struct{ causes []jsonCause }

// jsonCause is a root cause as rootcause.json gives it, in TraceSummary's shape. A member
// left out matches anything; a list given must match in length and order. Exceptions and
// coverage are not compared.
type jsonCause struct {
	ClientImpacting *bool
	Services        []struct {
		Name, Type, AccountId *string
		Inferred              *bool
		EntityPath            []struct {
			Name   *string
			Remote *bool
		}
	}
}

func (f *rootCauseJSON) match(s *scope) bool {
	for _, kind := range causeKinds {
		for _, rc := range s.v.rootCauses(kind) {
			for i := range f.causes {
				if f.causes[i].matches(rc) {
					return true
				}
			}
		}
	}
	return false
}

func (jc *jsonCause) matches(rc rootCause) bool {
	if !same(jc.ClientImpacting, rc.clientImpacting) || jc.Services != nil && len(jc.Services) != len(rc.services) {
		return false
	}
	for i, js := range jc.Services {
		svc := rc.services[i]
		if !same(js.Name, svc.n.name) || !same(js.Type, svc.n.typ) || !same(js.AccountId, svc.n.account()) || !same(js.Inferred, svc.n.inferred) {
			return false
		}
		if js.EntityPath != nil && len(js.EntityPath) != len(svc.path) {
			return false
		}
		for j, je := range js.EntityPath {
			if !same(je.Name, svc.path[j].name) || !same(je.Remote, svc.path[j].remote) {
				return false
			}
		}
	}
	return true
}

// same reports whether a member given, if it is, is the value.
func same[T comparable](given *T, value T) bool { return given == nil || *given == value }
