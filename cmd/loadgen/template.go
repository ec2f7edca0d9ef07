package main

// Requests are made from a pool of templates: encoded export requests whose ids, times and
// request ids are rewritten in place for every send. The fields rewritten are fixed-size
// (16-byte trace ids, 8-byte span ids, fixed64 times, a 16-character string), so a request
// costs one copy of the template and a few thousand small stores, never a protobuf encode.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

type template struct {
	body       []byte
	spans      int
	traceSpans []int   // spans in each trace
	traceDur   []int64 // each trace's duration, ns
	traceIDs   []patch // 16-byte trace_id values
	spanIDs    []int32 // 8-byte span_id and parent_span_id values
	times      []patch // fixed64 span start/end and event times: timeBase + time since their trace's start
	reqIDs     []patch // request.id string values, requestIDLen bytes
}

// patch is a place in the body and the trace (index within the request) it belongs to.
type patch struct{ off, trace int32 }

const (
	minTraceSpans = 5
	maxTraceSpans = 50
)

// buildTemplate makes template number idx of a pool: traces of 5 to 50 spans, the last one
// cut to make exactly spansPerRequest spans, grouped by resource as an SDK or collector batch
// would be.
func buildTemplate(seed uint64, idx, spansPerRequest int) (*template, error) {
	r := rand.New(rand.NewPCG(seed, uint64(idx)))
	t := &template{spans: spansPerRequest}
	traceOf := map[[16]byte]int32{}
	type resKey struct{ svc, pod int }
	groups := map[resKey]*tracepb.ScopeSpans{}
	var order []resKey
	spanIDs := map[uint64]bool{}
	for left := spansPerRequest; left > 0; {
		n := min(minTraceSpans+r.IntN(maxTraceSpans-minTraceSpans+1), left)
		left -= n
		var tid [16]byte
		for {
			for i := range tid {
				tid[i] = byte(r.Uint32())
			}
			if _, dup := traceOf[tid]; !dup {
				break
			}
		}
		traceOf[tid] = int32(len(t.traceSpans))
		spans, dur := buildTrace(r, tid[:], n, spanIDs)
		t.traceSpans = append(t.traceSpans, n)
		t.traceDur = append(t.traceDur, dur)
		for _, gs := range spans {
			k := resKey{gs.svc, gs.pod}
			ss := groups[k]
			if ss == nil {
				ss = &tracepb.ScopeSpans{Scope: &commonpb.InstrumentationScope{
					Name: "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp", Version: "0.61.0"}}
				groups[k] = ss
				order = append(order, k)
			}
			ss.Spans = append(ss.Spans, gs.span)
		}
	}
	req := &collectortrace.ExportTraceServiceRequest{}
	for _, k := range order {
		req.ResourceSpans = append(req.ResourceSpans, &tracepb.ResourceSpans{
			Resource:   resourceFor(k.svc, k.pod),
			ScopeSpans: []*tracepb.ScopeSpans{groups[k]},
			SchemaUrl:  "https://opentelemetry.io/schemas/1.26.0",
		})
	}
	body, err := proto.Marshal(req)
	if err != nil {
		return nil, err
	}
	t.body = body
	if err := t.index(traceOf); err != nil {
		return nil, fmt.Errorf("template %d: %w", idx, err)
	}
	if len(t.traceIDs) != spansPerRequest || len(t.reqIDs) != spansPerRequest {
		return nil, fmt.Errorf("template %d: found %d trace ids and %d request ids for %d spans", idx, len(t.traceIDs), len(t.reqIDs), spansPerRequest)
	}
	return t, nil
}

// index finds the fields materialize rewrites by walking the encoded request.
func (t *template) index(traceOf map[[16]byte]int32) error {
	return fields(t.body, 0, func(num protowire.Number, _ protowire.Type, _ int, rs []byte, rsOff int) error {
		if num != 1 { // ExportTraceServiceRequest.resource_spans
			return nil
		}
		return fields(rs, rsOff, func(num protowire.Number, _ protowire.Type, _ int, ss []byte, ssOff int) error {
			if num != 2 { // ResourceSpans.scope_spans
				return nil
			}
			return fields(ss, ssOff, func(num protowire.Number, _ protowire.Type, _ int, span []byte, spanOff int) error {
				if num != 2 { // ScopeSpans.spans
					return nil
				}
				return t.indexSpan(span, spanOff, traceOf)
			})
		})
	})
}

func (t *template) indexSpan(span []byte, base int, traceOf map[[16]byte]int32) error {
	trace := int32(-1)
	return fields(span, base, func(num protowire.Number, typ protowire.Type, _ int, v []byte, off int) error {
		switch {
		case num == 1 && typ == protowire.BytesType: // trace_id; the first field, so trace is known below
			if len(v) != 16 {
				return errors.New("trace id is not 16 bytes")
			}
			var tid [16]byte
			copy(tid[:], v)
			tr, ok := traceOf[tid]
			if !ok {
				return errors.New("unknown trace id")
			}
			trace = tr
			t.traceIDs = append(t.traceIDs, patch{int32(off), trace})
		case (num == 2 || num == 4) && typ == protowire.BytesType: // span_id, parent_span_id
			if len(v) != 8 {
				return errors.New("span id is not 8 bytes")
			}
			t.spanIDs = append(t.spanIDs, int32(off))
		case (num == 7 || num == 8) && typ == protowire.Fixed64Type: // start and end times
			if trace < 0 {
				return errors.New("time before trace id")
			}
			t.times = append(t.times, patch{int32(off), trace})
		case num == 9 && typ == protowire.BytesType: // attributes
			return t.indexRequestID(v, off, trace)
		case num == 11 && typ == protowire.BytesType: // events
			return fields(v, off, func(num protowire.Number, typ protowire.Type, _ int, _ []byte, off int) error {
				if num == 1 && typ == protowire.Fixed64Type { // time_unix_nano
					t.times = append(t.times, patch{int32(off), trace})
				}
				return nil
			})
		}
		return nil
	})
}

func (t *template) indexRequestID(kv []byte, base int, trace int32) error {
	var key string
	return fields(kv, base, func(num protowire.Number, typ protowire.Type, _ int, v []byte, off int) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			key = string(v)
		case num == 2 && typ == protowire.BytesType && key == requestIDKey:
			return fields(v, off, func(num protowire.Number, typ protowire.Type, _ int, s []byte, off int) error {
				if num == 1 && typ == protowire.BytesType { // AnyValue.string_value
					if len(s) != requestIDLen {
						return errors.New("request id has the wrong length")
					}
					t.reqIDs = append(t.reqIDs, patch{int32(off), trace})
				}
				return nil
			})
		}
		return nil
	})
}

// fields calls fn for each field of the message b, which starts at offset base of the body,
// with the field's value (for bytes and fixed64 fields) and the value's offset in the body.
func fields(b []byte, base int, fn func(num protowire.Number, typ protowire.Type, fieldOff int, v []byte, vOff int) error) error {
	pos := 0
	for pos < len(b) {
		num, typ, n := protowire.ConsumeTag(b[pos:])
		if n < 0 {
			return protowire.ParseError(n)
		}
		fieldOff := pos
		pos += n
		var v []byte
		vOff := pos
		switch typ {
		case protowire.BytesType:
			val, m := protowire.ConsumeBytes(b[pos:])
			if m < 0 {
				return protowire.ParseError(m)
			}
			v, vOff = val, pos+m-len(val)
			pos += m
		case protowire.Fixed64Type:
			if len(b)-pos < 8 {
				return errors.New("truncated fixed64")
			}
			v = b[pos : pos+8]
			pos += 8
		default:
			m := protowire.ConsumeFieldValue(num, typ, b[pos:])
			if m < 0 {
				return protowire.ParseError(m)
			}
			pos += m
		}
		if err := fn(num, typ, base+fieldOff, v, base+vOff); err != nil {
			return err
		}
	}
	return nil
}

// mix64 is SplitMix64's finaliser: a bijection on uint64 that scrambles well, so distinct
// inputs give distinct, random-looking outputs.
func mix64(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	z ^= z >> 31
	return z
}

// traceID returns the id of trace number trace of request number seq (seq counts from 1 and
// is never reused within a run). Its first half is unique per request and its second half per
// trace within the request, so ids never repeat within a run; across runs, seeds differ.
func traceID(seed, seq uint64, trace int) (hi, lo uint64) {
	hi = mix64(seq ^ mix64(seed))
	lo = mix64(hi + uint64(trace) + 1)
	return hi, lo
}

// materialize writes request seq of template t to dst and returns it. traceEnd gives each
// trace's end time (unix ns).
func (t *template) materialize(dst []byte, seed, seq uint64, traceEnd []int64) []byte {
	dst = append(dst[:0], t.body...)
	hi, _ := traceID(seed, seq, 0)
	for _, p := range t.traceIDs {
		_, lo := traceID(seed, seq, int(p.trace))
		binary.BigEndian.PutUint64(dst[p.off:], hi)
		binary.BigEndian.PutUint64(dst[p.off+8:], lo)
	}
	// Span ids are xored with one mask per request: distinct within the request, parent links
	// kept, and random-looking across requests.
	mask := mix64(hi ^ 0x9e3779b97f4a7c15)
	for _, off := range t.spanIDs {
		v := binary.LittleEndian.Uint64(t.body[off:])
		binary.LittleEndian.PutUint64(dst[off:], v^mask)
	}
	for _, p := range t.times {
		rel := binary.LittleEndian.Uint64(t.body[p.off:])
		start := traceEnd[p.trace] - t.traceDur[p.trace]
		binary.LittleEndian.PutUint64(dst[p.off:], uint64(start)+rel-timeBase)
	}
	const hexDigits = "0123456789abcdef"
	for _, p := range t.reqIDs {
		v := mix64(hi + 0x632be59bd9b4e019*uint64(p.trace+1))
		for i := 0; i < requestIDLen; i++ {
			dst[int(p.off)+i] = hexDigits[(v>>(4*i))&15]
		}
	}
	return dst
}
