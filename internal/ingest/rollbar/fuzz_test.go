package rollbar

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"

	gojson "github.com/goccy/go-json"
)

// FuzzItem runs item bodies through the decoder and the conversion to an occurrence: no
// input may panic, and whatever is accepted must be storable.
func FuzzItem(f *testing.F) {
	for _, file := range []string{"pyrollbar-flask.json", "rollbar-go.json", "rollbar-js-node.json"} {
		for _, c := range captures(f, file) {
			f.Add([]byte(c.Body))
		}
	}
	f.Add([]byte(`{"data":{"body":{"trace":{"frames":[{"filename":"a","method":"b"}],"exception":{"class":"E"}}},"request":{"user_ip":"$remote_ip","headers":{"X-Amzn-Trace-Id":"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8"}}}}`))
	f.Add([]byte(`{"data":{"body":{"crash_report":{"raw":"boom"}},"timestamp":1e300,"attributes":[{"key":"trace_id","value":"x"}]}}`))
	if _, err := os.Stat("testdata"); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := DecodePayload(body, false)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		occ, err := Occurrence(p, Source{Project: "p", RemoteIP: "192.0.2.1", Received: time.Unix(1_800_000_000, 0)})
		if err != nil {
			return
		}
		if err := occ.Validate(); err != nil {
			t.Fatalf("an accepted item is not valid: %v", err)
		}
	})
}

// FuzzGoJSONDecodesAsEncodingJSON holds decodeDocument's fast decoder to encoding/json: on
// any body, both accept it and decode the same document, or both refuse it.
func FuzzGoJSONDecodesAsEncodingJSON(f *testing.F) {
	for _, file := range []string{"pyrollbar-flask.json", "rollbar-go.json", "rollbar-js-node.json"} {
		for _, c := range captures(f, file) {
			f.Add([]byte(c.Body))
		}
	}
	for _, body := range []string{
		`{"DATA":{"Body":{"Trace":{"Frames":[{"FileName":"a","METHOD":"m","LineNo":3}],"Exception":{"Class":"E"}}}}}`,
		`{"data":{"body":{"trace":{"exception":{"cla\u017fs":"E","claſs":"F"}}},"\u212aey":1}}`,
		`{"data":{"attributes":[{"KEY":"k","key":"j"},{"key":"j","KEY":"k"}],"attributes":[{"value":"b"}]}}`,
		`{"data":{"body":{"message":{"body":"x"}},"body":{"trace":{"exception":{"class":"E"}}}}}`,
		`{"data":{"level":"x","level":null,"uuid":"u","uuid":null,"title":"t","title":true}}`,
		`{"data":{"request":{"headers":{"A":"1","a":"2","A":null,"B":3,"C":{}},"headers":{"D":"4"}}}}`,
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
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast, std document
		fastErr := gojson.Unmarshal(body, &fast)
		stdErr := json.Unmarshal(body, &std)
		if (fastErr == nil) != (stdErr == nil) {
			t.Fatalf("go-json: %v; encoding/json: %v", fastErr, stdErr)
		}
		if fastErr == nil && !reflect.DeepEqual(fast, std) {
			t.Fatalf("go-json and encoding/json decode %q differently", body)
		}
	})
}
