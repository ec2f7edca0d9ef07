package xray

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Filter expressions select traces in GetTraceSummaries and define groups. AWS publishes no
// grammar; this one follows the documented examples:
//
//	expr      := and { OR and }
//	and       := unary { [AND] unary }        juxtaposition is AND
//	unary     := ! unary | ( expr ) | predicate
//	predicate := keyword [op value] | annotation.KEY [op value]
//	           | service( [name] ) [{ expr }] | edge( name , name ) [{ expr }]
//	           | group.name = "..." | group.arn = "..."
//	name      := "..." | id( name: "...", type: "...", account.id: "..." )
//
//	           | rootcause.KIND.WHAT { expr }   KIND: fault, error, responsetime
//	                                            WHAT: service, entity, exception
//	           | rootcause.json = #[ root causes as TraceSummary gives them ]
//
// Keywords are case-insensitive. Within a root-cause filter's braces, keywords describe a
// service, an entity or an exception of the trace's root causes (rootcause.go), and only
// those that do are accepted; index, coverage, first, last, remote and message mean nothing
// elsewhere and are refused there.

// maxFilterBytes bounds a filter expression: longer ones, which no person writes, would
// only make each trace's evaluation (every cause of a rootcause.json, every term of an OR)
// as long as the request allows.
const maxFilterBytes = 16 << 10

// FilterError is a filter expression that cannot be used, with where it goes wrong (a byte
// offset, from 0).
type FilterError struct {
	Pos int
	Msg string
}

func (e *FilterError) Error() string {
	return fmt.Sprintf("filter expression, at position %d: %s", e.Pos, e.Msg)
}

// filter is a parsed expression, evaluated on a node of a trace's view.
type filter interface {
	match(s *scope) bool
}

// The kinds of keyword and the keywords of each.
var (
	boolKeywords = map[string]bool{"ok": true, "error": true, "throttle": true, "fault": true, "partial": true, "root": true, "inferred": true,
		"first": true, "last": true, "remote": true}
	numberKeywords = map[string]bool{"responsetime": true, "duration": true, "http.status": true, "index": true, "coverage": true}
	stringKeywords = map[string]bool{"http.url": true, "http.method": true, "http.useragent": true, "http.clientip": true, "user": true, "name": true, "type": true,
		"availabilityzone": true, "instance.id": true, "resource.arn": true, "message": true}
	// elementKeywords describe what a root-cause filter enumerates, and mean nothing
	// elsewhere.
	elementKeywords = map[string]bool{"index": true, "coverage": true, "first": true, "last": true, "remote": true, "message": true}
	// blockKeywords are the keywords of a rootcause.KIND.service, .entity or .exception
	// block: what a service, an entity or an exception of a root cause has. coverage is a
	// response time's alone.
	blockKeywords = map[string]map[string]bool{
		"service":   {"name": true, "type": true, "inferred": true, "first": true, "last": true, "index": true},
		"entity":    {"name": true, "remote": true, "first": true, "last": true, "index": true, "coverage": true},
		"exception": {"name": true, "message": true, "first": true, "last": true, "index": true},
	}
)

// maxFilterDepth bounds nesting, so that a hostile expression cannot exhaust the stack.
const maxFilterDepth = 50

// token is a lexeme of an expression.
type token struct {
	kind byte // 'w' word, 's' string, 'n' number, 'o' operator, 'p' punctuation, 'j' JSON after #, 0 end
	text string
	num  float64
	pos  int
}

func lex(src string) ([]token, error) {
	var out []token
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"':
			j := i + 1
			var b strings.Builder
			for ; j < len(src) && src[j] != '"'; j++ {
				if src[j] == '\\' && j+1 < len(src) {
					j++
				}
				b.WriteByte(src[j])
			}
			if j >= len(src) {
				return nil, &FilterError{i, "a string is not closed with \""}
			}
			out = append(out, token{kind: 's', text: b.String(), pos: i})
			i = j + 1
		case c == '#' && i+1 < len(src) && src[i+1] == '[':
			j := jsonEnd(src, i+1)
			if j < 0 {
				return nil, &FilterError{i, "the JSON after #[ is not closed with ]"}
			}
			out = append(out, token{kind: 'j', text: src[i+1 : j], pos: i})
			i = j
		case strings.ContainsRune("(){},:", rune(c)):
			out = append(out, token{kind: 'p', text: string(c), pos: i})
			i++
		case strings.ContainsRune("=!<>", rune(c)):
			j := i + 1
			if j < len(src) && src[j] == '=' {
				j++
			}
			out = append(out, token{kind: 'o', text: src[i:j], pos: i})
			i = j
		case c == '-' || c == '.' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.' || src[j] == 'e' || src[j] == 'E') {
				j++
			}
			n, err := strconv.ParseFloat(src[i:j], 64)
			if err != nil {
				return nil, &FilterError{i, fmt.Sprintf("%q is not a number", src[i:j])}
			}
			out = append(out, token{kind: 'n', text: src[i:j], num: n, pos: i})
			i = j
		case c < 0x80 && (unicode.IsLetter(rune(c)) || c == '_'):
			j := i + 1
			for j < len(src) && src[j] < 0x80 && (unicode.IsLetter(rune(src[j])) || unicode.IsDigit(rune(src[j])) || src[j] == '_' || src[j] == '.' || src[j] == ':' && j+1 < len(src) && src[j+1] == ':') {
				if src[j] == ':' {
					j++
				}
				j++
			}
			out = append(out, token{kind: 'w', text: src[i:j], pos: i})
			i = j
		default:
			return nil, &FilterError{i, fmt.Sprintf("unexpected character %q", rune(c))}
		}
	}
	return append(out, token{pos: len(src)}), nil
}

// jsonEnd is where the JSON value that opens at src[at] ends (the index after its last
// bracket), or -1 when it does not: brackets are counted outside strings.
func jsonEnd(src string, at int) int {
	depth := 0
	for i := at; i < len(src); i++ {
		switch src[i] {
		case '"':
			for i++; i < len(src) && src[i] != '"'; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		case '[', '{':
			depth++
		case ']', '}':
			if depth--; depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// parser reads tokens into filters. groups resolves group.name and group.arn to the group's
// own expression (nil: groups are refused).
type parser struct {
	toks   []token
	at     int
	depth  int
	groups func(byARN bool, nameOrARN string) (string, bool)
	block  string    // within a root-cause filter's braces: what it enumerates
	kind   causeKind // and of which root causes
}

// parseFilter parses an expression; an empty one matches every trace.
func parseFilter(src string, groups func(byARN bool, nameOrARN string) (string, bool)) (filter, error) {
	if len(src) > maxFilterBytes {
		return nil, &FilterError{maxFilterBytes, fmt.Sprintf("a filter expression may be %d bytes long, not %d", maxFilterBytes, len(src))}
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	if len(toks) == 1 {
		return always{}, nil
	}
	p := &parser{toks: toks, groups: groups}
	f, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != 0 {
		return nil, p.errorf(t, "unexpected %q", t.text)
	}
	return f, nil
}

func (p *parser) peek() token { return p.toks[p.at] }
func (p *parser) next() token {
	t := p.toks[p.at]
	if t.kind != 0 {
		p.at++
	}
	return t
}

func (p *parser) errorf(t token, format string, args ...any) error {
	return &FilterError{t.pos, fmt.Sprintf(format, args...)}
}

func (p *parser) word(t token, w string) bool { return t.kind == 'w' && strings.EqualFold(t.text, w) }

func (p *parser) expect(text string) error {
	if t := p.next(); t.text != text || t.kind == 's' {
		return p.errorf(t, "expected %q, found %q", text, t.text)
	}
	return nil
}

func (p *parser) or() (filter, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxFilterDepth {
		return nil, p.errorf(p.peek(), "the expression nests more than %d levels deep", maxFilterDepth)
	}
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.word(p.peek(), "or") {
		p.next()
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		left = anyOf{left, right}
	}
	return left, nil
}

func (p *parser) and() (filter, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if p.word(t, "and") {
			p.next()
		} else if t.kind == 0 || p.word(t, "or") || t.text == ")" || t.text == "}" {
			return left, nil
		}
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		left = allOf{left, right}
	}
}

func (p *parser) unary() (filter, error) {
	t := p.next()
	switch {
	case t.kind == 'o' && t.text == "!":
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxFilterDepth {
			return nil, p.errorf(t, "the expression nests more than %d levels deep", maxFilterDepth)
		}
		f, err := p.unary()
		return not{f}, err
	case t.kind == 'p' && t.text == "(":
		f, err := p.or()
		if err != nil {
			return nil, err
		}
		return f, p.expect(")")
	case t.kind == 'w':
		return p.predicate(t)
	case t.kind == 0:
		return nil, p.errorf(t, "the expression ends where a condition was expected")
	}
	return nil, p.errorf(t, "expected a condition, found %q", t.text)
}

func (p *parser) predicate(t token) (filter, error) {
	kw := strings.ToLower(t.text)
	if p.block != "" {
		return p.blockPredicate(t, kw)
	}
	switch {
	case kw == "service":
		return p.service(t)
	case kw == "edge":
		return p.edge(t)
	case kw == "group.name" || kw == "group.arn":
		return p.group(t, kw == "group.arn")
	case strings.HasPrefix(kw, "annotation."):
		key := t.text[len("annotation."):]
		if key == "" || strings.ContainsAny(key, ".:") {
			return nil, p.errorf(t, "%q is not an annotation key", key)
		}
		c := &compare{keyword: "annotation", annotation: key}
		return c, p.optionalComparison(c, t)
	case strings.HasPrefix(kw, "rootcause."):
		return p.rootCause(t, kw)
	case elementKeywords[kw]:
		return nil, p.errorf(t, "%s means something only within a root-cause filter, such as rootcause.fault.entity { %s ... }", t.text, kw)
	case boolKeywords[kw], numberKeywords[kw], stringKeywords[kw]:
		c := &compare{keyword: kw}
		return c, p.optionalComparison(c, t)
	}
	return nil, p.errorf(t, "unknown keyword %q", t.text)
}

// optionalComparison reads "op value" after a keyword when there is one, checking that the
// value suits the keyword.
func (p *parser) optionalComparison(c *compare, kwTok token) error {
	op := p.peek()
	isOp := op.kind == 'o' && op.text != "!" || op.kind == 'w' && (p.word(op, "contains") || p.word(op, "beginswith") || p.word(op, "endswith"))
	if !isOp {
		if numberKeywords[c.keyword] {
			return p.errorf(op, "%s needs a comparison, such as %s > 1", kwTok.text, kwTok.text)
		}
		return nil
	}
	p.next()
	c.op = strings.ToUpper(op.text)
	if c.op == "!" {
		return p.errorf(op, "unknown operator !")
	}
	v := p.next()
	switch {
	case boolKeywords[c.keyword]:
		if c.op != "=" && c.op != "!=" || !p.word(v, "true") && !p.word(v, "false") {
			return p.errorf(v, "%s compares only with = true, = false, != true or != false", kwTok.text)
		}
		c.value = strings.ToLower(v.text)
	case numberKeywords[c.keyword]:
		if v.kind != 'n' || !numberOps[c.op] {
			return p.errorf(v, "%s compares with a number (=, !=, <, <=, >, >=)", kwTok.text)
		}
		c.number = v.num
	case stringKeywords[c.keyword]:
		if v.kind != 's' {
			return p.errorf(v, "%s compares with a quoted string", kwTok.text)
		}
		if c.op != "=" && c.op != "!=" && !textOps[c.op] {
			return p.errorf(op, "%s compares with =, !=, CONTAINS, BEGINSWITH or ENDSWITH", kwTok.text)
		}
		c.value = v.text
	default: // annotation: a string, number or boolean
		switch {
		case v.kind == 's':
			c.value, c.isText = v.text, true
		case v.kind == 'n':
			c.number, c.isNumber = v.num, true
		case p.word(v, "true"), p.word(v, "false"):
			c.value, c.isBool = strings.ToLower(v.text), true
		default:
			return p.errorf(v, "annotation.%s compares with a quoted string, a number, true or false", c.annotation)
		}
		if c.isText && !textOps[c.op] && c.op != "=" && c.op != "!=" || !c.isText && textOps[c.op] || c.isBool && c.op != "=" && c.op != "!=" {
			return p.errorf(op, "operator %s does not apply to this value", op.text)
		}
	}
	return nil
}

var (
	numberOps = map[string]bool{"=": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true}
	textOps   = map[string]bool{"CONTAINS": true, "BEGINSWITH": true, "ENDSWITH": true}
)

// selector names a node: by name, or by id(name:, type:, account.id:); empty fields match
// any.
type selector struct{ name, typ, account string }

func (p *parser) selector() (selector, error) {
	t := p.next()
	if t.kind == 's' {
		return selector{name: t.text}, nil
	}
	if !p.word(t, "id") {
		return selector{}, p.errorf(t, `expected a quoted service name or id(name: "...", type: "...")`)
	}
	if err := p.expect("("); err != nil {
		return selector{}, err
	}
	var s selector
	for {
		k := p.next()
		key := strings.ToLower(strings.TrimSuffix(k.text, ":"))
		if k.kind != 'w' || key != "name" && key != "type" && key != "account.id" {
			return selector{}, p.errorf(k, "id() takes name:, type: and account.id:")
		}
		if !strings.HasSuffix(k.text, ":") {
			if err := p.expect(":"); err != nil {
				return selector{}, err
			}
		}
		v := p.next()
		if v.kind != 's' {
			return selector{}, p.errorf(v, "id(%s: ...) takes a quoted string", key)
		}
		switch key {
		case "name":
			s.name = v.text
		case "type":
			s.typ = v.text
		case "account.id":
			s.account = v.text
		}
		if t := p.next(); t.text == ")" {
			return s, nil
		} else if t.text != "," {
			return selector{}, p.errorf(t, "expected , or ) in id()")
		}
	}
}

func (p *parser) inner() (filter, error) {
	if p.peek().text != "{" || p.peek().kind != 'p' {
		return nil, nil
	}
	p.next()
	f, err := p.or()
	if err != nil {
		return nil, err
	}
	return f, p.expect("}")
}

func (p *parser) service(t token) (filter, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	f := &inService{}
	if p.peek().text != ")" || p.peek().kind != 'p' {
		sel, err := p.selector()
		if err != nil {
			return nil, err
		}
		f.sel = &sel
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	inner, err := p.inner()
	f.inner = inner
	return f, err
}

func (p *parser) edge(t token) (filter, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	from, err := p.selector()
	if err != nil {
		return nil, err
	}
	if err := p.expect(","); err != nil {
		return nil, err
	}
	to, err := p.selector()
	if err != nil {
		return nil, err
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	inner, err := p.inner()
	return &onEdge{from: from, to: to, inner: inner}, err
}

// group inlines a group's own filter expression.
func (p *parser) group(t token, byARN bool) (filter, error) {
	if err := p.expect("="); err != nil {
		return nil, err
	}
	v := p.next()
	if v.kind != 's' {
		return nil, p.errorf(v, "%s compares with a quoted string", t.text)
	}
	if p.groups == nil {
		return nil, p.errorf(t, "groups cannot be used here")
	}
	expr, ok := p.groups(byARN, v.text)
	if !ok {
		return nil, p.errorf(v, "no group %q", v.text)
	}
	f, err := parseFilter(expr, nil) // a group's expression names no group
	if err != nil {
		return nil, p.errorf(v, "group %q has an expression that cannot be used: %v", v.text, err)
	}
	return f, nil
}

// rootCause reads rootcause.KIND.WHAT { expr }.
func (p *parser) rootCause(t token, kw string) (filter, error) {
	if kw == "rootcause.json" {
		return p.rootCauseJSON()
	}
	parts := strings.Split(kw, ".")
	var kind causeKind
	ok := len(parts) == 3 && blockKeywords[parts[2]] != nil
	if ok {
		kind, ok = causeKinds[parts[1]]
	}
	if !ok {
		return nil, p.errorf(t, "unknown root-cause filter %s: rootcause.fault, .error or .responsetime, then .service, .entity or .exception { ... }", t.text)
	}
	if open := p.peek(); open.kind != 'p' || open.text != "{" {
		return nil, p.errorf(open, "%s needs a condition in braces, such as %s { name = \"...\" }", t.text, t.text)
	}
	p.block, p.kind = parts[2], kind
	inner, err := p.inner()
	p.block = ""
	if err != nil {
		return nil, err
	}
	return &rootCauseFilter{kind: kind, what: parts[2], inner: inner}, nil
}

// blockPredicate reads a keyword within a root-cause filter's braces.
func (p *parser) blockPredicate(t token, kw string) (filter, error) {
	if !blockKeywords[p.block][kw] || kw == "coverage" && p.kind != causeResponseTime {
		return nil, p.errorf(t, "%s has no meaning for a root cause's %s here (use %s)", t.text, p.block, blockKeywordList(p.block, p.kind))
	}
	c := &compare{keyword: kw}
	return c, p.optionalComparison(c, t)
}

// blockKeywordList names the keywords of a root-cause block, for errors.
func blockKeywordList(block string, kind causeKind) string {
	var list []string
	for kw := range blockKeywords[block] {
		if kw != "coverage" || kind == causeResponseTime {
			list = append(list, kw)
		}
	}
	slices.Sort(list)
	return strings.Join(list, ", ")
}

// rootCauseJSON reads = #[...] after rootcause.json: root causes in TraceSummary's shape.
func (p *parser) rootCauseJSON() (filter, error) {
	if err := p.expect("="); err != nil {
		return nil, err
	}
	v := p.next()
	if v.kind != 'j' {
		return nil, p.errorf(v, `rootcause.json compares with root causes as JSON, such as #[{"Services": [{"Name": "api"}]}]`)
	}
	var causes []jsonCause
	if err := json.Unmarshal([]byte(v.text), &causes); err != nil {
		at := v.pos + 1 // the JSON's first byte; the decoder counts the bytes it read
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syntax):
			at += max(int(syntax.Offset)-1, 0)
		case errors.As(err, &typ):
			at += max(int(typ.Offset)-1, 0)
		}
		return nil, &FilterError{min(at, v.pos+len(v.text)), "rootcause.json: " + err.Error()}
	}
	return &rootCauseJSON{causes: causes}, nil
}
