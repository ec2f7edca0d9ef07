package cwlogs

import (
	"encoding/json"
	"reflect"
	"testing"
)

// putBodies are PutLogEvents bodies as SDKs and agents send them, escapes and all.
var putBodies = []string{
	`{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":1764460800000,"message":"GET /a 200"}]}`,
	"{ \"logEvents\" : [ {\"message\":\"ua=\\\"curl\\\" \\\\ \\/ \\b\\f\\n\\r\\t\", \"timestamp\": 0 },\n{\"timestamp\":-5,\"message\":\"x\"} ],\r\n\t\"logStreamName\":\"host//app/1\", \"logGroupName\":\"/aws/g\", \"sequenceToken\":\"49\" }",
	`{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":1,"message":"caf\u00e9 \ud83d\ude00 \u2028"}]}`,
	`{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":1,"message":"lone \ud800 and \udc00\u0041 and \ud83dx"}]}`,
	"{\"logGroupName\":\"g\",\"logStreamName\":\"s\",\"logEvents\":[{\"timestamp\":1,\"message\":\"café 😀\"}]}",
	`{"logGroupName":"g","logStreamName":"s","logEvents":[]}`,
	`{"logGroupName":"g","logStreamName":"s"}`,
	`{}`,
}

// The one-pass decoder reads what clients send, as encoding/json does.
func TestDecodePutReadsClientBodies(t *testing.T) {
	for _, body := range putBodies {
		got, ok := decodePut([]byte(body))
		if !ok {
			t.Errorf("decodePut left %s to encoding/json", body)
			continue
		}
		var want putInput
		if err := json.Unmarshal([]byte(body), &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("%s:\n got %+v\nwant %+v", body, got, want)
		}
	}
}

// FuzzPutDecode: whatever the one-pass decoder reads, encoding/json reads the same way.
func FuzzPutDecode(f *testing.F) {
	for _, body := range putBodies {
		f.Add([]byte(body))
	}
	for _, body := range []string{
		`{"logGroupName":"g","logGroupName":"h"}`, `{"LogGroupName":"g"}`, `{"logGroupName":null}`, `{"logEvents":[{"timestamp":1}]}`,
		`{"logEvents":[{"timestamp":1e3,"message":"m"}]}`, `{"logEvents":[{"timestamp":01,"message":"m"}]}`, `{"logEvents":[{"timestamp":-0,"message":"m"}]}`,
		`{"logEvents":[{"timestamp":9223372036854775808,"message":"m"}]}`, "{\"logGroupName\":\"\xff\"}", `{"logGroupName":"\u12"}`, `{"a":1}`, `[]`, `null`, ` `, `{"logEvents":[{"timestamp":1,"message":"m"},]}`,
	} {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := decodePut(body)
		if !ok {
			return
		}
		var want putInput
		if err := json.Unmarshal(body, &want); err != nil {
			t.Fatalf("decodePut read %q, which encoding/json refuses: %v", body, err)
		}
		if !reflect.DeepEqual(got, &want) {
			t.Fatalf("%q:\n got %+v\nwant %+v", body, got, want)
		}
	})
}
