package query

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"lookout/internal/telemetry"
)

// SpanEvent returns a span as the Honeycomb event its fields describe: resource attributes,
// then span attributes (maps flattened into dotted fields), then the standard fields
// (trace.trace_id, name, duration_ms, ...), with the first exception event's attributes
// copied on when the span lacks them.
func SpanEvent(sp *telemetry.Span) map[string]any {
	ev := map[string]any{}
	if sp.Resource != nil {
		for _, kv := range sp.Resource.Attributes {
			setField(ev, kv.Key, kv.Value, 1)
		}
	}
	for _, kv := range sp.Attributes {
		setField(ev, kv.Key, kv.Value, 1)
	}
	for _, e := range sp.Events {
		if e.Name != "exception" {
			continue
		}
		for _, kv := range e.Attributes {
			if strings.HasPrefix(kv.Key, "exception.") {
				if _, ok := ev[kv.Key]; !ok {
					ev[kv.Key] = fieldValue(kv.Value)
				}
			}
		}
		break
	}
	ev["timestamp"] = sp.Start().UTC()
	ev["trace.trace_id"] = traceIDText(sp.TraceID)
	ev["trace.span_id"] = sp.SpanID.String()
	if !sp.ParentSpanID.IsZero() {
		ev["trace.parent_id"] = sp.ParentSpanID.String()
	}
	ev["name"] = sp.Name
	ev["service.name"] = sp.Service()
	ev["duration_ms"] = float64(sp.Duration().Nanoseconds()) / 1e6
	ev["span.kind"] = sp.Kind.String()
	ev["type"] = sp.Kind.String()
	ev["status_code"] = int64(sp.Status.Code)
	if sp.Status.Message != "" {
		ev["status_message"] = sp.Status.Message
	}
	if sp.Status.Code == telemetry.StatusError {
		ev["error"] = true
	}
	ev["span.num_events"] = int64(len(sp.Events))
	ev["span.num_links"] = int64(len(sp.Links))
	ev["meta.signal_type"] = "trace"
	if sp.TraceState != "" {
		ev["trace.trace_state"] = sp.TraceState
	}
	if sp.Scope != nil && sp.Scope.Name != "" {
		ev["library.name"] = sp.Scope.Name
	}
	if sp.Scope != nil && sp.Scope.Version != "" {
		ev["library.version"] = sp.Scope.Version
	}
	if sp.SampleRate > 1 {
		ev["meta.sample_rate"] = int64(sp.SampleRate)
	}
	return ev
}

// traceIDText is a trace id as Honeycomb shows it: 16 hex digits when its high half is zero.
func traceIDText(id telemetry.TraceID) string {
	s := id.String()
	if strings.HasPrefix(s, "0000000000000000") {
		return s[16:]
	}
	return s
}

// maxFlattenDepth is how deep Honeycomb flattens maps into dotted fields; deeper maps become
// JSON text.
const maxFlattenDepth = 5

// setField sets an attribute as event fields: a map as one dotted field per value.
func setField(ev map[string]any, key string, v telemetry.Value, depth int) {
	if v.Kind() != telemetry.KindMap || depth > maxFlattenDepth {
		ev[key] = fieldValue(v)
		return
	}
	for _, kv := range v.Map() {
		setField(ev, key+"."+kv.Key, kv.Value, depth+1)
	}
}

// fieldValue is an attribute as an event field: scalars as they are, bytes, arrays and maps
// as JSON text.
func fieldValue(v telemetry.Value) any {
	switch v.Kind() {
	case telemetry.KindString:
		return v.Str()
	case telemetry.KindBool:
		return v.Bool()
	case telemetry.KindInt:
		return v.Int()
	case telemetry.KindDouble:
		return v.Double()
	case telemetry.KindBytes:
		b, _ := json.Marshal(base64.StdEncoding.EncodeToString(v.Bytes()))
		return string(b)
	}
	return v.AsString()
}
