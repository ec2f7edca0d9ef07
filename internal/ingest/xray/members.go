package xray

import (
	"encoding/hex"
	"encoding/json"
	"strconv"

	"lookout/internal/telemetry"
)

// A (sub)segment's document is kept (AttrDocument) without the members its span holds
// anyway: its ids, name and times, and the http, sql and annotations objects its attributes
// hold member for member. Ids and times are most of what a document does not share with
// others, and so most of what it costs to store. The stored value names the members it
// leaves out, a letter each, before the JSON object of the rest (`aehinst{"aws":...}`), and
// BatchGetTraces puts them back from the span. A member is left out only when the span
// gives back the very value that was sent: an id in capitals, a time with a trailing zero
// or an object with a member the span has no attribute for stays. A value that begins with
// "{" is a whole document, as lookout kept them before.

// spanMember is a member of a (sub)segment's document that its span holds: a string or
// number in its fields (text), or an object in its attributes (object).
type spanMember struct {
	letter byte
	key    string
	number bool // text is a JSON number's, else a string's content
	// text appends the member's value from the span, and reports whether the span holds it.
	text   func(dst []byte, sp *telemetry.Span) ([]byte, bool)
	object attrObject // an object member
}

// spanMembers are the members a span gives back.
var spanMembers = [...]spanMember{
	{letter: 'e', key: "end_time", number: true, text: func(dst []byte, sp *telemetry.Span) ([]byte, bool) {
		// An in-progress entity's end is when it was last seen, not a time it sent.
		return appendSeconds(dst, sp.EndUnixNano), !sp.InProgress
	}},
	{letter: 'i', key: "id", text: func(dst []byte, sp *telemetry.Span) ([]byte, bool) {
		return hex.AppendEncode(dst, sp.SpanID[:]), true
	}},
	{letter: 'n', key: "name", text: func(dst []byte, sp *telemetry.Span) ([]byte, bool) {
		return append(dst, sp.Name...), true
	}},
	{letter: 'p', key: "parent_id", text: func(dst []byte, sp *telemetry.Span) ([]byte, bool) {
		return hex.AppendEncode(dst, sp.ParentSpanID[:]), !sp.ParentSpanID.IsZero()
	}},
	{letter: 's', key: "start_time", number: true, text: func(dst []byte, sp *telemetry.Span) ([]byte, bool) {
		return appendSeconds(dst, sp.StartUnixNano), true
	}},
	{letter: 't', key: "trace_id", text: func(dst []byte, sp *telemetry.Span) ([]byte, bool) {
		dst = append(dst, "1-"...)
		dst = hex.AppendEncode(dst, sp.TraceID[:4])
		dst = append(dst, '-')
		return hex.AppendEncode(dst, sp.TraceID[4:]), true
	}},
	{letter: 'h', key: "http", object: httpObject},
	{letter: 'q', key: "sql", object: sqlObject},
	{letter: 'a', key: "annotations", object: annotationsObject{}},
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

// gives reports whether the span gives back v, the member as sent, as encoding/json reads
// it. scratch is room to use.
func (m *spanMember) gives(sp *telemetry.Span, v value, scratch []byte) ([]byte, bool) {
	if m.object != nil {
		return scratch, m.object.matches(v, sp)
	}
	scratch, ok := m.text(scratch[:0], sp)
	if !ok {
		return scratch, false
	}
	raw := v.raw()
	if m.number {
		return scratch, string(raw) == string(scratch)
	}
	if n := len(raw); n == len(scratch)+2 && raw[0] == '"' && string(raw[1:n-1]) == string(scratch) && plainASCII(scratch) {
		return scratch, true // as most are sent: without escapes
	}
	return scratch, sameString(v, string(scratch))
}

// put sets the member in a document decoded with numbers kept as sent, from the span, and
// reports whether the span holds it.
func (m *spanMember) put(doc map[string]any, sp *telemetry.Span) bool {
	if m.object != nil {
		v := m.object.build(sp)
		doc[m.key] = v
		return v != nil
	}
	v, ok := m.text(nil, sp)
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

// sameString reports whether v, a value as sent, is a string of content s.
func sameString(v value, s string) bool {
	raw := v.raw()
	if n := len(raw); n == len(s)+2 && raw[0] == '"' && string(raw[1:n-1]) == s && plainASCII(raw[1:n-1]) {
		return true
	}
	return len(raw) > 0 && raw[0] == '"' && v.text() == s
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
