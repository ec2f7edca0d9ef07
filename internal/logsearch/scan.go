// Package logsearch is lookout's log search languages, independent of any store: CloudWatch
// Logs filter patterns (ParseFilter: terms, phrases, regular expressions, JSON and
// space-delimited patterns) and Logs Insights queries (ParseQuery, run over rows of fields,
// with JSON fields discovered by DiscoverJSON). Regular expressions are Go's (RE2): their
// matching time is linear in the input, whatever the pattern.
package logsearch

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Error is a syntax error, with the byte offsets of the text it concerns.
type Error struct {
	Start, End int
	Msg        string
}

func (e *Error) Error() string { return fmt.Sprintf("at character %d: %s", e.Start+1, e.Msg) }

// scanner reads a pattern or query.
type scanner struct {
	src string
	pos int
}

func (s *scanner) errorf(start int, format string, args ...any) *Error {
	end := max(s.pos, start+1)
	return &Error{Start: start, End: min(end, max(len(s.src), start+1)), Msg: fmt.Sprintf(format, args...)}
}

func (s *scanner) eof() bool { return s.pos >= len(s.src) }

func (s *scanner) peek() byte {
	if s.eof() {
		return 0
	}
	return s.src[s.pos]
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (s *scanner) skipSpace() {
	for !s.eof() && isSpace(s.src[s.pos]) {
		s.pos++
	}
}

// accept consumes tok if the input continues with it.
func (s *scanner) accept(tok string) bool {
	if strings.HasPrefix(s.src[s.pos:], tok) {
		s.pos += len(tok)
		return true
	}
	return false
}

// acceptWord consumes a keyword (case-insensitive) that is not followed by a word character.
func (s *scanner) acceptWord(word string) bool {
	end := s.pos + len(word)
	if end > len(s.src) || !strings.EqualFold(s.src[s.pos:end], word) || (end < len(s.src) && isWordByte(s.src[end])) {
		return false
	}
	s.pos = end
	return true
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// quoted reads a string in quote (the opening quote at pos), with backslash escapes.
func (s *scanner) quoted(quote byte) (string, error) {
	start := s.pos
	s.pos++
	var b strings.Builder
	for !s.eof() {
		c := s.src[s.pos]
		switch {
		case c == quote:
			s.pos++
			return b.String(), nil
		case c == '\\' && s.pos+1 < len(s.src):
			s.pos++
			b.WriteByte(s.src[s.pos])
		default:
			b.WriteByte(c)
		}
		s.pos++
	}
	return "", s.errorf(start, "the text from here has no closing %c", quote)
}

// delimited reads text up to the next unescaped close (the opening delimiter at pos) and
// returns it as written, escapes included.
func (s *scanner) delimited(close byte) (string, error) {
	start := s.pos
	s.pos++
	for !s.eof() {
		c := s.src[s.pos]
		if c == '\\' && s.pos+1 < len(s.src) {
			s.pos += 2
			continue
		}
		s.pos++
		if c == close {
			return s.src[start+1 : s.pos-1], nil
		}
	}
	return "", s.errorf(start, "the expression from here has no closing %c", close)
}

// while reads the longest run of bytes for which ok holds.
func (s *scanner) while(ok func(c byte) bool) string {
	start := s.pos
	for !s.eof() && ok(s.src[s.pos]) {
		s.pos++
	}
	return s.src[start:s.pos]
}

// compileRegex compiles a regular expression of a pattern or query (RE2 syntax).
func compileRegex(expr string, at int) (*regexp.Regexp, error) {
	if !utf8.ValidString(expr) {
		return nil, &Error{Start: at, End: at + len(expr), Msg: "the regular expression is not valid UTF-8"}
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, &Error{Start: at, End: at + len(expr), Msg: "invalid regular expression: " + strings.TrimPrefix(err.Error(), "error parsing regexp: ")}
	}
	return re, nil
}

// glob matches text against a pattern in which * stands for any run of characters; it is
// compiled to a regular expression, so matching stays linear.
type glob struct {
	literal string
	re      *regexp.Regexp // nil when the pattern has no *
}

func newGlob(pattern string) glob {
	if !strings.Contains(pattern, "*") {
		return glob{literal: pattern}
	}
	parts := strings.Split(pattern, "*")
	for i, p := range parts {
		// Quoted valid UTF-8 always compiles; invalid bytes read as stored text has them.
		parts[i] = regexp.QuoteMeta(strings.ToValidUTF8(p, "\uFFFD"))
	}
	return glob{re: regexp.MustCompile("^(?s:" + strings.Join(parts, ".*") + ")$")}
}

func (g glob) match(s string) bool {
	if g.re == nil {
		return s == g.literal
	}
	return g.re.MatchString(s)
}
