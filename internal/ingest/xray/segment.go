package xray

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	b := builders.Get().(*builder)
	defer b.release()
	fields, ok := b.parse(doc)
	if !ok && b.tooMany {
		return nil, refuse("", "InvalidSegment", "the document holds more than %d values", maxValues)
	}
	if !ok {
		return nil, refuse("", "InvalidSegment", "the document is not a JSON object: %v", notAnObject(doc))
	}
	d := &Document{Independent: fields.str("type") == TypeSubsegment}
	traceText := fields.str("trace_id")
	if traceText == "" {
		return nil, refuse(fields.str("id"), "MissingTraceId", "the document has no trace_id")
	}
	traceID, err := ParseTraceID(traceText)
	if err != nil {
		return nil, refuse(fields.str("id"), "InvalidTraceId", "trace_id %q: %v", traceText, err)
	}
	var parent telemetry.SpanID
	if p := fields.str("parent_id"); p != "" {
		id, ok := parseEntityID(p)
		if !ok {
			return nil, refuse(fields.str("id"), "InvalidParentId", "parent_id %q is not 16 hex digits", p)
		}
		parent = id
	} else if d.Independent {
		return nil, refuse(fields.str("id"), "MissingParentId", "a subsegment sent on its own needs a parent_id")
	}
	b.trace, b.now, b.res, b.spans = traceID, now.UnixNano(), &telemetry.Resource{}, make([]telemetry.Span, 0, 4)
	if !d.Independent {
		b.res = b.segmentResource(fields)
	}
	if err := b.entity(fields, parent, !d.Independent, 0); err != nil {
		return nil, err
	}
	d.Spans = b.spans
	return d, nil
}

// notAnObject says why doc is not a JSON object, in encoding/json's words.
func notAnObject(doc []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(doc, &fields); err != nil {
		return err
	}
	return errors.New("null")
}

// builder turns the entities of a document into spans.
type builder struct {
	reader
	trace   telemetry.TraceID
	res     *telemetry.Resource
	now     int64
	spans   []telemetry.Span
	buf     []byte               // where an entity's own document is put together
	letters []byte               // where the letters of the members its span holds go before it
	scratch []byte               // where a member's value is made from the span
	attrs   telemetry.Attributes // where an entity's attributes are gathered
}

// builders keeps builders with the room they grew, from one document to the next.
var builders = sync.Pool{New: func() any { return new(builder) }}

// release returns b to builders, keeping nothing of its document but room.
func (b *builder) release() {
	b.reset()
	clear(b.attrs[:cap(b.attrs)])
	*b = builder{reader: b.reader, buf: b.buf[:0], letters: b.letters[:0], scratch: b.scratch[:0], attrs: b.attrs[:0]}
	builders.Put(b)
}

// entity appends the span of a segment or subsegment and then those of its subsegments.
func (b *builder) entity(fields object, parent telemetry.SpanID, segment bool, depth int) error {
	if depth > maxDepth {
		return refuse("", "InvalidSegment", "subsegments nest more than %d levels deep", maxDepth)
	}
	idText := fields.str("id")
	id, ok := parseEntityID(idText)
	if !ok {
		if idText == "" {
			return refuse("", "MissingId", "a (sub)segment has no id")
		}
		return refuse(idText, "InvalidId", "id %q is not 16 hex digits", idText)
	}
	name := fields.str("name")
	if name == "" {
		return refuse(idText, "MissingName", "(sub)segment %s has no name", idText)
	}
	start, ok := seconds(fields.get("start_time"))
	if !ok || start <= 0 {
		return refuse(idText, "MissingStartTime", "(sub)segment %s has no start_time", idText)
	}
	sp := telemetry.Span{TraceID: b.trace, SpanID: id, ParentSpanID: parent, Name: name,
		StartUnixNano: start, Resource: b.res, Ingest: telemetry.IngestInfo{Protocol: Protocol}}
	inProgress := boolean(fields.get("in_progress"))
	if end, ok := seconds(fields.get("end_time")); ok && !inProgress {
		sp.EndUnixNano = max(end, start)
	} else if inProgress {
		sp.InProgress, sp.EndUnixNano = true, max(b.now, start)
	} else {
		return refuse(idText, "MissingEndTime", "(sub)segment %s has neither end_time nor in_progress", idText)
	}
	namespace := fields.str("namespace")
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
	a := attrs{list: b.attrs[:0]}
	a.str(AttrType, typ)
	a.str(AttrNamespace, namespace)
	a.str(AttrOrigin, fields.str("origin"))
	a.str(AttrUser, fields.str("user"))
	a.str("aws.xray.resource_arn", fields.str("resource_arn"))
	b.httpAttrs(&a, fields.find("http"))
	b.awsAttrs(&a, fields.find("aws"), segment)
	b.sqlAttrs(&a, fields.find("sql"))
	if boolean(fields.get("traced")) {
		a.add("aws.xray.traced", telemetry.BoolValue(true))
	}
	fault, failed, throttle := boolean(fields.get("fault")), boolean(fields.get("error")), boolean(fields.get("throttle"))
	for _, f := range []struct {
		key string
		on  bool
	}{{AttrFault, fault}, {AttrError, failed}, {AttrThrottle, throttle}} {
		if f.on {
			a.add(f.key, telemetry.BoolValue(true))
		}
	}
	b.annotationAttrs(&a, fields.find("annotations"))
	cause := fields.find("cause")
	sp.Events, sp.Status.Message = b.causeEvents(cause, sp.EndUnixNano)
	if fault || failed || len(cause.raw()) > 0 && string(cause.raw()) != "null" {
		sp.Status.Code = telemetry.StatusError
	}
	sp.Attributes = a.list // for the document to leave out what they hold
	a.str(AttrDocument, b.ownDocument(fields, &sp))
	sp.Attributes = slices.Clone(a.list) // no room to spare in what is kept
	b.attrs = a.list
	b.spans = append(b.spans, sp)

	subs := fields.find("subsegments")
	if len(subs.raw()) == 0 || string(subs.raw()) == "null" {
		return nil
	}
	children, ok := subs.items()
	if !ok {
		return refuse(idText, "InvalidSegment", "subsegments of %s are not a list of objects", idText)
	}
	for i := range children.len() {
		cf, ok := children.at(i).object()
		if !ok {
			return refuse(idText, "InvalidSegment", "a subsegment of %s is not a JSON object", idText)
		}
		if err := b.entity(cf, id, false, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// ownDocument is what AttrDocument keeps of an entity's JSON (members.go): the letters of
// the members its span gives back, then the other members as encoding/json marshals them,
// keys sorted, white space removed, without the embedded subsegments. Without a span, it is
// the whole document.
func (b *builder) ownDocument(fields object, sp *telemetry.Span) string {
	letters := b.letters[:0]
	b.buf = append(b.buf[:0], '{')
	for _, i := range b.sorted(fields) {
		m := fields.at(i)
		if string(m.key()) == "subsegments" {
			continue
		}
		if member := memberOf(m.key()); member != nil && sp != nil {
			var gives bool
			if b.scratch, gives = member.gives(sp, m, b.scratch); gives {
				letters = append(letters, member.letter)
				continue
			}
		}
		if len(b.buf) > 1 {
			b.buf = append(b.buf, ',')
		}
		b.buf = appendKey(b.buf, m.key())
		b.buf = append(b.buf, ':')
		b.buf = b.appendCompact(b.buf, m.raw())
	}
	b.letters = append(append(letters, b.buf...), '}')
	return string(b.letters)
}

// str reads a JSON string; anything else is "".
func str(raw []byte) string {
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
func boolean(raw []byte) bool { return string(raw) == "true" }

// number reads a JSON number, or a string holding one (as some SDKs send content_length).
func number(raw []byte) (float64, bool) {
	if len(raw) == 0 {
		return 0, false
	}
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
func seconds(raw []byte) (int64, bool) {
	if ns, ok := decimalSeconds(raw); ok {
		return ns, true
	}
	f, ok := number(raw)
	if !ok || raw[0] == '"' || f < 0 || f >= math.MaxInt64/1e9 {
		return 0, false
	}
	return int64(math.Round(f * 1e9)), true
}

// decimalSeconds reads digits, with up to 18 more after a point, as nanoseconds; ok is false
// for anything else, and for values too large for a time.
func decimalSeconds(raw []byte) (ns int64, ok bool) {
	const maxWhole = math.MaxInt64/1_000_000_000 - 1
	var whole, frac int64
	i := 0
	for ; i < len(raw) && isDigit(raw[i]); i++ {
		if whole = whole*10 + int64(raw[i]-'0'); whole >= maxWhole {
			return 0, false
		}
	}
	if i == 0 {
		return 0, false
	}
	if i < len(raw) {
		digits := raw[i+1:]
		if raw[i] != '.' || len(digits) > 18 {
			return 0, false
		}
		for j, c := range digits {
			if !isDigit(c) {
				return 0, false
			}
			if j < 9 {
				frac = frac*10 + int64(c-'0')
			}
		}
		for range 9 - min(len(digits), 9) {
			frac *= 10
		}
	}
	return whole*1e9 + frac, true
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
func (a *attrs) integer(key string, raw []byte) {
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
