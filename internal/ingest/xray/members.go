package xray

import (
	"encoding/hex"
	"encoding/json"
	"strconv"

	"lookout/internal/telemetry"
)

// A (sub)segment's document is kept (AttrDocument) without the members its span holds
// anyway: its ids, name and times, which are most of what a document does not share with
// others and so most of what it costs to store. The stored value names the members it
// leaves out, a letter each, before the JSON object of the rest (`einst{"http":...}`), and
// BatchGetTraces puts them back from the span. A member is left out only when the span
// gives back the very value that was sent: an id in capitals or a time with a trailing
// zero stays. A value that begins with "{" is a whole document, as lookout kept them
// before.

// spanMember is a member of a (sub)segment's document that its span holds.
type spanMember struct {
	letter byte
	key    string
	number bool // a JSON number, else a string
	// value appends the member's value from the span (a number's text, or a string's
	// content), and reports whether the span holds it.
	value func(dst []byte, sp *telemetry.Span) ([]byte, bool)
}

// spanMembers are the members a span gives back, in the order of their keys.
var spanMembers = [...]spanMember{
	{'e', "end_time", true, func(dst []byte, sp *telemetry.Span) ([]byte, bool) {
		// An in-progress entity's end is when it was last seen, not a time it sent.
		return appendSeconds(dst, sp.EndUnixNano), !sp.InProgress
	}},
	{'i', "id", false, func(dst []byte, sp *telemetry.Span) ([]byte, bool) {
		return hex.AppendEncode(dst, sp.SpanID[:]), true
	}},
	{'n', "name", false, func(dst []byte, sp *telemetry.Span) ([]byte, bool) {
		return append(dst, sp.Name...), true
	}},
	{'p', "parent_id", false, func(dst []byte, sp *telemetry.Span) ([]byte, bool) {
		return hex.AppendEncode(dst, sp.ParentSpanID[:]), !sp.ParentSpanID.IsZero()
	}},
	{'s', "start_time", true, func(dst []byte, sp *telemetry.Span) ([]byte, bool) {
		return appendSeconds(dst, sp.StartUnixNano), true
	}},
	{'t', "trace_id", false, func(dst []byte, sp *telemetry.Span) ([]byte, bool) {
		dst = append(dst, "1-"...)
		dst = hex.AppendEncode(dst, sp.TraceID[:4])
		dst = append(dst, '-')
		return hex.AppendEncode(dst, sp.TraceID[4:]), true
	}},
}

// memberOf is the span member with key, or nil.
func memberOf(key []byte) *spanMember {
	for i := range spanMembers {
		if spanMembers[i].key == string(key) {
			return &spanMembers[i]
		}
	}
	return nil
}

// memberLettered is the span member a letter names, or nil.
func memberLettered(letter byte) *spanMember {
	for i := range spanMembers {
		if spanMembers[i].letter == letter {
			return &spanMembers[i]
		}
	}
	return nil
}

// gives reports whether the span gives back raw, the member's value as sent, as
// encoding/json reads it: the same number text, or a string of the same content. scratch
// is room to use.
func (m *spanMember) gives(sp *telemetry.Span, raw, scratch []byte) ([]byte, bool) {
	scratch, ok := m.value(scratch[:0], sp)
	if !ok {
		return scratch, false
	}
	if m.number {
		return scratch, string(raw) == string(scratch)
	}
	if n := len(raw); n == len(scratch)+2 && raw[0] == '"' && raw[n-1] == '"' && string(raw[1:n-1]) == string(scratch) && plainASCII(scratch) {
		return scratch, true
	}
	return scratch, len(raw) > 0 && raw[0] == '"' && str(raw) == string(scratch)
}

// put sets the member in a document decoded with numbers kept as sent, from the span, and
// reports whether the span holds it.
func (m *spanMember) put(doc map[string]any, sp *telemetry.Span) bool {
	v, ok := m.value(nil, sp)
	if !ok {
		return false
	}
	if m.number {
		doc[m.key] = json.Number(v)
	} else {
		doc[m.key] = string(v)
	}
	return true
}

// appendSeconds appends unix nanoseconds as epoch seconds in the shortest decimal that reads
// back as them (seconds reads a decimal digit by digit).
func appendSeconds(dst []byte, ns int64) []byte {
	dst = strconv.AppendInt(dst, ns/1e9, 10)
	frac := ns % 1e9
	if frac == 0 {
		return dst
	}
	var digits [9]byte
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := len(digits)
	for digits[n-1] == '0' {
		n--
	}
	return append(append(dst, '.'), digits[:n]...)
}
