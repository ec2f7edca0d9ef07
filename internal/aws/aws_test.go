package aws

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestErrorMembers: an exception's other members are in its body in both protocols, which
// name the code in X-Amzn-ErrorType; only JSON 1.1 names it in the body too.
func TestErrorMembers(t *testing.T) {
	for _, p := range []Protocol{JSON11, RestJSON} {
		w := httptest.NewRecorder()
		e := Errorf(http.StatusNotFound, "ResourceNotFoundException", "no such %s", "rule")
		e.Members = map[string]any{"ResourceName": "arn:aws:xray:us-east-1:000000000000:sampling-rule/r"}
		p.WriteError(w, e)
		var body map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if w.Code != http.StatusNotFound || w.Header().Get("X-Amzn-ErrorType") != "ResourceNotFoundException" ||
			body["message"] != "no such rule" || body["ResourceName"] != e.Members["ResourceName"] {
			t.Errorf("protocol %d: %d %v %v", p, w.Code, w.Header(), body)
		}
		if _, typed := body["__type"]; typed != (p == JSON11) {
			t.Errorf("protocol %d: __type in the body: %v", p, body)
		}
	}
}
