package xray

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"lookout/internal/telemetry"
)

// Protocol names X-Ray spans in telemetry.IngestInfo.
const Protocol = "xray"

// Attributes lookout gives X-Ray spans beside the OpenTelemetry ones they map to.
const (
	// AttrDocument holds the (sub)segment's own JSON as it was sent, less its embedded
	// subsegments (which are spans of their own): BatchGetTraces gives it back.
	AttrDocument = "aws.xray.document"
	// AttrType is "segment" or "subsegment".
	AttrType      = "aws.xray.type"
	AttrNamespace = "aws.xray.namespace"
	AttrOrigin    = "aws.xray.origin"
	AttrFault     = "aws.xray.fault"
	AttrError     = "aws.xray.error"
	AttrThrottle  = "aws.xray.throttle"
	// AttrSamplingRule names the centralized sampling rule that sampled a segment; the
	// SDKs leave it out when they sample with their local fallback rule.
	AttrSamplingRule = "aws.xray.sampling_rule_name"
	AttrUser         = "enduser.id"
)

// The values of AttrType.
const (
	TypeSegment    = "segment"
	TypeSubsegment = "subsegment"
)

// Document is one decoded segment document: a segment with its embedded subsegments, or a
// subsegment sent on its own (with its own embedded ones).
type Document struct {
	// Spans holds the document's entity first, then its subsegments, depth first. They share
	// one Resource: a segment's, or for an independent subsegment a placeholder that Resolve
	// replaces with its parent segment's.
	Spans []telemetry.Span
	// Independent is set for a subsegment sent on its own: its service is its parent's.
	Independent bool

	via    string // udp or api, for metrics
	stored bool   // counted as stored once, however often it is written
}

// DocumentError is why a document was refused, with the code X-Ray reports it by in
// UnprocessedTraceSegments (MissingId, InvalidTraceId, ...).
type DocumentError struct {
	ID   string // the document's id, when it has one
	Code string
	Msg  string
}

func (e *DocumentError) Error() string { return e.Code + ": " + e.Msg }

func refuse(id, code, format string, args ...any) *DocumentError {
	return &DocumentError{ID: id, Code: code, Msg: fmt.Sprintf(format, args...)}
}

// maxDepth bounds how deeply subsegments may nest, so that a hostile document cannot exhaust
// the stack.
const maxDepth = 64

// DecodeDocument decodes one segment document. An in-progress entity's end is now, the
// latest time it was seen. Unknown fields are kept (in AttrDocument) and otherwise ignored;
// numbers sent as strings, floats for integers, and a cause given as an exception id are
// taken as the SDKs send them.
func DecodeDocument(doc []byte, now time.Time) (*Document, error) {
	fields, err := objectFields(doc)
	if err != nil {
		return nil, refuse("", "InvalidSegment", "the document is not a JSON object: %v", err)
	}
	d := &Document{Independent: str(fields["type"]) == TypeSubsegment}
	traceText := str(fields["trace_id"])
	if traceText == "" {
		return nil, refuse(str(fields["id"]), "MissingTraceId", "the document has no trace_id")
	}
	traceID, err := ParseTraceID(traceText)
	if err != nil {
		return nil, refuse(str(fields["id"]), "InvalidTraceId", "trace_id %q: %v", traceText, err)
	}
	res := &telemetry.Resource{}
	if !d.Independent {
		res = segmentResource(fields)
	}
	var parent telemetry.SpanID
	if p := str(fields["parent_id"]); p != "" {
		id, ok := parseEntityID(p)
		if !ok {
			return nil, refuse(str(fields["id"]), "InvalidParentId", "parent_id %q is not 16 hex digits", p)
		}
		parent = id
	} else if d.Independent {
		return nil, refuse(str(fields["id"]), "MissingParentId", "a subsegment sent on its own needs a parent_id")
	}
	b := builder{trace: traceID, res: res, now: now.UnixNano()}
	if err := b.entity(fields, parent, !d.Independent, 0); err != nil {
		return nil, err
	}
	d.Spans = b.spans
	return d, nil
}

// builder turns entities into spans.
type builder struct {
	trace telemetry.TraceID
	res   *telemetry.Resource
	now   int64
	spans []telemetry.Span
}

// entity appends the span of a segment or subsegment and then those of its subsegments.
func (b *builder) entity(fields map[string]json.RawMessage, parent telemetry.SpanID, segment bool, depth int) error {
	if depth > maxDepth {
		return refuse("", "InvalidSegment", "subsegments nest more than %d levels deep", maxDepth)
	}
	idText := str(fields["id"])
	id, ok := parseEntityID(idText)
	if !ok {
		if idText == "" {
			return refuse("", "MissingId", "a (sub)segment has no id")
		}
		return refuse(idText, "InvalidId", "id %q is not 16 hex digits", idText)
	}
	name := str(fields["name"])
	if name == "" {
		return refuse(idText, "MissingName", "(sub)segment %s has no name", idText)
	}
	start, ok := seconds(fields["start_time"])
	if !ok || start <= 0 {
		return refuse(idText, "MissingStartTime", "(sub)segment %s has no start_time", idText)
	}
	sp := telemetry.Span{TraceID: b.trace, SpanID: id, ParentSpanID: parent, Name: name,
		StartUnixNano: start, Resource: b.res, Ingest: telemetry.IngestInfo{Protocol: Protocol}}
	if end, ok := seconds(fields["end_time"]); ok && !boolean(fields["in_progress"]) {
		sp.EndUnixNano = max(end, start)
	} else if boolean(fields["in_progress"]) {
		sp.InProgress, sp.EndUnixNano = true, max(b.now, start)
	} else {
		return refuse(idText, "MissingEndTime", "(sub)segment %s has neither end_time nor in_progress", idText)
	}
	namespace := str(fields["namespace"])
	switch {
	case segment:
		sp.Kind = telemetry.SpanKindServer
	case namespace == "aws" || namespace == "remote":
		sp.Kind = telemetry.SpanKindClient
	default:
		sp.Kind = telemetry.SpanKindInternal
	}
	typ := TypeSubsegment
	if segment {
		typ = TypeSegment
	}
	a := attrs{}
	a.str(AttrType, typ)
	a.str(AttrNamespace, namespace)
	a.str(AttrOrigin, str(fields["origin"]))
	a.str(AttrUser, str(fields["user"]))
	a.str("aws.xray.resource_arn", str(fields["resource_arn"]))
	httpAttrs(&a, fields["http"])
	awsAttrs(&a, fields["aws"], segment)
	sqlAttrs(&a, fields["sql"])
	if boolean(fields["traced"]) {
		a.add("aws.xray.traced", telemetry.BoolValue(true))
	}
	fault, failed, throttle := boolean(fields["fault"]), boolean(fields["error"]), boolean(fields["throttle"])
	for _, f := range []struct {
		key string
		on  bool
	}{{AttrFault, fault}, {AttrError, failed}, {AttrThrottle, throttle}} {
		if f.on {
			a.add(f.key, telemetry.BoolValue(true))
		}
	}
	annotationAttrs(&a, fields["annotations"])
	sp.Events, sp.Status.Message = causeEvents(fields["cause"], sp.EndUnixNano)
	if fault || failed || len(fields["cause"]) > 0 && string(fields["cause"]) != "null" {
		sp.Status.Code = telemetry.StatusError
	}
	own, err := ownDocument(fields)
	if err != nil {
		return refuse(idText, "InvalidSegment", "(sub)segment %s: %v", idText, err)
	}
	a.str(AttrDocument, own)
	sp.Attributes = a.list
	b.spans = append(b.spans, sp)

	subs := fields["subsegments"]
	if len(subs) == 0 || string(subs) == "null" {
		return nil
	}
	var children []json.RawMessage
	if err := json.Unmarshal(subs, &children); err != nil {
		return refuse(idText, "InvalidSegment", "subsegments of %s are not a list of objects", idText)
	}
	for _, c := range children {
		cf, err := objectFields(c)
		if err != nil {
			return refuse(idText, "InvalidSegment", "a subsegment of %s is not a JSON object", idText)
		}
		if err := b.entity(cf, id, false, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// ownDocument is an entity's JSON without its embedded subsegments, keys sorted.
func ownDocument(fields map[string]json.RawMessage) (string, error) {
	own := make(map[string]json.RawMessage, len(fields))
	for k, v := range fields {
		if k != "subsegments" {
			own[k] = v
		}
	}
	b, err := json.Marshal(own)
	return string(b), err
}

// objectFields splits a JSON object into its members.
func objectFields(doc []byte) (map[string]json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(doc, &fields); err != nil { // refuses text after the object too
		return nil, err
	}
	if fields == nil {
		return nil, fmt.Errorf("null")
	}
	return fields, nil
}

// str reads a JSON string; anything else is "".
func str(raw json.RawMessage) string {
	if len(raw) == 0 || raw[0] != '"' {
		return ""
	}
	if n := len(raw); n >= 2 && raw[n-1] == '"' && plainASCII(raw[1:n-1]) {
		return string(raw[1 : n-1]) // most strings: nothing to unescape or check
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// plainASCII reports whether b, a JSON string's content, is printable ASCII without escapes,
// so that it is its own value.
func plainASCII(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x7f || c == '\\' || c == '"' {
			return false
		}
	}
	return true
}

// boolean reads a JSON true; anything else is false.
func boolean(raw json.RawMessage) bool { return string(raw) == "true" }

// number reads a JSON number, or a string holding one (as some SDKs send content_length).
func number(raw json.RawMessage) (float64, bool) {
	text := string(raw)
	if len(raw) > 0 && raw[0] == '"' {
		text = str(raw)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// seconds reads epoch seconds as unix nanoseconds. A plain decimal is read digit by digit, so
// that microseconds survive (a float64 of today's epoch keeps only about 0.2 µs); exponent
// forms (1.480615200010E9) go through float64.
func seconds(raw json.RawMessage) (int64, bool) {
	text := string(raw)
	whole, frac, _ := strings.Cut(text, ".")
	if w, err := strconv.ParseInt(whole, 10, 64); err == nil && w >= 0 && w < math.MaxInt64/1_000_000_000-1 && len(frac) <= 18 && strings.Trim(frac, "0123456789") == "" {
		frac = (frac + "000000000")[:9]
		f, _ := strconv.ParseInt(frac, 10, 64)
		return w*1e9 + f, true
	}
	f, ok := number(raw)
	if !ok || raw[0] == '"' || f < 0 || f >= math.MaxInt64/1e9 {
		return 0, false
	}
	return int64(math.Round(f * 1e9)), true
}

// attrs builds an attribute list, skipping empty strings.
type attrs struct{ list telemetry.Attributes }

func (a *attrs) add(key string, v telemetry.Value) {
	a.list = append(a.list, telemetry.KeyValue{Key: key, Value: v})
}

func (a *attrs) str(key, v string) {
	if v != "" {
		a.add(key, telemetry.StringValue(v))
	}
}

// integer adds a number as an int when it is whole (an SDK may send 200.0), else a double.
func (a *attrs) integer(key string, raw json.RawMessage) {
	f, ok := number(raw)
	if !ok {
		return
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		a.add(key, telemetry.IntValue(int64(f)))
		return
	}
	a.add(key, telemetry.DoubleValue(f))
}
