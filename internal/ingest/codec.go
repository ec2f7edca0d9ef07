package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"

	"lookout/internal/telemetry"
)

// The write-ahead log keeps each accepted batch in a compact binary form, zstd-compressed,
// behind one byte that says which signal the record holds (and so how to read it). Items hold
// indexes into tables of the batch's distinct resources and scopes. Decoding checks every
// length against what is left, so a damaged record is an error, never a panic.

// RecordType is the first byte of a log record: the signal it holds, in the layout of that
// signal's codec. A value is never reused for another layout.
type RecordType byte

const (
	RecordSpans         RecordType = 1 // codec_spans.go; records of earlier versions hold spans too
	RecordLogs          RecordType = 2 // codec_logs.go: written by earlier versions, numbered by position
	RecordOccurrences   RecordType = 3 // codec_occurrences.go: written by earlier versions, zstd
	RecordNumbered      RecordType = 4 // codec_logs.go: log records with their ids
	RecordOccurrencesS2 RecordType = 5 // codec_occurrences.go: occurrences, S2
)

// seal compresses an encoded batch behind its record type.
func seal(t RecordType, raw []byte) []byte {
	return zstdEncoder.EncodeAll(raw, []byte{byte(t)})
}

// unseal checks a record's type and decompresses its batch.
func unseal(t RecordType, record []byte) ([]byte, error) {
	if len(record) == 0 || RecordType(record[0]) != t {
		return nil, fmt.Errorf("%w: not a record of type %d", errCorrupt, t)
	}
	return decompress(record[1:])
}

// sealS2 returns a record of type t: header bytes for the caller to fill, then the batch as
// one S2 block. S2 rather than zstd for records compressed on every request's path: they are
// kept only until the next checkpoint, and S2 takes a fraction of zstd's CPU.
func sealS2(t RecordType, header int, batch []byte) []byte {
	record := make([]byte, 1+header+s2.MaxEncodedLen(len(batch)))
	record[0] = byte(t)
	block := s2.Encode(record[1+header:], batch)
	return record[:1+header+len(block)]
}

// maxS2Batch bounds a batch's decompressed size, so that a damaged length cannot allocate
// without bound (a request's batch is far smaller).
const maxS2Batch = 1 << 30

// unsealS2 returns the batch of a record's S2 block, decompressed.
func unsealS2(block []byte) ([]byte, error) {
	if n, err := s2.DecodedLen(block); err != nil || n > maxS2Batch {
		return nil, errCorrupt
	}
	raw, err := s2.Decode(nil, block)
	if err != nil {
		return nil, errCorrupt
	}
	return raw, nil
}

// decompress returns a sealed batch decompressed.
func decompress(batch []byte) ([]byte, error) {
	raw, err := zstdDecoder.DecodeAll(batch, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errCorrupt, err)
	}
	return raw, nil
}

// shared collects the distinct resources and scopes of a batch, in order of first use.
type shared struct {
	resources map[*telemetry.Resource]uint64
	scopes    map[*telemetry.Scope]uint64 // 0 means none
	resList   []*telemetry.Resource
	scopeList []*telemetry.Scope
}

func newShared() *shared {
	return &shared{resources: map[*telemetry.Resource]uint64{}, scopes: map[*telemetry.Scope]uint64{nil: 0}}
}

func (sh *shared) add(r *telemetry.Resource, s *telemetry.Scope) {
	if _, ok := sh.resources[r]; !ok {
		sh.resources[r] = uint64(len(sh.resList))
		sh.resList = append(sh.resList, r)
	}
	if _, ok := sh.scopes[s]; !ok {
		sh.scopeList = append(sh.scopeList, s)
		sh.scopes[s] = uint64(len(sh.scopeList))
	}
}

// tables writes the resource and scope tables.
func (e *encoder) tables(sh *shared) {
	e.uvarint(uint64(len(sh.resList)))
	for _, r := range sh.resList {
		if r == nil {
			r = &telemetry.Resource{}
		}
		e.attrs(r.Attributes)
		e.uvarint(uint64(r.DroppedAttributesCount))
	}
	e.uvarint(uint64(len(sh.scopeList)))
	for _, s := range sh.scopeList {
		e.str(s.Name)
		e.str(s.Version)
		e.attrs(s.Attributes)
		e.uvarint(uint64(s.DroppedAttributesCount))
	}
}

// refs writes an item's indexes into the tables.
func (e *encoder) refs(sh *shared, r *telemetry.Resource, s *telemetry.Scope) {
	e.uvarint(sh.resources[r])
	e.uvarint(sh.scopes[s])
}

// tables reads the resource and scope tables.
func (d *decoder) tables() (resources []*telemetry.Resource, scopes []*telemetry.Scope) {
	resources = make([]*telemetry.Resource, d.count(2))
	for i := range resources {
		resources[i] = &telemetry.Resource{Attributes: d.attrs(0), DroppedAttributesCount: d.u32()}
	}
	scopes = make([]*telemetry.Scope, d.count(4))
	for i := range scopes {
		scopes[i] = &telemetry.Scope{Name: d.str(), Version: d.str(), Attributes: d.attrs(0), DroppedAttributesCount: d.u32()}
	}
	return resources, scopes
}

// refs reads an item's indexes into the tables.
func (d *decoder) refs(resources []*telemetry.Resource, scopes []*telemetry.Scope) (*telemetry.Resource, *telemetry.Scope) {
	var r *telemetry.Resource
	var s *telemetry.Scope
	if i := d.uvarint(); i < uint64(len(resources)) {
		r = resources[i]
	} else {
		d.fail()
	}
	if i := d.uvarint(); i > 0 && i <= uint64(len(scopes)) {
		s = scopes[i-1]
	} else if i != 0 {
		d.fail()
	}
	return r, s
}

// done reports whether the whole record was read without error.
func (d *decoder) done() error {
	if d.err != nil || len(d.buf) != 0 {
		return errCorrupt
	}
	return nil
}

var (
	// Without zstd's own checksum: the ingest log checks every record with its CRC already.
	zstdEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false))
	zstdDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
)

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
	if depth > telemetry.MaxValueDepth { // receivers refuse deeper values (telemetry.Validate)
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

func (e *encoder) ingest(in telemetry.IngestInfo) {
	e.str(in.Protocol)
	e.str(in.Dataset)
	e.str(in.KeyID)
}

func (d *decoder) ingest() telemetry.IngestInfo {
	return telemetry.IngestInfo{Protocol: d.str(), Dataset: d.str(), KeyID: d.str()}
}
