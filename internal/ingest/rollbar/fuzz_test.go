package rollbar

import (
	"os"
	"testing"
	"time"
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
