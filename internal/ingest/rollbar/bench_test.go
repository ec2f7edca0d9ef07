package rollbar

import (
	"testing"
	"time"
)

// BenchmarkDecodeAndGroup measures what an item costs on its request before it is written:
// decoding, normalising and grouping the captured pyrollbar Flask error.
func BenchmarkDecodeAndGroup(b *testing.B) {
	body := []byte(captures(b, "pyrollbar-flask.json")[0].Body)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		p, err := DecodePayload(body, false)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Occurrence(p, Source{Project: "p", Received: time.Unix(1_800_000_000, 0)}); err != nil {
			b.Fatal(err)
		}
	}
}
