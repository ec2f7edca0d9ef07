package rollbar

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// encodingJSONDocument is how lookout decoded a body before go-json: encoding/json alone.
func encodingJSONDocument(body []byte) (document, error) {
	var doc document
	err := json.Unmarshal(body, &doc)
	if err != nil {
		err = decodeError(body, err)
	}
	return doc, err
}

// sameAnswer fails the test unless decodeDocument answers the body as encoding/json alone.
func sameAnswer(t *testing.T, body []byte) {
	t.Helper()
	got, gotErr := decodeDocument(body)
	want, wantErr := encodingJSONDocument(body)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
		gotJSON, _ := json.Marshal(got)
		wantJSON, _ := json.Marshal(want)
		t.Fatalf("%s\ndecodes to %s, %v\nencoding/json: %s, %v", body, gotJSON, gotErr, wantJSON, wantErr)
	}
}

// FuzzDecodeDocument holds decodeDocument, go-json's way, to encoding/json's answers.
func FuzzDecodeDocument(f *testing.F) {
	for _, file := range []string{"pyrollbar-flask.json", "rollbar-go.json", "rollbar-js-node.json"} {
		for _, c := range captures(f, file) {
			f.Add([]byte(c.Body))
		}
	}
	for _, body := range []string{
		`{"DATA":{"Body":{"Trace":{"Frames":[{"FileName":"a","METHOD":"m","LineNo":3}],"Exception":{"Class":"E"}}}}}`,
		`{"data":{"body":{"trace":{"exception":{"cla\u017fs":"E","claſs":"F"}}},"\u212aey":1}}`,
		`{"data":{"attributes":[{"KEY":"k","key":"j"},{"key":"j","KEY":"k"}],"attributes":[{"value":"b"}]}}`,
		`{"data":{"attributes":[{"value":"x"}],"attributes":[],"attributes":[{"key":"k"}]}}`,
		`{"data":{"body":{"trace":{"frames":[{"method":"m"}],"FRAMES":[ ],"frames":[{}]}}}}`,
		`{"data":{"body":{"message":{"body":"x"}},"body":{"trace":{"exception":{"class":"E"}}}}}`,
		`{"data":{"level":"x","level":null,"uuid":"u","uuid":null,"title":"t","title":true}}`,
		`{"data":{"request":{"headers":{"A":"1","a":"2","A":null,"B":3,"C":{}},"headers":{}}}}`,
		`{"data":{"timestamp":1e400,"level":-0.0e-5,"context":"\ud800\u00e9\"\\"}}`,
		`{"data":{"title":01}}`,
		`{"data":{"server":5,"level":"x"}}`,
		`{"data":{"body":{"trace":{"frames":[{"filename":5,"method":"m"},{"filename":"f"}]}},"level":"x"}}`,
		`{"data":{"body":{"trace_chain":[null,{"frames":null}]},"attributes":[null,5,{"key":1}]}}`,
		`{"data":{"custom":{"traceid":"y","trace_id":"z","TRACE_ID":"w","traceId":"x"}}}`,
		`{"data":{"a":[1,]}}`,
		`{"data":{}} x`,
		"{\"data\":{}}\x00",
		`[]`,
	} {
		f.Add([]byte(body))
	}
	f.Fuzz(sameAnswer)
}

// TestDecodeDocumentShapedBodies holds decodeDocument to encoding/json's answers on bodies
// made to document's shape, which mutating bytes rarely finds: its names in other cases and
// spellings, repeated, with values of their type mostly and of any other at times.
func TestDecodeDocumentShapedBodies(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b strings.Builder
		writeShaped(&b, rng, reflect.TypeFor[document](), 0)
		sameAnswer(t, []byte(b.String()))
	}
}

func writeShaped(b *strings.Builder, rng *rand.Rand, typ reflect.Type, depth int) {
	switch {
	case rng.IntN(20) == 0 || depth > 6 || typ == reflect.TypeFor[text]() || typ == reflect.TypeFor[json.RawMessage]():
		writeAny(b, rng, depth)
	case typ.Kind() == reflect.Pointer && rng.IntN(8) == 0:
		b.WriteString("null")
	case typ.Kind() == reflect.Pointer:
		writeShaped(b, rng, typ.Elem(), depth)
	case typ.Kind() == reflect.Struct:
		writeMembers(b, rng, typ.NumField()+2, func() {
			f := typ.Field(rng.IntN(typ.NumField()))
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || rng.IntN(10) == 0 {
				writeName(b, rng, "other")
				writeAny(b, rng, depth+1)
				return
			}
			writeName(b, rng, name)
			writeShaped(b, rng, f.Type, depth+1)
		})
	case typ.Kind() == reflect.Map:
		writeMembers(b, rng, 4, func() {
			writeName(b, rng, []string{"User-Agent", "user-agent", "traceparent"}[rng.IntN(3)])
			writeShaped(b, rng, typ.Elem(), depth+1)
		})
	case typ.Kind() == reflect.Slice:
		writeElements(b, rng, func() { writeShaped(b, rng, typ.Elem(), depth+1) })
	default:
		writeString(b, rng)
	}
}

func writeAny(b *strings.Builder, rng *rand.Rand, depth int) {
	switch n := rng.IntN(10); {
	case n < 3:
		writeString(b, rng)
	case n < 6:
		b.WriteString([]string{"0", "-0", "12", "1.5e3", "-1E-2", "1e400", "123456789012345678901234567890"}[rng.IntN(7)])
	case n < 8 || depth > 6:
		b.WriteString([]string{"true", "false", "null"}[rng.IntN(3)])
	case n == 8:
		writeElements(b, rng, func() { writeAny(b, rng, depth+1) })
	default:
		writeMembers(b, rng, 3, func() {
			writeName(b, rng, "k")
			writeAny(b, rng, depth+1)
		})
	}
}

func writeMembers(b *strings.Builder, rng *rand.Rand, most int, member func()) {
	b.WriteByte('{')
	for i := range rng.IntN(most) {
		if i > 0 {
			b.WriteByte(',')
		}
		member()
	}
	b.WriteByte('}')
}

func writeElements(b *strings.Builder, rng *rand.Rand, element func()) {
	b.WriteString([]string{"[", "[ "}[rng.IntN(2)])
	for i := range rng.IntN(4) {
		if i > 0 {
			b.WriteByte(',')
		}
		element()
	}
	b.WriteByte(']')
}

// writeName writes a member's name and colon, as it is or in one of the spellings a decoder
// matches it by.
func writeName(b *strings.Builder, rng *rand.Rand, name string) {
	switch rng.IntN(8) {
	case 0:
		name = strings.ToUpper(name)
	case 1:
		name = strings.NewReplacer("s", "ſ", "k", "\u212a").Replace(name)
	case 2:
		name = fmt.Sprintf(`\u%04x`, name[0]) + name[1:]
	case 3:
		name += "_"
	}
	b.WriteString(`"` + name + `" : `)
}

func writeString(b *strings.Builder, rng *rand.Rand) {
	b.WriteString([]string{`""`, `"a"`, `" x "`, `"a\"b\\c"`, `"\u00e9\ud83d\ude00"`, `"\ud800"`, `"1.2.3.4, 5.6.7.8"`, `"é"`, `"\/\b\f\n\r\t"`, `"[]"`}[rng.IntN(10)])
}

// TestListFields holds listFields to document's lists.
func TestListFields(t *testing.T) {
	var lists []string
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		switch typ.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map:
			walk(typ.Elem())
		case reflect.Struct:
			for f := range typ.Fields() {
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if f.Type.Kind() == reflect.Slice && f.Type != reflect.TypeFor[json.RawMessage]() && !slices.Contains(lists, name) {
					lists = append(lists, name)
				}
				walk(f.Type)
			}
		}
	}
	walk(reflect.TypeFor[document]())
	slices.Sort(lists)
	if want := slices.Sorted(slices.Values(listFields)); !slices.Equal(lists, want) {
		t.Fatalf("document's lists are %v; listFields %v", lists, want)
	}
}

func TestMayEmptyAList(t *testing.T) {
	for body, want := range map[string]bool{
		`{"data":{"attributes":[{}],"attributes":[]}}`:                true,
		`{"data":{"body":{"trace":{"FRAMES" : [ ],"frames":[{}]}}}}`:  true,
		`{"data":{"body":{"trace_chain":[],"x":{"trace_chaiN":[]}}}}`: true,
		`{"data":{"fr\u0061mes":[]}}`:                                 true,
		`{"data":{"frameſ":[]}}`:                                      true,
		`{"data":{"attributes":[],"title":"\u00e9"}}`:                 true,
		`{"data":{"attributes":[],"title":"é"}}`:                      true,
		`{"data":{"attributes":[],"body":{"trace":{"frames":[{}]}}}}`: false,
		`{"data":{"attributes":[],"title":"\"attributes\" \\ \n"}}`:   false,
		`{"data":{"frames":[{}],"argspec":[],"x":[[]]}}`:              false,
		`{"data":{"code":"frames: []","a\"frames":[1]}}`:              false,
		`[]`: false,
	} {
		if got := mayEmptyAList([]byte(body)); got != want {
			t.Errorf("mayEmptyAList(%s) = %v", body, got)
		}
	}
}

// TestSDKItemsTakeGoJSON checks that the items the SDKs send are decoded by go-json.
func TestSDKItemsTakeGoJSON(t *testing.T) {
	for _, file := range []string{"pyrollbar-flask.json", "rollbar-go.json", "rollbar-js-node.json"} {
		for _, c := range captures(t, file) {
			if mayEmptyAList(c.Body) {
				t.Errorf("an item of %s is left to encoding/json", file)
			}
		}
	}
}
