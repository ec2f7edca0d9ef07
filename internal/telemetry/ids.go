package telemetry

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
)

// TraceID identifies a trace: 16 bytes, all zero meaning "invalid" as in W3C Trace Context.
type TraceID [16]byte

// SpanID identifies a span within a trace: 8 bytes, all zero meaning "none".
type SpanID [8]byte

// IsZero reports whether id is the invalid all-zero trace id.
func (id TraceID) IsZero() bool { return id == TraceID{} }

// String returns the 32-character lowercase hex form.
func (id TraceID) String() string { return hex.EncodeToString(id[:]) }

// High and Low return the two big-endian halves, the form stores index on.
func (id TraceID) High() uint64 { return binary.BigEndian.Uint64(id[:8]) }
func (id TraceID) Low() uint64  { return binary.BigEndian.Uint64(id[8:]) }

// TraceIDFromParts is the inverse of High and Low.
func TraceIDFromParts(high, low uint64) TraceID {
	var id TraceID
	binary.BigEndian.PutUint64(id[:8], high)
	binary.BigEndian.PutUint64(id[8:], low)
	return id
}

// IsZero reports whether id is the all-zero "no span" id.
func (id SpanID) IsZero() bool { return id == SpanID{} }

// String returns the 16-character lowercase hex form.
func (id SpanID) String() string { return hex.EncodeToString(id[:]) }

// Uint64 returns the id as a big-endian integer, the form stores keep.
func (id SpanID) Uint64() uint64 { return binary.BigEndian.Uint64(id[:]) }

// SpanIDFromUint64 is the inverse of Uint64.
func SpanIDFromUint64(v uint64) SpanID {
	var id SpanID
	binary.BigEndian.PutUint64(id[:], v)
	return id
}

var errBadID = errors.New("not a hex id")

// ParseTraceID reads a hex trace id of up to 32 digits. Shorter ids are left-padded with
// zeros, as Jaeger and Zipkin clients send 64-bit trace ids as 16 digits.
func ParseTraceID(s string) (TraceID, error) {
	var id TraceID
	if err := parseHexID(id[:], s); err != nil {
		return TraceID{}, fmt.Errorf("trace id %q: %w", s, err)
	}
	return id, nil
}

// ParseSpanID reads a hex span id of up to 16 digits, left-padded with zeros.
func ParseSpanID(s string) (SpanID, error) {
	var id SpanID
	if err := parseHexID(id[:], s); err != nil {
		return SpanID{}, fmt.Errorf("span id %q: %w", s, err)
	}
	return id, nil
}

func parseHexID(dst []byte, s string) error {
	if s == "" || len(s) > 2*len(dst) {
		return errBadID
	}
	if len(s)%2 == 1 {
		s = "0" + s
	}
	off := len(dst) - len(s)/2
	if _, err := hex.Decode(dst[off:], []byte(s)); err != nil {
		return errBadID
	}
	return nil
}
