package xray

import (
	"math"
	"sort"

	"lookout/internal/store"
)

// The service graph: a node per service (and per inferred remote or AWS callee, and one for
// the clients that call entry points), an edge per caller and callee, each with the counts
// of outcomes and the distribution of response times, as GetServiceGraph and GetTraceGraph
// return them.

// stats accumulates outcomes and response times: the durations of the nodes' spans.
type stats struct {
	ok, errors, throttles, faults, total int64
	responseTime                         float64
	histogram                            map[float64]int64 // response time, to the millisecond
	start, end                           int64
}

func (s *stats) add(n *node) {
	if n.span.InProgress {
		return // no outcome or response time yet
	}
	c := store.ServiceCalls{ResponseMillis: int64(math.Round(float64(n.span.EndUnixNano-n.span.StartUnixNano) / 1e6)), Total: 1,
		ResponseNanos: n.span.EndUnixNano - n.span.StartUnixNano, Start: n.span.StartUnixNano, End: n.span.EndUnixNano}
	_, fault, failed, throttle := n.status()
	switch {
	case fault:
		c.Faults = 1
	case throttle:
		c.Throttles, c.Errors = 1, 1
	case failed:
		c.Errors = 1
	default:
		c.OK = 1
	}
	s.addCalls(c)
}

// addCalls counts calls of one response time.
func (s *stats) addCalls(c store.ServiceCalls) {
	s.ok += c.OK
	s.errors += c.Errors
	s.throttles += c.Throttles
	s.faults += c.Faults
	s.total += c.Total
	s.responseTime += float64(c.ResponseNanos) / 1e9
	if s.histogram == nil {
		s.histogram = map[float64]int64{}
	}
	s.histogram[float64(c.ResponseMillis)/1000] += c.Total
	if s.start == 0 || c.Start < s.start {
		s.start = c.Start
	}
	s.end = max(s.end, c.End)
}

func (s *stats) summary() map[string]any {
	return map[string]any{
		"OkCount":           s.ok,
		"ErrorStatistics":   map[string]any{"ThrottleCount": s.throttles, "OtherCount": s.errors - s.throttles, "TotalCount": s.errors},
		"FaultStatistics":   map[string]any{"OtherCount": s.faults, "TotalCount": s.faults},
		"TotalCount":        s.total,
		"TotalResponseTime": s.responseTime,
	}
}

func histogram(h map[float64]int64) []any {
	values := make([]float64, 0, len(h))
	for v := range h {
		values = append(values, v)
	}
	sort.Float64s(values)
	out := make([]any, 0, len(values))
	for _, v := range values {
		out = append(out, map[string]any{"Value": v, "Count": h[v]})
	}
	return out
}

type nodeKey struct{ name, typ string }

// graph is a service graph being built.
type graph struct {
	ids      map[nodeKey]int
	keys     []nodeKey
	root     map[int]bool
	inferred map[int]bool
	nodes    map[int]*stats
	edges    map[[2]int]*stats
}

// clientNode is the reference id of the node that stands for the callers of entry points.
const clientNode = 0

func newGraph() *graph {
	g := &graph{ids: map[nodeKey]int{}, root: map[int]bool{}, inferred: map[int]bool{}, nodes: map[int]*stats{}, edges: map[[2]int]*stats{}}
	g.id(nodeKey{"client", "client"})
	return g
}

func (g *graph) id(k nodeKey) int {
	if id, ok := g.ids[k]; ok {
		return id
	}
	id := len(g.keys)
	g.ids[k] = id
	g.keys = append(g.keys, k)
	return id
}

// add puts a trace in the graph.
func (g *graph) add(v *view) {
	for _, n := range v.nodes {
		var caller *nodeKey
		if n.caller != nil {
			caller = &nodeKey{n.caller.name, n.caller.typ}
		}
		node, edge := g.call(caller, nodeKey{n.name, n.typ}, n.inferred)
		node.add(n)
		edge.add(n)
	}
}

// addCalls puts the calls the store counted in the graph, and returns how many requests
// came in through entry points: the traces the graph is drawn from.
func (g *graph) addCalls(calls []store.ServiceCalls) int {
	requests := 0
	for _, c := range calls {
		var caller *nodeKey
		if c.Caller.Name != "" {
			caller = &nodeKey{c.Caller.Name, c.Caller.Type}
		} else {
			requests += int(c.Total)
		}
		node, edge := g.call(caller, nodeKey{c.Callee.Name, c.Callee.Type}, c.Callee.Inferred)
		node.addCalls(c)
		edge.addCalls(c)
	}
	return requests
}

// call returns the statistics of a node and of the edge into it from its caller (nil: from
// the clients of entry points).
func (g *graph) call(caller *nodeKey, callee nodeKey, inferred bool) (node, edge *stats) {
	id := g.id(callee)
	from := clientNode
	if caller != nil {
		from = g.id(*caller)
		if g.nodes[from] == nil { // a caller known only as one: no calls into it counted
			g.nodes[from] = &stats{}
		}
	} else {
		g.root[id] = true
	}
	if g.nodes[id] == nil {
		g.nodes[id] = &stats{}
		g.inferred[id] = inferred
	}
	e := [2]int{from, id}
	if g.edges[e] == nil {
		g.edges[e] = &stats{}
	}
	return g.nodes[id], g.edges[e]
}

// services renders the graph's nodes with their edges.
// Nodes are numbered in order of name and type, the clients first, whatever order they were
// met in, so that the same calls make the same answer.
func (g *graph) services() []any {
	order := make([]int, len(g.keys))
	for id := range order {
		order[id] = id
	}
	sort.Slice(order[1:], func(i, j int) bool {
		a, b := g.keys[order[1+i]], g.keys[order[1+j]]
		return a.name < b.name || a.name == b.name && a.typ < b.typ
	})
	ref := make([]int, len(g.keys))
	for r, id := range order {
		ref[id] = r
	}
	out := make([]any, 0, len(g.keys))
	for _, id := range order {
		k := g.keys[id]
		if id == clientNode && len(g.root) == 0 {
			continue
		}
		edges := []any{}
		for e, s := range g.edges {
			if e[0] != id {
				continue
			}
			edges = append(edges, map[string]any{"ReferenceId": ref[e[1]], "StartTime": epochSeconds(s.start), "EndTime": epochSeconds(s.end),
				"SummaryStatistics": s.summary(), "ResponseTimeHistogram": histogram(s.histogram), "Aliases": []any{}})
		}
		sort.Slice(edges, func(i, j int) bool {
			return edges[i].(map[string]any)["ReferenceId"].(int) < edges[j].(map[string]any)["ReferenceId"].(int)
		})
		svc := map[string]any{"ReferenceId": ref[id], "Name": k.name, "Names": []string{k.name}, "Type": k.typ, "Edges": edges}
		if id == clientNode {
			svc["State"] = "unknown"
			out = append(out, svc)
			continue
		}
		s := g.nodes[id]
		svc["Root"], svc["State"] = g.root[id], "active"
		if g.inferred[id] {
			svc["State"] = "unknown" // not instrumented: known only from its callers
		}
		svc["StartTime"], svc["EndTime"] = epochSeconds(s.start), epochSeconds(s.end)
		svc["SummaryStatistics"] = s.summary()
		// X-Ray's DurationHistogram is "the spread of service durations": the same spans'.
		svc["ResponseTimeHistogram"], svc["DurationHistogram"] = histogram(s.histogram), histogram(s.histogram)
		out = append(out, svc)
	}
	return out
}
