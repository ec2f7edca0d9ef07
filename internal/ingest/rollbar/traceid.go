package rollbar

import (
	"strings"

	"lookout/internal/telemetry"
)

// traceContext finds the trace and span an occurrence happened in, wherever the SDKs and
// their users put them, in this order: data.attributes (rollbar.js 3), data.custom
// (trace_id, otel_trace_id, traceId), the request's W3C traceparent header, its X-Ray
// X-Amzn-Trace-Id header, its Honeycomb X-Honeycomb-Trace header.
func traceContext(it *item) (telemetry.TraceID, telemetry.SpanID) {
	var trace, span string
	for _, kv := range it.Attributes {
		switch kv.Key {
		case "trace_id":
			trace = string(kv.Value)
		case "span_id":
			span = string(kv.Value)
		}
	}
	if t, s, ok := ids(trace, span); ok {
		return t, s
	}
	c := it.Custom
	for _, ts := range [][2]text{{c.TraceID, c.SpanID}, {c.OtelTraceID, c.OtelSpanID}, {c.TraceIDJS, c.SpanIDJS}} {
		if t, s, ok := ids(string(ts[0]), string(ts[1])); ok {
			return t, s
		}
	}
	headers := it.Request.Headers
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
	if trace == "" { // most places hold none: spare the parser's error
		return telemetry.TraceID{}, telemetry.SpanID{}, false
	}
	t, err := telemetry.ParseTraceID(strings.TrimSpace(trace))
	if err != nil || t.IsZero() {
		return t, telemetry.SpanID{}, false
	}
	s, _ := telemetry.ParseSpanID(strings.TrimSpace(span))
	return t, s, true
}

// header returns a request header's value whatever the case of its name (rollbar.js sends
// them lower-case, pyrollbar as the client did).
func header(headers map[string]text, name string) string {
	for k, v := range headers {
		if strings.EqualFold(k, name) {
			return string(v)
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
