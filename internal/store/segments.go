package store

import (
	"context"
	"time"

	"lookout/internal/telemetry"
)

// SegmentReader reads traces as AWS X-Ray sees them, whichever client sent their spans, over
// a whole time range: the service graph and the search for traces are computed in the store,
// so that an answer covers millions of spans without reading them back.
//
// A segment is the work of one service for one request: a span of Keys.Protocol whose
// Keys.Type attribute is Keys.Segment, or, for a span without that attribute, a server span
// or a root span (no parent). Every other span is a subsegment of the segment it descends
// from. A segment's caller is the segment of its parent span; one whose parent did not start
// within 15 minutes of it is an entry point. A subsegment that calls out (see SegmentKeys)
// and that no segment answers (no segment that started within 15 minutes of it is its child)
// stands for a node of its own, inferred.
//
// A span's outcome follows its HTTP status (Keys.HTTPStatus, the first that holds an integer):
// a fault when Keys.Fault is true, the status is 5xx, or no status is known (or it is 0, which
// clients record for a request that got no answer) and the span has error status and is not
// of Keys.Protocol; a throttle when Keys.Throttle is true or the status
// is 429; an error when it is no fault and Keys.Error is true or the status is 4xx; else ok.
type SegmentReader interface {
	// ServiceCalls counts the calls into the nodes of the service graph made by segments and
	// inferred nodes whose span started in [q.Start, q.End) and has ended, by caller, callee
	// and response time to the millisecond. A caller's name is its segment's service and its
	// type the most frequent origin of that service's segments in the range (the first in
	// text order of those as frequent).
	ServiceCalls(ctx context.Context, q ServiceCallQuery) ([]ServiceCalls, error)
	// CountServiceCalls does ahead of any graph the work ServiceCalls would do for the
	// minutes since since that no span can still join: a store that keeps counts of such
	// minutes counts them now, so that a graph over them reads the counts, not the spans.
	CountServiceCalls(ctx context.Context, keys SegmentKeys, since time.Time) error
	// MatchTraces returns the ids of the traces whose spans that started in [q.Start, q.End]
	// satisfy q.Cond, newest first (by the latest start among those of their spans that pass
	// one of q.Cond's tests, or among all of them when q.Cond holds a negation or no test),
	// from the q.Offset-th, at most q.Limit of them (0: DefaultLimit; MaxLimit at most).
	// Where q.Cond is a conjunction, a part may be found met by the spans of another trace
	// whose id has the same low 64 bits: random ids make that rare, and a caller that
	// needs certainty evaluates the condition on the traces it reads (Traces).
	MatchTraces(ctx context.Context, q TraceMatch) ([]telemetry.TraceID, error)
	// Traces returns every span of each of the traces, in the order of ids, each trace's
	// ordered as TraceReader.Trace orders them; a trace not found has none. It reads them
	// together, faster than one at a time.
	Traces(ctx context.Context, ids []telemetry.TraceID) ([][]telemetry.Span, error)
}

// SegmentKeys are the attribute keys that describe X-Ray's view of a span.
//
// A subsegment's call is typed AWS::<name> when its namespace is AWSNamespace or its RPCSystem
// is AWSRPCSystem; Database::SQL when it is a remote call (namespace RemoteCall, or a client
// or producer span) with DBSystem or DBConnection; remote for another remote call; otherwise
// it calls nothing. The callee's name is PeerService, else RPCService, else the span's name.
type SegmentKeys struct {
	Protocol                 string   // telemetry.IngestInfo.Protocol of X-Ray's spans
	Type, Segment            string   // the key telling segments from subsegments, and its value for segments
	Namespace, Origin        string   // the subsegment's namespace (aws, remote), the segment's origin
	Fault, Error, Throttle   string   // boolean flags of the outcome
	HTTPStatus               []string // keys of the HTTP status, in order of preference
	PeerService, RPCService  string   // what a call names its callee by, before its span name
	RPCSystem, AWSRPCSystem  string   // the key naming the RPC system, and its value for AWS calls
	DBSystem, DBConnection   string   // either present: a database call
	AWSNamespace, RemoteCall string   // the namespaces of AWS and of other remote calls
}

// ServiceCallQuery selects the spans of a service graph.
type ServiceCallQuery struct {
	Keys       SegmentKeys
	Start, End time.Time
}

// GraphNode is a node of the service graph: a service (name and origin) or an inferred callee.
type GraphNode struct {
	Name, Type string
	Inferred   bool
}

// ServiceCalls are the calls from one node to another with one response time. A zero Caller
// stands for the clients of entry points.
type ServiceCalls struct {
	Caller, Callee GraphNode
	ResponseMillis int64 // the callee's span's duration, rounded to the millisecond
	// Outcomes, as the callee's span says: Errors counts Throttles too, and Total all.
	OK, Errors, Throttles, Faults, Total int64
	ResponseNanos                        int64 // the sum of the exact durations
	Start, End                           int64 // unix nanoseconds: the earliest start, the latest end
}

// TraceMatch selects traces by their spans.
type TraceMatch struct {
	Keys          SegmentKeys
	Start, End    time.Time
	Cond          TraceCondition
	Offset, Limit int
}

// TraceCondition is a condition on a trace's spans: all of And, any of Or, not Not, or that
// Some span passes a test. The zero condition holds for every trace.
type TraceCondition struct {
	And, Or []TraceCondition
	Not     *TraceCondition
	Some    *SpanTest
}

// HoldsWithoutTests reports whether c holds for a trace none of whose spans passes a test.
func (c TraceCondition) HoldsWithoutTests() bool {
	switch {
	case c.Some != nil:
		return false
	case c.Not != nil:
		return !c.Not.HoldsWithoutTests()
	case len(c.And) > 0:
		for _, d := range c.And {
			if !d.HoldsWithoutTests() {
				return false
			}
		}
		return true
	case len(c.Or) > 0:
		for _, d := range c.Or {
			if d.HoldsWithoutTests() {
				return true
			}
		}
		return false
	}
	return true
}

// SpanTest is a test of one span.
type SpanTest struct {
	Service string // the span's service, exact; empty: any
	// What the test reads (empty: nothing, every span passes): an attribute of the span (not of its resource) named Key, or one
	// of the span's own: "fault", "error", "throttle", "ok" (its outcome, as SegmentReader
	// says), "in_progress", "duration" (seconds), "http.status" (as SegmentReader says; a
	// span without one fails).
	What string
	Key  string
	// Op compares the value with Value: =, != (same kind only: a string, a bool, or a number,
	// which matches integer and float attributes), <, <=, >, >= (numbers), CONTAINS,
	// BEGINSWITH, ENDSWITH (strings). Empty: the attribute is present, the outcome or
	// in_progress holds.
	Op     string
	Value  telemetry.Value
	Negate bool // the span passes when it fails the rest of the test
}
