package otlp

import (
	"context"

	"github.com/VictoriaMetrics/easyproto"

	"lookout/internal/honeycomb"
	"lookout/internal/telemetry"
)

// DecodeTraces decodes an OTLP ExportTraceServiceRequest. It returns an error only when body
// does not decode at all (or decoding it would take more memory than its size allows, which
// is ErrTooLarge, or ctx ends); a span that decodes but fails validation is counted in
// Result.Rejected and the rest of the request is kept, as OTLP partial success requires.
// Spans get Ingest.Protocol "otlp"; transports add what they know of the sender.
func DecodeTraces(ctx context.Context, body []byte, enc Encoding) (Result[telemetry.Span], error) {
	return decodeTraces(ctx, body, enc, telemetry.IngestInfo{})
}

func decodeTraces(ctx context.Context, body []byte, enc Encoding, info telemetry.IngestInfo) (Result[telemetry.Span], error) {
	info.Protocol = Protocol
	res, err := decode(ctx, body, enc, signal[telemetry.Span](&spans{info: info}))
	if err != nil {
		return res, err
	}
	if info.Dataset == "" {
		honeycomb.RouteByService(res.Items)
	}
	honeycomb.ApplySampleRates(res.Items)
	return res, nil
}

// spans is the trace signal.
type spans struct{ info telemetry.IngestInfo }

var traceNames = signalNames{
	request: "trace", item: "span",
	resources:     [2]string{"resourceSpans", "resource_spans"},
	scopes:        [2]string{"scopeSpans", "scope_spans"},
	items:         [2]string{"spans", "spans"},
	resourcesPath: "resourceSpans", scopesPath: "scopeSpans", itemsPath: "spans",
	rejected: "rejectedSpans",
}

func (*spans) names() *signalNames { return &traceNames }

func (s *spans) finish(sp *telemetry.Span, res *telemetry.Resource, scope *telemetry.Scope) error {
	sp.Resource, sp.Scope, sp.Ingest = res, scope, s.info
	return sp.Validate()
}

// Span field numbers that hold lists.
const (
	fieldSpanAttributes = 9
	fieldSpanEvents     = 11
	fieldSpanLinks      = 13
)

func (*spans) protoItem(d *decoder, sp *telemetry.Span, msg []byte) error {
	var nAttrs, nEvents, nLinks int
	var fc easyproto.FieldContext
	for src := msg; len(src) > 0; {
		var err error
		if src, err = next(&fc, src); err != nil {
			return err
		}
		switch fc.FieldNum {
		case fieldSpanAttributes:
			nAttrs++
		case fieldSpanEvents:
			nEvents++
		case fieldSpanLinks:
			nLinks++
		}
	}
	attrs, err := d.kvs.take(d, nAttrs)
	if err != nil {
		return err
	}
	events, err := d.events.take(d, nEvents)
	if err != nil {
		return err
	}
	links, err := d.links.take(d, nLinks)
	if err != nil {
		return err
	}
	sp.Attributes, sp.Events, sp.Links = attrs, events, links

	for src := msg; len(src) > 0; {
		src, _ = fc.NextField(src) // read without error above
		switch fc.FieldNum {
		case 1:
			err = protoID(sp.TraceID[:], &fc, "span", "trace_id")
		case 2:
			err = protoID(sp.SpanID[:], &fc, "span", "span_id")
		case 3:
			sp.TraceState, err = d.protoString(&fc, "span", "trace_state")
		case 4:
			err = protoID(sp.ParentSpanID[:], &fc, "span", "parent_span_id")
		case 5:
			sp.Name, err = d.protoString(&fc, "span", "name")
		case 6:
			k, ok := fc.Uint64()
			if !ok {
				return wrongType("span", "kind")
			}
			sp.Kind = spanKind(int32(k))
		case 7:
			sp.StartUnixNano, err = protoTime(&fc, "span", "start_time_unix_nano")
		case 8:
			sp.EndUnixNano, err = protoTime(&fc, "span", "end_time_unix_nano")
		case fieldSpanAttributes:
			err = d.protoKeyValue(&attrs[0], &fc, 1)
			attrs = attrs[1:]
		case 10:
			sp.DroppedAttributesCount, err = protoCount(&fc, "span", "dropped_attributes_count")
		case fieldSpanEvents:
			err = d.protoEvent(&events[0], &fc)
			events = events[1:]
		case 12:
			sp.DroppedEventsCount, err = protoCount(&fc, "span", "dropped_events_count")
		case fieldSpanLinks:
			err = d.protoLink(&links[0], &fc)
			links = links[1:]
		case 14:
			sp.DroppedLinksCount, err = protoCount(&fc, "span", "dropped_links_count")
		case 15:
			err = d.protoStatus(&sp.Status, &fc)
		case 16:
			f, ok := fc.Fixed32()
			if !ok {
				return wrongType("span", "flags")
			}
			sp.Flags = f
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// protoCount reads a uint32 count, truncated as pdata truncates it.
func protoCount(fc *easyproto.FieldContext, message, field string) (uint32, error) {
	v, ok := fc.Uint64()
	if !ok {
		return 0, wrongType(message, field)
	}
	return uint32(v), nil
}

func (d *decoder) protoEvent(e *telemetry.Event, fc *easyproto.FieldContext) error {
	const fieldAttributes = 3
	msg, ok := fc.MessageData()
	if !ok {
		return wrongType("span", "events")
	}
	n, err := countFields(msg, fieldAttributes)
	if err != nil {
		return err
	}
	attrs, err := d.kvs.take(d, n)
	if err != nil {
		return err
	}
	e.Attributes = attrs
	var f easyproto.FieldContext
	for src := msg; len(src) > 0; {
		src, _ = f.NextField(src)
		switch f.FieldNum {
		case 1:
			e.TimeUnixNano, err = protoTime(&f, "event", "time_unix_nano")
		case 2:
			e.Name, err = d.protoString(&f, "event", "name")
		case fieldAttributes:
			err = d.protoKeyValue(&attrs[0], &f, 1)
			attrs = attrs[1:]
		case 4:
			e.DroppedAttributesCount, err = protoCount(&f, "event", "dropped_attributes_count")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) protoLink(l *telemetry.Link, fc *easyproto.FieldContext) error {
	const fieldAttributes = 4
	msg, ok := fc.MessageData()
	if !ok {
		return wrongType("span", "links")
	}
	n, err := countFields(msg, fieldAttributes)
	if err != nil {
		return err
	}
	attrs, err := d.kvs.take(d, n)
	if err != nil {
		return err
	}
	l.Attributes = attrs
	var f easyproto.FieldContext
	for src := msg; len(src) > 0; {
		src, _ = f.NextField(src)
		switch f.FieldNum {
		case 1:
			err = protoID(l.TraceID[:], &f, "link", "trace_id")
		case 2:
			err = protoID(l.SpanID[:], &f, "link", "span_id")
		case 3:
			l.TraceState, err = d.protoString(&f, "link", "trace_state")
		case fieldAttributes:
			err = d.protoKeyValue(&attrs[0], &f, 1)
			attrs = attrs[1:]
		case 5:
			l.DroppedAttributesCount, err = protoCount(&f, "link", "dropped_attributes_count")
		case 6:
			v, ok := f.Fixed32()
			if !ok {
				return wrongType("link", "flags")
			}
			l.Flags = v
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// protoStatus reads a Status into st, over what an earlier copy of the field set.
func (d *decoder) protoStatus(st *telemetry.Status, fc *easyproto.FieldContext) error {
	msg, ok := fc.MessageData()
	if !ok {
		return wrongType("span", "status")
	}
	var f easyproto.FieldContext
	for src := msg; len(src) > 0; {
		var err error
		if src, err = next(&f, src); err != nil {
			return err
		}
		switch f.FieldNum {
		case 2:
			if st.Message, err = d.protoString(&f, "status", "message"); err != nil {
				return err
			}
		case 3:
			c, ok := f.Uint64()
			if !ok {
				return wrongType("status", "code")
			}
			st.Code = statusCode(int32(c))
		}
	}
	return nil
}

func (*spans) jsonItem(j *jsonDecoder, sp *telemetry.Span) {
	if !j.object() {
		return
	}
	for n := 0; ; {
		key, ok := j.member(&n)
		if !ok {
			return
		}
		switch string(key) {
		case "traceId", "trace_id":
			j.id(sp.TraceID[:])
		case "spanId", "span_id":
			j.id(sp.SpanID[:])
		case "parentSpanId", "parent_span_id":
			j.id(sp.ParentSpanID[:])
		case "traceState", "trace_state":
			sp.TraceState = j.text()
		case "flags":
			sp.Flags = uint32(j.unsigned(32))
		case "name":
			sp.Name = j.text()
		case "kind":
			sp.Kind = spanKind(j.enum(spanKindNumber))
		case "startTimeUnixNano", "start_time_unix_nano":
			sp.StartUnixNano = unixNano(j.unsigned(64))
		case "endTimeUnixNano", "end_time_unix_nano":
			sp.EndUnixNano = unixNano(j.unsigned(64))
		case "attributes":
			sp.Attributes = j.attrs(sp.Attributes, 1)
		case "droppedAttributesCount", "dropped_attributes_count":
			sp.DroppedAttributesCount = uint32(j.unsigned(32))
		case "events":
			sp.Events = j.events(sp.Events)
		case "droppedEventsCount", "dropped_events_count":
			sp.DroppedEventsCount = uint32(j.unsigned(32))
		case "links":
			sp.Links = j.links(sp.Links)
		case "droppedLinksCount", "dropped_links_count":
			sp.DroppedLinksCount = uint32(j.unsigned(32))
		case "status":
			j.status(&sp.Status)
		default:
			j.skip()
		}
	}
}

// events reads a list of span events and returns dst followed by them.
func (j *jsonDecoder) events(dst []telemetry.Event) []telemetry.Event {
	if !j.array() {
		return dst
	}
	base := len(j.eventStack)
	for n := 0; j.elem(&n); {
		var e telemetry.Event
		j.event(&e)
		j.check(push(j.decoder, &j.eventStack, e))
	}
	out, err := j.decoder.events.extend(j.decoder, dst, j.eventStack[base:])
	j.check(err)
	j.eventStack = j.eventStack[:base]
	return out
}

func (j *jsonDecoder) event(e *telemetry.Event) {
	if !j.object() {
		return
	}
	for n := 0; ; {
		key, ok := j.member(&n)
		if !ok {
			return
		}
		switch string(key) {
		case "timeUnixNano", "time_unix_nano":
			e.TimeUnixNano = unixNano(j.unsigned(64))
		case "name":
			e.Name = j.text()
		case "attributes":
			e.Attributes = j.attrs(e.Attributes, 1)
		case "droppedAttributesCount", "dropped_attributes_count":
			e.DroppedAttributesCount = uint32(j.unsigned(32))
		default:
			j.skip()
		}
	}
}

// links reads a list of span links and returns dst followed by them.
func (j *jsonDecoder) links(dst []telemetry.Link) []telemetry.Link {
	if !j.array() {
		return dst
	}
	base := len(j.linkStack)
	for n := 0; j.elem(&n); {
		var l telemetry.Link
		j.link(&l)
		j.check(push(j.decoder, &j.linkStack, l))
	}
	out, err := j.decoder.links.extend(j.decoder, dst, j.linkStack[base:])
	j.check(err)
	j.linkStack = j.linkStack[:base]
	return out
}

func (j *jsonDecoder) link(l *telemetry.Link) {
	if !j.object() {
		return
	}
	for n := 0; ; {
		key, ok := j.member(&n)
		if !ok {
			return
		}
		switch string(key) {
		case "traceId", "trace_id":
			j.id(l.TraceID[:])
		case "spanId", "span_id":
			j.id(l.SpanID[:])
		case "traceState", "trace_state":
			l.TraceState = j.text()
		case "attributes":
			l.Attributes = j.attrs(l.Attributes, 1)
		case "droppedAttributesCount", "dropped_attributes_count":
			l.DroppedAttributesCount = uint32(j.unsigned(32))
		case "flags":
			l.Flags = uint32(j.unsigned(32))
		default:
			j.skip()
		}
	}
}

func (j *jsonDecoder) status(st *telemetry.Status) {
	if !j.object() {
		return
	}
	for n := 0; ; {
		key, ok := j.member(&n)
		if !ok {
			return
		}
		switch string(key) {
		case "message":
			st.Message = j.text()
		case "code":
			st.Code = statusCode(j.enum(statusCodeNumber))
		default:
			j.skip()
		}
	}
}

// spanKind maps OTLP's span kind; values from a newer or broken sender become unspecified
// rather than being truncated into some other kind.
func spanKind(k int32) telemetry.SpanKind {
	if k < 0 || k > int32(telemetry.SpanKindConsumer) {
		return telemetry.SpanKindUnspecified
	}
	return telemetry.SpanKind(k) // telemetry follows OTLP's numbering
}

func spanKindNumber(name string) (int32, bool) {
	switch name {
	case "SPAN_KIND_UNSPECIFIED":
		return 0, true
	case "SPAN_KIND_INTERNAL":
		return 1, true
	case "SPAN_KIND_SERVER":
		return 2, true
	case "SPAN_KIND_CLIENT":
		return 3, true
	case "SPAN_KIND_PRODUCER":
		return 4, true
	case "SPAN_KIND_CONSUMER":
		return 5, true
	}
	return 0, false
}

func statusCode(c int32) telemetry.StatusCode {
	if c < 0 || c > int32(telemetry.StatusError) {
		return telemetry.StatusUnset
	}
	return telemetry.StatusCode(c) // telemetry follows OTLP's numbering
}

func statusCodeNumber(name string) (int32, bool) {
	switch name {
	case "STATUS_CODE_UNSET":
		return 0, true
	case "STATUS_CODE_OK":
		return 1, true
	case "STATUS_CODE_ERROR":
		return 2, true
	}
	return 0, false
}
