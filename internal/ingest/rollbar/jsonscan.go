package rollbar

import "bytes"

// A few steps over JSON, to find where a value is in the bytes sent (the report is kept as it
// was sent, and edited in place: edits.go) and how deeply a payload nests before it is
// decoded. Their answers are exact on valid JSON; on any bytes they stay within them.

// member is one member of an object: its key as written, quotes and escapes included,
// where its value starts and ends, and how many arrays and objects deep the value nests.
type member struct {
	key      []byte
	from, to int
	depth    int
}

// members returns the members of the object that starts at doc[at] (after spaces).
func members(doc []byte, at int) (open int, ms []member, ok bool) {
	i := skipSpace(doc, at)
	if i >= len(doc) || doc[i] != '{' {
		return 0, nil, false
	}
	open = i + 1
	ms = make([]member, 0, 16) // a report's top level has about a dozen
	for i = skipSpace(doc, open); i < len(doc) && doc[i] == '"'; {
		keyEnd := skipValue(doc, i)
		from := skipSpace(doc, min(skipSpace(doc, keyEnd)+1, len(doc))) // past the colon
		to, depth := nesting(doc, from)
		ms = append(ms, member{key: doc[i:keyEnd], from: from, to: to, depth: depth})
		if i = skipSpace(doc, to); i < len(doc) && doc[i] == ',' {
			i = skipSpace(doc, i+1)
		}
	}
	return open, ms, true
}

// lastMember returns the value of the object's last member named key (the one a decoder
// keeps), and whether it has one.
func lastMember(ms []member, key string) (member, bool) {
	for i := len(ms) - 1; i >= 0; i-- {
		if string(ms[i].key) == `"`+key+`"` {
			return ms[i], true
		}
	}
	return member{}, false
}

func skipSpace(doc []byte, i int) int {
	for i < len(doc) && (doc[i] == ' ' || doc[i] == '\t' || doc[i] == '\n' || doc[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns where the value that starts at doc[i] ends.
func skipValue(doc []byte, i int) int {
	end, _ := nesting(doc, i)
	return end
}

// nesting returns where the value that starts at doc[i] ends, and how many arrays and
// objects deep it nests.
func nesting(doc []byte, i int) (end, depth int) {
	if i >= len(doc) {
		return len(doc), 0
	}
	switch doc[i] {
	case '"':
		return stringEnd(doc, i), 0
	case '{', '[':
		level := 0
		for ; i < len(doc); i++ {
			switch doc[i] {
			case '"':
				i = stringEnd(doc, i) - 1
			case '{', '[':
				level++
				depth = max(depth, level)
			case '}', ']':
				if level--; level == 0 {
					return i + 1, depth
				}
			}
		}
		return len(doc), depth
	}
	for i < len(doc) && doc[i] != ',' && doc[i] != '}' && doc[i] != ']' && doc[i] != ' ' && doc[i] != '\t' && doc[i] != '\n' && doc[i] != '\r' {
		i++
	}
	return i, 0
}

// stringEnd returns where the string that starts at doc[open] ends: past the first quote
// that an even number of backslashes precede.
func stringEnd(doc []byte, open int) int {
	for i := open + 1; ; i++ {
		q := bytes.IndexByte(doc[i:], '"')
		if q < 0 {
			return len(doc)
		}
		i += q
		escapes := 0
		for j := i - 1; j > open && doc[j] == '\\'; j-- {
			escapes++
		}
		if escapes%2 == 0 {
			return i + 1
		}
	}
}
