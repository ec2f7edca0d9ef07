package cwlogs

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// decodePut reads a PutLogEvents body in one pass, into what encoding/json would make of
// it, for the form SDKs and agents send: the operation's own members once each, strings,
// integer timestamps. It reports false for anything else (other or repeated members, nulls,
// text that is not UTF-8, malformed JSON), which encoding/json then reads, errors and all.
// The messages share one copy of their text, as the body is reused once answered.
func decodePut(body []byte) (*putInput, bool) {
	d := putDecoder{buf: body, text: make([]byte, 0, len(body))}
	if !d.input() {
		return nil, false
	}
	text := string(d.text)
	in := &putInput{LogGroupName: text[d.group[0]:d.group[1]], LogStreamName: text[d.stream[0]:d.stream[1]]}
	if d.seen[memberEvents] {
		times := make([]int64, len(d.events))
		messages := make([]string, len(d.events))
		in.LogEvents = make([]inputEvent, len(d.events))
		for i, e := range d.events {
			times[i], messages[i] = e.timestamp, text[e.message[0]:e.message[1]]
			in.LogEvents[i] = inputEvent{Timestamp: &times[i], Message: &messages[i]}
		}
	}
	return in, true
}

// putDecoder reads a body from pos on, gathering its strings in text (spans are offsets there).
type putDecoder struct {
	buf           []byte
	pos           int
	text          []byte
	seen          [4]bool // by member
	group, stream [2]int
	events        []eventSpan
}

// The members of a PutLogEvents request.
const (
	memberGroup = iota
	memberStream
	memberEvents
	memberToken // sequenceToken, which is ignored
)

type eventSpan struct {
	timestamp int64
	message   [2]int
}

func (d *putDecoder) input() bool {
	ok := d.members(func(name []byte) bool {
		var i int
		var ok bool
		switch string(name) {
		case "logGroupName":
			i, ok = memberGroup, d.stringInto(&d.group)
		case "logStreamName":
			i, ok = memberStream, d.stringInto(&d.stream)
		case "logEvents":
			i, ok = memberEvents, d.eventList()
		case "sequenceToken":
			var ignored [2]int
			i, ok = memberToken, d.stringInto(&ignored)
		default:
			return false
		}
		if d.seen[i] {
			return false
		}
		d.seen[i] = true
		return ok
	})
	d.space()
	return ok && d.pos == len(d.buf)
}

// members reads an object, calling member for each member's name with pos at its value.
func (d *putDecoder) members(member func(name []byte) bool) bool {
	if !d.next('{') {
		return false
	}
	if d.next('}') {
		return true
	}
	for {
		name, ok := d.name()
		if !ok || !d.next(':') || !member(name) {
			return false
		}
		if d.next('}') {
			return true
		}
		if !d.next(',') {
			return false
		}
	}
}

func (d *putDecoder) eventList() bool {
	if !d.next('[') {
		return false
	}
	if d.next(']') {
		return true
	}
	for {
		var e eventSpan
		var hasTime, hasMessage bool
		ok := d.members(func(name []byte) bool {
			switch {
			case string(name) == "timestamp" && !hasTime:
				hasTime = true
				return d.integer(&e.timestamp)
			case string(name) == "message" && !hasMessage:
				hasMessage = true
				return d.stringInto(&e.message)
			}
			return false
		})
		if !ok || !hasTime || !hasMessage {
			return false // a missing member is null, which encoding/json reports
		}
		d.events = append(d.events, e)
		if d.next(']') {
			return true
		}
		if !d.next(',') {
			return false
		}
	}
}

// space skips JSON whitespace.
func (d *putDecoder) space() {
	for d.pos < len(d.buf) {
		switch d.buf[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// next skips whitespace and then c, if c is there.
func (d *putDecoder) next(c byte) bool {
	d.space()
	if d.pos < len(d.buf) && d.buf[d.pos] == c {
		d.pos++
		return true
	}
	return false
}

// name reads a member name without escapes.
func (d *putDecoder) name() ([]byte, bool) {
	if !d.next('"') {
		return nil, false
	}
	for i := d.pos; i < len(d.buf); i++ {
		switch c := d.buf[i]; {
		case c == '"':
			name := d.buf[d.pos:i]
			d.pos = i + 1
			return name, true
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			return nil, false
		}
	}
	return nil, false
}

// integer reads a number without fraction or exponent that fits an int64.
func (d *putDecoder) integer(v *int64) bool {
	d.space()
	start := d.pos
	if d.pos < len(d.buf) && d.buf[d.pos] == '-' {
		d.pos++
	}
	digits := d.pos
	for d.pos < len(d.buf) && '0' <= d.buf[d.pos] && d.buf[d.pos] <= '9' {
		d.pos++
	}
	switch {
	case d.pos == digits, d.buf[digits] == '0' && d.pos-digits > 1:
		return false // no digits, or a leading zero
	case d.pos < len(d.buf) && (d.buf[d.pos] == '.' || d.buf[d.pos] == 'e' || d.buf[d.pos] == 'E'):
		return false
	}
	n, err := strconv.ParseInt(string(d.buf[start:d.pos]), 10, 64)
	*v = n
	return err == nil
}

// stringInto reads a string, appending it unescaped to text, and sets span to where it is.
func (d *putDecoder) stringInto(span *[2]int) bool {
	if !d.next('"') {
		return false
	}
	span[0] = len(d.text)
	ascii := true
	for d.pos < len(d.buf) {
		run := d.pos
		for ; d.pos < len(d.buf); d.pos++ {
			c := d.buf[d.pos]
			if c == '"' || c == '\\' || c < 0x20 {
				break
			}
			ascii = ascii && c < utf8.RuneSelf
		}
		d.text = append(d.text, d.buf[run:d.pos]...)
		switch {
		case d.pos == len(d.buf) || d.buf[d.pos] < 0x20:
			return false
		case d.buf[d.pos] == '"':
			d.pos++
			span[1] = len(d.text)
			return ascii || utf8.Valid(d.text[span[0]:span[1]])
		case !d.escape():
			return false
		}
	}
	return false
}

// escape reads the escape sequence at pos, as encoding/json does: a lone UTF-16 surrogate
// stands for U+FFFD.
func (d *putDecoder) escape() bool {
	if d.pos+1 >= len(d.buf) {
		return false
	}
	c := d.buf[d.pos+1]
	d.pos += 2
	switch c {
	case '"', '\\', '/':
		d.text = append(d.text, c)
	case 'b':
		d.text = append(d.text, '\b')
	case 'f':
		d.text = append(d.text, '\f')
	case 'n':
		d.text = append(d.text, '\n')
	case 'r':
		d.text = append(d.text, '\r')
	case 't':
		d.text = append(d.text, '\t')
	case 'u':
		r, ok := d.hex4(d.pos)
		if !ok {
			return false
		}
		d.pos += 4
		if utf16.IsSurrogate(r) {
			r2, ok := rune(-1), false
			if d.pos+1 < len(d.buf) && d.buf[d.pos] == '\\' && d.buf[d.pos+1] == 'u' {
				r2, ok = d.hex4(d.pos + 2)
			}
			if pair := utf16.DecodeRune(r, r2); ok && pair != utf8.RuneError {
				r = pair
				d.pos += 6
			} else {
				r = utf8.RuneError
			}
		}
		d.text = utf8.AppendRune(d.text, r)
	default:
		return false
	}
	return true
}

// hex4 reads the four hex digits at i.
func (d *putDecoder) hex4(i int) (rune, bool) {
	if i+4 > len(d.buf) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(d.buf[i:i+4]), 16, 32)
	return rune(n), err == nil
}
