package logsearch

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// JSON filter patterns: { condition } over messages that are JSON. Conditions compare the
// value at a selector ($.a.b[0]) and combine with && and || (&& binds tighter) and
// parentheses. A selector that finds nothing, or finds an object or array, makes its
// comparison false (NOT EXISTS true).

// maxNesting bounds parentheses, so that a hostile pattern cannot exhaust the stack.
const maxNesting = 64

// jsonCond is a compiled condition over a decoded message.
type jsonCond func(doc any) bool

func parseJSONFilter(s *scanner) (*Filter, error) {
	s.pos++ // {
	cond, err := parseJSONOr(s, 0)
	if err != nil {
		return nil, err
	}
	s.skipSpace()
	if !s.accept("}") {
		return nil, s.errorf(s.pos, "expected && or || or the closing }")
	}
	s.skipSpace()
	if !s.eof() {
		return nil, s.errorf(s.pos, "nothing may follow the closing }")
	}
	return &Filter{match: func(msg string) bool {
		doc, ok := decodeJSON(msg)
		return ok && cond(doc)
	}}, nil
}

// decodeJSON parses a message as JSON, keeping numbers exact.
func decodeJSON(msg string) (any, bool) {
	t := strings.TrimSpace(msg)
	if t == "" || (t[0] != '{' && t[0] != '[') {
		return nil, false
	}
	d := json.NewDecoder(strings.NewReader(t))
	d.UseNumber()
	var doc any
	if d.Decode(&doc) != nil || d.More() {
		return nil, false
	}
	return doc, true
}

func parseJSONOr(s *scanner, depth int) (jsonCond, error) {
	left, err := parseJSONAnd(s, depth)
	if err != nil {
		return nil, err
	}
	for s.skipSpace(); s.accept("||"); s.skipSpace() {
		right, err := parseJSONAnd(s, depth)
		if err != nil {
			return nil, err
		}
		l := left
		left = func(doc any) bool { return l(doc) || right(doc) }
	}
	return left, nil
}

func parseJSONAnd(s *scanner, depth int) (jsonCond, error) {
	left, err := parseJSONAtom(s, depth)
	if err != nil {
		return nil, err
	}
	for s.skipSpace(); s.accept("&&"); s.skipSpace() {
		right, err := parseJSONAtom(s, depth)
		if err != nil {
			return nil, err
		}
		l := left
		left = func(doc any) bool { return l(doc) && right(doc) }
	}
	return left, nil
}

func parseJSONAtom(s *scanner, depth int) (jsonCond, error) {
	s.skipSpace()
	if s.peek() == '(' {
		if depth >= maxNesting {
			return nil, s.errorf(s.pos, "parentheses nest more than %d deep", maxNesting)
		}
		s.pos++
		c, err := parseJSONOr(s, depth+1)
		if err != nil {
			return nil, err
		}
		s.skipSpace()
		if !s.accept(")") {
			return nil, s.errorf(s.pos, "expected )")
		}
		return c, nil
	}
	sel, err := parseSelector(s)
	if err != nil {
		return nil, err
	}
	s.skipSpace()
	start := s.pos
	switch {
	case s.acceptWord("IS"):
		s.skipSpace()
		switch {
		case s.acceptWord("NULL"):
			return func(doc any) bool { v, ok := sel.find(doc); return ok && v == nil }, nil
		case s.acceptWord("TRUE"):
			return func(doc any) bool { v, ok := sel.find(doc); return ok && v == true }, nil
		case s.acceptWord("FALSE"):
			return func(doc any) bool { v, ok := sel.find(doc); return ok && v == false }, nil
		}
		return nil, s.errorf(start, "IS must be followed by NULL, TRUE or FALSE")
	case s.acceptWord("NOT"):
		s.skipSpace()
		if !s.acceptWord("EXISTS") {
			return nil, s.errorf(start, "NOT must be followed by EXISTS")
		}
		return func(doc any) bool { _, ok := sel.find(doc); return !ok }, nil
	}
	op, err := readOperator(s)
	if err != nil {
		return nil, err
	}
	s.skipSpace()
	val, err := readValue(s)
	if err != nil {
		return nil, err
	}
	return func(doc any) bool {
		v, ok := sel.find(doc)
		if !ok {
			return false
		}
		switch x := v.(type) {
		case string:
			return val.compare(op, x, false)
		case json.Number:
			return val.compare(op, x.String(), true)
		case bool:
			return val.compare(op, strconv.FormatBool(x), false)
		}
		return false // null, objects and arrays
	}, nil
}

// selector is a path into a JSON document: object members and array indexes.
type selector []any // string or int

func parseSelector(s *scanner) (selector, error) {
	start := s.pos
	if !s.accept("$") {
		return nil, s.errorf(start, "expected a selector such as $.field")
	}
	var sel selector
	for {
		switch {
		case s.accept("."):
			name := s.while(func(c byte) bool { return isWordByte(c) || c == '-' || c == '@' || c == '$' })
			if name == "" {
				return nil, s.errorf(s.pos, "expected a field name after .")
			}
			sel = append(sel, name)
		case s.peek() == '[':
			s.pos++
			digits := s.while(func(c byte) bool { return c >= '0' && c <= '9' })
			n, err := strconv.Atoi(digits)
			if err != nil || !s.accept("]") {
				return nil, s.errorf(s.pos, "expected an array index such as [0]")
			}
			sel = append(sel, n)
		default:
			if len(sel) == 0 {
				return nil, s.errorf(start, "a selector must name a field, such as $.field")
			}
			return sel, nil
		}
	}
}

// find returns the scalar at the selector: not found for objects and arrays.
func (sel selector) find(doc any) (any, bool) {
	v := doc
	for _, step := range sel {
		switch k := step.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[k]; !ok {
				return nil, false
			}
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil, false
			}
			v = a[k]
		}
	}
	switch v.(type) {
	case map[string]any, []any:
		return nil, false
	}
	return v, true
}

func readOperator(s *scanner) (string, error) {
	for _, op := range []string{"!=", "<=", ">=", "=", "<", ">"} {
		if s.accept(op) {
			return op, nil
		}
	}
	return "", s.errorf(s.pos, "expected a comparison: = != < > <= >=")
}

// value is the right side of a comparison.
type value struct {
	text    string
	number  float64
	numeric bool // an unquoted number
	quoted  bool
	glob    glob
	re      *regexp.Regexp
}

// readValue reads a quoted string, a %regex%, or a word (a number, or text with * wildcards).
func readValue(s *scanner) (value, error) {
	start := s.pos
	switch s.peek() {
	case '"':
		text, err := s.quoted('"')
		return value{text: text, quoted: true, glob: newGlob(text)}, err
	case '%':
		expr, err := s.delimited('%')
		if err != nil {
			return value{}, err
		}
		re, err := compileRegex(expr, start+1)
		return value{re: re}, err
	}
	text := s.while(func(c byte) bool {
		return isWordByte(c) || strings.IndexByte(".*-+:/@", c) >= 0
	})
	if text == "" {
		return value{}, s.errorf(start, "expected a value: a number, a word or a quoted string")
	}
	v := value{text: text, glob: newGlob(text)}
	if f, err := strconv.ParseFloat(text, 64); err == nil {
		v.number, v.numeric = f, true
	}
	return v, nil
}

// compare applies op to a field's text (a JSON number's or a delimited field's) and this
// value. Numbers compare as numbers when both sides are; "=" and "!=" otherwise compare text,
// with * as a wildcard; the ordering operators need numbers.
func (v value) compare(op, field string, fieldNumeric bool) bool {
	if v.re != nil {
		found := v.re.MatchString(field)
		return found == (op != "!=") && (op == "=" || op == "!=")
	}
	if v.numeric && !v.quoted {
		if f, err := strconv.ParseFloat(field, 64); err == nil && (fieldNumeric || looksNumeric(field)) {
			switch op {
			case "=":
				return f == v.number
			case "!=":
				return f != v.number
			case "<":
				return f < v.number
			case ">":
				return f > v.number
			case "<=":
				return f <= v.number
			case ">=":
				return f >= v.number
			}
		}
	}
	switch op {
	case "=":
		return v.glob.match(field)
	case "!=":
		return !v.glob.match(field)
	}
	return false
}

// looksNumeric reports text that is a plain decimal number (not "NaN" or "Inf").
func looksNumeric(s string) bool {
	return s != "" && bytes.IndexFunc([]byte(s), func(r rune) bool {
		return !(r >= '0' && r <= '9' || r == '.' || r == '-' || r == '+' || r == 'e' || r == 'E')
	}) < 0
}
