package xray

import (
	"bytes"
	"encoding/json"
)

// A segment document is read in one pass: every object is split into its members and every
// array into its elements, each value kept as the bytes it was sent as, and read further
// only where the decoder needs it. The scan accepts exactly the JSON encoding/json accepts
// (the fuzz target FuzzScan compares them), so that a document is refused or taken as before.

// member is a member of a JSON object, or an element of an array (without a key).
type member struct {
	key   []byte   // unescaped
	value []byte   // as sent
	kind  byte     // '{' for an object, '[' for an array, else 0
	plain bool     // a string of printable ASCII without escapes: its own value
	kids  []member // an object's members or an array's elements
}

// object is the members of a JSON object in the order they were sent.
type object []member

// find is the member with key, or none (a zero member). A key sent twice has its last
// value, as in encoding/json.
func (o object) find(key string) member {
	for i := len(o) - 1; i >= 0; i-- {
		if string(o[i].key) == key {
			return o[i]
		}
	}
	return member{}
}

// get is the value of key as sent, or nil.
func (o object) get(key string) []byte { return o.find(key).value }

// str is the value of key if it is a string, else "".
func (o object) str(key string) string { return o.find(key).text() }

// text is m's value if it is a string, else "".
func (m member) text() string {
	if m.plain {
		return string(m.value[1 : len(m.value)-1])
	}
	return str(m.value)
}

// object is m's members if it is an object (not null).
func (m member) object() (object, bool) { return m.kids, m.kind == '{' }

// items is m's elements if it is an array (not null).
func (m member) items() ([]member, bool) { return m.kids, m.kind == '[' }

// maxNesting is how deeply arrays and objects may nest, as in encoding/json.
const maxNesting = 10000

// objects reads documents. The members of all the objects of a document (and the elements
// of its arrays) are kept in one list, each object a slice of it, so that a document's many
// small objects cost no allocation each. What it read stays valid until reset.
type objects struct {
	members []member // the objects and arrays read
	reading []member // the members of those being read, innermost last
	order   []int    // the lists sorted returns
	// loose is set when the document has white space between tokens, or characters that
	// encoding/json escapes, so that its values must be compacted as encoding/json does.
	loose bool
}

// parse reads a JSON object (with white space around it and nothing else); ok is false
// for anything else, null included.
func (s *objects) parse(doc []byte) (o object, ok bool) {
	s.loose = false
	i := s.space(doc, 0)
	if i == len(doc) || doc[i] != '{' {
		return nil, false
	}
	root, end, ok := s.value(doc, i, 0)
	if !ok || s.space(doc, end) != len(doc) {
		return nil, false
	}
	return root.kids, true
}

// sorted is where an object's members are in the order of their keys, one a key (its
// last value).
func (s *objects) sorted(o object) []int {
	start := len(s.order)
	for i := range o {
		s.order = append(s.order, i)
	}
	order := s.order[start:]
	for i := 1; i < len(order); i++ { // an insertion sort: objects are small
		for j := i; j > 0 && bytes.Compare(o[order[j]].key, o[order[j-1]].key) < 0; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	out := order[:0]
	for n, i := range order {
		if n+1 < len(order) && bytes.Equal(o[order[n+1]].key, o[i].key) {
			continue // a later one replaces it
		}
		out = append(out, i)
	}
	s.order = s.order[:start+len(out)]
	return out[:len(out):len(out)]
}

// reset forgets every document, keeping the room.
func (s *objects) reset() {
	clear(s.members)
	clear(s.reading[:cap(s.reading)])
	s.members, s.reading, s.order = s.members[:0], s.reading[:0], s.order[:0]
}

// value reads the JSON value at data[i] and returns it and where it ends.
func (s *objects) value(data []byte, i, depth int) (m member, end int, ok bool) {
	if i >= len(data) {
		return m, i, false
	}
	switch c := data[i]; {
	case c == '"':
		end, m.plain, ok = s.string(data, i)
	case c == '{' || c == '[':
		m.kind = c
		m.kids, end, ok = s.container(data, i, depth+1)
	case c == '-' || c >= '0' && c <= '9':
		end, ok = skipNumber(data, i)
	case c == 't':
		end, ok = skipLiteral(data, i, "true")
	case c == 'f':
		end, ok = skipLiteral(data, i, "false")
	case c == 'n':
		end, ok = skipLiteral(data, i, "null")
	}
	if !ok {
		return m, end, false
	}
	m.value = data[i:end]
	return m, end, true
}

// container reads the object or array at data[i] and returns its members or elements and
// where it ends.
func (s *objects) container(data []byte, i, depth int) (kids []member, end int, ok bool) {
	if depth > maxNesting {
		return nil, i, false
	}
	closing, isObject := byte(']'), data[i] == '{'
	if isObject {
		closing = '}'
	}
	first := len(s.reading)
	i = s.space(data, i+1)
	if i < len(data) && data[i] == closing {
		return nil, i + 1, true
	}
	for {
		var key []byte
		if isObject {
			if key, i, ok = s.key(data, i); !ok {
				return nil, i, false
			}
		}
		var m member
		if m, i, ok = s.value(data, i, depth); !ok {
			return nil, i, false
		}
		m.key = key
		s.reading = append(s.reading, m)
		i = s.space(data, i)
		if i < len(data) && data[i] == ',' {
			i = s.space(data, i+1)
			continue
		}
		if i < len(data) && data[i] == closing {
			break
		}
		return nil, i, false
	}
	start := len(s.members)
	s.members = append(s.members, s.reading[first:]...)
	s.reading = s.reading[:first]
	return s.members[start:len(s.members):len(s.members)], i + 1, true
}

// key reads an object's key and the colon after it, returning the key unescaped and where
// its value begins.
func (s *objects) key(data []byte, i int) (key []byte, next int, ok bool) {
	if i >= len(data) || data[i] != '"' {
		return nil, i, false
	}
	end, plain, ok := s.string(data, i)
	if !ok {
		return nil, end, false
	}
	key = data[i+1 : end-1]
	if !plain {
		key = []byte(str(data[i:end])) // as encoding/json reads a key
	}
	next = s.space(data, end)
	if next >= len(data) || data[next] != ':' {
		return nil, next, false
	}
	return key, s.space(data, next+1), true
}

// space skips white space, noting it.
func (s *objects) space(data []byte, i int) int {
	j := i
	for j < len(data) && (data[j] == ' ' || data[j] == '\t' || data[j] == '\n' || data[j] == '\r') {
		j++
	}
	if j != i {
		s.loose = true
	}
	return j
}

// string returns where the string at data[i] ends, and whether it is plain: printable
// ASCII without escapes.
func (s *objects) string(data []byte, i int) (end int, plain, ok bool) {
	plain = true
	for i++; ; i++ {
		for i < len(data) && !stringSpecial[data[i]] {
			i++
		}
		if i >= len(data) || data[i] < 0x20 {
			return i, false, false
		}
		switch c := data[i]; {
		case c == '"':
			return i + 1, plain, true
		case c == '<' || c == '>' || c == '&':
			s.loose = true
			continue
		case c >= 0x7f:
			plain = false
			if c == 0xE2 && i+2 < len(data) && data[i+1] == 0x80 && data[i+2]&^1 == 0xA8 { // U+2028, U+2029
				s.loose = true
			}
			continue
		}
		plain = false // a backslash
		if i+1 >= len(data) {
			return i, false, false
		}
		switch data[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i++
		case 'u':
			if i+5 >= len(data) || !isHex(data[i+2]) || !isHex(data[i+3]) || !isHex(data[i+4]) || !isHex(data[i+5]) {
				return i, false, false
			}
			i += 5
		default:
			return i, false, false
		}
	}
}

// stringSpecial marks the bytes that end a string's plain run: a quote, a backslash, the
// control characters JSON does not allow in a string, those encoding/json escapes, and
// those beyond printable ASCII.
var stringSpecial = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c < 0x20 || c >= 0x7f
	}
	for _, c := range []byte{'"', '\\', '<', '>', '&'} {
		t[c] = true
	}
	return t
}()

// skipNumber returns where the number at data[i] ends, checking its grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func skipNumber(data []byte, i int) (int, bool) {
	if data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		i = skipDigits(data, i)
	default:
		return i, false
	}
	if i < len(data) && data[i] == '.' {
		if i++; i == len(data) || !isDigit(data[i]) {
			return i, false
		}
		i = skipDigits(data, i)
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		if i++; i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i == len(data) || !isDigit(data[i]) {
			return i, false
		}
		i = skipDigits(data, i)
	}
	return i, true
}

func skipDigits(data []byte, i int) int {
	for i < len(data) && isDigit(data[i]) {
		i++
	}
	return i
}

func skipLiteral(data []byte, i int, literal string) (int, bool) {
	if len(data)-i < len(literal) || string(data[i:i+len(literal)]) != literal {
		return i, false
	}
	return i + len(literal), true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// appendCompact appends a JSON value as encoding/json marshals it (a json.RawMessage): without
// white space between tokens, and with <, >, &, U+2028 and U+2029 escaped. Values of a
// document that has none of these, as the SDKs send them, are copied as they are.
func (s *objects) appendCompact(dst, value []byte) []byte {
	if s.loose {
		return appendMarshaled(dst, json.RawMessage(value))
	}
	return append(dst, value...)
}

// appendKey appends an object key as encoding/json marshals it.
func appendKey(dst, key []byte) []byte {
	for _, c := range key {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return appendMarshaled(dst, string(key))
		}
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"')
}

func appendMarshaled(dst []byte, v any) []byte {
	b, _ := json.Marshal(v) // a string, or a value already checked: cannot fail
	return append(dst, b...)
}
