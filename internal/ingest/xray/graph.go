package xray

import (
	"math"
	"sort"
)

// The service graph: a node per service (and per inferred remote or AWS callee, and one for
// the clients that call entry points), an edge per caller and callee, each with the counts
// of outcomes and the distribution of response times, as GetServiceGraph and GetTraceGraph
// return them.

// stats accumulates outcomes and response times.
type stats struct {
	ok, errors, throttles, faults, total int
	responseTime                         float64
	histogram                            map[float64]int // response time, to the millisecond
	durations                            map[float64]int
	start, end                           int64
}

func (s *stats) add(n *node, traceDuration float64) {
	if n.span.InProgress {
		return // no outcome or response time yet
	}
	_, fault, failed, throttle := n.status()
	switch {
	case fault:
		s.faults++
	case throttle:
		s.throttles++
		s.errors++
	case failed:
		s.errors++
	default:
		s.ok++
	}
	s.total++
	rt := n.seconds()
	s.responseTime += rt
	if s.histogram == nil {
		s.histogram, s.durations = map[float64]int{}, map[float64]int{}
	}
	s.histogram[math.Round(rt*1000)/1000]++
	s.durations[math.Round(traceDuration*1000)/1000]++
	if s.start == 0 || n.span.StartUnixNano < s.start {
		s.start = n.span.StartUnixNano
	}
	s.end = max(s.end, n.span.EndUnixNano)
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

func histogram(h map[float64]int) []any {
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
	duration := float64(v.end-v.start) / 1e9
	for _, n := range v.nodes {
		id := g.id(nodeKey{n.name, n.typ})
		from := clientNode
		if n.caller != nil {
			from = g.id(nodeKey{n.caller.name, n.caller.typ})
		} else {
			g.root[id] = true
		}
		if g.nodes[id] == nil {
			g.nodes[id] = &stats{}
			g.inferred[id] = n.inferred
		}
		g.nodes[id].add(n, duration)
		e := [2]int{from, id}
		if g.edges[e] == nil {
			g.edges[e] = &stats{}
		}
		g.edges[e].add(n, duration)
	}
}

// services renders the graph's nodes with their edges.
func (g *graph) services() []any {
	out := make([]any, 0, len(g.keys))
	for id, k := range g.keys {
		if id == clientNode && len(g.root) == 0 {
			continue
		}
		edges := []any{}
		for e, s := range g.edges {
			if e[0] != id {
				continue
			}
			edges = append(edges, map[string]any{"ReferenceId": e[1], "StartTime": epochSeconds(s.start), "EndTime": epochSeconds(s.end),
				"SummaryStatistics": s.summary(), "ResponseTimeHistogram": histogram(s.histogram), "Aliases": []any{}})
		}
		sort.Slice(edges, func(i, j int) bool {
			return edges[i].(map[string]any)["ReferenceId"].(int) < edges[j].(map[string]any)["ReferenceId"].(int)
		})
		svc := map[string]any{"ReferenceId": id, "Name": k.name, "Names": []string{k.name}, "Type": k.typ, "Edges": edges}
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
		svc["ResponseTimeHistogram"], svc["DurationHistogram"] = histogram(s.histogram), histogram(s.durations)
		out = append(out, svc)
	}
	return out
}
