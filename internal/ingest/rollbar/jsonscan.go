package rollbar

// A few steps over JSON the decoder has already checked, to find where a value is in the
// bytes sent: the report is kept as it was sent, and edited in place (edits.go). They trust
// the JSON to be valid, and on any bytes stay within them.

// member is one member of an object: its key as written, quotes and escapes included, and
// where its value starts and ends.
type member struct {
	key      []byte
	from, to int
}

// members returns the members of the object that starts at doc[at] (after spaces).
func members(doc []byte, at int) (open int, ms []member, ok bool) {
	i := skipSpace(doc, at)
	if i >= len(doc) || doc[i] != '{' {
		return 0, nil, false
	}
	open = i + 1
	for i = skipSpace(doc, open); i < len(doc) && doc[i] == '"'; {
		keyEnd := skipValue(doc, i)
		from := skipSpace(doc, min(skipSpace(doc, keyEnd)+1, len(doc))) // past the colon
		to := skipValue(doc, from)
		ms = append(ms, member{key: doc[i:keyEnd], from: from, to: to})
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
	if i >= len(doc) {
		return len(doc)
	}
	switch doc[i] {
	case '"':
		for i++; i < len(doc); i++ {
			switch doc[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return len(doc)
	case '{', '[':
		depth := 0
		for ; i < len(doc); i++ {
			switch doc[i] {
			case '"':
				i = skipValue(doc, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(doc)
	}
	for i < len(doc) && doc[i] != ',' && doc[i] != '}' && doc[i] != ']' && doc[i] != ' ' && doc[i] != '\t' && doc[i] != '\n' && doc[i] != '\r' {
		i++
	}
	return i
}
