package logsearch

import "strings"

// Space-delimited filter patterns: [ip, user, ..., status = 5* || status = 429, bytes > 1000].
// A message is split into fields at whitespace; text in [brackets] or "quotes" is one field
// (without them). Each named field takes one field of the message, in order, and "..." any
// number; without "..." the counts must be equal. A field's conditions compare it alone.

// delimField is one element of the pattern: an ellipsis, or a field with an optional
// condition.
type delimField struct {
	ellipsis bool
	cond     func(field string) bool // nil: any value
}

func parseDelimitedFilter(s *scanner) (*Filter, error) {
	s.pos++ // [
	var fields []delimField
	for {
		s.skipSpace()
		start := s.pos
		if s.accept("...") {
			fields = append(fields, delimField{ellipsis: true})
		} else {
			f, err := parseDelimField(s)
			if err != nil {
				return nil, err
			}
			fields = append(fields, f)
		}
		s.skipSpace()
		if s.accept("]") {
			break
		}
		if !s.accept(",") {
			return nil, s.errorf(max(s.pos, start), "expected , or ]")
		}
	}
	s.skipSpace()
	if !s.eof() {
		return nil, s.errorf(s.pos, "nothing may follow the closing ]")
	}
	return &Filter{match: func(msg string) bool { return matchFields(fields, splitFields(msg)) }}, nil
}

func parseDelimField(s *scanner) (delimField, error) {
	start := s.pos
	name := fieldName(s)
	if name == "" {
		return delimField{}, s.errorf(start, "expected a field name or ...")
	}
	s.skipSpace()
	if c := s.peek(); c == ',' || c == ']' {
		return delimField{}, nil
	}
	// cond := cmp ( (&& | ||) name cmp )*, && binding tighter than ||.
	var or []func(string) bool
	and, err := fieldComparison(s)
	if err != nil {
		return delimField{}, err
	}
	for {
		s.skipSpace()
		var isAnd bool
		switch {
		case s.accept("&&"):
			isAnd = true
		case s.accept("||"):
		default:
			or = append(or, and)
			return delimField{cond: anyOf(or)}, nil
		}
		s.skipSpace()
		at := s.pos
		if other := fieldName(s); other != name {
			return delimField{}, s.errorf(at, "a condition on the field %q must name it again, not %q", name, other)
		}
		s.skipSpace()
		next, err := fieldComparison(s)
		if err != nil {
			return delimField{}, err
		}
		if isAnd {
			prev := and
			and = func(f string) bool { return prev(f) && next(f) }
		} else {
			or, and = append(or, and), next
		}
	}
}

func anyOf(conds []func(string) bool) func(string) bool {
	if len(conds) == 1 {
		return conds[0]
	}
	return func(f string) bool {
		for _, c := range conds {
			if c(f) {
				return true
			}
		}
		return false
	}
}

func fieldName(s *scanner) string {
	return s.while(func(c byte) bool { return isWordByte(c) || c == '$' || c == '-' })
}

func fieldComparison(s *scanner) (func(string) bool, error) {
	op, err := readOperator(s)
	if err != nil {
		return nil, err
	}
	s.skipSpace()
	v, err := readValue(s)
	if err != nil {
		return nil, err
	}
	return func(field string) bool { return v.compare(op, field, false) }, nil
}

var closers = [256]byte{'[': ']', '"': '"'}

// splitFields splits a message at whitespace, keeping [bracketed] and "quoted" text whole.
func splitFields(msg string) []string {
	var fields []string
	for i := 0; i < len(msg); {
		if isSpace(msg[i]) {
			i++
			continue
		}
		if close := closers[msg[i]]; close != 0 {
			if end := strings.IndexByte(msg[i+1:], close); end >= 0 {
				fields = append(fields, msg[i+1:i+1+end])
				i += end + 2
				continue
			}
		}
		start := i
		for i < len(msg) && !isSpace(msg[i]) {
			i++
		}
		fields = append(fields, msg[start:i])
	}
	return fields
}

// matchFields matches the pattern's fields against a message's. The runs of named fields
// between ellipses are found left to right, each at its first place that satisfies it, which
// decides a match as well as any other placement would; the first run is anchored at the
// start unless an ellipsis precedes it, the last at the end unless one follows it.
func matchFields(pattern []delimField, fields []string) bool {
	var runs [][]delimField
	run := []delimField{}
	for _, f := range pattern {
		if f.ellipsis {
			runs = append(runs, run)
			run = []delimField{}
			continue
		}
		run = append(run, f)
	}
	runs = append(runs, run)
	if len(runs) == 1 {
		return len(fields) == len(run) && runMatches(run, fields)
	}
	first, last := runs[0], runs[len(runs)-1]
	if len(fields) < len(first)+len(last) || !runMatches(first, fields) || !runMatches(last, fields[len(fields)-len(last):]) {
		return false
	}
	pos, end := len(first), len(fields)-len(last)
	for _, r := range runs[1 : len(runs)-1] {
		found := false
		for ; pos+len(r) <= end; pos++ {
			if runMatches(r, fields[pos:]) {
				pos += len(r)
				found = true
				break
			}
		}
		if !found && len(r) > 0 {
			return false
		}
	}
	return true
}

func runMatches(run []delimField, fields []string) bool {
	for i, f := range run {
		if f.cond != nil && !f.cond(fields[i]) {
			return false
		}
	}
	return true
}
