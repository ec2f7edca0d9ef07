package xray

import (
	"encoding/json"
	"strconv"
	"strings"

	"lookout/internal/telemetry"
)

// attrObject is an object of a document that the decoder maps to a span's attributes, and
// which they may give back.
type attrObject interface {
	// matches reports whether v, the object as sent, is what the span's attributes give
	// back (which is never empty), as encoding/json reads it. It allocates nothing: it runs
	// for every document.
	matches(v value, sp *telemetry.Span) bool
	// build is the object the span's attributes give back, as encoding/json decodes it with
	// numbers kept as sent, or nil.
	build(sp *telemetry.Span) map[string]any
}

// mappedObject is an object whose members map one to one to attributes, or to objects of
// their own. An attribute the span has twice gives nothing back: a store keeps only one.
type mappedObject struct {
	attrs   []attrMember
	objects []nestedObject
}

type attrMember struct{ key, attr string }

type nestedObject struct {
	key string
	obj *mappedObject
}

// The http and sql objects, as httpAttrs and sqlAttrs map them.
var (
	httpObject = &mappedObject{objects: []nestedObject{
		{"request", &mappedObject{attrs: []attrMember{{"method", "http.method"}, {"url", "http.url"}, {"user_agent", "http.user_agent"},
			{"client_ip", "http.client_ip"}, {"x_forwarded_for", "aws.xray.x_forwarded_for"}, {"traced", "aws.xray.traced"}}}},
		{"response", &mappedObject{attrs: []attrMember{{"status", "http.status_code"}, {"content_length", "http.response_content_length"}}}},
	}}
	sqlObject = &mappedObject{attrs: []attrMember{{"url", "db.connection_string"}, {"database_type", "db.system"},
		{"database_version", "db.version"}, {"sanitized_query", "db.statement"}, {"user", "db.user"},
		{"driver_version", "aws.xray.sql.driver_version"}, {"preparation", "aws.xray.sql.preparation"}}}
)

func (o *mappedObject) matches(v value, sp *telemetry.Span) bool {
	fields, ok := v.object()
	if !ok {
		return false
	}
	sorted := v.r.sorted(fields)
	if n, twice := o.count(sp); twice || n == 0 || n != len(sorted) {
		return false
	}
	for _, i := range sorted {
		m := fields.at(i)
		if !o.matchesMember(m, sp) {
			return false
		}
	}
	return true
}

// matchesMember reports whether m, a member as sent, is what the span gives back for it.
func (o *mappedObject) matchesMember(m value, sp *telemetry.Span) bool {
	for _, a := range o.attrs {
		if a.key == string(m.key()) {
			v, n := attrOf(sp, a.attr)
			return n == 1 && sameScalar(m, v)
		}
	}
	for _, n := range o.objects {
		if n.key == string(m.key()) {
			return n.obj.matches(m, sp)
		}
	}
	return false
}

// count is how many members the span gives back, and whether it has an attribute of them
// twice.
func (o *mappedObject) count(sp *telemetry.Span) (members int, twice bool) {
	for _, a := range o.attrs {
		switch _, n := attrOf(sp, a.attr); {
		case n > 1:
			return 0, true
		case n == 1:
			members++
		}
	}
	for _, n := range o.objects {
		inner, twice := n.obj.count(sp)
		if twice {
			return 0, true
		}
		if inner > 0 {
			members++
		}
	}
	return members, false
}

func (o *mappedObject) build(sp *telemetry.Span) map[string]any {
	out := map[string]any{}
	for _, a := range o.attrs {
		if v, n := attrOf(sp, a.attr); n == 1 {
			out[a.key] = jsonScalar(v)
		}
	}
	for _, n := range o.objects {
		if inner := n.obj.build(sp); inner != nil {
			out[n.key] = inner
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// annotationsObject is the annotations object as annotationAttrs maps it: each annotation
// an attribute of its own key, the only keys without a dot.
type annotationsObject struct{}

func (annotationsObject) matches(v value, sp *telemetry.Span) bool {
	fields, ok := v.object()
	if !ok {
		return false
	}
	sorted := v.r.sorted(fields)
	annotations := 0
	for _, kv := range sp.Attributes {
		if isAnnotation(kv.Key) {
			annotations++
		}
	}
	if annotations == 0 || annotations != len(sorted) {
		return false
	}
	for _, i := range sorted {
		m := fields.at(i)
		if v, n := attrOf(sp, string(m.key())); n != 1 || !isAnnotation(string(m.key())) || !sameScalar(m, v) {
			return false
		}
	}
	return true
}

func (annotationsObject) build(sp *telemetry.Span) map[string]any {
	var out map[string]any
	for _, kv := range sp.Attributes {
		if isAnnotation(kv.Key) {
			if out == nil {
				out = map[string]any{}
			}
			out[kv.Key] = jsonScalar(kv.Value)
		}
	}
	return out
}

func isAnnotation(key string) bool { return strings.IndexByte(key, '.') < 0 }

// attrOf is the value of a span's attribute and how many times the span has it.
func attrOf(sp *telemetry.Span, key string) (v telemetry.Value, n int) {
	for _, kv := range sp.Attributes {
		if kv.Key == key {
			v, n = kv.Value, n+1
		}
	}
	return v, n
}

// sameScalar reports whether m, a value as sent, reads as what jsonScalar makes of v.
func sameScalar(m value, v telemetry.Value) bool {
	var buf [32]byte
	switch v.Kind() {
	case telemetry.KindString:
		return sameString(m, v.Str())
	case telemetry.KindBool:
		return string(m.raw()) == strconv.FormatBool(v.Bool())
	case telemetry.KindInt:
		return string(m.raw()) == string(strconv.AppendInt(buf[:0], v.Int(), 10))
	case telemetry.KindDouble:
		return string(m.raw()) == string(strconv.AppendFloat(buf[:0], v.Double(), 'g', -1, 64))
	}
	return false
}

// jsonScalar is an attribute's value as encoding/json decodes the JSON it was read from,
// numbers kept as sent.
func jsonScalar(v telemetry.Value) any {
	switch v.Kind() {
	case telemetry.KindBool:
		return v.Bool()
	case telemetry.KindInt, telemetry.KindDouble:
		return json.Number(v.AsString())
	}
	return v.AsString()
}
