package telemetry

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestOccurrenceFitToDropsLargestPartsFirst(t *testing.T) {
	big := strings.Repeat("x", 3000)
	o := Occurrence{UUID: "u", Project: "p", Environment: "e", Fingerprint: "f", TimeUnixNano: 1, Title: "boom",
		Data: `{"environment":"e","request":{"body":"` + big + `"},"body":{"trace":{"frames":[]},"telemetry":["` + big + `"]}}`}
	l := Limits{MaxValueBytes: 1 << 10, MaxItemBytes: 5000}
	size := o.FitTo(l)
	if size > l.MaxItemBytes || size != o.Size() {
		t.Fatalf("FitTo returned %d (Size %d), want at most %d", size, o.Size(), l.MaxItemBytes)
	}
	var data map[string]any
	if err := json.Unmarshal([]byte(o.Data), &data); err != nil {
		t.Fatalf("fitted data is not JSON: %v", err)
	}
	if _, ok := data["request"]; ok {
		t.Errorf("the largest field, request, is still there: %s", o.Data)
	}
	if data["environment"] != "e" {
		t.Errorf("a small field was dropped: %s", o.Data)
	}
	body := data["body"].(map[string]any)
	if _, ok := body["trace"]; !ok {
		t.Errorf("the trace was dropped though request alone was enough: %s", o.Data)
	}
	if cut, _ := json.Marshal(data[TruncatedKey]); string(cut) != `["request"]` {
		t.Errorf("%s = %s, want [\"request\"]", TruncatedKey, cut)
	}
	if err := o.Validate(); err != nil {
		t.Error(err)
	}

	small := Occurrence{Data: `{"a":1}`}
	if small.FitTo(l); small.Data != `{"a":1}` {
		t.Errorf("an occurrence within the limits changed: %s", small.Data)
	}
}

func TestOccurrenceFitToCutsTheBodyLast(t *testing.T) {
	big := strings.Repeat("y", 8000)
	o := Occurrence{Title: "only a title", Data: `{"body":{"message":{"body":"` + big + `"}}}`}
	o.FitTo(Limits{MaxItemBytes: 4000})
	if !strings.Contains(o.Data, `"only a title"`) || !strings.Contains(o.Data, `"body.message"`) {
		t.Fatalf("fitted data %s", o.Data)
	}
}
