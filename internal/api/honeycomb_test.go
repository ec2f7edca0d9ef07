package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

type fakeDatasets struct {
	store.QueryRunner // unused by these tests
	datasets          []store.Dataset
	columns           map[string][]store.Column
}

func (f fakeDatasets) Datasets(context.Context) ([]store.Dataset, error) { return f.datasets, nil }
func (f fakeDatasets) Columns(_ context.Context, name string) ([]store.Column, error) {
	return f.columns[name], nil
}

func TestSlug(t *testing.T) {
	// Honeycomb's own examples.
	for in, want := range map[string]string{"MyDataset!": "mydataset-", "my dataset!": "my-dataset-", "checkout-events": "checkout-events"} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHoneycombDiscovery(t *testing.T) {
	written := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	h := NewHoneycomb(fakeDatasets{
		datasets: []store.Dataset{{Name: "My Shop", LastWritten: written}},
		columns:  map[string][]store.Column{"My Shop": {{Name: "cart.items", Kind: telemetry.KindInt}, {Name: "name", Kind: telemetry.KindInt}}},
	}, nil, func(*http.Request) string { return "http://ui.test" })
	mux := http.NewServeMux()
	h.Register(mux, func(h http.Handler) http.Handler { return h })
	get := func(path string, key bool) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", path, nil)
		if key {
			r.Header.Set("X-Honeycomb-Team", "any-key")
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w
	}
	var ds []hcDataset
	w := get("/1/datasets", true)
	if err := json.Unmarshal(w.Body.Bytes(), &ds); err != nil || len(ds) != 1 || ds[0].Slug != "my-shop" || ds[0].LastWrittenAt != "2026-11-26T10:00:00Z" {
		t.Fatalf("datasets: %d %s", w.Code, w.Body)
	}
	for _, path := range []string{"/1/columns/my-shop", "/1/columns/MY%20SHOP"} {
		var cols []hcColumn
		w = get(path, true)
		if err := json.Unmarshal(w.Body.Bytes(), &cols); err != nil {
			t.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
		types := map[string]string{}
		for _, c := range cols {
			types[c.KeyName] = c.Type
		}
		want := map[string]string{"cart.items": "integer", "duration_ms": "float", "name": "string", "error": "boolean", "trace.trace_id": "string"}
		for k, v := range want {
			if types[k] != v {
				t.Errorf("%s: column %s type %q, want %q", path, k, types[k], v)
			}
		}
		if len(cols) != len(standardColumns)+1 {
			t.Errorf("%s: %d columns, want the %d standard ones and cart.items", path, len(cols), len(standardColumns))
		}
	}
	if w := get("/1/columns/nope", true); w.Code != http.StatusNotFound {
		t.Errorf("unknown dataset: %d", w.Code)
	}
	if w := get("/1/datasets", false); w.Code != http.StatusUnauthorized {
		t.Errorf("no key: %d", w.Code)
	}
}
