package logsearch

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Filter is a compiled CloudWatch Logs filter pattern. It is safe for concurrent use.
type Filter struct {
	match    func(msg string) bool
	literals []string
}

// Match reports whether a log message matches the pattern.
func (f *Filter) Match(msg string) bool { return f.match(msg) }

// Literals are texts that every matching message contains, for a store to narrow its search
// before Match decides (nil when the pattern names none).
func (f *Filter) Literals() []string { return f.literals }

// MaxFilterLength is the longest pattern accepted, as CloudWatch Logs allows.
const MaxFilterLength = 1024

// ParseFilter compiles a filter pattern. The empty pattern, and " " in quotes, match every
// message. A pattern is one of:
//
//	ERROR "Internal Error" ?WARN -DEBUG %time[oa]ut%   terms: all plain terms, else any ?-term;
//	                                                   no -term; case-sensitive substrings
//	{ ($.status >= 500 || $.level = "ERR*") && $.user.id NOT EXISTS }   JSON messages
//	[ip, user, ..., status = 5* || status = 429, bytes > 1000]          space-delimited fields
func ParseFilter(pattern string) (*Filter, error) {
	if len(pattern) > MaxFilterLength {
		return nil, &Error{Start: MaxFilterLength, End: len(pattern), Msg: "a filter pattern is at most 1024 characters"}
	}
	if !utf8.ValidString(pattern) {
		return nil, &Error{Msg: "the filter pattern is not valid UTF-8"}
	}
	s := &scanner{src: pattern}
	s.skipSpace()
	trimmed := strings.TrimSpace(pattern)
	switch {
	case trimmed == "" || trimmed == `" "`:
		return &Filter{match: func(string) bool { return true }}, nil
	case s.peek() == '{':
		return parseJSONFilter(s)
	case s.peek() == '[':
		return parseDelimitedFilter(s)
	}
	return parseTermFilter(s)
}

// term is one term of an unstructured pattern: a text or a regular expression.
type term struct {
	text string
	re   *regexp.Regexp
}

func (t term) in(msg string) bool {
	if t.re != nil {
		return t.re.MatchString(msg)
	}
	return strings.Contains(msg, t.text)
}

func parseTermFilter(s *scanner) (*Filter, error) {
	var must, any, not []term
	for s.skipSpace(); !s.eof(); s.skipSpace() {
		start := s.pos
		list := &must
		switch s.peek() {
		case '?':
			list = &any
			s.pos++
		case '-':
			list = &not
			s.pos++
		}
		t, err := readTerm(s)
		if err != nil {
			return nil, err
		}
		if t.re == nil && t.text == "" {
			return nil, s.errorf(start, "a term is missing here")
		}
		*list = append(*list, t)
	}
	f := &Filter{}
	for _, t := range must {
		if t.re == nil {
			f.literals = append(f.literals, t.text)
		}
	}
	f.match = func(msg string) bool {
		for _, t := range must {
			if !t.in(msg) {
				return false
			}
		}
		// ?-terms count only in a pattern without plain terms, as CloudWatch Logs has it.
		if len(must) == 0 && len(any) > 0 {
			found := false
			for _, t := range any {
				if t.in(msg) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		for _, t := range not {
			if t.in(msg) {
				return false
			}
		}
		return true
	}
	return f, nil
}

// readTerm reads a quoted phrase, a %regex% or a bare word.
func readTerm(s *scanner) (term, error) {
	switch s.peek() {
	case '"':
		text, err := s.quoted('"')
		return term{text: text}, err
	case '%':
		at := s.pos + 1
		expr, err := s.delimited('%')
		if err != nil {
			return term{}, err
		}
		if expr == "" {
			return term{}, s.errorf(at-1, "the regular expression is empty")
		}
		re, err := compileRegex(expr, at)
		return term{re: re}, err
	}
	return term{text: s.while(func(c byte) bool { return !isSpace(c) && c != '"' })}, nil
}
