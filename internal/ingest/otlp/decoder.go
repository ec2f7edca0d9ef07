package otlp

import (
	"context"
	"errors"
	"fmt"
	"unsafe"

	"lookout/internal/telemetry"
)

// Decoding may allocate at most budgetFactor bytes per byte of body (after decompression),
// plus budgetFloor. The factor covers what legitimate requests expand to in the model,
// measured by TestBudgetFitsLegitimateRequests: SDK and collector batches take 2 to 4
// bytes per body byte in either encoding; the densest legitimate protobuf (arrays of small
// integers or booleans, 4 wire bytes to a 40-byte Value) takes 10, as does the densest JSON
// (spans of nothing but ids and a start time, in a list grown as it is read). Requests beyond
// that are made of empty messages (an empty attribute is 2 wire bytes and a 56-byte KeyValue),
// which carry nothing worth the memory.
const (
	budgetFactor = 16
	budgetFloor  = 1 << 20
)

// ErrTooLarge is the error for a request that would take more memory to decode than its size
// allows. Like a request over the size limit, it must not be retried.
var ErrTooLarge = errors.New("request is too large")

// decoder is the state both encodings share while decoding one request: its memory budget,
// the context that ends it, and the slabs its slices and strings are cut from.
type decoder struct {
	ctx      context.Context
	budget   int // bytes still allowed
	limit    int // the whole budget, for the error message
	ticks    uint
	strs     []byte
	strsNext int // size of the next string chunk
	kvs      slab[telemetry.KeyValue]
	values   slab[telemetry.Value]
	events   slab[telemetry.Event]
	links    slab[telemetry.Link]
}

func newDecoder(ctx context.Context, bodyLen int) *decoder {
	limit := budgetFactor*bodyLen + budgetFloor
	return &decoder{ctx: ctx, budget: limit, limit: limit, strsNext: minStringChunk}
}

// charge takes n bytes from the budget before they are allocated, and an eighth more: the
// allocator rounds requests up to its size classes, by at most that much.
func (d *decoder) charge(n int) error {
	d.budget -= n + n/8
	if d.budget < 0 {
		return fmt.Errorf("%w: decoding it would take more than %d bytes of memory", ErrTooLarge, d.limit)
	}
	return nil
}

// tick is called for every element decoded; now and then it checks whether the request has
// ended, so that a sender who hung up does not keep a core busy.
func (d *decoder) tick() error {
	d.ticks++
	if d.ticks%1024 == 0 {
		return d.ctx.Err()
	}
	return nil
}

// Strings are copied out of the body into chunks shared by the request, rather than aliasing
// the body: the body's buffer is reused as soon as decoding ends, while the items wait for the
// store, and a chunk holds only the strings rather than the whole body with its framing.
const (
	minStringChunk = 512
	maxStringChunk = 64 << 10
)

// copyString returns a copy of b.
func (d *decoder) copyString(b []byte) (string, error) {
	if len(b) == 0 {
		return "", nil
	}
	if len(b) > len(d.strs) {
		if len(b) >= d.strsNext/2 {
			// Large strings get their own allocation, so they do not waste a chunk's tail.
			if err := d.charge(len(b)); err != nil {
				return "", err
			}
			return string(b), nil
		}
		if err := d.charge(d.strsNext); err != nil {
			return "", err
		}
		d.strs = make([]byte, d.strsNext)
		d.strsNext = min(2*d.strsNext, maxStringChunk)
	}
	n := copy(d.strs, b)
	s := unsafe.String(&d.strs[0], n)
	d.strs = d.strs[n:]
	return s, nil
}

// bytesValue returns a bytes value holding a copy of b.
func (d *decoder) bytesValue(b []byte) (telemetry.Value, error) {
	if err := d.charge(len(b)); err != nil {
		return telemetry.Value{}, err
	}
	return telemetry.BytesValue(b), nil
}

// nestedBytes is what telemetry.ArrayValue and MapValue allocate besides their elements.
const nestedBytes = 48

func (d *decoder) arrayValue(vs []telemetry.Value) (telemetry.Value, error) {
	if err := d.charge(nestedBytes); err != nil {
		return telemetry.Value{}, err
	}
	return telemetry.ArrayValue(vs...), nil
}

func (d *decoder) mapValue(kvs []telemetry.KeyValue) (telemetry.Value, error) {
	if err := d.charge(nestedBytes); err != nil {
		return telemetry.Value{}, err
	}
	return telemetry.MapValue(kvs...), nil
}

// A slab hands out the slices of one request (attributes, events, links, array elements)
// from a few large allocations rather than one per slice. Chunks double from minSlab to
// maxSlab elements, so that a small request does not pin a large chunk.
type slab[T any] struct {
	free []T
	next int // size of the next chunk
}

const (
	minSlab = 16
	maxSlab = 1024
)

// take returns n zeroed elements, capped so that appending to them cannot overwrite a
// neighbour.
func (s *slab[T]) take(d *decoder, n int) ([]T, error) {
	if n == 0 {
		return nil, nil
	}
	if n > len(s.free) {
		size := max(n, s.next, minSlab)
		if err := d.charge(size * sizeOf[T]()); err != nil {
			return nil, err
		}
		s.free = make([]T, size)
		s.next = min(2*max(s.next, minSlab), maxSlab)
	}
	out := s.free[:n:n]
	s.free = s.free[n:]
	return out, nil
}

// extend returns dst followed by src in a slice of the slab: a list that arrives in pieces
// (a repeated field sent twice) is kept whole, as pdata keeps it.
func (s *slab[T]) extend(d *decoder, dst, src []T) ([]T, error) {
	if len(src) == 0 {
		return dst, nil
	}
	out, err := s.take(d, len(dst)+len(src))
	if err != nil {
		return nil, err
	}
	copy(out[copy(out, dst):], src)
	return out, nil
}

// grow makes room in *s for one more element, charging what a larger array takes.
func grow[T any](d *decoder, s *[]T) error {
	if len(*s) < cap(*s) {
		return nil
	}
	size := max(2*cap(*s), minSlab)
	if err := d.charge(size * sizeOf[T]()); err != nil {
		return err
	}
	grown := make([]T, len(*s), size)
	copy(grown, *s)
	*s = grown
	return nil
}

// push appends v to *s within the budget.
func push[T any](d *decoder, s *[]T, v T) error {
	if err := grow(d, s); err != nil {
		return err
	}
	*s = append(*s, v)
	return nil
}

func sizeOf[T any]() int {
	var zero T
	return int(unsafe.Sizeof(zero))
}
