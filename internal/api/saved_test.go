package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
)

func TestSavedQueriesPersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "saved-queries.json")
	open := func() *http.ServeMux {
		a := New(newFakeReader(), nil)
		if err := a.SaveQueriesIn(path); err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		a.Register(mux)
		return mux
	}
	do := func(mux *http.ServeMux, method, target, body string) (int, []savedQuery) {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(method, target, bytes.NewBufferString(body)))
		var env struct{ Data json.RawMessage }
		json.Unmarshal(w.Body.Bytes(), &env)
		var list []savedQuery
		if json.Unmarshal(env.Data, &list) != nil {
			var one savedQuery
			json.Unmarshal(env.Data, &one)
			list = []savedQuery{one}
		}
		return w.Code, list
	}
	mux := open()
	if code, _ := do(mux, "POST", "/api/v1/saved-queries", `{"name":"","query":{}}`); code != 400 {
		t.Errorf("nameless save: %d", code)
	}
	code, saved := do(mux, "POST", "/api/v1/saved-queries", `{"name":"slow checkouts","dataset":"shop","query":{"breakdowns":["http.route"]}}`)
	if code != 200 || saved[0].ID == "" {
		t.Fatalf("save: %d %+v", code, saved)
	}
	do(mux, "POST", "/api/v1/saved-queries", `{"name":"errors","query":{"filters":[{"column":"error","op":"=","value":true}]}}`)

	mux = open() // as after a restart
	_, list := do(mux, "GET", "/api/v1/saved-queries", "")
	if len(list) != 2 || list[0].Name != "errors" || list[1].Name != "slow checkouts" || string(list[1].Query) != `{"breakdowns":["http.route"]}` {
		t.Fatalf("after reopening: %+v", list)
	}
	if code, _ := do(mux, "DELETE", "/api/v1/saved-queries/"+saved[0].ID, ""); code != 200 {
		t.Errorf("delete: %d", code)
	}
	if code, _ := do(mux, "DELETE", "/api/v1/saved-queries/"+saved[0].ID, ""); code != 404 {
		t.Errorf("second delete: %d", code)
	}
	_, list = do(open(), "GET", "/api/v1/saved-queries", "")
	if len(list) != 1 || list[0].Name != "errors" {
		t.Errorf("after delete and reopening: %+v", list)
	}
}
