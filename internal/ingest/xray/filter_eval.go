package xray

import (
	"strings"

	"lookout/internal/telemetry"
)

// scope is what a filter is evaluated on: a trace, and within service() or edge() one of its
// nodes; at the trace's level, keywords describe its entry point.
type scope struct {
	v    *view
	node *node         // nil at the trace's level
	elem *causeElement // within a root-cause filter: what it enumerates
}

func (s *scope) subject() *node {
	if s.node != nil {
		return s.node
	}
	return s.v.root()
}

type always struct{}

func (always) match(*scope) bool { return true }

type allOf [2]filter

func (f allOf) match(s *scope) bool { return f[0].match(s) && f[1].match(s) }

type anyOf [2]filter

func (f anyOf) match(s *scope) bool { return f[0].match(s) || f[1].match(s) }

type not struct{ f filter }

func (f not) match(s *scope) bool { return !f.f.match(s) }

// compare is a keyword or an annotation, alone (true, or present) or compared with a value.
type compare struct {
	keyword                  string // lower case; "annotation" for annotation.<annotation>
	annotation               string
	op                       string // empty when alone
	value                    string
	number                   float64
	isText, isNumber, isBool bool // the annotation's value's type
}

func (c *compare) match(s *scope) bool {
	if s.elem != nil {
		return c.matchElement(s.elem)
	}
	n := s.subject()
	if boolKeywords[c.keyword] {
		return c.holds(c.flag(s, n))
	}
	if numberKeywords[c.keyword] {
		got, ok := c.numberOf(s, n)
		return ok && compareNumbers(got, c.op, c.number)
	}
	if c.keyword == "annotation" {
		return c.annotationMatches(s)
	}
	for _, text := range c.texts(s, n) {
		if c.op == "" || compareTexts(text, c.op, c.value) {
			return true
		}
	}
	return false
}

// holds compares a boolean keyword's value.
func (c *compare) holds(got bool) bool {
	if c.op == "" {
		return got
	}
	return (got == (c.value == "true")) == (c.op == "=")
}

func (c *compare) flag(s *scope, n *node) bool {
	_, fault, failed, throttle := n.status()
	switch c.keyword {
	case "ok":
		return !fault && !failed && !throttle
	case "error":
		return failed
	case "fault":
		return fault
	case "throttle":
		return throttle
	case "partial":
		if s.node == nil {
			return s.v.partial
		}
		for _, sp := range n.spans {
			if sp.InProgress {
				return true
			}
		}
		return false
	case "root":
		return n.caller == nil
	case "inferred":
		if s.node == nil {
			for _, m := range s.v.nodes {
				if m.inferred {
					return true
				}
			}
			return false
		}
		return n.inferred
	}
	return false
}

func (c *compare) numberOf(s *scope, n *node) (float64, bool) {
	switch c.keyword {
	case "responsetime": // unknown until the segment ends
		return n.seconds(), !n.span.InProgress
	case "duration":
		if s.node == nil {
			return float64(s.v.end-s.v.start) / 1e9, true
		}
		return n.seconds(), true
	case "http.status":
		code, _, _, _ := n.status()
		return float64(code), code != 0
	}
	return 0, false
}

// texts are the values a string keyword has: one for the node, and for user and where
// segments run (wholeTraceTexts) those of every segment in scope.
func (c *compare) texts(s *scope, n *node) []string {
	if key, ok := wholeTraceTexts[c.keyword]; ok {
		return segmentTexts(s.nodesInScope(), key)
	}
	switch c.keyword {
	case "name":
		return []string{n.name}
	case "type":
		return []string{n.typ}
	case "user":
		var users []string
		for _, m := range s.nodesInScope() {
			for _, sp := range m.spans {
				if u, ok := sp.Attributes.Get(AttrUser); ok {
					users = append(users, u.AsString())
				}
			}
		}
		return users
	}
	if v, ok := httpAttr(n.span, httpKeywords[c.keyword]); ok {
		return []string{v}
	}
	return nil
}

// httpKeywords are the attributes the http.* keywords read (under either name, httpAttr).
var httpKeywords = map[string]string{"http.url": "http.url", "http.method": "http.method", "http.useragent": "http.user_agent",
	"http.clientip": "http.client_ip"}

// wholeTraceTexts are the string keywords of where a segment runs, with the attribute each
// reads: the availability zone and instance are its resource's (an X-Ray segment's
// aws.ec2, or OpenTelemetry's resource), the resource ARN its spans' own. A host is an EC2
// instance only on AWS: elsewhere host.id names a machine of another kind.
var wholeTraceTexts = map[string]attrKey{
	"availabilityzone": {key: "cloud.availability_zone", resource: true},
	"instance.id":      {key: "host.id", resource: true, onAWS: true},
	"resource.arn":     {key: "aws.xray.resource_arn"},
}

type attrKey struct {
	key      string
	resource bool // a resource attribute, else a span's
	onAWS    bool // only of a resource whose cloud.provider is aws
}

// segmentTexts are the values of an attribute on the spans of nodes, in order, each once.
// Inferred nodes have no segment, and so no value of their own.
func segmentTexts(nodes []*node, k attrKey) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range nodes {
		if n.inferred {
			continue
		}
		for _, sp := range n.spans {
			attrs := sp.Attributes
			if k.resource {
				if sp.Resource == nil {
					continue
				}
				attrs = sp.Resource.Attributes
			}
			if provider, _ := attrs.Get("cloud.provider"); k.onAWS && provider.AsString() != "aws" {
				continue
			}
			if v, ok := attrs.Get(k.key); ok && !seen[v.AsString()] {
				seen[v.AsString()] = true
				out = append(out, v.AsString())
			}
		}
	}
	return out
}

func (s *scope) nodesInScope() []*node {
	if s.node != nil {
		return []*node{s.node}
	}
	return s.v.nodes
}

// annotationMatches looks for the annotation on every span in scope.
func (c *compare) annotationMatches(s *scope) bool {
	for _, n := range s.nodesInScope() {
		for _, sp := range n.spans {
			v, ok := sp.Attributes.Get(c.annotation)
			if ok && c.annotationValue(v) {
				return true
			}
		}
	}
	return false
}

func (c *compare) annotationValue(v telemetry.Value) bool {
	switch {
	case c.op == "":
		return true
	case c.isNumber:
		var n float64
		switch v.Kind() {
		case telemetry.KindInt:
			n = float64(v.Int())
		case telemetry.KindDouble:
			n = v.Double()
		default:
			return false
		}
		return compareNumbers(n, c.op, c.number)
	case c.isBool:
		return v.Kind() == telemetry.KindBool && (v.Bool() == (c.value == "true")) == (c.op == "=")
	default:
		return v.Kind() == telemetry.KindString && compareTexts(v.Str(), c.op, c.value)
	}
}

func compareNumbers(a float64, op string, b float64) bool {
	switch op {
	case "=":
		return a == b
	case "!=":
		return a != b
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	case ">=":
		return a >= b
	}
	return false
}

func compareTexts(a, op, b string) bool {
	switch op {
	case "=":
		return a == b
	case "!=":
		return a != b
	case "CONTAINS":
		return strings.Contains(a, b)
	case "BEGINSWITH":
		return strings.HasPrefix(a, b)
	case "ENDSWITH":
		return strings.HasSuffix(a, b)
	}
	return false
}

func (sel *selector) matches(n *node) bool {
	return sel == nil || (sel.name == "" || sel.name == n.name) && (sel.typ == "" || strings.EqualFold(sel.typ, n.typ)) &&
		(sel.account == "" || sel.account == n.account())
}

// inService matches a trace with a node of the service whose own filter matches.
type inService struct {
	sel   *selector
	inner filter
}

func (f *inService) match(s *scope) bool {
	for _, n := range s.v.nodes {
		if f.sel.matches(n) && (f.inner == nil || f.inner.match(&scope{v: s.v, node: n})) {
			return true
		}
	}
	return false
}

// onEdge matches a trace with a call from one node to another whose filter, on the called
// node, matches.
type onEdge struct {
	from, to selector
	inner    filter
}

func (f *onEdge) match(s *scope) bool {
	for _, n := range s.v.nodes {
		if n.caller != nil && f.from.matches(n.caller) && f.to.matches(n) && (f.inner == nil || f.inner.match(&scope{v: s.v, node: n})) {
			return true
		}
	}
	return false
}
