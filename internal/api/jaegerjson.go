package api

import (
	"math"
	"strconv"
	"strings"
	"time"

	"lookout/internal/ingest/xray"
	"lookout/internal/telemetry"
)

// The JSON of Jaeger's query service ("internal" UI model), as Jaeger UI and Grafana's Jaeger
// data source parse it. Times and durations are microseconds. Unlike Jaeger, lookout always
// sends references, tags and logs as arrays (possibly empty) rather than omitting them.

type jaegerTrace struct {
	TraceID   string                   `json:"traceID"`
	Spans     []jaegerSpan             `json:"spans"`
	Processes map[string]jaegerProcess `json:"processes"`
	Warnings  []string                 `json:"warnings"`
}

type jaegerSpan struct {
	TraceID       string            `json:"traceID"`
	SpanID        string            `json:"spanID"`
	OperationName string            `json:"operationName"`
	References    []jaegerReference `json:"references"`
	StartTime     int64             `json:"startTime"`
	Duration      int64             `json:"duration"`
	Tags          []jaegerKeyValue  `json:"tags"`
	Logs          []jaegerLog       `json:"logs"`
	ProcessID     string            `json:"processID"`
	Warnings      []string          `json:"warnings"`
	Flags         uint32            `json:"flags"`
}

type jaegerReference struct {
	RefType string `json:"refType"`
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

const (
	refChildOf     = "CHILD_OF"
	refFollowsFrom = "FOLLOWS_FROM"
)

type jaegerKeyValue struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"` // string, bool, int64 or float64, as Type says
}

// Jaeger's tag value types.
const (
	typeString  = "string"
	typeBool    = "bool"
	typeInt64   = "int64"
	typeFloat64 = "float64"
	typeBinary  = "binary"
)

type jaegerLog struct {
	Timestamp int64            `json:"timestamp"`
	Fields    []jaegerKeyValue `json:"fields"`
}

type jaegerProcess struct {
	ServiceName string           `json:"serviceName"`
	Tags        []jaegerKeyValue `json:"tags"`
}

type jaegerDependency struct {
	Parent    string `json:"parent"`
	Child     string `json:"child"`
	CallCount int64  `json:"callCount"`
}

type jaegerOperation struct {
	Name     string `json:"name"`
	SpanKind string `json:"spanKind"`
}

// Tags lookout derives from span fields, with the names OpenTelemetry's Jaeger translation uses.
const (
	tagSpanKind          = "span.kind"
	tagStatusCode        = "otel.status_code"
	tagStatusDescription = "otel.status_description"
	tagError             = "error"
	tagScopeName         = "otel.scope.name"
	tagScopeVersion      = "otel.scope.version"
	tagTraceState        = "w3c.tracestate"
	fieldEvent           = "event"
)

// micros converts unix nanoseconds to Jaeger's microseconds, rounding down.
func micros(unixNano int64) int64 {
	if unixNano < 0 && unixNano%1000 != 0 {
		return unixNano/1000 - 1
	}
	return unixNano / 1000
}

// toJaegerTrace converts the spans of one trace, in the order given.
func toJaegerTrace(id telemetry.TraceID, spans []telemetry.Span) jaegerTrace {
	t := jaegerTrace{
		TraceID:   id.String(),
		Spans:     make([]jaegerSpan, len(spans)),
		Processes: map[string]jaegerProcess{},
	}
	procs := processTable{byPtr: map[*telemetry.Resource]string{}, byContent: map[string]string{}, out: t.Processes}
	for i := range spans {
		t.Spans[i] = toJaegerSpan(&spans[i], procs.id(spans[i].Resource))
	}
	return t
}

func toJaegerSpan(s *telemetry.Span, processID string) jaegerSpan {
	traceID := s.TraceID.String()
	js := jaegerSpan{
		TraceID:       traceID,
		SpanID:        s.SpanID.String(),
		OperationName: s.Name,
		References:    make([]jaegerReference, 0, len(s.Links)+1),
		StartTime:     micros(s.StartUnixNano),
		Duration:      int64(s.Duration() / time.Microsecond),
		Tags:          spanTags(s),
		Logs:          make([]jaegerLog, len(s.Events)),
		ProcessID:     processID,
		Flags:         s.Flags,
	}
	if !s.ParentSpanID.IsZero() {
		js.References = append(js.References, jaegerReference{RefType: refChildOf, TraceID: traceID, SpanID: s.ParentSpanID.String()})
	}
	for _, l := range s.Links {
		js.References = append(js.References, jaegerReference{RefType: refFollowsFrom, TraceID: l.TraceID.String(), SpanID: l.SpanID.String()})
	}
	for i, e := range s.Events {
		fields := make([]jaegerKeyValue, 0, len(e.Attributes)+1)
		fields = append(fields, jaegerKeyValue{Key: fieldEvent, Type: typeString, Value: e.Name})
		fields = appendTags(fields, e.Attributes)
		js.Logs[i] = jaegerLog{Timestamp: micros(e.TimeUnixNano), Fields: fields}
	}
	js.Warnings = spanWarnings(s)
	return js
}

// spanTags returns the span's attributes followed by the tags derived from its fields. A
// derived tag is left out when an attribute already has its key: what the sender set wins,
// and a key appears once. An X-Ray segment's document is shown whole, as it was sent, and
// its metadata a tag a namespace.
func spanTags(s *telemetry.Span) []jaegerKeyValue {
	tags := appendTags(make([]jaegerKeyValue, 0, len(s.Attributes)+6), s.Attributes)
	if doc, ok := xray.SentDocument(s); ok {
		for i := range tags {
			if tags[i].Key == xray.AttrDocument {
				tags[i].Value = doc
			}
		}
	}
	tags = appendTags(tags, xray.MetadataTags(s))
	add := func(key string, value any, typ string) {
		if _, taken := s.Attributes.Get(key); !taken {
			tags = append(tags, jaegerKeyValue{Key: key, Type: typ, Value: value})
		}
	}
	if s.Kind != telemetry.SpanKindUnspecified {
		add(tagSpanKind, s.Kind.String(), typeString)
	}
	switch s.Status.Code {
	case telemetry.StatusOK:
		add(tagStatusCode, "OK", typeString)
	case telemetry.StatusError:
		add(tagStatusCode, "ERROR", typeString)
	}
	if s.Status.Message != "" {
		add(tagStatusDescription, s.Status.Message, typeString)
	}
	if s.Status.Code == telemetry.StatusError {
		add(tagError, true, typeBool)
	}
	if s.Scope != nil {
		if s.Scope.Name != "" {
			add(tagScopeName, s.Scope.Name, typeString)
		}
		if s.Scope.Version != "" {
			add(tagScopeVersion, s.Scope.Version, typeString)
		}
	}
	if s.TraceState != "" {
		add(tagTraceState, s.TraceState, typeString)
	}
	return tags
}

// spanWarnings explains what the span lacks, or returns nil.
func spanWarnings(s *telemetry.Span) []string {
	var w []string
	if s.InProgress {
		w = append(w, "span is in progress: its end time is the latest time it was seen")
	}
	dropped := func(n uint32, what string) {
		if n != 0 {
			w = append(w, strconv.FormatUint(uint64(n), 10)+" "+what+" dropped by the sender")
		}
	}
	dropped(s.DroppedAttributesCount, "attribute(s)")
	dropped(s.DroppedEventsCount, "event(s)")
	dropped(s.DroppedLinksCount, "link(s)")
	return w
}

// appendTags appends attributes as Jaeger tags.
func appendTags(dst []jaegerKeyValue, attrs telemetry.Attributes) []jaegerKeyValue {
	for _, kv := range attrs {
		dst = append(dst, jaegerTag(kv.Key, kv.Value))
	}
	return dst
}

// jaegerTag maps a value to Jaeger's types. Arrays and maps, which Jaeger has no type for,
// become strings holding their JSON text (telemetry.Value.AsString); bytes are binary, sent
// as base64 as Jaeger does. Non-finite doubles, which JSON cannot carry, become strings
// ("NaN", "+Inf", "-Inf").
func jaegerTag(key string, v telemetry.Value) jaegerKeyValue {
	switch v.Kind() {
	case telemetry.KindString:
		return jaegerKeyValue{Key: key, Type: typeString, Value: v.Str()}
	case telemetry.KindBool:
		return jaegerKeyValue{Key: key, Type: typeBool, Value: v.Bool()}
	case telemetry.KindInt:
		return jaegerKeyValue{Key: key, Type: typeInt64, Value: v.Int()}
	case telemetry.KindDouble:
		if f := v.Double(); !math.IsNaN(f) && !math.IsInf(f, 0) {
			return jaegerKeyValue{Key: key, Type: typeFloat64, Value: f}
		}
	case telemetry.KindBytes:
		return jaegerKeyValue{Key: key, Type: typeBinary, Value: v.AsString()}
	}
	return jaegerKeyValue{Key: key, Type: typeString, Value: v.AsString()}
}

// processTable gives each distinct resource of a trace a process id, p1, p2, ... in the order
// first seen. Resources are told apart by content, as each export batch has its own pointer.
type processTable struct {
	byPtr     map[*telemetry.Resource]string
	byContent map[string]string
	out       map[string]jaegerProcess
}

func (p processTable) id(r *telemetry.Resource) string {
	if id, ok := p.byPtr[r]; ok {
		return id
	}
	key := resourceKey(r)
	id, ok := p.byContent[key]
	if !ok {
		id = "p" + strconv.Itoa(len(p.out)+1)
		p.byContent[key] = id
		p.out[id] = toJaegerProcess(r)
	}
	p.byPtr[r] = id
	return id
}

func toJaegerProcess(r *telemetry.Resource) jaegerProcess {
	jp := jaegerProcess{ServiceName: r.ServiceName(), Tags: []jaegerKeyValue{}}
	if r == nil {
		return jp
	}
	for _, kv := range r.Attributes {
		if kv.Key != telemetry.ServiceNameKey {
			jp.Tags = append(jp.Tags, jaegerTag(kv.Key, kv.Value))
		}
	}
	return jp
}

// resourceKey is an unambiguous text form of a resource's attributes, in order: each key and
// value length-prefixed, with the value's kind (a kind and Encode identify a value).
func resourceKey(r *telemetry.Resource) string {
	if r == nil {
		return "" // shown like a resource without attributes, so keyed like one
	}
	var b strings.Builder
	for _, kv := range r.Attributes {
		v := kv.Value.Encode()
		b.WriteString(strconv.Itoa(len(kv.Key)))
		b.WriteByte(':')
		b.WriteString(kv.Key)
		b.WriteByte(byte('0' + kv.Value.Kind()))
		b.WriteString(strconv.Itoa(len(v)))
		b.WriteByte(':')
		b.WriteString(v)
	}
	return b.String()
}
