package xray

import (
	"slices"
	"time"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// A trace seen as X-Ray sees it, whichever client sent its spans: segments (the work of one
// service for one request), each with the segment that called it, and inferred nodes for
// the remote and AWS calls that no segment answers. Filter expressions, trace summaries and
// the service graph all read traces this way.

// node is one segment of a trace, or an inferred one.
type node struct {
	span     *telemetry.Span // the segment's span; for an inferred node, the calling subsegment
	name     string          // the service's name
	typ      string          // its origin (AWS::EC2::Instance, ...), remote, AWS::<service>, or empty
	inferred bool
	caller   *node             // the node whose work called this one; nil for the entry point
	spans    []*telemetry.Span // the segment's own spans (its subsegments); the span alone when inferred
}

// view is a trace's nodes, entry point first.
type view struct {
	id         telemetry.TraceID
	spans      []telemetry.Span
	nodes      []*node
	start, end int64
	partial    bool
	causes     [3]*[]rootCause // by causeKind, once asked for
}

// newView builds the view of a trace's spans.
func newView(id telemetry.TraceID, spans []telemetry.Span) *view {
	v := &view{id: id, spans: spans}
	byID := make(map[telemetry.SpanID]*telemetry.Span, len(spans))
	for i := range spans {
		byID[spans[i].SpanID] = &spans[i]
		if i == 0 || spans[i].StartUnixNano < v.start {
			v.start = spans[i].StartUnixNano
		}
		v.end = max(v.end, spans[i].EndUnixNano)
		v.partial = v.partial || spans[i].InProgress
	}
	segmentOf := map[telemetry.SpanID]*node{}
	// owner is the segment a span belongs to: itself when it is one, else its parent's.
	var owner func(sp *telemetry.Span, depth int) *node
	owner = func(sp *telemetry.Span, depth int) *node {
		if n, ok := segmentOf[sp.SpanID]; ok {
			return n
		}
		parent, hasParent := byID[sp.ParentSpanID]
		var n *node
		if !hasParent || isSegment(sp) || depth > maxDepth {
			n = &node{span: sp, name: sp.Service(), typ: origin(sp)}
			v.nodes = append(v.nodes, n)
		} else {
			n = owner(parent, depth+1)
		}
		segmentOf[sp.SpanID] = n
		n.spans = append(n.spans, sp)
		return n
	}
	for i := range spans {
		owner(&spans[i], 0)
	}
	hasChildSegment := map[telemetry.SpanID]bool{}
	for _, n := range v.nodes {
		if parent, ok := byID[n.span.ParentSpanID]; ok {
			n.caller = segmentOf[parent.SpanID]
			hasChildSegment[parent.SpanID] = true
		}
	}
	breakCallerCycles(v.nodes)
	// Calls out of a segment that no segment of the trace answers are inferred nodes.
	for _, n := range slices.Clone(v.nodes) {
		for _, sp := range n.spans[1:] {
			if typ := calleeType(sp); typ != "" && !hasChildSegment[sp.SpanID] {
				v.nodes = append(v.nodes, &node{span: sp, name: calleeName(sp), typ: typ, inferred: true, caller: n, spans: []*telemetry.Span{sp}})
			}
		}
	}
	slices.SortStableFunc(v.nodes, func(a, b *node) int {
		if (a.caller == nil) != (b.caller == nil) {
			if a.caller == nil {
				return -1
			}
			return 1
		}
		return int(min(max(a.span.StartUnixNano-b.span.StartUnixNano, -1), 1))
	})
	return v
}

// breakCallerCycles makes the nodes' callers a forest: a hostile trace can name a segment's
// own subsegment, or a segment that descends from it, as its parent. The node at which a walk
// up the callers comes back into itself gets no caller, so every walk up ends.
func breakCallerCycles(nodes []*node) {
	const walking, done = 1, 2
	state := make(map[*node]int, len(nodes))
	for _, n := range nodes {
		var walked []*node
		for m := n; m != nil && state[m] != done; m = m.caller {
			if state[m] == walking {
				walked[len(walked)-1].caller = nil
				break
			}
			state[m] = walking
			walked = append(walked, m)
		}
		for _, m := range walked {
			state[m] = done
		}
	}
}

// root is the trace's entry point.
func (v *view) root() *node { return v.nodes[0] }

// origin is a segment's origin, as the SDK named it.
func origin(sp *telemetry.Span) string {
	o, _ := sp.Attributes.Get(AttrOrigin)
	return o.Str()
}

// segmentKeys are the attributes that make a span's segment, call and outcome, for the store
// (store.SegmentReader) as for the views built here.
var segmentKeys = store.SegmentKeys{
	Protocol: Protocol, Type: AttrType, Segment: TypeSegment, Namespace: AttrNamespace, Origin: AttrOrigin,
	Fault: AttrFault, Error: AttrError, Throttle: AttrThrottle, HTTPStatus: []string{"http.status_code", "http.response.status_code"},
	PeerService: "peer.service", RPCService: "rpc.service", RPCSystem: "rpc.system", AWSRPCSystem: "aws-api",
	DBSystem: "db.system", DBConnection: "db.connection_string", AWSNamespace: "aws", RemoteCall: "remote",
}

// SegmentKeys returns the keys of X-Ray's view of spans, for readers of the store's service
// graph outside this package, so that they count what GetServiceGraph counts.
func SegmentKeys() store.SegmentKeys { return segmentKeys }

// calleeType is the type of the node a span calls: AWS::<service> for an AWS SDK call,
// remote for another remote call, empty when the span calls nothing outside.
func calleeType(sp *telemetry.Span) string {
	k := segmentKeys
	ns, _ := sp.Attributes.Get(k.Namespace)
	sys, _ := sp.Attributes.Get(k.RPCSystem)
	switch {
	case ns.Str() == k.AWSNamespace || sys.Str() == k.AWSRPCSystem:
		return "AWS::" + calleeName(sp)
	case ns.Str() == k.RemoteCall, sp.Kind == telemetry.SpanKindClient, sp.Kind == telemetry.SpanKindProducer:
		for _, key := range []string{k.DBSystem, k.DBConnection} {
			if _, ok := sp.Attributes.Get(key); ok {
				return "Database::SQL"
			}
		}
		return "remote"
	}
	return ""
}

// calleeName names the node a span calls: the peer service when the span says, else its
// name (X-Ray's SDKs name a call's subsegment after what it calls).
func calleeName(sp *telemetry.Span) string {
	for _, key := range []string{segmentKeys.PeerService, segmentKeys.RPCService} {
		if p, ok := sp.Attributes.Get(key); ok && p.Str() != "" {
			return p.Str()
		}
	}
	return sp.Name
}

// status is what a node's span says of the outcome: its HTTP status (0 if none), and whether
// it is a fault (5xx), an error (4xx) or a throttle (429).
func (n *node) status() (code int64, fault, failed, throttle bool) {
	sp := n.span
	code = httpStatus(sp)
	flag := func(key string) bool {
		v, _ := sp.Attributes.Get(key)
		return v.Kind() == telemetry.KindBool && v.Bool()
	}
	fault = flag(AttrFault) || code >= 500 || code == 0 && sp.Status.Code == telemetry.StatusError && sp.Ingest.Protocol != Protocol
	throttle = flag(AttrThrottle) || code == 429
	failed = !fault && (flag(AttrError) || code >= 400 && code < 500)
	return code, fault, failed, throttle
}

// account is the AWS account a node runs in, as its segment (aws.account_id) says, or for an
// inferred node the call's own aws.account_id or else its caller's; empty when none says.
func (n *node) account() string {
	if a, ok := n.attr("aws.account_id"); ok {
		return a
	}
	if n.span.Resource != nil {
		if a, ok := n.span.Resource.Attributes.Get("cloud.account.id"); ok {
			return a.AsString()
		}
	}
	return ""
}

// seconds is a node's response time: its span's duration.
func (n *node) seconds() float64 { return spanSeconds(n.span) }

// spanSeconds is a span's duration in seconds.
func spanSeconds(sp *telemetry.Span) float64 { return float64(sp.EndUnixNano-sp.StartUnixNano) / 1e9 }

// attr is a text attribute of a node's span.
func (n *node) attr(key string) (string, bool) {
	v, ok := n.span.Attributes.Get(key)
	if !ok {
		return "", false
	}
	return v.AsString(), true
}

// startsWithin reports whether a span of the trace started in [start, end].
func (v *view) startsWithin(start, end time.Time) bool {
	for i := range v.spans {
		if at := v.spans[i].StartUnixNano; at >= start.UnixNano() && at <= end.UnixNano() {
			return true
		}
	}
	return false
}
