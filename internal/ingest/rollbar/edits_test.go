package rollbar

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestSetValue(t *testing.T) {
	cases := []struct {
		doc  string
		path []string
		want string // "" for an error
	}{
		{`{}`, []string{"uuid"}, `{"uuid":"v"}`},
		{` { "a" : 1 } `, []string{"uuid"}, ` {"uuid":"v", "a" : 1 } `},
		{`{"uuid" : null,"b":[{"uuid":2}]}`, []string{"uuid"}, `{"uuid" : "v","b":[{"uuid":2}]}`},
		{`{"request":{"x":{"user_ip":1},"user_ip":"a, b"}}`, []string{"request", "user_ip"}, `{"request":{"x":{"user_ip":1},"user_ip":"v"}}`},
		{`{"request":{}}`, []string{"request", "user_ip"}, `{"request":{"user_ip":"v"}}`},
		{`{"a":"}\\\"{[","b":[{"}":"]"}],"uuid":1.5e3}`, []string{"uuid"}, `{"a":"}\\\"{[","b":[{"}":"]"}],"uuid":"v"}`},
		{`{"uuid":1,"uuid":2}`, []string{"uuid"}, `{"uuid":1,"uuid":"v"}`},
		{`{"request":[1]}`, []string{"request", "user_ip"}, ""},
		{`{"Request":{"user_ip":"a"}}`, []string{"request", "user_ip"}, ""},
	}
	for _, c := range cases {
		got, err := setValue([]byte(c.doc), c.path, []byte(`"v"`))
		if c.want == "" && err == nil || c.want != "" && string(got) != c.want {
			t.Errorf("setValue(%s, %v) = %s, %v; want %s", c.doc, c.path, got, err, c.want)
		}
	}
}

// FuzzMembers checks that the scan of an object stays within any bytes, valid JSON or not.
func FuzzMembers(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":{"c":[1,"}"]}}`))
	f.Add([]byte(`{"a"`))
	f.Add([]byte(`{"a":"\`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		_, ms, _ := members(doc, 0)
		for _, m := range ms {
			if m.from > m.to || m.to > len(doc) {
				t.Fatalf("member %q at %d:%d of %d bytes", m.key, m.from, m.to, len(doc))
			}
		}
	})
}

// FuzzNesting checks the scan that measures a payload's depth against the decoder: on valid
// JSON it ends where the value ends and counts the arrays and objects the decoder finds.
func FuzzNesting(f *testing.F) {
	f.Add([]byte(`{"a":[1,{"b":"]\\\""}],"c":{}}`))
	f.Add([]byte(`[[[]],{"x":[[["\\\\"]]]}]`))
	f.Add([]byte(`"a\\"`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		end, depth := nesting(doc, 0)
		if end < 0 || end > len(doc) {
			t.Fatalf("end %d of %d bytes", end, len(doc))
		}
		if !json.Valid(doc) || len(bytes.TrimSpace(doc)) != len(doc) {
			return
		}
		if want := decodedDepth(doc); end != len(doc) || depth != want {
			t.Fatalf("nesting(%s) = %d, %d; want %d, %d", doc, end, depth, len(doc), want)
		}
	})
}

// decodedDepth is how many arrays and objects deep valid JSON nests, as the decoder reads it.
func decodedDepth(doc []byte) int {
	dec := json.NewDecoder(bytes.NewReader(doc))
	level, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return deepest
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			level++
			deepest = max(deepest, level)
		case json.Delim(']'), json.Delim('}'):
			level--
		}
	}
}
