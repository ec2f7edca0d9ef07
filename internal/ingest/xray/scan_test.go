package xray

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// scanCases are documents whose reading is easy to get wrong: escapes, duplicate keys, white
// space, characters encoding/json escapes, bad numbers and strings.
var scanCases = []string{
	`{}`, ` {"a":1} `, "{\"a\" :\t[1, 2 ,{\"b\":null}]\n}\r\n", `{"a":1,"a":2}`, `{"na\u006de":"x","name":"y"}`,
	`{"k":"<b>&amp;</b>"}`, "{\"k\":\"line\u2028sep\"}", "{\"k\":\"\xff\xfe\"}", "{\"\xff\":1}", `{"\u00e9":1,"é":2}`,
	`{"n":-0.5e+10,"m":0,"o":1E2}`, `{"n":01}`, `{"n":1.}`, `{"n":-}`, `{"n":.5}`, `{"n":1e}`, `{"s":"\x"}`, `{"s":"\u12G4"}`,
	"{\"s\":\"tab\there\"}", `{"a":1,}`, `{"a" 1}`, `{"a":1}}`, `{"a":1} x`, `[1]`, `null`, `"s"`, ``, ` `, `{`, `{"a":[1,2}`,
	`{"a":tru}`, `{"a":nul}`, `{"a":true,"b":false,"c":null}`, `{"subsegments":[{"id":"x"}],"z":{"y":[]}}`,
	`{"a":"\"quoted\" \\ \/ \b\f\n\r\t"}`,
	// as the Python SDK writes: a space after every ":" and ","
	"{\"m\": {\"q\": \"a < b && c > \\\"d\\\"\", \"sep\": \"\u2028\u2029\", \"l\": [1, {\"x\": [true, null]}, \"\\u003c \\\\\"]}, \"e\": {}}",
}

// deepCases nest as deeply as encoding/json allows, and one level more.
var deepCases = []string{
	`{"a":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`, `{"a":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
}

// TestScanReadsAsEncodingJSON checks the one-pass reading against encoding/json on the cases.
func TestScanReadsAsEncodingJSON(t *testing.T) {
	for _, doc := range append(scanCases, deepCases...) {
		checkScan(t, []byte(doc))
	}
}

// FuzzScan checks that a document is an object for the scan exactly when it is one for
// encoding/json, with the same members, and that its own document is what encoding/json
// marshals.
func FuzzScan(f *testing.F) {
	for _, doc := range scanCases {
		f.Add([]byte(doc))
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "quirks", "*.datagram"))
	for _, file := range files {
		b, _ := os.ReadFile(file)
		_, body, _ := strings.Cut(string(b), "\n")
		f.Add([]byte(body))
	}
	f.Fuzz(checkScan)
}

func checkScan(t *testing.T, doc []byte) {
	var want map[string]json.RawMessage
	wantErr := json.Unmarshal(doc, &want)
	b := &builder{}
	got, ok := b.parse(doc)
	if ok != (wantErr == nil && want != nil) {
		t.Fatalf("%q: scanned as an object %v, encoding/json: %v", doc, ok, wantErr)
	}
	if !ok {
		return
	}
	keys := map[string]bool{}
	for i := range got.len() {
		keys[string(got.at(i).key())] = true
	}
	if len(keys) != len(want) {
		t.Fatalf("%q: keys %v, encoding/json's %d", doc, keys, len(want))
	}
	for k, v := range want {
		if g := got.get(k); string(g) != string(v) {
			t.Fatalf("%q: member %q = %q, encoding/json's %q", doc, k, g, v)
		}
		checkMember(t, doc, got.find(k), 0)
	}
	delete(want, "subsegments")
	wantOwn, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if own := b.ownDocument(got, nil); own != string(wantOwn) {
		t.Fatalf("%q: own document\n%s\nencoding/json's\n%s", doc, own, wantOwn)
	}
}

// checkMember checks a member's object or array, and theirs in turn (to a depth that keeps
// the test quick), against encoding/json.
func checkMember(t *testing.T, doc []byte, m value, depth int) {
	if depth > 20 {
		return
	}
	var fields map[string]json.RawMessage
	fieldsErr := json.Unmarshal(m.raw(), &fields)
	o, ok := m.object()
	if ok != (fieldsErr == nil && fields != nil) {
		t.Fatalf("%q: %q read as an object %v, encoding/json: %v", doc, m.raw(), ok, fieldsErr)
	}
	for k, v := range fields {
		if g := o.get(k); string(g) != string(v) {
			t.Fatalf("%q: member %q of %q = %q, encoding/json's %q", doc, k, m.raw(), g, v)
		}
		checkMember(t, doc, o.find(k), depth+1)
	}
	var items []json.RawMessage
	itemsErr := json.Unmarshal(m.raw(), &items)
	got, ok := m.items()
	if ok != (itemsErr == nil && items != nil) || ok && got.len() != len(items) {
		t.Fatalf("%q: elements of %q: %d %v, encoding/json's %d %v", doc, m.raw(), got.len(), ok, len(items), itemsErr)
	}
	for i := range items {
		if string(got.at(i).raw()) != string(items[i]) {
			t.Fatalf("%q: element %d of %q = %q, encoding/json's %q", doc, i, m.raw(), got.at(i).raw(), items[i])
		}
		checkMember(t, doc, got.at(i), depth+1)
	}
}
