package ingest

import "lookout/internal/telemetry"

// spanBuffers keeps the buffers batches of spans are encoded in, with the room they grew,
// from one batch to the next: growing a buffer of a few megabytes a batch cost a fifth of
// the encoding. Not a sync.Pool: the collector empties those, several times a second under
// load, and the buffer grew again from nothing.
var spanBuffers = make(chan []byte, 2)

// encodeSpans returns the log record of a batch of spans.
func encodeSpans(spans []telemetry.Span) []byte {
	var e encoder
	select {
	case e.buf = <-spanBuffers:
	default:
	}
	defer func() {
		select {
		case spanBuffers <- e.buf[:0]:
		default:
		}
	}()
	sh := newShared()
	for i := range spans {
		sh.add(spans[i].Resource, spans[i].Scope)
	}
	e.tables(sh)
	e.uvarint(uint64(len(spans)))
	for i := range spans {
		s := &spans[i]
		e.buf = append(e.buf, s.TraceID[:]...)
		e.buf = append(e.buf, s.SpanID[:]...)
		e.buf = append(e.buf, s.ParentSpanID[:]...)
		e.str(s.TraceState)
		e.uvarint(uint64(s.Flags))
		e.str(s.Name)
		e.buf = append(e.buf, byte(s.Kind), byte(s.Status.Code), boolByte(s.InProgress))
		e.varint(s.StartUnixNano)
		e.varint(s.EndUnixNano - s.StartUnixNano)
		e.attrs(s.Attributes)
		e.uvarint(uint64(s.DroppedAttributesCount))
		e.uvarint(uint64(len(s.Events)))
		for _, ev := range s.Events {
			e.varint(ev.TimeUnixNano)
			e.str(ev.Name)
			e.attrs(ev.Attributes)
			e.uvarint(uint64(ev.DroppedAttributesCount))
		}
		e.uvarint(uint64(s.DroppedEventsCount))
		e.uvarint(uint64(len(s.Links)))
		for _, l := range s.Links {
			e.buf = append(e.buf, l.TraceID[:]...)
			e.buf = append(e.buf, l.SpanID[:]...)
			e.str(l.TraceState)
			e.uvarint(uint64(l.Flags))
			e.attrs(l.Attributes)
			e.uvarint(uint64(l.DroppedAttributesCount))
		}
		e.uvarint(uint64(s.DroppedLinksCount))
		e.str(s.Status.Message)
		e.refs(sh, s.Resource, s.Scope)
		e.uvarint(uint64(s.SampleRate))
		e.ingest(s.Ingest)
	}
	return seal(RecordSpans, e.buf)
}

// decodeSpans is the inverse of encodeSpans.
func decodeSpans(record []byte) ([]telemetry.Span, error) {
	raw, err := unseal(RecordSpans, record)
	if err != nil {
		return nil, err
	}
	d := decoder{buf: raw}
	resources, scopes := d.tables()
	spans := make([]telemetry.Span, d.count(40))
	for i := range spans {
		s := &spans[i]
		d.fixed(s.TraceID[:])
		d.fixed(s.SpanID[:])
		d.fixed(s.ParentSpanID[:])
		s.TraceState = d.str()
		s.Flags = d.u32()
		s.Name = d.str()
		s.Kind, s.Status.Code, s.InProgress = telemetry.SpanKind(d.byte()), telemetry.StatusCode(d.byte()), d.byte() == 1
		s.StartUnixNano = d.varint()
		s.EndUnixNano = s.StartUnixNano + d.varint()
		s.Attributes = d.attrs(0)
		s.DroppedAttributesCount = d.u32()
		if n := d.count(3); n > 0 {
			s.Events = make([]telemetry.Event, n)
			for j := range s.Events {
				s.Events[j] = telemetry.Event{TimeUnixNano: d.varint(), Name: d.str(), Attributes: d.attrs(0), DroppedAttributesCount: d.u32()}
			}
		}
		s.DroppedEventsCount = d.u32()
		if n := d.count(26); n > 0 {
			s.Links = make([]telemetry.Link, n)
			for j := range s.Links {
				l := &s.Links[j]
				d.fixed(l.TraceID[:])
				d.fixed(l.SpanID[:])
				l.TraceState, l.Flags, l.Attributes, l.DroppedAttributesCount = d.str(), d.u32(), d.attrs(0), d.u32()
			}
		}
		s.DroppedLinksCount = d.u32()
		s.Status.Message = d.str()
		s.Resource, s.Scope = d.refs(resources, scopes)
		s.SampleRate = d.u32()
		s.Ingest = d.ingest()
		if d.err != nil {
			return nil, d.err
		}
	}
	return spans, d.done()
}
