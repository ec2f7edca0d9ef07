package query

import (
	"slices"
	"strings"

	"lookout/internal/telemetry"
)

// Honeycomb queries count events: every span, and every span event and link as an event of
// its own. Events have the standard fields of Honeycomb's OTLP mapping, which come from the
// span itself rather than its attributes, and the attributes of the span (or span event, or
// link) and of its resource. standardFields is the one list of standard fields: queries, the
// column lists of the APIs, BubbleUp and raw events (SpanEvent) all read it.

// EventTypes is a set of the kinds of events.
type EventTypes uint8

const (
	Spans EventTypes = 1 << iota
	SpanEvents
	Links

	Annotations = SpanEvents | Links // span events and links: meta.annotation_type is set
	AllEvents   = Spans | Annotations
)

// Std names a standard field, for backends to read from their own storage.
type Std uint8

const (
	StdName Std = iota + 1
	StdService
	StdDuration
	StdTraceID
	StdSpanID
	StdParentID
	StdKind
	StdStatusCode
	StdStatusMessage
	StdError
	StdSignalType
	StdTraceState
	StdLibraryName
	StdLibraryVersion
	StdNumEvents
	StdNumLinks
	StdSampleRate
	StdAnnotationType
	StdParentName
	StdTimeSinceSpanStart
	StdLinkTraceID
	StdLinkSpanID
)

// StandardField is a field events have by Honeycomb's OTLP mapping.
type StandardField struct {
	Name string
	Std  Std
	Type telemetry.ValueKind // KindString, KindBool, KindInt or KindDouble
	On   EventTypes          // the events that have it
	// Optional fields are missing from some of those events: a root span has no
	// trace.parent_id, a span without error status no error.
	Optional bool
	// ID fields identify one span or trace: BubbleUp does not compare them.
	ID bool
	// Alias fields are another name of the field before them in the list, for events sent
	// with it (libhoney's service_name); they are not listed as columns.
	Alias bool
	// span reads the field of a span; false when the span lacks it.
	span func(sp *telemetry.Span) (any, bool)
}

func present(v any) (any, bool) { return v, true }

func unlessEmpty(s string) (any, bool) { return s, s != "" }

var standardFields = []StandardField{
	{Name: "name", Std: StdName, Type: telemetry.KindString, On: Spans | SpanEvents,
		span: func(sp *telemetry.Span) (any, bool) { return present(sp.Name) }},
	{Name: "service.name", Std: StdService, Type: telemetry.KindString, On: AllEvents,
		span: func(sp *telemetry.Span) (any, bool) { return present(sp.Service()) }},
	{Name: "service_name", Std: StdService, Type: telemetry.KindString, On: AllEvents, Alias: true},
	{Name: "duration_ms", Std: StdDuration, Type: telemetry.KindDouble, On: Spans,
		span: func(sp *telemetry.Span) (any, bool) { return present(float64(sp.Duration().Nanoseconds()) / 1e6) }},
	{Name: "trace.trace_id", Std: StdTraceID, Type: telemetry.KindString, On: AllEvents, ID: true,
		span: func(sp *telemetry.Span) (any, bool) { return present(traceIDText(sp.TraceID)) }},
	{Name: "trace.span_id", Std: StdSpanID, Type: telemetry.KindString, On: Spans, ID: true,
		span: func(sp *telemetry.Span) (any, bool) { return present(sp.SpanID.String()) }},
	{Name: "trace.parent_id", Std: StdParentID, Type: telemetry.KindString, On: AllEvents, Optional: true, ID: true,
		span: func(sp *telemetry.Span) (any, bool) { return sp.ParentSpanID.String(), !sp.ParentSpanID.IsZero() }},
	{Name: "span.kind", Std: StdKind, Type: telemetry.KindString, On: Spans,
		span: func(sp *telemetry.Span) (any, bool) { return present(sp.Kind.String()) }},
	{Name: "type", Std: StdKind, Type: telemetry.KindString, On: Spans,
		span: func(sp *telemetry.Span) (any, bool) { return present(sp.Kind.String()) }},
	{Name: "status_code", Std: StdStatusCode, Type: telemetry.KindInt, On: Spans,
		span: func(sp *telemetry.Span) (any, bool) { return present(int64(sp.Status.Code)) }},
	{Name: "status_message", Std: StdStatusMessage, Type: telemetry.KindString, On: Spans, Optional: true,
		span: func(sp *telemetry.Span) (any, bool) { return unlessEmpty(sp.Status.Message) }},
	{Name: "error", Std: StdError, Type: telemetry.KindBool, On: Spans | SpanEvents, Optional: true,
		span: func(sp *telemetry.Span) (any, bool) { return true, sp.Status.Code == telemetry.StatusError }},
	{Name: "meta.signal_type", Std: StdSignalType, Type: telemetry.KindString, On: AllEvents,
		span: func(*telemetry.Span) (any, bool) { return present("trace") }},
	{Name: "trace.trace_state", Std: StdTraceState, Type: telemetry.KindString, On: Spans, Optional: true,
		span: func(sp *telemetry.Span) (any, bool) { return unlessEmpty(sp.TraceState) }},
	{Name: "library.name", Std: StdLibraryName, Type: telemetry.KindString, On: Spans, Optional: true,
		span: func(sp *telemetry.Span) (any, bool) {
			if sp.Scope == nil {
				return nil, false
			}
			return unlessEmpty(sp.Scope.Name)
		}},
	{Name: "library.version", Std: StdLibraryVersion, Type: telemetry.KindString, On: Spans, Optional: true,
		span: func(sp *telemetry.Span) (any, bool) {
			if sp.Scope == nil {
				return nil, false
			}
			return unlessEmpty(sp.Scope.Version)
		}},
	{Name: "span.num_events", Std: StdNumEvents, Type: telemetry.KindInt, On: Spans,
		span: func(sp *telemetry.Span) (any, bool) { return present(int64(len(sp.Events))) }},
	{Name: "span.num_links", Std: StdNumLinks, Type: telemetry.KindInt, On: Spans,
		span: func(sp *telemetry.Span) (any, bool) { return present(int64(len(sp.Links))) }},
	// The sample rate of sampled events (above 1): the weight queries give them.
	{Name: "meta.sample_rate", Std: StdSampleRate, Type: telemetry.KindInt, On: AllEvents, Optional: true,
		span: func(sp *telemetry.Span) (any, bool) { return int64(sp.SampleRate), sp.SampleRate > 1 }},
	{Name: "meta.annotation_type", Std: StdAnnotationType, Type: telemetry.KindString, On: Annotations},
	{Name: "parent_name", Std: StdParentName, Type: telemetry.KindString, On: Annotations},
	{Name: "meta.time_since_span_start_ms", Std: StdTimeSinceSpanStart, Type: telemetry.KindDouble, On: SpanEvents},
	{Name: "trace.link.trace_id", Std: StdLinkTraceID, Type: telemetry.KindString, On: Links, ID: true},
	{Name: "trace.link.span_id", Std: StdLinkSpanID, Type: telemetry.KindString, On: Links, ID: true},
}

// standardByName indexes standardFields.
var standardByName = func() map[string]*StandardField {
	m := make(map[string]*StandardField, len(standardFields))
	for i := range standardFields {
		m[standardFields[i].Name] = &standardFields[i]
	}
	return m
}()

// StandardFields lists the standard fields, aliases left out, in a fixed order.
func StandardFields() []StandardField {
	return slices.DeleteFunc(slices.Clone(standardFields), func(f StandardField) bool { return f.Alias })
}

// Standard returns the standard field of that name.
func Standard(name string) (*StandardField, bool) {
	f, ok := standardByName[name]
	return f, ok
}

// traceIDText is a trace id as Honeycomb shows it: 16 hex digits when its high half is zero.
func traceIDText(id telemetry.TraceID) string {
	s := id.String()
	if strings.HasPrefix(s, "0000000000000000") {
		return s[16:]
	}
	return s
}

// Field is a field a query names, resolved against what the stored events have (NewPlan).
type Field struct {
	Name string // as the query names it
	// Standard is set for a standard field. On a span that lacks it, the span's attribute
	// named Attribute (when set) stands in, as raw events show it.
	Standard *StandardField
	// Attribute is the attribute read: the event's own, else its resource's. With Path, the
	// map attribute that holds the value.
	Attribute string
	// Path leads from the map attribute down to the value, one key per level: Honeycomb
	// flattens maps into dotted fields ("user.geo.lat"), lookout keeps them whole.
	Path []string
	// Exception: a span lacking the attribute takes that of its first exception event, as
	// Honeycomb copies them onto the span.
	Exception bool
	// Related is set for a relational field (root. or any.): a field of another span of the
	// same trace.
	Related *Related
}

// Related is the other span a relational field reads.
type Related struct {
	Root bool // the trace's root span; else any span of the trace
	// Field is the related span's field. Grouped by, a trace takes its root's value, or for
	// any. the smallest of its spans' values.
	Field *Field
}

// SpansOnly reports whether only spans have the field, so that span events and links never
// match a condition that needs it.
func (f *Field) SpansOnly() bool {
	return f.Standard != nil && f.Standard.On == Spans
}

// Type is the kind of every value of the field when it is known ahead, else KindEmpty (each
// value has its own).
func (f *Field) Type() telemetry.ValueKind {
	if f.Standard != nil && f.Attribute == "" {
		return f.Standard.Type
	}
	return telemetry.KindEmpty
}
