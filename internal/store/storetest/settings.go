package storetest

import (
	"context"
	"reflect"
	"testing"
)

func testSettings(t *testing.T, b Backend) {
	ctx := context.Background()
	s := newHandle(b.Open(t))
	put := func(kind, name, value string) {
		t.Helper()
		if err := s.SettingsStore.PutSetting(ctx, kind, name, []byte(value)); err != nil {
			t.Fatal(err)
		}
	}
	put("rules", "Default", `{"FixedRate":0.05}`)
	put("rules", "Cruddur", `{"FixedRate":0.1}`)
	put("rules", "Cruddur", `{"FixedRate":0.2}`) // replaces
	put("rules", "quote ' \" --", `{}`)
	put("groups", "Cruddur", `{"FilterExpression":"service(\"backend-flask\")"}`)
	if err := s.SettingsStore.DeleteSetting(ctx, "rules", "quote ' \" --"); err != nil {
		t.Fatal(err)
	}
	if err := s.SettingsStore.DeleteSetting(ctx, "rules", "never there"); err != nil {
		t.Fatalf("deleting a missing setting: %v", err)
	}
	want := map[string]map[string][]byte{
		"rules":  {"Default": []byte(`{"FixedRate":0.05}`), "Cruddur": []byte(`{"FixedRate":0.2}`)},
		"groups": {"Cruddur": []byte(`{"FilterExpression":"service(\"backend-flask\")"}`)},
		"none":   {},
	}
	check := func(s *handle) {
		t.Helper()
		for kind, w := range want {
			got, err := s.SettingsStore.Settings(ctx, kind)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, w) {
				t.Errorf("Settings(%q) = %q, want %q", kind, got, w)
			}
		}
	}
	check(s)
	if b.Reopen == nil {
		s.Close()
		return
	}
	s = reopen(t, b, s) // settings are durable without a checkpoint of the caller's
	check(s)
}
