package logsearch

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Row is one record (or aggregate) of a query's table: field name → value, where a value is
// a string, a float64, a Time, or absent.
type Row map[string]any

// Time is a point in time in epoch milliseconds, rendered as Insights renders @timestamp.
type Time int64

// Render is a value as GetQueryResults shows it: every value is text.
func Render(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case Time:
		return time.UnixMilli(int64(x)).UTC().Format("2006-01-02 15:04:05.000")
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// number is a value as a number, when it is one.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case Time:
		return float64(x), true
	case string:
		if looksNumeric(strings.TrimSpace(x)) {
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			return f, err == nil
		}
	}
	return 0, false
}

// compare orders two present values: as numbers when both are, else as text.
func compare(a, b any) int {
	if x, ok := number(a); ok {
		if y, ok := number(b); ok {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	return strings.Compare(Render(a), Render(b))
}

func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case nil:
		return false
	case string:
		return x != ""
	case float64:
		return x != 0
	}
	return true
}

// expr is a compiled expression over a row.
type expr interface {
	eval(r Row) any
}

type fieldRef string

func (f fieldRef) eval(r Row) any { return r[string(f)] }

type literal struct{ v any }

func (l literal) eval(Row) any { return l.v }

type binary struct {
	op   string
	l, r expr
}

func (b binary) eval(r Row) any {
	switch b.op {
	case "and":
		return truthy(b.l.eval(r)) && truthy(b.r.eval(r))
	case "or":
		return truthy(b.l.eval(r)) || truthy(b.r.eval(r))
	}
	x, y := b.l.eval(r), b.r.eval(r)
	if x == nil || y == nil {
		return nil
	}
	switch b.op {
	case "=":
		return compare(x, y) == 0
	case "!=":
		return compare(x, y) != 0
	case "<":
		return compare(x, y) < 0
	case "<=":
		return compare(x, y) <= 0
	case ">":
		return compare(x, y) > 0
	case ">=":
		return compare(x, y) >= 0
	}
	m, ok1 := number(x)
	n, ok2 := number(y)
	if !ok1 || !ok2 {
		return nil
	}
	switch b.op {
	case "+":
		return m + n
	case "-":
		return m - n
	case "*":
		return m * n
	case "/":
		return m / n
	case "%":
		return math.Mod(m, n)
	}
	return math.Pow(m, n) // ^
}

type not struct{ e expr }

func (n not) eval(r Row) any { return !truthy(n.e.eval(r)) }

// match is like, =~ and in: a text test on a present value.
type match struct {
	e      expr
	test   func(string) bool
	negate bool
	// What test is, for the store: "contains" its one text, "in" one of its texts; empty
	// for a regular expression.
	op    string
	texts []any
}

func (m match) eval(r Row) any {
	v := m.e.eval(r)
	if v == nil {
		return m.negate
	}
	return m.test(Render(v)) != m.negate
}

type call struct {
	name string // lower case
	fn   func(args []any) any
	args []expr
}

func (c call) eval(r Row) any {
	args := make([]any, len(c.args))
	for i, a := range c.args {
		args[i] = a.eval(r)
	}
	return c.fn(args)
}

// Expressions, loosest first: or, and, not, comparison, + -, * / %, ^, unary -, primary.

func (p *qparser) expr() (expr, error) { return p.or() }

func (p *qparser) or() (expr, error) {
	l, err := p.and()
	for err == nil && p.keyword("or") {
		var r expr
		if r, err = p.and(); err == nil {
			l = binary{"or", l, r}
		}
	}
	return l, err
}

func (p *qparser) and() (expr, error) {
	l, err := p.not()
	for err == nil && p.keyword("and") {
		var r expr
		if r, err = p.not(); err == nil {
			l = binary{"and", l, r}
		}
	}
	return l, err
}

func (p *qparser) not() (expr, error) {
	if p.keyword("not") {
		e, err := p.not()
		return not{e}, err
	}
	return p.comparison()
}

func (p *qparser) comparison() (expr, error) {
	l, err := p.sum()
	if err != nil {
		return nil, err
	}
	p.skip()
	for _, op := range []string{"=~", "!=", "<=", ">=", "=", "<", ">"} {
		if !p.accept(op) {
			continue
		}
		if op == "=~" {
			return p.likeRest(l, false)
		}
		r, err := p.sum()
		return binary{op, l, r}, err
	}
	save := p.pos
	negate := p.keyword("not")
	switch {
	case p.keyword("like"):
		return p.likeRest(l, negate)
	case p.keyword("in"):
		return p.inRest(l, negate)
	}
	p.pos = save
	return l, nil
}

// likeRest reads what follows like: a "substring" or a /regular expression/.
func (p *qparser) likeRest(l expr, negate bool) (expr, error) {
	p.skip()
	start := p.pos
	switch p.peek() {
	case '/':
		body, err := p.delimited('/')
		if err != nil {
			return nil, err
		}
		re, err := compileRegex(body, start+1)
		if err != nil {
			return nil, err
		}
		return match{e: l, test: re.MatchString, negate: negate}, nil
	case '"', '\'':
		text, err := p.quoted(p.peek())
		return match{l, func(s string) bool { return strings.Contains(s, text) }, negate, "contains", []any{text}}, err
	}
	return nil, p.errorf(start, "expected a quoted text or a /regular expression/")
}

func (p *qparser) inRest(l expr, negate bool) (expr, error) {
	p.skip()
	if !p.accept("[") {
		return nil, p.errorf(p.pos, "expected [ and a list of values")
	}
	set := map[string]bool{}
	var texts []any
	for {
		v, err := p.primary()
		if err != nil {
			return nil, err
		}
		lit, ok := v.(literal)
		if !ok {
			return nil, p.errorf(p.pos, "the list of in holds values, not fields")
		}
		set[Render(lit.v)] = true
		texts = append(texts, Render(lit.v))
		p.skip()
		if p.accept("]") {
			return match{l, func(s string) bool { return set[s] }, negate, "in", texts}, nil
		}
		if !p.accept(",") {
			return nil, p.errorf(p.pos, "expected , or ]")
		}
	}
}

func (p *qparser) sum() (expr, error) {
	l, err := p.product()
	for err == nil {
		p.skip()
		op := p.peek()
		if op != '+' && op != '-' {
			break
		}
		p.pos++
		var r expr
		if r, err = p.product(); err == nil {
			l = binary{string(op), l, r}
		}
	}
	return l, err
}

func (p *qparser) product() (expr, error) {
	l, err := p.power()
	for err == nil {
		p.skip()
		op := p.peek()
		if op != '*' && op != '/' && op != '%' {
			break
		}
		p.pos++
		var r expr
		if r, err = p.power(); err == nil {
			l = binary{string(op), l, r}
		}
	}
	return l, err
}

func (p *qparser) power() (expr, error) {
	l, err := p.unary()
	if err == nil && p.skipThen('^') {
		var r expr
		if r, err = p.power(); err == nil {
			l = binary{"^", l, r}
		}
	}
	return l, err
}

func (p *qparser) skipThen(c byte) bool {
	p.skip()
	if p.peek() == c {
		p.pos++
		return true
	}
	return false
}

func (p *qparser) unary() (expr, error) {
	if p.skipThen('-') {
		e, err := p.unary()
		return binary{"-", literal{0.0}, e}, err
	}
	return p.primary()
}

// maxDepth bounds nested parentheses and calls.
const maxDepth = 64

func (p *qparser) primary() (expr, error) {
	p.skip()
	start := p.pos
	if p.depth >= maxDepth {
		return nil, p.errorf(start, "expressions nest more than %d deep", maxDepth)
	}
	switch c := p.peek(); {
	case c == '(':
		p.pos++
		p.depth++
		e, err := p.expr()
		p.depth--
		if err != nil {
			return nil, err
		}
		if !p.skipThen(')') {
			return nil, p.errorf(p.pos, "expected )")
		}
		return e, nil
	case c == '"' || c == '\'':
		s, err := p.quoted(c)
		return literal{s}, err
	case c >= '0' && c <= '9' || c == '.':
		text := p.while(func(c byte) bool { return c >= '0' && c <= '9' || c == '.' })
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, p.errorf(start, "%q is not a number", text)
		}
		if unit := p.while(isWordByte); unit != "" {
			d, ok := periods[strings.ToLower(unit)]
			if !ok {
				return nil, p.errorf(start, "unknown time unit %q: use ms, s, m, h, d or w", unit)
			}
			return literal{f * d}, nil
		}
		return literal{f}, nil
	case c == '`' || isIdentByte(c):
		name, err := p.field()
		if err != nil {
			return nil, err
		}
		if p.peek() != '(' {
			return fieldRef(name), nil
		}
		return p.callRest(start, name)
	}
	return nil, p.errorf(start, "expected a field, a value or a function")
}

// periods are bin()'s units in milliseconds.
var periods = map[string]float64{"ms": 1, "s": 1e3, "sec": 1e3, "m": 60e3, "min": 60e3, "h": 3600e3, "hr": 3600e3, "d": 86400e3, "w": 7 * 86400e3}

func (p *qparser) callRest(start int, name string) (expr, error) {
	p.pos++ // (
	var args []expr
	p.depth++
	defer func() { p.depth-- }()
	if !p.skipThen(')') {
		for {
			a, err := p.expr()
			if err != nil {
				return nil, err
			}
			args = append(args, a)
			if p.skipThen(')') {
				break
			}
			if !p.skipThen(',') {
				return nil, p.errorf(p.pos, "expected , or )")
			}
		}
	}
	f, ok := functions[strings.ToLower(name)]
	if !ok {
		return nil, p.errorf(start, "unknown function %q", name)
	}
	if len(args) < f.min || (f.max >= 0 && len(args) > f.max) {
		return nil, p.errorf(start, "%s takes %s", name, f.arity())
	}
	if strings.EqualFold(name, "bin") {
		args = append(args, fieldRef("@timestamp"))
	}
	return call{strings.ToLower(name), f.fn, args}, nil
}

type function struct {
	min, max int // max -1: any number
	fn       func(args []any) any
}

func (f function) arity() string {
	switch {
	case f.max < 0:
		return "at least " + strconv.Itoa(f.min) + " arguments"
	case f.min == f.max:
		return strconv.Itoa(f.min) + " arguments"
	}
	return strconv.Itoa(f.min) + " to " + strconv.Itoa(f.max) + " arguments"
}

func text(v any) string { return Render(v) }

func numeric(fn func(float64) float64) func([]any) any {
	return func(a []any) any {
		if x, ok := number(a[0]); ok {
			return fn(x)
		}
		return nil
	}
}

func textual(fn func(string) any) func([]any) any {
	return func(a []any) any {
		if a[0] == nil {
			return nil
		}
		return fn(text(a[0]))
	}
}

// floorTime floors a time (or epoch milliseconds) to a period in milliseconds.
func floorTime(t, period any) any {
	ms, ok1 := number(t)
	p, ok2 := number(period)
	if !ok1 || !ok2 || p <= 0 {
		return nil
	}
	return Time(math.Floor(ms/p) * p)
}

var functions = map[string]function{
	"ispresent": {1, 1, func(a []any) any { return a[0] != nil }},
	"isempty":   {1, 1, func(a []any) any { return a[0] == nil || text(a[0]) == "" }},
	"isblank":   {1, 1, func(a []any) any { return a[0] == nil || strings.TrimSpace(text(a[0])) == "" }},
	"coalesce": {1, -1, func(a []any) any {
		for _, v := range a {
			if v != nil {
				return v
			}
		}
		return nil
	}},
	"concat": {1, -1, func(a []any) any {
		var b strings.Builder
		for _, v := range a {
			b.WriteString(text(v))
		}
		return b.String()
	}},
	"strlen":      {1, 1, textual(func(s string) any { return float64(len([]rune(s))) })},
	"toupper":     {1, 1, textual(func(s string) any { return strings.ToUpper(s) })},
	"tolower":     {1, 1, textual(func(s string) any { return strings.ToLower(s) })},
	"trim":        {1, 1, textual(func(s string) any { return strings.TrimSpace(s) })},
	"ltrim":       {1, 1, textual(func(s string) any { return strings.TrimLeft(s, " \t\r\n") })},
	"rtrim":       {1, 1, textual(func(s string) any { return strings.TrimRight(s, " \t\r\n") })},
	"strcontains": {2, 2, func(a []any) any { return a[0] != nil && strings.Contains(text(a[0]), text(a[1])) }},
	"replace": {3, 3, func(a []any) any {
		if a[0] == nil {
			return nil
		}
		return strings.ReplaceAll(text(a[0]), text(a[1]), text(a[2]))
	}},
	"abs":        {1, 1, numeric(math.Abs)},
	"ceil":       {1, 1, numeric(math.Ceil)},
	"floor":      {1, 1, numeric(math.Floor)},
	"sqrt":       {1, 1, numeric(math.Sqrt)},
	"log":        {1, 1, numeric(math.Log)},
	"bin":        {1, 1, func(a []any) any { return floorTime(a[1], a[0]) }}, // the parser adds @timestamp
	"datefloor":  {2, 2, func(a []any) any { return floorTime(a[0], a[1]) }},
	"frommillis": {1, 1, func(a []any) any { return floorTime(a[0], 1.0) }},
	"tomillis": {1, 1, func(a []any) any {
		if x, ok := number(a[0]); ok {
			return x
		}
		return nil
	}},
}
