package logsearch

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Logs Insights queries: commands joined by |, run in order over a table of records.
// ParseQuery compiles one; Query.Run evaluates it over rows. The subset: fields, display,
// filter, parse (glob or regular expression with named captures), stats (count, sum, avg,
// min, max, pct, count_distinct, earliest, latest, by fields and bin()), sort, limit, dedup.

// Query is a compiled Logs Insights query. It is safe for concurrent use.
type Query struct {
	stages  []stage
	display []string // the output's fields: the last display, else the fields named by fields
}

// stage is one command: it turns a table into the next.
type stage interface {
	apply(rows []Row) []Row
}

// maxQueryLength is the longest query accepted, as StartQuery allows.
const maxQueryLength = 10_000

// ParseQuery compiles a Logs Insights query; its errors are *Error with the offending range.
func ParseQuery(src string) (*Query, error) {
	if len(src) > maxQueryLength {
		return nil, &Error{Start: maxQueryLength, End: len(src), Msg: "a query is at most 10000 characters"}
	}
	p := &qparser{scanner: scanner{src: stripComments(src)}}
	q := &Query{}
	var fieldsNamed []string
	for {
		p.skip()
		if p.eof() {
			break
		}
		start := p.pos
		cmd := strings.ToLower(p.while(isIdentByte))
		var err error
		var st stage
		switch cmd {
		case "fields":
			var f *fieldsStage
			f, err = p.fields()
			if err == nil {
				st = f
				fieldsNamed = append(fieldsNamed, f.names...)
			}
		case "display":
			var names []string
			names, err = p.fieldList()
			q.display = names
		case "filter":
			var e expr
			e, err = p.expr()
			st = filterStage{e}
		case "parse":
			st, err = p.parse()
		case "stats":
			var s *statsStage
			s, err = p.stats()
			if err == nil {
				st = s
				fieldsNamed = s.outputs()
			}
		case "sort":
			st, err = p.sort()
		case "limit":
			var n int
			n, err = p.int()
			st = limitStage(n)
		case "dedup":
			var names []string
			names, err = p.fieldList()
			st = dedupStage(names)
		case "":
			return nil, p.errorf(start, "expected a command such as fields, filter or stats")
		default:
			return nil, p.errorf(start, "unknown command %q", cmd)
		}
		if err != nil {
			return nil, err
		}
		if st != nil {
			q.stages = append(q.stages, st)
		}
		p.skip()
		if !p.eof() && !p.accept("|") {
			return nil, p.errorf(p.pos, "expected | before the next command")
		}
	}
	if q.display == nil {
		q.display = fieldsNamed
	}
	return q, nil
}

// stripComments blanks # comments (to the end of their line) outside quotes, keeping
// offsets.
func stripComments(src string) string {
	b := []byte(src)
	var quote byte
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`' || c == '/':
			quote = c
		case c == '#':
			for ; i < len(b) && b[i] != '\n'; i++ {
				b[i] = ' '
			}
		}
	}
	return string(b)
}

// Fields returns the fields the query's output shows, in order; nil means the defaults
// (@timestamp and @message).
func (q *Query) Fields() []string { return q.display }

// HasStats reports a query whose rows are aggregates (they have no @ptr).
func (q *Query) HasStats() bool {
	for _, s := range q.stages {
		if _, ok := s.(*statsStage); ok {
			return true
		}
	}
	return false
}

// GroupedBy returns the names of the groupings of the query's last stats, the fields its
// rows are keyed by; nil when it has no stats.
func (q *Query) GroupedBy() []string {
	var names []string
	for _, s := range q.stages {
		if st, ok := s.(*statsStage); ok {
			names = []string{}
			for _, g := range st.by {
				names = append(names, g.name)
			}
		}
	}
	return names
}

// Newest reports a query whose answer is the first rows that pass it in the order they are
// read, newest first, so that reading may stop once there are enough of them: its stages are
// fields, parse and filter (which look at one row at a time), sorts by @timestamp desc (the
// order read) and at most one limit, the last stage, whose count it returns (0 without one).
// filtered says whether some row may not pass. Run gives such a query's answer a batch of
// rows at a time: the answers of consecutive batches, joined, are the answer of them all.
func (q *Query) Newest() (limit int, filtered, ok bool) {
	for i, s := range q.stages {
		switch s := s.(type) {
		case filterStage:
			filtered = true
		case *fieldsStage:
			if k := slices.Index(s.names, "@timestamp"); k >= 0 && s.exprs[k] != fieldRef("@timestamp") {
				return 0, false, false // the order read is no longer by @timestamp
			}
		case *parseStage:
			if slices.Contains(s.names, "@timestamp") {
				return 0, false, false
			}
		case sortStage:
			if len(s) != 1 || s[0].e != fieldRef("@timestamp") || !s[0].desc {
				return 0, false, false
			}
		case limitStage:
			if i != len(q.stages)-1 {
				return 0, false, false
			}
			limit = int(s)
		default:
			return 0, false, false
		}
	}
	return limit, filtered, true
}

// Run evaluates the query over rows (newest first, as Insights orders by default). matched
// counts the rows that passed its filters: those that reached its first stats, limit or
// dedup, or its end.
func (q *Query) Run(rows []Row) (out []Row, matched int) {
	r := q.Start(0)
	r.Add(rows)
	return r.Finish()
}

// qparser reads a query.
type qparser struct {
	scanner
	depth int // of parentheses and calls, bounded by maxDepth
}

func isIdentByte(c byte) bool { return isWordByte(c) || c == '@' || c == '.' || c == '$' }

// skip passes spaces.
func (p *qparser) skip() { p.skipSpace() }

func (p *qparser) keyword(w string) bool {
	p.skip()
	return p.acceptWord(w)
}

// field reads a field name: letters, digits, _ @ . $, or any text in backquotes.
func (p *qparser) field() (string, error) {
	p.skip()
	start := p.pos
	if p.peek() == '`' {
		name, err := p.quoted('`')
		if err == nil && name == "" {
			err = p.errorf(start, "a field name is missing between the backquotes")
		}
		return name, err
	}
	name := p.while(isIdentByte)
	if name == "" {
		return "", p.errorf(start, "expected a field name")
	}
	return name, nil
}

func (p *qparser) fieldList() ([]string, error) {
	var names []string
	for {
		n, err := p.field()
		if err != nil {
			return nil, err
		}
		names = append(names, n)
		p.skip()
		if !p.accept(",") {
			return names, nil
		}
	}
}

func (p *qparser) int() (int, error) {
	p.skip()
	start := p.pos
	n, err := strconv.Atoi(p.while(func(c byte) bool { return c >= '0' && c <= '9' }))
	if err != nil || n < 1 || n > 10_000 {
		return 0, p.errorf(start, "expected a number of rows from 1 to 10000")
	}
	return n, nil
}

// fields: fields expr [as name], ...
type fieldsStage struct {
	names []string
	exprs []expr
}

func (p *qparser) fields() (*fieldsStage, error) {
	f := &fieldsStage{}
	for {
		p.skip()
		start := p.pos
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		name := strings.TrimSpace(p.src[start:p.pos])
		if fr, ok := e.(fieldRef); ok {
			name = string(fr)
		}
		if p.keyword("as") {
			if name, err = p.field(); err != nil {
				return nil, err
			}
		}
		f.names, f.exprs = append(f.names, name), append(f.exprs, e)
		p.skip()
		if !p.accept(",") {
			return f, nil
		}
	}
}

func (f *fieldsStage) apply(rows []Row) []Row {
	for _, r := range rows {
		for i, e := range f.exprs {
			if v := e.eval(r); v != nil {
				r[f.names[i]] = v
			}
		}
	}
	return rows
}

type filterStage struct{ cond expr }

func (f filterStage) apply(rows []Row) []Row {
	out := rows[:0]
	for _, r := range rows {
		if truthy(f.cond.eval(r)) {
			out = append(out, r)
		}
	}
	return out
}

// parse: parse field "glob * with * stars" as a, b | parse field /(?<name>re)/
type parseStage struct {
	from  string
	re    *regexp.Regexp
	names []string // capture i+1 becomes names[i]
}

func (p *qparser) parse() (stage, error) {
	from, err := p.field()
	if err != nil {
		return nil, err
	}
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
		names := re.SubexpNames()[1:]
		for _, n := range names {
			if n == "" {
				return nil, p.errorf(start, "every group of a parse expression must be named: (?<name>...)")
			}
		}
		return &parseStage{from: from, re: re, names: names}, nil
	case '"', '\'':
		glob, err := p.quoted(p.peek())
		if err != nil {
			return nil, err
		}
		parts := strings.Split(glob, "*")
		for i := range parts {
			// Quoted valid UTF-8 always compiles; invalid bytes read as stored text has them.
			parts[i] = regexp.QuoteMeta(strings.ToValidUTF8(parts[i], "\uFFFD"))
		}
		re := regexp.MustCompile("(?s)" + strings.Join(parts, "(.*?)"))
		if !p.keyword("as") {
			return nil, p.errorf(p.pos, "expected as and the names of the * captures")
		}
		names, err := p.fieldList()
		if err != nil {
			return nil, err
		}
		if len(names) != len(parts)-1 {
			return nil, p.errorf(start, "the pattern has %d * but %d names follow as", len(parts)-1, len(names))
		}
		return &parseStage{from: from, re: re, names: names}, nil
	}
	return nil, p.errorf(start, "expected a quoted pattern with * or a /regular expression/")
}

func (s *parseStage) apply(rows []Row) []Row {
	for _, r := range rows {
		text, ok := r[s.from].(string)
		if !ok {
			continue
		}
		m := s.re.FindStringSubmatch(text)
		for i, n := range s.names {
			if m != nil {
				r[n] = m[i+1]
			}
		}
	}
	return rows
}

type limitStage int

func (n limitStage) apply(rows []Row) []Row { return rows[:min(len(rows), int(n))] }

// dedup keeps the first row of each combination of the fields' values; rows missing one of
// them are not duplicates of anything.
type dedupStage []string

func (d dedupStage) apply(rows []Row) []Row {
	seen := map[string]bool{}
	out := rows[:0]
	for _, r := range rows {
		var key strings.Builder
		missing := false
		for _, f := range d {
			missing = missing || r[f] == nil
			key.WriteString(Render(r[f]))
			key.WriteByte(0)
		}
		if missing {
			out = append(out, r)
		} else if !seen[key.String()] {
			seen[key.String()] = true
			out = append(out, r)
		}
	}
	return out
}
