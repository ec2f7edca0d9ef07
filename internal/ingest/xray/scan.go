package xray

import (
	"bytes"
	"encoding/json"
)

// A segment document is read in one pass: every object is split into its members and every
// array into its elements, each value kept as the bytes it was sent as, and read further
// only where the decoder needs it. The scan accepts exactly the JSON encoding/json accepts
// (the fuzz target FuzzScan compares them), so that a document is refused or taken as before.

// member is a member of a JSON object, or an element of an array (without a key). It holds
// offsets rather than slices: without pointers, the members of a document cost the garbage
// collector nothing.
type member struct {
	key, value span // in the document; an escaped key unescaped in reader.keys
	kids       span // an object's members or an array's elements, in reader.members
	kind       byte // '{' for an object, '[' for an array, else 0
	plain      bool // a string of printable ASCII without escapes: its own value
	ownKey     bool // the key is in reader.keys
}

// span is where a member's part lies. (Documents are at most a request's 32 MB.)
type span struct{ start, end int32 }

// maxNesting is how deeply arrays and objects may nest, as in encoding/json.
const maxNesting = 10000

// maxValues bounds the values (members and elements) of a document, and so the room
// reading it takes: ~56 bytes a value, for values as short as two bytes. X-Ray's own limit
// of 64 kB a document allows some 32,000.
const maxValues = 1 << 20

// reader reads a document. The members of all its objects (and the elements of its
// arrays) are kept in one list, so that a document's many small objects cost no
// allocation each. What it read stays valid until the next document.
type reader struct {
	doc      []byte
	keys     []byte   // keys that had escapes, unescaped
	members  []member // the objects and arrays read, each a span of it
	reading  []member // the members of those being read, innermost last
	order    []int    // the lists sorted returns
	sortKeys [][]byte // scratch for sorted: the keys of the object it sorts
	// loose is set when the document has white space between tokens, or characters that
	// encoding/json escapes, so that its values must be compacted as encoding/json does.
	loose bool
	// tooMany is set when the document was not read because it holds more than maxValues.
	tooMany bool
}

// object is a JSON object of the document read, or an array (whose members have no key).
type object struct {
	r    *reader
	kids span
}

// value is a member of an object or an element of an array, or none (the zero value).
type value struct {
	r *reader
	m member
}

func (o object) len() int { return int(o.kids.end - o.kids.start) }

// at is the i-th member, in the order they were sent.
func (o object) at(i int) value { return value{o.r, o.r.members[int(o.kids.start)+i]} }

// find is the member with key, or none. A key sent twice has its last value, as in
// encoding/json.
func (o object) find(key string) value {
	if o.r == nil {
		return value{}
	}
	members := o.r.members[o.kids.start:o.kids.end]
	for i := len(members) - 1; i >= 0; i-- {
		m := &members[i]
		if int(m.key.end-m.key.start) == len(key) && string(o.r.key(m)) == key {
			return value{o.r, *m}
		}
	}
	return value{}
}

// get is the value of key as sent, or nil.
func (o object) get(key string) []byte { return o.find(key).raw() }

// str is the value of key if it is a string, else "".
func (o object) str(key string) string { return o.find(key).text() }

// raw is the value as sent.
func (v value) raw() []byte {
	if v.r == nil {
		return nil
	}
	return v.r.doc[v.m.value.start:v.m.value.end]
}

// key is the member's key, unescaped.
func (v value) key() []byte { return v.r.key(&v.m) }

func (s *reader) key(m *member) []byte {
	if m.ownKey {
		return s.keys[m.key.start:m.key.end]
	}
	return s.doc[m.key.start:m.key.end]
}

// text is the value if it is a string, else "".
func (v value) text() string {
	if v.m.plain {
		return string(v.r.doc[v.m.value.start+1 : v.m.value.end-1])
	}
	return str(v.raw())
}

// object is the value's members if it is an object (not null).
func (v value) object() (object, bool) { return object{v.r, v.m.kids}, v.m.kind == '{' }

// items is the value's elements if it is an array (not null).
func (v value) items() (object, bool) { return object{v.r, v.m.kids}, v.m.kind == '[' }

// parse reads a JSON object (with white space around it and nothing else); ok is false
// for anything else, null included.
func (s *reader) parse(doc []byte) (o object, ok bool) {
	s.reset()
	s.doc = doc
	i := s.space(0)
	if i == len(doc) || doc[i] != '{' {
		return object{}, false
	}
	root, end, ok := s.value(i, 0)
	if !ok || s.space(end) != len(doc) {
		return object{}, false
	}
	return object{s, root.kids}, true
}

// sorted is where an object's members are in the order of their keys, one a key (its
// last value). Objects are small, so an insertion sort over their cached keys does.
func (s *reader) sorted(o object) []int {
	start := len(s.order)
	members := s.members[o.kids.start:o.kids.end]
	s.sortKeys = s.sortKeys[:0]
	for i := range members {
		key := s.key(&members[i])
		s.sortKeys = append(s.sortKeys, key)
		j := len(s.order)
		s.order = append(s.order, i)
		for ; j > start && bytes.Compare(s.sortKeys[s.order[j-1]], key) > 0; j-- { // stable: equal keys keep their order
			s.order[j] = s.order[j-1]
		}
		s.order[j] = i
	}
	order := s.order[start:]
	out := order[:0]
	for n, i := range order {
		if n+1 < len(order) && bytes.Equal(s.sortKeys[order[n+1]], s.sortKeys[i]) {
			continue // a later one replaces it
		}
		out = append(out, i)
	}
	s.order = s.order[:start+len(out)]
	return out[:len(out):len(out)]
}

// reset forgets the document read, keeping the room.
func (s *reader) reset() {
	s.doc, s.loose, s.tooMany = nil, false, false
	s.keys, s.members, s.reading, s.order = s.keys[:0], s.members[:0], s.reading[:0], s.order[:0]
	clear(s.sortKeys[:cap(s.sortKeys)]) // they point into the document
}

// value reads the JSON value at doc[i] and returns it and where it ends.
func (s *reader) value(i, depth int) (m member, end int, ok bool) {
	data := s.doc
	if i >= len(data) {
		return m, i, false
	}
	switch c := data[i]; {
	case c == '"':
		end, m.plain, ok = s.string(i)
	case c == '{' || c == '[':
		m.kind = c
		m.kids, end, ok = s.container(i, depth+1)
	case c == '-' || c >= '0' && c <= '9':
		end, ok = skipNumber(data, i)
	case c == 't':
		end, ok = skipLiteral(data, i, "true")
	case c == 'f':
		end, ok = skipLiteral(data, i, "false")
	case c == 'n':
		end, ok = skipLiteral(data, i, "null")
	}
	m.value = span{int32(i), int32(end)}
	return m, end, ok
}

// container reads the object or array at doc[i] and returns where its members or elements
// are and where it ends.
func (s *reader) container(i, depth int) (kids span, end int, ok bool) {
	data := s.doc
	if depth > maxNesting {
		return kids, i, false
	}
	closing, isObject := byte(']'), data[i] == '{'
	if isObject {
		closing = '}'
	}
	first := len(s.reading)
	i = s.space(i + 1)
	if i < len(data) && data[i] == closing {
		return kids, i + 1, true
	}
	for {
		var k member
		if isObject {
			if k, i, ok = s.readKey(i); !ok {
				return kids, i, false
			}
		}
		var m member
		if m, i, ok = s.value(i, depth); !ok {
			return kids, i, false
		}
		m.key, m.ownKey = k.key, k.ownKey
		if len(s.members)+len(s.reading) == maxValues {
			s.tooMany = true
			return kids, i, false
		}
		s.reading = append(s.reading, m)
		i = s.space(i)
		if i < len(data) && data[i] == ',' {
			i = s.space(i + 1)
			continue
		}
		if i < len(data) && data[i] == closing {
			break
		}
		return kids, i, false
	}
	kids.start = int32(len(s.members))
	s.members = append(s.members, s.reading[first:]...)
	s.reading = s.reading[:first]
	kids.end = int32(len(s.members))
	return kids, i + 1, true
}

// readKey reads an object's key and the colon after it, returning where the key is and
// where its value begins.
func (s *reader) readKey(i int) (k member, next int, ok bool) {
	data := s.doc
	if i >= len(data) || data[i] != '"' {
		return k, i, false
	}
	end, plain, ok := s.string(i)
	if !ok {
		return k, end, false
	}
	k.key = span{int32(i + 1), int32(end - 1)}
	if !plain { // as encoding/json reads a key
		k.ownKey = true
		start := len(s.keys)
		s.keys = append(s.keys, str(data[i:end])...)
		k.key = span{int32(start), int32(len(s.keys))}
	}
	next = s.space(end)
	if next >= len(data) || data[next] != ':' {
		return k, next, false
	}
	return k, s.space(next + 1), true
}

// space skips white space, noting it.
func (s *reader) space(i int) int {
	data, j := s.doc, i
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
func (s *reader) string(i int) (end int, plain, ok bool) {
	data := s.doc
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

// appendCompact appends a JSON value the reader has read as encoding/json marshals it (a
// json.RawMessage): without white space between tokens, and with <, >, &, U+2028 and U+2029
// escaped in strings. Values of a document that has none of these (the Go and Node SDKs'
// compact JSON) are copied as they are; the Python SDK puts a space after every ":" and ",".
func (s *reader) appendCompact(dst, value []byte) []byte {
	if !s.loose {
		return append(dst, value...)
	}
	const hex = "0123456789abcdef"
	inString := false
	for i := 0; i < len(value); i++ {
		switch c := value[i]; {
		case !inString && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
		case !inString:
			inString = c == '"'
			dst = append(dst, c)
		case c == '\\': // an escape, kept as it is
			dst = append(dst, c, value[i+1])
			i++
		case c == '<' || c == '>' || c == '&':
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		case c == 0xE2 && i+2 < len(value) && value[i+1] == 0x80 && value[i+2]&^1 == 0xA8:
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[value[i+2]&0xF])
			i += 2
		default:
			inString = c != '"'
			dst = append(dst, c)
		}
	}
	return dst
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
