package xray

import (
	"encoding/json"
	"hash/fnv"

	"lookout/internal/telemetry"
)

// inferredSegments are the segments X-Ray adds to a trace, as BatchGetTraces returns them, for
// the calls to AWS services and remote endpoints that no segment of the trace answers (the
// inferred nodes of its graph): named after what was called, with the calling subsegment as
// their parent, its times, its http and aws blocks and its outcome, and the callee's type as
// their origin.
func inferredSegments(id telemetry.TraceID, spans []telemetry.Span) []SegmentDocument {
	var out []SegmentDocument
	for _, n := range newView(id, spans).nodes {
		if !n.inferred {
			continue
		}
		sp := n.span
		doc := map[string]any{
			"id":         inferredID(sp.SpanID),
			"name":       entityName(n.name),
			"trace_id":   FormatTraceID(id),
			"parent_id":  sp.SpanID.String(),
			"start_time": secondsNumber(sp.StartUnixNano),
			"inferred":   true,
			"origin":     n.typ,
		}
		if sp.InProgress {
			doc["in_progress"] = true
		} else {
			doc["end_time"] = secondsNumber(sp.EndUnixNano)
		}
		call := sentDocument(sp)
		if call == nil {
			call = exported(sp, false)
		}
		for _, k := range []string{"http", "aws", "error", "fault", "throttle"} {
			if v, ok := call[k]; ok {
				doc[k] = v
			}
		}
		b, _ := json.Marshal(doc) // values from JSON and strings: cannot fail
		out = append(out, SegmentDocument{Id: doc["id"].(string), Document: string(b)})
	}
	return out
}

// inferredID gives the segment inferred from a call a stable id of its own, from the call's.
func inferredID(call telemetry.SpanID) string {
	h := fnv.New64a()
	h.Write([]byte("inferred"))
	h.Write(call[:])
	return telemetry.SpanIDFromUint64(h.Sum64()).String()
}
