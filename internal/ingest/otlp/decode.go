// Package otlp receives OpenTelemetry traces over OTLP 1.x: OTLP/HTTP (protobuf and JSON,
// uncompressed, gzip or zstd) and OTLP/gRPC. It follows the server side of the OTLP
// specification: limits apply after decompression, invalid spans are rejected alone and
// reported through partial_success, throttling is retryable and carries a retry delay, and
// errors are google.rpc.Status messages.
//
// Decoding is a pure step (DecodeTraces) shared by both transports, so that a request means the
// same thing however it arrived. Wire parsing is done by the OpenTelemetry Collector's pdata
// package, which is the reference OTLP/JSON decoder (hex ids, int64s as strings, integer enums);
// pdata types stay inside this package and everything else sees telemetry.Span.
package otlp

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"lookout/internal/telemetry"
)

// Protocol is the telemetry.IngestInfo.Protocol of every span this package decodes.
const Protocol = "otlp"

// Encoding is the wire encoding of an ExportTraceServiceRequest.
type Encoding uint8

const (
	// Protobuf is binary protobuf: OTLP/HTTP with Content-Type application/x-protobuf, and gRPC.
	Protobuf Encoding = iota + 1
	// JSON is OTLP/JSON: Content-Type application/json.
	JSON
)

func (e Encoding) String() string {
	switch e {
	case Protobuf:
		return "protobuf"
	case JSON:
		return "json"
	}
	return "encoding(" + strconv.Itoa(int(e)) + ")"
}

// Result is a decoded export request: the spans to store, and how many were rejected and why.
type Result struct {
	// Spans are the valid spans, in request order. Each shares its *Resource with the other
	// spans of its ResourceSpans and its *Scope with those of its ScopeSpans.
	Spans []telemetry.Span
	// Rejected counts spans that failed telemetry.Span.Validate; it becomes
	// partial_success.rejected_spans.
	Rejected int64
	// Message is an English summary of why spans were rejected ("" when none were); it becomes
	// partial_success.error_message.
	Message string
}

// DecodeTraces decodes an OTLP ExportTraceServiceRequest. It returns an error only when body
// does not decode at all; a span that decodes but fails validation is counted in
// Result.Rejected and the rest of the request is kept, as OTLP partial success requires.
// Spans get Ingest.Protocol "otlp"; transports add what they know of the sender.
func DecodeTraces(body []byte, enc Encoding) (Result, error) {
	return decodeTraces(body, enc, telemetry.IngestInfo{})
}

func decodeTraces(body []byte, enc Encoding, info telemetry.IngestInfo) (Result, error) {
	td, err := unmarshalTraces(body, enc)
	if err != nil {
		return Result{}, err
	}
	info.Protocol = Protocol
	res := convertTraces(td, info)
	if info.Dataset == "" {
		routeDatasets(res.Spans)
	}
	applySampleRates(res.Spans)
	return res, nil
}

func unmarshalTraces(body []byte, enc Encoding) (ptrace.Traces, error) {
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

// converter hands out the slices of one request from a few large allocations, so that
// converting a span allocates nothing of its own beyond nested attribute values. Each slice is
// capped at its length, so a consumer appending to one cannot overwrite its neighbour.
type converter struct {
	kvs    []telemetry.KeyValue
	events []telemetry.Event
	links  []telemetry.Link
}

func (c *converter) attrs(m pcommon.Map) telemetry.Attributes {
	n := m.Len()
	if n == 0 {
		return nil
	}
	dst := c.kvs[:n:n]
	c.kvs = c.kvs[n:]
	i := 0
	for k, v := range m.All() {
		dst[i] = telemetry.KeyValue{Key: k, Value: convertValue(v)}
		i++
	}
	return dst
}

// convertTraces turns decoded pdata into telemetry spans, validating each one.
func convertTraces(td ptrace.Traces, info telemetry.IngestInfo) Result {
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
		return Result{}
	}

	c := converter{
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
	return Result{Spans: out[:n:n], Rejected: rej.total, Message: rej.message(nSpans)}
}

func (c *converter) span(dst *telemetry.Span, s ptrace.Span,
	res *telemetry.Resource, scope *telemetry.Scope, info telemetry.IngestInfo) {
	status := s.Status()
	*dst = telemetry.Span{
		TraceID:                telemetry.TraceID(s.TraceID()),
		SpanID:                 telemetry.SpanID(s.SpanID()),
		ParentSpanID:           telemetry.SpanID(s.ParentSpanID()),
		TraceState:             s.TraceState().AsRaw(),
		Flags:                  s.Flags(),
		Name:                   s.Name(),
		Kind:                   convertKind(s.Kind()),
		StartUnixNano:          unixNano(s.StartTimestamp()),
		EndUnixNano:            unixNano(s.EndTimestamp()),
		Attributes:             c.attrs(s.Attributes()),
		DroppedAttributesCount: s.DroppedAttributesCount(),
		DroppedEventsCount:     s.DroppedEventsCount(),
		DroppedLinksCount:      s.DroppedLinksCount(),
		Status:                 telemetry.Status{Code: convertStatusCode(status.Code()), Message: status.Message()},
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
				TimeUnixNano:           unixNano(e.Timestamp()),
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

// unixNano converts OTLP's unsigned nanoseconds to the model's signed ones. Times past 2262
// do not fit and are clamped rather than wrapped into negative (pre-1970) times.
func unixNano(t pcommon.Timestamp) int64 {
	if uint64(t) > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(t)
}

// convertKind maps OTLP's span kind; values from a newer or broken sender become unspecified
// rather than being truncated into some other kind.
func convertKind(k ptrace.SpanKind) telemetry.SpanKind {
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

func convertStatusCode(c ptrace.StatusCode) telemetry.StatusCode {
	switch c {
	case ptrace.StatusCodeOk:
		return telemetry.StatusOK
	case ptrace.StatusCodeError:
		return telemetry.StatusError
	}
	return telemetry.StatusUnset
}

// convertValue converts an AnyValue. Nested arrays and maps recurse; pdata bounds their depth
// when decoding (100 levels for protobuf, 10000 JSON tokens for JSON).
func convertValue(v pcommon.Value) telemetry.Value {
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
			vs[i] = convertValue(s.At(i))
		}
		return telemetry.ArrayValue(vs...)
	case pcommon.ValueTypeMap:
		m := v.Map()
		if m.Len() == 0 {
			return telemetry.MapValue()
		}
		kvs := make([]telemetry.KeyValue, 0, m.Len())
		for k, e := range m.All() {
			kvs = append(kvs, telemetry.KeyValue{Key: k, Value: convertValue(e)})
		}
		return telemetry.MapValue(kvs...)
	}
	return telemetry.Value{}
}

// maxReasons bounds the distinct reasons listed in a partial-success message, because OTLP
// requires servers to bound the size of their responses.
const maxReasons = 4

// rejections tallies rejected spans by reason for the partial-success message.
type rejections struct {
	total   int64
	reasons []rejectReason
	other   int64 // rejected for reasons beyond maxReasons
}

type rejectReason struct {
	reason     string
	count      int64
	rs, ss, sp int // where the first such span was
}

func (r *rejections) add(err error, rs, ss, sp int) {
	r.total++
	reason := err.Error()
	var inv *telemetry.InvalidError
	if errors.As(err, &inv) {
		reason = inv.Reason
	}
	reason = truncate(reason, 200)
	for i := range r.reasons {
		if r.reasons[i].reason == reason {
			r.reasons[i].count++
			return
		}
	}
	if len(r.reasons) == maxReasons {
		r.other++
		return
	}
	r.reasons = append(r.reasons, rejectReason{reason: reason, count: 1, rs: rs, ss: ss, sp: sp})
}

// message reads, for example: "rejected 2 of 500 spans: trace id is all zero (2 spans, first
// at resourceSpans[0].scopeSpans[1].spans[7])".
func (r *rejections) message(of int) string {
	if r.total == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rejected %d of %d spans: ", r.total, of)
	for i, x := range r.reasons {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s (%s, first at resourceSpans[%d].scopeSpans[%d].spans[%d])",
			x.reason, plural(x.count, "span"), x.rs, x.ss, x.sp)
	}
	if r.other > 0 {
		fmt.Fprintf(&b, "; %s for other reasons", plural(r.other, "span"))
	}
	return b.String()
}

func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(n, 10) + " " + noun + "s"
}

// truncate shortens s to at most n bytes plus an ellipsis, on a rune boundary, and makes it
// valid UTF-8: messages go into protobuf string fields, which receivers reject otherwise.
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
