package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/klauspost/compress/zstd"

	"lookout/internal/telemetry"
)

// The write-ahead log keeps each accepted batch in this compact binary form, zstd-compressed:
// spans hold indexes into tables of the batch's distinct resources and scopes. Decoding checks
// every length against what is left, so a damaged record is an error, never a panic.

const codecVersion = 1

var (
	zstdEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	zstdDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
)

// encodeSpans returns the log record of a batch.
func encodeSpans(spans []telemetry.Span) []byte {
	e := encoder{buf: make([]byte, 0, 256*len(spans))}
	resources := map[*telemetry.Resource]uint64{}
	scopes := map[*telemetry.Scope]uint64{nil: 0}
	var resList []*telemetry.Resource
	var scopeList []*telemetry.Scope
	for i := range spans {
		if _, ok := resources[spans[i].Resource]; !ok {
			resources[spans[i].Resource] = uint64(len(resList))
			resList = append(resList, spans[i].Resource)
		}
		if _, ok := scopes[spans[i].Scope]; !ok {
			scopeList = append(scopeList, spans[i].Scope)
			scopes[spans[i].Scope] = uint64(len(scopeList)) // 0 means none
		}
	}
	e.uvarint(uint64(len(resList)))
	for _, r := range resList {
		if r == nil {
			r = &telemetry.Resource{}
		}
		e.attrs(r.Attributes)
		e.uvarint(uint64(r.DroppedAttributesCount))
	}
	e.uvarint(uint64(len(scopeList)))
	for _, s := range scopeList {
		e.str(s.Name)
		e.str(s.Version)
		e.attrs(s.Attributes)
		e.uvarint(uint64(s.DroppedAttributesCount))
	}
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
		e.uvarint(resources[s.Resource])
		e.uvarint(scopes[s.Scope])
		e.uvarint(uint64(s.SampleRate))
		e.str(s.Ingest.Protocol)
		e.str(s.Ingest.Dataset)
		e.str(s.Ingest.KeyID)
	}
	return zstdEncoder.EncodeAll(e.buf, []byte{codecVersion})
}

type encoder struct{ buf []byte }

func (e *encoder) uvarint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }
func (e *encoder) varint(v int64)   { e.buf = binary.AppendVarint(e.buf, v) }
func (e *encoder) str(s string)     { e.uvarint(uint64(len(s))); e.buf = append(e.buf, s...) }

func (e *encoder) attrs(a telemetry.Attributes) {
	e.uvarint(uint64(len(a)))
	for _, kv := range a {
		e.str(kv.Key)
		e.value(kv.Value)
	}
}

func (e *encoder) value(v telemetry.Value) {
	e.buf = append(e.buf, byte(v.Kind()))
	switch v.Kind() {
	case telemetry.KindString:
		e.str(v.Str())
	case telemetry.KindBytes:
		e.str(string(v.Bytes()))
	case telemetry.KindBool:
		e.buf = append(e.buf, boolByte(v.Bool()))
	case telemetry.KindInt:
		e.varint(v.Int())
	case telemetry.KindDouble:
		e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(v.Double()))
	case telemetry.KindArray:
		e.uvarint(uint64(len(v.Array())))
		for _, el := range v.Array() {
			e.value(el)
		}
	case telemetry.KindMap:
		e.attrs(v.Map())
	}
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

var errCorrupt = errors.New("corrupt log record")

// decodeSpans is the inverse of encodeSpans.
func decodeSpans(record []byte) ([]telemetry.Span, error) {
	if len(record) == 0 || record[0] != codecVersion {
		return nil, fmt.Errorf("%w: unknown version", errCorrupt)
	}
	raw, err := zstdDecoder.DecodeAll(record[1:], nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errCorrupt, err)
	}
	d := decoder{buf: raw}
	resources := make([]*telemetry.Resource, d.count(2))
	for i := range resources {
		resources[i] = &telemetry.Resource{Attributes: d.attrs(0), DroppedAttributesCount: d.u32()}
	}
	scopes := make([]*telemetry.Scope, d.count(4))
	for i := range scopes {
		scopes[i] = &telemetry.Scope{Name: d.str(), Version: d.str(), Attributes: d.attrs(0), DroppedAttributesCount: d.u32()}
	}
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
		if r := d.uvarint(); r < uint64(len(resources)) {
			s.Resource = resources[r]
		} else {
			d.err = errCorrupt
		}
		if sc := d.uvarint(); sc > 0 && sc <= uint64(len(scopes)) {
			s.Scope = scopes[sc-1]
		} else if sc != 0 {
			d.err = errCorrupt
		}
		s.SampleRate = d.u32()
		s.Ingest = telemetry.IngestInfo{Protocol: d.str(), Dataset: d.str(), KeyID: d.str()}
		if d.err != nil {
			return nil, d.err
		}
	}
	if d.err != nil || len(d.buf) != 0 {
		return nil, errCorrupt
	}
	return spans, nil
}

// decoder reads what encoder wrote; after the first error every read returns zero values
// and err stays set.
type decoder struct {
	buf []byte
	err error
}

func (d *decoder) fail() { d.err, d.buf = errCorrupt, nil }

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.buf)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) u32() uint32 {
	v := d.uvarint()
	if v > math.MaxUint32 {
		d.fail()
	}
	return uint32(v)
}

// count reads a length and checks the rest of the record could hold that many items of at
// least minSize bytes each, so that a corrupt length cannot allocate without bound.
func (d *decoder) count(minSize int) int {
	n := d.uvarint()
	if n > uint64(len(d.buf)/max(minSize, 1)) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) byte() byte {
	if len(d.buf) < 1 {
		d.fail()
		return 0
	}
	b := d.buf[0]
	d.buf = d.buf[1:]
	return b
}

func (d *decoder) fixed(dst []byte) {
	if len(d.buf) < len(dst) {
		d.fail()
		return
	}
	copy(dst, d.buf)
	d.buf = d.buf[len(dst):]
}

func (d *decoder) str() string {
	n := d.count(1)
	s := string(d.buf[:n])
	d.buf = d.buf[n:]
	return s
}

// attrs reads an attribute list; depth bounds nesting so a crafted record cannot recurse
// without end.
func (d *decoder) attrs(depth int) telemetry.Attributes {
	n := d.count(2)
	if n == 0 {
		return nil
	}
	a := make(telemetry.Attributes, n)
	for i := range a {
		a[i] = telemetry.KeyValue{Key: d.str(), Value: d.value(depth)}
	}
	return a
}

func (d *decoder) value(depth int) telemetry.Value {
	if depth > 64 {
		d.fail()
		return telemetry.Value{}
	}
	switch kind := telemetry.ValueKind(d.byte()); kind {
	case telemetry.KindEmpty:
		return telemetry.Value{}
	case telemetry.KindString:
		return telemetry.StringValue(d.str())
	case telemetry.KindBytes:
		return telemetry.BytesValue([]byte(d.str()))
	case telemetry.KindBool:
		return telemetry.BoolValue(d.byte() == 1)
	case telemetry.KindInt:
		return telemetry.IntValue(d.varint())
	case telemetry.KindDouble:
		var b [8]byte
		d.fixed(b[:])
		return telemetry.DoubleValue(math.Float64frombits(binary.LittleEndian.Uint64(b[:])))
	case telemetry.KindArray:
		vs := make([]telemetry.Value, d.count(1))
		for i := range vs {
			vs[i] = d.value(depth + 1)
		}
		return telemetry.ArrayValue(vs...)
	case telemetry.KindMap:
		return telemetry.MapValue(d.attrs(depth + 1)...)
	}
	d.fail()
	return telemetry.Value{}
}
