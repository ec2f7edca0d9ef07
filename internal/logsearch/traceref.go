package logsearch

import (
	"regexp"
	"strings"

	"lookout/internal/telemetry"
)

// Trace ids that log lines mention, so that a line without OpenTelemetry's trace context
// still links to its trace: a W3C traceparent (00-trace-span-flags), a trace_id / traceId /
// "trace.id" field in key=value or JSON form (with span_id / spanId beside it), or an X-Ray
// trace id (Root=1-5f84c7a1-…, with Parent= as the span), which lookout stores as the 32
// hex digits of its two parts, as the OpenTelemetry X-Ray propagator does.
var (
	traceparentRef = regexp.MustCompile(`\b00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}\b`)
	traceFieldRef  = regexp.MustCompile(`(?i)\btrace[_.-]?id"?\s*[:=]\s*"?([0-9a-f]{32})\b`)
	spanFieldRef   = regexp.MustCompile(`(?i)\bspan[_.-]?id"?\s*[:=]\s*"?([0-9a-f]{16})\b`)
	xrayRef        = regexp.MustCompile(`\b1-([0-9a-f]{8})-([0-9a-f]{24})\b`)
	xrayParentRef  = regexp.MustCompile(`\bParent=([0-9a-f]{16})\b`)
)

// TraceRef returns the trace (and span, when named) a log message mentions; ok is false
// when it names none.
func TraceRef(msg string) (trace telemetry.TraceID, span telemetry.SpanID, ok bool) {
	if !strings.Contains(msg, "00-") && !strings.Contains(msg, "1-") && !strings.Contains(msg, "race") && !strings.Contains(msg, "RACE") {
		return trace, span, false // the common case, without a regular expression
	}
	if m := traceparentRef.FindStringSubmatch(msg); m != nil {
		trace, span = parseIDs(m[1], m[2])
	} else if m := traceFieldRef.FindStringSubmatch(msg); m != nil {
		var s string
		if sm := spanFieldRef.FindStringSubmatch(msg); sm != nil {
			s = sm[1]
		}
		trace, span = parseIDs(m[1], s)
	} else if m := xrayRef.FindStringSubmatch(msg); m != nil {
		var s string
		if pm := xrayParentRef.FindStringSubmatch(msg); pm != nil {
			s = pm[1]
		}
		trace, span = parseIDs(m[1]+m[2], s)
	}
	return trace, span, !trace.IsZero()
}

// parseIDs reads hex ids the expressions above matched (so of the right length); an
// all-zero trace id is no trace.
func parseIDs(trace, span string) (telemetry.TraceID, telemetry.SpanID) {
	t, _ := telemetry.ParseTraceID(trace)
	var s telemetry.SpanID
	if span != "" {
		s, _ = telemetry.ParseSpanID(span)
	}
	return t, s
}
