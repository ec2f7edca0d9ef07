package xray

import (
	"encoding/json"
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
