package xray

import (
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

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

// spanMember is a member of a (sub)segment's document that its span holds: a string or
// number in its fields (text), or an object in its attributes (object).
type spanMember struct {
	letter byte
	key    string
	number bool // text is a JSON number's, else a string's content
	// text appends the member's value from the span, and reports whether the span holds it.
	text func(dst []byte, sp *telemetry.Span) ([]byte, bool)
	// object is the member's value from the span, as encoding/json decodes it with numbers
	// kept as sent, or nil.
	object func(sp *telemetry.Span) map[string]any
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
	{letter: 'a', key: "annotations", object: annotationsObject},
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
		want := m.object(sp)
		return scratch, want != nil && sameJSON(v, want)
	}
	scratch, ok := m.text(scratch[:0], sp)
	if !ok {
		return scratch, false
	}
	if m.number {
		return scratch, string(v.raw()) == string(scratch)
	}
	return scratch, sameString(v, string(scratch))
}

// put sets the member in a document decoded with numbers kept as sent, from the span, and
// reports whether the span holds it.
func (m *spanMember) put(doc map[string]any, sp *telemetry.Span) bool {
	if m.object != nil {
		v := m.object(sp)
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

// sameJSON reports whether v, a value as sent, reads as want: a string, a json.Number, a
// boolean, or an object of these.
func sameJSON(v value, want any) bool {
	switch w := want.(type) {
	case string:
		return sameString(v, w)
	case json.Number:
		return string(v.raw()) == string(w)
	case bool:
		return string(v.raw()) == strconv.FormatBool(w)
	case map[string]any:
		o, ok := v.object()
		if !ok {
			return false
		}
		members := v.r.sorted(o)
		if len(members) != len(w) {
			return false
		}
		for _, i := range members {
			m := o.at(i)
			mw, ok := w[string(m.key())]
			if !ok || !sameJSON(m, mw) {
				return false
			}
		}
		return true
	}
	return false
}

// sameString reports whether v, a value as sent, is a string of content s.
func sameString(v value, s string) bool {
	raw := v.raw()
	if n := len(raw); n == len(s)+2 && raw[0] == '"' && string(raw[1:n-1]) == s && plainASCII(raw[1:n-1]) {
		return true
	}
	return len(raw) > 0 && raw[0] == '"' && v.text() == s
}

// The members of the http and sql objects, by the attributes httpAttrs and sqlAttrs map
// them to.
var (
	httpRequestMembers = map[string]string{"http.method": "method", "http.url": "url", "http.user_agent": "user_agent",
		"http.client_ip": "client_ip", "aws.xray.x_forwarded_for": "x_forwarded_for", "aws.xray.traced": "traced"}
	httpResponseMembers = map[string]string{"http.status_code": "status", "http.response_content_length": "content_length"}
	sqlMembers          = map[string]string{"db.connection_string": "url", "db.system": "database_type", "db.version": "database_version",
		"db.statement": "sanitized_query", "db.user": "user", "aws.xray.sql.driver_version": "driver_version", "aws.xray.sql.preparation": "preparation"}
)

// httpObject is the http object httpAttrs maps to a span's attributes.
func httpObject(sp *telemetry.Span) map[string]any {
	req, ok := fromAttrs(sp, httpRequestMembers)
	resp, ok2 := fromAttrs(sp, httpResponseMembers)
	if !ok || !ok2 || req == nil && resp == nil {
		return nil
	}
	h := map[string]any{}
	if req != nil {
		h["request"] = req
	}
	if resp != nil {
		h["response"] = resp
	}
	return h
}

// sqlObject is the sql object sqlAttrs maps to a span's attributes.
func sqlObject(sp *telemetry.Span) map[string]any {
	o, _ := fromAttrs(sp, sqlMembers)
	return o
}

// annotationsObject is the annotations object annotationAttrs maps to a span's attributes:
// theirs are the only keys without a dot.
func annotationsObject(sp *telemetry.Span) map[string]any {
	var out map[string]any
	for _, kv := range sp.Attributes {
		if strings.IndexByte(kv.Key, '.') >= 0 {
			continue
		}
		if out == nil {
			out = map[string]any{}
		}
		if _, twice := out[kv.Key]; twice {
			return nil
		}
		out[kv.Key] = jsonScalar(kv.Value)
	}
	return out
}

// fromAttrs is the object of a span's attributes that members names (attribute key: member
// key), nil when it has none of them; ok is false when it has one twice, which a store
// might not give back as it was.
func fromAttrs(sp *telemetry.Span, members map[string]string) (out map[string]any, ok bool) {
	for _, kv := range sp.Attributes {
		key, is := members[kv.Key]
		if !is {
			continue
		}
		if out == nil {
			out = map[string]any{}
		}
		if _, twice := out[key]; twice {
			return nil, false
		}
		out[key] = jsonScalar(kv.Value)
	}
	return out, true
}

// jsonScalar is an attribute's value as encoding/json decodes the JSON it was read from.
func jsonScalar(v telemetry.Value) any {
	switch v.Kind() {
	case telemetry.KindBool:
		return v.Bool()
	case telemetry.KindInt, telemetry.KindDouble:
		return json.Number(v.AsString())
	}
	return v.AsString()
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
