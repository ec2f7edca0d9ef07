package otlp

// The old decoding path, kept as the oracle that differential fuzzing and the benchmarks
// compare the decoders with: the OpenTelemetry Collector's pdata parses the wire format and
// its result is converted to the model field by field.

import (
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"lookout/internal/honeycomb"
	"lookout/internal/logsearch"
	"lookout/internal/telemetry"
)

// pdataTraces decodes a trace request as lookout did before it read the wire formats itself.
func pdataTraces(body []byte, enc Encoding, info telemetry.IngestInfo) (Result[telemetry.Span], error) {
	td, err := pdataUnmarshalTraces(body, enc)
	if err != nil {
		return Result[telemetry.Span]{}, err
	}
	return pdataTracesResult(td, info), nil
}

// pdataTracesResult converts what pdata decoded.
func pdataTracesResult(td ptrace.Traces, info telemetry.IngestInfo) Result[telemetry.Span] {
	info.Protocol = Protocol
	res := pdataConvertTraces(td, info)
	if info.Dataset == "" {
		honeycomb.RouteByService(res.Items)
	}
	honeycomb.ApplySampleRates(res.Items)
	return res
}

func pdataUnmarshalTraces(body []byte, enc Encoding) (ptrace.Traces, error) {
	switch enc {
	case Protobuf:
		// ExportRequest rather than ptrace.ProtoUnmarshaler: it also moves spans sent in the
		// deprecated instrumentation_library_spans field (pre-1.0 SDKs) to scope_spans.
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err != nil {
			return ptrace.Traces{}, fmt.Errorf("cannot decode OTLP/protobuf trace request: %w", err)
		}
		return req.Traces(), nil
	case JSON:
		var u ptrace.JSONUnmarshaler
		td, err := u.UnmarshalTraces(body)
		if err != nil {
			return ptrace.Traces{}, fmt.Errorf("cannot decode OTLP/JSON trace request: %w", err)
		}
		return td, nil
	}
	return ptrace.Traces{}, fmt.Errorf("unknown OTLP encoding %v", enc)
}

// pdataConverter hands out the slices of one request from a few large allocations, so that
// converting a span allocates nothing of its own beyond nested attribute values. Each slice is
// capped at its length, so a consumer appending to one cannot overwrite its neighbour.
type pdataConverter struct {
	kvs    []telemetry.KeyValue
	events []telemetry.Event
	links  []telemetry.Link
}

func (c *pdataConverter) attrs(m pcommon.Map) telemetry.Attributes {
	n := m.Len()
	if n == 0 {
		return nil
	}
	dst := c.kvs[:n:n]
	c.kvs = c.kvs[n:]
	i := 0
	for k, v := range m.All() {
		dst[i] = telemetry.KeyValue{Key: k, Value: pdataValue(v)}
		i++
	}
	return dst
}

// pdataConvertTraces turns decoded pdata into telemetry spans, validating each one.
func pdataConvertTraces(td ptrace.Traces, info telemetry.IngestInfo) Result[telemetry.Span] {
	rss := td.ResourceSpans()

	// Count first, so that spans, attributes, events, links, resources and scopes each take
	// one allocation per request instead of one per span.
	var nSpans, nScopes, nKVs, nEvents, nLinks int
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		nKVs += rs.Resource().Attributes().Len()
		sss := rs.ScopeSpans()
		nScopes += sss.Len()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			nKVs += ss.Scope().Attributes().Len()
			spans := ss.Spans()
			nSpans += spans.Len()
			for k := 0; k < spans.Len(); k++ {
				s := spans.At(k)
				nKVs += s.Attributes().Len()
				evs := s.Events()
				nEvents += evs.Len()
				for e := 0; e < evs.Len(); e++ {
					nKVs += evs.At(e).Attributes().Len()
				}
				lks := s.Links()
				nLinks += lks.Len()
				for l := 0; l < lks.Len(); l++ {
					nKVs += lks.At(l).Attributes().Len()
				}
			}
		}
	}
	if nSpans == 0 {
		return Result[telemetry.Span]{}
	}

	c := pdataConverter{
		kvs:    make([]telemetry.KeyValue, nKVs),
		events: make([]telemetry.Event, nEvents),
		links:  make([]telemetry.Link, nLinks),
	}
	resources := make([]telemetry.Resource, rss.Len())
	scopes := make([]telemetry.Scope, nScopes)
	out := make([]telemetry.Span, nSpans)
	n := 0
	var rej rejections

	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		sss := rs.ScopeSpans()
		res := &resources[i]
		res.Attributes = c.attrs(rs.Resource().Attributes())
		res.DroppedAttributesCount = rs.Resource().DroppedAttributesCount()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			ps := ss.Scope()
			scope := &scopes[0]
			scopes = scopes[1:]
			scope.Name = ps.Name()
			scope.Version = ps.Version()
			scope.Attributes = c.attrs(ps.Attributes())
			scope.DroppedAttributesCount = ps.DroppedAttributesCount()

			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				sp := &out[n]
				c.span(sp, spans.At(k), res, scope, info)
				if err := sp.Validate(); err != nil {
					rej.add(err, i, j, k)
					*sp = telemetry.Span{} // the slot is reused by the next span
					continue
				}
				n++
			}
		}
	}
	return Result[telemetry.Span]{Items: out[:n:n], Rejected: rej.total, Message: rej.message(nSpans, &traceNames)}
}

func (c *pdataConverter) span(dst *telemetry.Span, s ptrace.Span,
	res *telemetry.Resource, scope *telemetry.Scope, info telemetry.IngestInfo) {
	status := s.Status()
	*dst = telemetry.Span{
		TraceID:                telemetry.TraceID(s.TraceID()),
		SpanID:                 telemetry.SpanID(s.SpanID()),
		ParentSpanID:           telemetry.SpanID(s.ParentSpanID()),
		TraceState:             s.TraceState().AsRaw(),
		Flags:                  s.Flags(),
		Name:                   s.Name(),
		Kind:                   pdataKind(s.Kind()),
		StartUnixNano:          unixNano(uint64(s.StartTimestamp())),
		EndUnixNano:            unixNano(uint64(s.EndTimestamp())),
		Attributes:             c.attrs(s.Attributes()),
		DroppedAttributesCount: s.DroppedAttributesCount(),
		DroppedEventsCount:     s.DroppedEventsCount(),
		DroppedLinksCount:      s.DroppedLinksCount(),
		Status:                 telemetry.Status{Code: pdataStatusCode(status.Code()), Message: status.Message()},
		Resource:               res,
		Scope:                  scope,
		Ingest:                 info,
	}
	if evs := s.Events(); evs.Len() > 0 {
		n := evs.Len()
		dst.Events = c.events[:n:n]
		c.events = c.events[n:]
		for i := range n {
			e := evs.At(i)
			dst.Events[i] = telemetry.Event{
				TimeUnixNano:           unixNano(uint64(e.Timestamp())),
				Name:                   e.Name(),
				Attributes:             c.attrs(e.Attributes()),
				DroppedAttributesCount: e.DroppedAttributesCount(),
			}
		}
	}
	if lks := s.Links(); lks.Len() > 0 {
		n := lks.Len()
		dst.Links = c.links[:n:n]
		c.links = c.links[n:]
		for i := range n {
			l := lks.At(i)
			dst.Links[i] = telemetry.Link{
				TraceID:                telemetry.TraceID(l.TraceID()),
				SpanID:                 telemetry.SpanID(l.SpanID()),
				TraceState:             l.TraceState().AsRaw(),
				Flags:                  l.Flags(),
				Attributes:             c.attrs(l.Attributes()),
				DroppedAttributesCount: l.DroppedAttributesCount(),
			}
		}
	}
}

// pdataKind maps OTLP's span kind; values from a newer or broken sender become unspecified
// rather than being truncated into some other kind.
func pdataKind(k ptrace.SpanKind) telemetry.SpanKind {
	switch k {
	case ptrace.SpanKindInternal:
		return telemetry.SpanKindInternal
	case ptrace.SpanKindServer:
		return telemetry.SpanKindServer
	case ptrace.SpanKindClient:
		return telemetry.SpanKindClient
	case ptrace.SpanKindProducer:
		return telemetry.SpanKindProducer
	case ptrace.SpanKindConsumer:
		return telemetry.SpanKindConsumer
	}
	return telemetry.SpanKindUnspecified
}

func pdataStatusCode(c ptrace.StatusCode) telemetry.StatusCode {
	switch c {
	case ptrace.StatusCodeOk:
		return telemetry.StatusOK
	case ptrace.StatusCodeError:
		return telemetry.StatusError
	}
	return telemetry.StatusUnset
}

// pdataValue converts an AnyValue. Nested arrays and maps recurse; pdata bounds their depth
// when decoding (100 levels for protobuf, 10000 JSON tokens for JSON).
func pdataValue(v pcommon.Value) telemetry.Value {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return telemetry.StringValue(v.Str())
	case pcommon.ValueTypeBool:
		return telemetry.BoolValue(v.Bool())
	case pcommon.ValueTypeInt:
		return telemetry.IntValue(v.Int())
	case pcommon.ValueTypeDouble:
		return telemetry.DoubleValue(v.Double())
	case pcommon.ValueTypeBytes:
		return telemetry.BytesValue(v.Bytes().AsRaw())
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		if s.Len() == 0 {
			return telemetry.ArrayValue()
		}
		vs := make([]telemetry.Value, s.Len())
		for i := range vs {
			vs[i] = pdataValue(s.At(i))
		}
		return telemetry.ArrayValue(vs...)
	case pcommon.ValueTypeMap:
		m := v.Map()
		if m.Len() == 0 {
			return telemetry.MapValue()
		}
		kvs := make([]telemetry.KeyValue, 0, m.Len())
		for k, e := range m.All() {
			kvs = append(kvs, telemetry.KeyValue{Key: k, Value: pdataValue(e)})
		}
		return telemetry.MapValue(kvs...)
	}
	return telemetry.Value{}
}

func pdataUnmarshalLogs(body []byte, enc Encoding) (plog.Logs, error) {
	switch enc {
	case Protobuf:
		req := plogotlp.NewExportRequest()
		err := req.UnmarshalProto(body)
		return req.Logs(), err
	case JSON:
		var u plog.JSONUnmarshaler
		return u.UnmarshalLogs(body)
	}
	return plog.Logs{}, fmt.Errorf("unknown encoding %v", enc)
}

// pdataLogsResult converts what pdata decoded.
func pdataLogsResult(ld plog.Logs, info telemetry.IngestInfo, now int64) Result[telemetry.LogRecord] {
	info.Protocol = Protocol
	var out []telemetry.LogRecord
	var rej rejections
	read := 0
	for i, rl := range ld.ResourceLogs().All() {
		res := &telemetry.Resource{
			Attributes:             pdataAttrs(rl.Resource().Attributes()),
			DroppedAttributesCount: rl.Resource().DroppedAttributesCount(),
		}
		for j, sl := range rl.ScopeLogs().All() {
			scope := &telemetry.Scope{
				Name:                   sl.Scope().Name(),
				Version:                sl.Scope().Version(),
				Attributes:             pdataAttrs(sl.Scope().Attributes()),
				DroppedAttributesCount: sl.Scope().DroppedAttributesCount(),
			}
			for k, lr := range sl.LogRecords().All() {
				read++
				r := telemetry.LogRecord{
					TimeUnixNano:           unixNano(uint64(lr.Timestamp())),
					ObservedTimeUnixNano:   unixNano(uint64(lr.ObservedTimestamp())),
					Severity:               pdataSeverity(lr.SeverityNumber()),
					SeverityText:           lr.SeverityText(),
					EventName:              lr.EventName(),
					Body:                   pdataValue(lr.Body()),
					Attributes:             pdataAttrs(lr.Attributes()),
					DroppedAttributesCount: lr.DroppedAttributesCount(),
					TraceID:                telemetry.TraceID(lr.TraceID()),
					SpanID:                 telemetry.SpanID(lr.SpanID()),
					Flags:                  uint32(lr.Flags()),
					Resource:               res,
					Scope:                  scope,
					Ingest:                 info,
				}
				if r.ObservedTimeUnixNano == 0 {
					r.ObservedTimeUnixNano = now
				}
				if r.TimeUnixNano == 0 {
					r.TimeUnixNano = r.ObservedTimeUnixNano
				}
				if trace, span, ok := logsearch.TraceRef(lr.Body().Str()); ok && lr.TraceID().IsEmpty() && lr.Body().Type() == pcommon.ValueTypeStr {
					r.TraceID, r.SpanID = trace, span
				}
				r.Group = firstOf(oracleName(r.Attributes, "aws.log.group.names"),
					oracleName(res.Attributes, "aws.log.group.names"), oracleName(res.Attributes, "service.name"), "unknown_service")
				r.Stream = firstOf(oracleName(r.Attributes, "aws.log.stream.names"), oracleName(res.Attributes, "aws.log.stream.names"),
					oracleName(res.Attributes, "service.instance.id"), oracleName(res.Attributes, "host.name"), "default")
				err := r.Validate()
				if err == nil && (oracleAttrsTooDeep(res.Attributes) || oracleAttrsTooDeep(scope.Attributes) || oracleAttrsTooDeep(r.Attributes)) {
					err = errTooDeep
				}
				if err != nil {
					rej.add(err, i, j, k)
					continue
				}
				out = append(out, r)
			}
		}
	}
	return Result[telemetry.LogRecord]{Items: out, Rejected: rej.total, Message: rej.message(read, &logNames)}
}

func pdataAttrs(m pcommon.Map) telemetry.Attributes {
	var out telemetry.Attributes
	for k, v := range m.All() {
		out = append(out, telemetry.KeyValue{Key: k, Value: pdataValue(v)})
	}
	return out
}

func pdataSeverity(n plog.SeverityNumber) telemetry.Severity {
	if n < 0 || n > 24 {
		return 0
	}
	return telemetry.Severity(n)
}

// oracleName reads a log group or stream name from the first attribute named key: a string,
// or the first element of an array, trimmed; "" when there is none.
func oracleName(attrs telemetry.Attributes, key string) string {
	for _, kv := range attrs {
		if kv.Key != key {
			continue
		}
		v := kv.Value
		if a := v.Array(); v.Kind() == telemetry.KindArray && len(a) > 0 {
			v = a[0]
		}
		if v.Kind() == telemetry.KindString {
			return strings.TrimSpace(v.Str())
		}
		return ""
	}
	return ""
}

func firstOf(names ...string) string {
	for _, n := range names {
		if n != "" {
			return n
		}
	}
	return ""
}

// oracleAttrsTooDeep reports an attribute value nested deeper than telemetry.MaxValueDepth; an
// attribute's value is at depth 1.
func oracleAttrsTooDeep(attrs telemetry.Attributes) bool {
	for _, kv := range attrs {
		if oracleValueTooDeep(kv.Value, 1) {
			return true
		}
	}
	return false
}

func oracleValueTooDeep(v telemetry.Value, depth int) bool {
	if depth > telemetry.MaxValueDepth {
		return true
	}
	for _, e := range v.Array() {
		if oracleValueTooDeep(e, depth+1) {
			return true
		}
	}
	for _, kv := range v.Map() {
		if oracleValueTooDeep(kv.Value, depth+1) {
			return true
		}
	}
	return false
}
