package otlp

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"lookout/internal/telemetry"
)

// jsonDecoder reads OTLP/JSON: JSON (RFC 8259) as the protobuf JSON mapping writes OTLP, with
// OTLP's changes (hex trace and span ids, integer enums). It reads the body once, front to
// back, straight into the model, without building a tree or recursing further than the
// model nests; unknown fields are skipped without recursing at all.
//
// Where the mapping leaves room it reads as pdata does: keys in lowerCamelCase or as proto
// names, 64-bit integers as numbers or strings, enums as integers or names, null for a field's
// zero value, a field sent twice merged like a protobuf field sent twice. Strings are kept byte
// for byte, valid UTF-8 or not; escaped surrogates that do not pair become U+FFFD.
//
// Errors are sticky: the first one ends decoding, and every later read returns nothing.
type jsonDecoder struct {
	*decoder
	buf []byte
	pos int
	err error

	esc       []byte // an unescaped string
	raw       []byte // decoded base64
	skipStack []byte
	// Lists are gathered here, then copied to a slab once their length is known.
	kvStack    []telemetry.KeyValue
	valueStack []telemetry.Value
	eventStack []telemetry.Event
	linkStack  []telemetry.Link
}

func (j *jsonDecoder) fail(err error) {
	if j.err == nil {
		j.err = err
	}
	j.pos = len(j.buf)
}

func (j *jsonDecoder) syntax(what string) {
	if j.err == nil {
		j.fail(fmt.Errorf("offset %d: %s", j.pos, what))
	}
}

// check records err, from the budget or the context.
func (j *jsonDecoder) check(err error) {
	if err != nil {
		j.fail(err)
	}
}

// peek returns the next byte that is not white space, or 0 at the end.
func (j *jsonDecoder) peek() byte {
	for j.pos < len(j.buf) {
		switch c := j.buf[j.pos]; c {
		case ' ', '\t', '\n', '\r':
			j.pos++
		default:
			return c
		}
	}
	return 0
}

func (j *jsonDecoder) at(c byte) bool { return j.pos < len(j.buf) && j.buf[j.pos] == c }

func (j *jsonDecoder) literal(lit string) {
	if end := j.pos + len(lit); end <= len(j.buf) && string(j.buf[j.pos:end]) == lit {
		j.pos = end
		return
	}
	j.syntax("invalid literal")
}

// null reads a null if one is next.
func (j *jsonDecoder) null() bool {
	if j.peek() == 'n' {
		j.literal("null")
		return true
	}
	return false
}

// object starts reading an object. It returns false for null (no object) and on error.
func (j *jsonDecoder) object() bool {
	switch j.peek() {
	case '{':
		j.pos++
		return true
	case 'n':
		j.literal("null")
		return false
	}
	j.syntax("expected an object")
	return false
}

// member reads the next member's key and the colon after it, or the end of the object
// (false). n counts the members read, starting at 0. The key is valid until the next string
// is read.
func (j *jsonDecoder) member(n *int) ([]byte, bool) {
	c := j.peek()
	if c == '}' {
		j.pos++
		return nil, false
	}
	if *n > 0 {
		if c != ',' {
			j.syntax("expected , or } after an object member")
			return nil, false
		}
		j.pos++
	}
	*n++
	j.check(j.tick())
	key := j.rawString()
	if j.peek() != ':' {
		j.syntax("expected : after an object key")
		return nil, false
	}
	j.pos++
	return key, j.err == nil
}

// array starts reading an array. It returns false for null (no array) and on error.
func (j *jsonDecoder) array() bool {
	switch j.peek() {
	case '[':
		j.pos++
		return true
	case 'n':
		j.literal("null")
		return false
	}
	j.syntax("expected an array")
	return false
}

// elem reports whether another element follows, reading the comma before it. n counts the
// elements read, starting at 0.
func (j *jsonDecoder) elem(n *int) bool {
	c := j.peek()
	if c == ']' {
		j.pos++
		return false
	}
	if *n > 0 {
		if c != ',' {
			j.syntax("expected , or ] after an array element")
			return false
		}
		j.pos++
	}
	*n++
	j.check(j.tick())
	return j.err == nil
}

// rawString reads a string. The bytes returned alias the body or a scratch buffer, and are
// valid until the next string is read.
func (j *jsonDecoder) rawString() []byte {
	if j.peek() != '"' {
		j.syntax("expected a string")
		return nil
	}
	j.pos++
	start := j.pos
	i := start
	for i < len(j.buf) && !stringSpecial[j.buf[i]] {
		i++
	}
	switch {
	case i == len(j.buf):
		j.syntax("unterminated string")
		return nil
	case j.buf[i] == '"':
		j.pos = i + 1
		return j.buf[start:i]
	case j.buf[i] == '\\':
		j.pos = i
		return j.unescape(start)
	}
	j.pos = i
	j.syntax("control character in a string")
	return nil
}

// stringSpecial marks the bytes that end the plain run of a string: its closing quote, an
// escape, and the control characters JSON does not allow in strings.
var stringSpecial = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// unescape reads the rest of a string that has escapes, from its first backslash.
func (j *jsonDecoder) unescape(start int) []byte {
	j.esc = append(j.esc[:0], j.buf[start:j.pos]...)
	for j.pos < len(j.buf) {
		c := j.buf[j.pos]
		switch {
		case c == '"':
			j.pos++
			return j.esc
		case c < 0x20:
			j.syntax("control character in a string")
			return nil
		case c != '\\':
			j.esc = append(j.esc, c)
			j.pos++
			continue
		}
		if j.pos+1 >= len(j.buf) {
			break
		}
		e := j.buf[j.pos+1]
		j.pos += 2
		switch e {
		case '"', '\\', '/':
			j.esc = append(j.esc, e)
		case 'b':
			j.esc = append(j.esc, '\b')
		case 'f':
			j.esc = append(j.esc, '\f')
		case 'n':
			j.esc = append(j.esc, '\n')
		case 'r':
			j.esc = append(j.esc, '\r')
		case 't':
			j.esc = append(j.esc, '\t')
		case 'u':
			j.unicodeEscape()
		default:
			j.pos -= 2
			j.syntax("invalid escape in a string")
			return nil
		}
	}
	j.syntax("unterminated string")
	return nil
}

// unicodeEscape reads the digits of a \u escape. A surrogate takes the \u escape right after
// it as its pair; if they do not pair, each becomes U+FFFD, as in pdata's decoder.
func (j *jsonDecoder) unicodeEscape() {
	r := j.hex4()
	if utf16.IsSurrogate(r) && j.pos+1 < len(j.buf) && j.buf[j.pos] == '\\' && j.buf[j.pos+1] == 'u' {
		j.pos += 2
		r2 := j.hex4()
		if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
			r = pair
		} else {
			j.esc = utf8.AppendRune(j.esc, utf8.RuneError)
			r = r2
		}
	}
	j.esc = utf8.AppendRune(j.esc, r) // a lone surrogate is written as U+FFFD
}

func (j *jsonDecoder) hex4() rune {
	if j.pos+4 > len(j.buf) {
		j.syntax("invalid \\u escape")
		return 0
	}
	var r rune
	for _, c := range j.buf[j.pos : j.pos+4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			j.syntax("invalid \\u escape")
			return 0
		}
	}
	j.pos += 4
	return r
}

// number reads a number and returns its text.
func (j *jsonDecoder) number() []byte {
	j.peek()
	start := j.pos
	if j.at('-') {
		j.pos++
	}
	switch {
	case j.at('0'):
		j.pos++
	case j.pos < len(j.buf) && '1' <= j.buf[j.pos] && j.buf[j.pos] <= '9':
		j.digits()
	default:
		j.syntax("expected a value")
		return nil
	}
	if j.at('.') {
		j.pos++
		if !j.digits() {
			j.syntax("expected a digit after the decimal point")
			return nil
		}
	}
	if j.at('e') || j.at('E') {
		j.pos++
		if j.at('+') || j.at('-') {
			j.pos++
		}
		if !j.digits() {
			j.syntax("expected a digit in the exponent")
			return nil
		}
	}
	return j.buf[start:j.pos]
}

func (j *jsonDecoder) digits() bool {
	start := j.pos
	for j.pos < len(j.buf) && '0' <= j.buf[j.pos] && j.buf[j.pos] <= '9' {
		j.pos++
	}
	return j.pos > start
}

// skip reads and discards a value, however deeply nested, without recursing: it keeps a byte
// per open object or array.
func (j *jsonDecoder) skip() {
	stack := j.skipStack[:0] // the open containers: '{' or '['
	defer func() { j.skipStack = stack }()
	for j.err == nil {
		j.check(j.tick())
		// A value.
		switch j.peek() {
		case '{', '[':
			open := j.buf[j.pos]
			j.pos++
			if c := j.peek(); c == '}' && open == '{' || c == ']' && open == '[' {
				j.pos++
				break
			}
			j.check(push(j.decoder, &stack, open))
			if open == '{' {
				j.objectKey()
			}
			continue
		case '"':
			j.rawString()
		case 't':
			j.literal("true")
		case 'f':
			j.literal("false")
		case 'n':
			j.literal("null")
		default:
			j.number()
		}
		// After a value: close containers until one has another member or element.
		for {
			if len(stack) == 0 || j.err != nil {
				return
			}
			open := stack[len(stack)-1]
			c := j.peek()
			if c == ',' {
				j.pos++
				if open == '{' {
					j.objectKey()
				}
				break
			}
			if c == '}' && open == '{' || c == ']' && open == '[' {
				j.pos++
				stack = stack[:len(stack)-1]
				continue
			}
			j.syntax("expected , or the end of an object or array")
			return
		}
	}
}

// objectKey reads a key and its colon.
func (j *jsonDecoder) objectKey() {
	j.rawString()
	if j.peek() != ':' {
		j.syntax("expected : after an object key")
		return
	}
	j.pos++
}

// text reads a string (null for "") and returns a copy.
func (j *jsonDecoder) text() string {
	if j.null() {
		return ""
	}
	b := j.rawString()
	s, err := j.copyString(b)
	j.check(err)
	return s
}

// boolean reads true, false or null.
func (j *jsonDecoder) boolean() bool {
	switch j.peek() {
	case 't':
		j.literal("true")
		return true
	case 'f':
		j.literal("false")
	case 'n':
		j.literal("null")
	default:
		j.syntax("expected true or false")
	}
	return false
}

// integerText reads an integer's text: a number, or a string holding one (OTLP/JSON writes
// 64-bit integers as strings). It returns nil for null.
func (j *jsonDecoder) integerText() []byte {
	switch j.peek() {
	case 'n':
		j.literal("null")
		return nil
	case '"':
		return j.rawString()
	}
	return j.number()
}

// unsigned reads an unsigned integer of at most bits bits; null is 0.
func (j *jsonDecoder) unsigned(bits int) uint64 {
	b := j.integerText()
	if b == nil || j.err != nil {
		return 0
	}
	v, ok := parseUint(b, math.MaxUint64>>(64-bits))
	if !ok {
		j.badNumber(b, "an unsigned integer of "+strconv.Itoa(bits)+" bits")
	}
	return v
}

// signed reads a signed integer of at most bits bits; null is 0.
func (j *jsonDecoder) signed(bits int) int64 {
	b := j.integerText()
	if b == nil || j.err != nil {
		return 0
	}
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	limit := uint64(1)<<(bits-1) - 1
	if neg {
		limit++
	}
	u, ok := parseUint(b, limit)
	if !ok {
		j.badNumber(b, "an integer of "+strconv.Itoa(bits)+" bits")
		return 0
	}
	if neg {
		return int64(-u)
	}
	return int64(u)
}

// parseUint reads decimal digits, up to limit.
func parseUint(b []byte, limit uint64) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (limit-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// float reads a double: a number, or a string that strconv.ParseFloat reads (which includes
// the mapping's "NaN", "Infinity" and "-Infinity"); null is 0.
func (j *jsonDecoder) float() float64 {
	var b []byte
	switch j.peek() {
	case 'n':
		j.literal("null")
		return 0
	case '"':
		b = j.rawString()
	default:
		b = j.number()
	}
	if j.err != nil {
		return 0
	}
	// b is only read here: an error keeps its own copy.
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64)
	if err != nil {
		j.badNumber(b, "a double")
	}
	return f
}

func (j *jsonDecoder) badNumber(b []byte, want string) {
	j.syntax(fmt.Sprintf("%q is not %s", truncate(string(b), 40), want))
}

// enum reads an enum: its number, or its name as lookup knows it; null is 0.
func (j *jsonDecoder) enum(lookup func(string) (int32, bool)) int32 {
	if j.peek() != '"' {
		return int32(j.signed(32))
	}
	name := j.rawString()
	v, ok := lookup(string(name))
	if !ok && j.err == nil {
		j.syntax(fmt.Sprintf("unknown enum value %q", truncate(string(name), 40)))
	}
	return v
}

// id reads a trace or span id: hex digits, as OTLP/JSON writes ids (not base64), or "" or
// null for no id.
func (j *jsonDecoder) id(dst []byte) {
	if j.null() {
		clear(dst)
		return
	}
	s := j.rawString()
	switch {
	case j.err != nil:
	case len(s) == 0:
		clear(dst)
	case len(s) != 2*len(dst):
		j.syntax(fmt.Sprintf("id %q is not %d hex digits", truncate(string(s), 40), 2*len(dst)))
	default:
		if _, err := hex.Decode(dst, s); err != nil {
			j.syntax(fmt.Sprintf("id %q is not hex", truncate(string(s), 40)))
		}
	}
}

// bytesValue reads base64, in either alphabet, padded or not; null is empty.
func (j *jsonDecoder) bytesValue() telemetry.Value {
	if j.null() {
		return telemetry.BytesValue(nil)
	}
	s := j.rawString()
	enc := base64.StdEncoding
	switch url, unpadded := bytes.ContainsAny(s, "-_"), len(s)%4 != 0; {
	case url && unpadded:
		enc = base64.RawURLEncoding
	case url:
		enc = base64.URLEncoding
	case unpadded:
		enc = base64.RawStdEncoding
	}
	n := enc.DecodedLen(len(s))
	j.raw = slices.Grow(j.raw[:0], n)[:n]
	n, err := enc.Decode(j.raw, s)
	if err != nil {
		j.syntax("bytes value is not base64")
		return telemetry.Value{}
	}
	v, err := j.decoder.bytesValue(j.raw[:n])
	j.check(err)
	return v
}
