package xray

import (
	"bytes"
	"encoding/json"
	"slices"
)

// A segment document is read in one pass: an object is split into its members, each value
// kept as the bytes it was sent as, and read further only where the decoder needs it. The
// scan accepts exactly the JSON encoding/json accepts (the fuzz target FuzzScan compares
// them), so that a document is refused or taken as before.

// member is one member of a JSON object: its key, unescaped, and its value as sent.
type member struct {
	key   []byte
	value []byte
}

// object is the members of a JSON object in the order they were sent.
type object []member

// maxNesting is how deeply arrays and objects may nest, as in encoding/json.
const maxNesting = 10000

// objects splits the objects of a document into members kept in one list, each object a
// slice of it, so that a document's many small objects cost no allocation each. Objects
// stay valid until reset.
type objects struct {
	members []member
	order   []int // the lists sorted returns
}

// parse splits a JSON object (with white space around it and nothing else) into its
// members; ok is false for anything else, null included.
func (s *objects) parse(raw []byte) (o object, ok bool) {
	i := skipSpace(raw, 0)
	if i == len(raw) || raw[i] != '{' {
		return nil, false
	}
	start := len(s.members)
	end, ok := scanObject(raw, i, 1, s)
	if !ok || skipSpace(raw, end) != len(raw) {
		s.members = s.members[:start]
		return nil, false
	}
	return s.members[start:len(s.members):len(s.members)], true
}

// sorted is where an object's members are in the order of their keys, one a key (its
// last value).
func (s *objects) sorted(o object) []int {
	start := len(s.order)
	for i := range o {
		s.order = append(s.order, i)
	}
	order := s.order[start:]
	slices.SortStableFunc(order, func(a, b int) int { return bytes.Compare(o[a].key, o[b].key) })
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

// reset forgets every object, keeping the list's room.
func (s *objects) reset() {
	clear(s.members)
	s.members, s.order = s.members[:0], s.order[:0]
}

// get is the value of key, or nil. A key sent twice has its last value, as in encoding/json.
func (o object) get(key string) []byte {
	for i := len(o) - 1; i >= 0; i-- {
		if string(o[i].key) == key {
			return o[i].value
		}
	}
	return nil
}

// elements splits a JSON array into its elements; ok is false for anything else.
func elements(raw []byte) (items [][]byte, ok bool) {
	i := skipSpace(raw, 0)
	if i == len(raw) || raw[i] != '[' {
		return nil, false
	}
	end, ok := scanArray(raw, i, 1, &items)
	if !ok || skipSpace(raw, end) != len(raw) {
		return nil, false
	}
	return items, true
}

// skipValue returns where the JSON value at data[i] ends, and whether it is valid.
func skipValue(data []byte, i, depth int) (int, bool) {
	if i >= len(data) {
		return i, false
	}
	switch c := data[i]; {
	case c == '"':
		end, _, ok := skipString(data, i)
		return end, ok
	case c == '{':
		return scanObject(data, i, depth+1, nil)
	case c == '[':
		return scanArray(data, i, depth+1, nil)
	case c == '-' || c >= '0' && c <= '9':
		return skipNumber(data, i)
	case c == 't':
		return skipLiteral(data, i, "true")
	case c == 'f':
		return skipLiteral(data, i, "false")
	case c == 'n':
		return skipLiteral(data, i, "null")
	}
	return i, false
}

// scanObject checks the object at data[i], adding its members to into when it is not nil,
// and returns where it ends.
func scanObject(data []byte, i, depth int, into *objects) (int, bool) {
	if depth > maxNesting {
		return i, false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return i, false
		}
		keyStart := i
		end, escaped, ok := skipString(data, i)
		if !ok {
			return end, false
		}
		key := data[keyStart+1 : end-1]
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return i, false
		}
		i = skipSpace(data, i+1)
		start := i
		if i, ok = skipValue(data, i, depth); !ok {
			return i, false
		}
		if into != nil {
			if escaped || !plainASCII(key) {
				key = []byte(str(data[keyStart:end])) // as encoding/json reads a key
			}
			into.members = append(into.members, member{key, data[start:i]})
		}
		i = skipSpace(data, i)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
			continue
		}
		if i < len(data) && data[i] == '}' {
			return i + 1, true
		}
		return i, false
	}
}

// scanArray checks the array at data[i], adding its elements to into when it is not nil,
// and returns where it ends.
func scanArray(data []byte, i, depth int, into *[][]byte) (int, bool) {
	if depth > maxNesting {
		return i, false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return i + 1, true
	}
	for {
		start := i
		var ok bool
		if i, ok = skipValue(data, i, depth); !ok {
			return i, false
		}
		if into != nil {
			*into = append(*into, data[start:i])
		}
		i = skipSpace(data, i)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
			continue
		}
		if i < len(data) && data[i] == ']' {
			return i + 1, true
		}
		return i, false
	}
}

// skipString returns where the string at data[i] ends and whether it holds escapes.
func skipString(data []byte, i int) (end int, escaped, ok bool) {
	for i++; ; i++ {
		for i < len(data) && !stringSpecial[data[i]] {
			i++
		}
		if i >= len(data) || data[i] < 0x20 {
			return i, escaped, false
		}
		if data[i] == '"' {
			return i + 1, escaped, true
		}
		escaped = true // a backslash
		if i+1 >= len(data) {
			return i, escaped, false
		}
		switch data[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i++
		case 'u':
			if i+5 >= len(data) || !isHex(data[i+2]) || !isHex(data[i+3]) || !isHex(data[i+4]) || !isHex(data[i+5]) {
				return i, escaped, false
			}
			i += 5
		default:
			return i, escaped, false
		}
	}
}

// stringSpecial marks the bytes that end a string's plain run: a quote, a backslash, and
// the control characters JSON does not allow in a string.
var stringSpecial = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
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

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// appendCompact appends a JSON value as encoding/json marshals it (a json.RawMessage): without
// white space between tokens, and with <, >, &, U+2028 and U+2029 escaped. Values sent
// compact and plain, as the SDKs send them, are copied as they are.
func appendCompact(dst, value []byte) []byte {
	inString := false
	for i := 0; i < len(value); i++ {
		switch c := value[i]; {
		case c == '<' || c == '>' || c == '&' || c == 0xE2:
			return appendMarshaled(dst, json.RawMessage(value))
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case !inString && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return appendMarshaled(dst, json.RawMessage(value))
		}
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
