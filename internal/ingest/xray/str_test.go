package xray

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// str takes a fast path for plain strings; it must read every JSON string as encoding/json does.
func TestStrReadsAsJSONDoes(t *testing.T) {
	for _, raw := range []string{`"plain"`, `""`, `"tab\there"`, `"quote \" inside"`, `"é"`, `"\u00e9"`, "\"\xff\"",
		`"line\nbreak"`, `"emoji 😀"`, `"back\\slash"`, `"/path?x=1&y=2"`} {
		var want string
		if err := json.Unmarshal([]byte(raw), &want); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if got := str(json.RawMessage(raw)); got != want {
			t.Errorf("str(%s) = %q, want %q", raw, got, want)
		}
	}
	for _, raw := range []string{``, `"`, `12`, `null`, `{"a":1}`} {
		if got := str(json.RawMessage(raw)); got != "" {
			t.Errorf("str(%s) = %q, want empty", raw, got)
		}
	}
}

// The annotation key matcher must accept exactly what X-Ray's pattern does.
func TestAnnotationKeyMatchesPattern(t *testing.T) {
	pattern := regexp.MustCompile(`^[A-Za-z0-9_]{1,500}$`)
	for _, k := range []string{"", "a", "Z", "user_id", "page2", "_", "a-b", "a.b", "a b", "é", "@", "[", "`", "{", "/", ":",
		strings.Repeat("k", 500), strings.Repeat("k", 501)} {
		if got, want := annotationKey.MatchString(k), pattern.MatchString(k); got != want {
			t.Errorf("annotation key %q: %v, want %v", k, got, want)
		}
	}
	for c := range 256 {
		k := string([]byte{byte(c)})
		if got, want := annotationKey.MatchString(k), pattern.MatchString(k); got != want {
			t.Errorf("annotation key %q: %v, want %v", k, got, want)
		}
	}
}
