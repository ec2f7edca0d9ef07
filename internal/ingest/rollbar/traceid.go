package rollbar

import (
	"strings"

	"lookout/internal/telemetry"
)

// traceContext finds the trace and span an occurrence happened in, wherever the SDKs and
// their users put them, in this order: data.attributes (rollbar.js 3), data.custom
// (trace_id, otel_trace_id, traceId), the request's W3C traceparent header, its X-Ray
// X-Amzn-Trace-Id header, its Honeycomb X-Honeycomb-Trace header.
func traceContext(data map[string]any) (telemetry.TraceID, telemetry.SpanID) {
	if attrs, ok := data["attributes"].([]any); ok {
		var trace, span string
		for _, a := range attrs {
			kv, _ := a.(map[string]any)
			v, _ := kv["value"].(string)
			switch kv["key"] {
			case "trace_id":
				trace = v
			case "span_id":
				span = v
			}
		}
		if t, s, ok := ids(trace, span); ok {
			return t, s
		}
	}
	if custom, ok := data["custom"].(map[string]any); ok {
		for _, keys := range [][2]string{{"trace_id", "span_id"}, {"otel_trace_id", "otel_span_id"}, {"traceId", "spanId"}} {
			trace, _ := custom[keys[0]].(string)
			span, _ := custom[keys[1]].(string)
			if t, s, ok := ids(trace, span); ok {
				return t, s
			}
		}
	}
	request, _ := data["request"].(map[string]any)
	headers, _ := request["headers"].(map[string]any)
	if v := header(headers, "traceparent"); v != "" {
		if parts := strings.Split(v, "-"); len(parts) >= 3 {
			if t, s, ok := ids(parts[1], parts[2]); ok {
				return t, s
			}
		}
	}
	if v := header(headers, "x-amzn-trace-id"); v != "" {
		root, parent := fields(v, ";", "root", "parent")
		if rest, ok := strings.CutPrefix(root, "1-"); ok {
			if t, s, ok := ids(strings.ReplaceAll(rest, "-", ""), parent); ok {
				return t, s
			}
		}
	}
	if v := header(headers, "x-honeycomb-trace"); v != "" {
		_, rest, _ := strings.Cut(v, ";")
		trace, parent := fields(rest, ",", "trace_id", "parent_id")
		if t, s, ok := ids(strings.ReplaceAll(trace, "-", ""), parent); ok {
			return t, s
		}
	}
	return telemetry.TraceID{}, telemetry.SpanID{}
}

// ids parses a hex trace id and an optional span id.
func ids(trace, span string) (telemetry.TraceID, telemetry.SpanID, bool) {
	t, err := telemetry.ParseTraceID(strings.TrimSpace(trace))
	if err != nil || t.IsZero() {
		return t, telemetry.SpanID{}, false
	}
	s, _ := telemetry.ParseSpanID(strings.TrimSpace(span))
	return t, s, true
}

// header returns a request header's value whatever the case of its name (rollbar.js sends
// them lower-case, pyrollbar as the client did).
func header(headers map[string]any, name string) string {
	for k, v := range headers {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// fields reads two keys of a "k=v<sep>k=v" header, keys case-insensitively.
func fields(s, sep, a, b string) (string, string) {
	var va, vb string
	for part := range strings.SplitSeq(s, sep) {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch strings.ToLower(k) {
		case a:
			va = v
		case b:
			vb = v
		}
	}
	return va, vb
}
