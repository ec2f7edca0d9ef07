package honeycomb

import "testing"

func TestIsClassicKey(t *testing.T) {
	cases := map[string]bool{
		"0123456789abcdef0123456789abcdef":                                 true,  // 32 hex digits
		"0123456789ABCDEF0123456789abcdef":                                 false, // upper case is not a classic key
		"0123456789abcdef0123456789abcde":                                  false,
		"hcaic_0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijkl": true,  // classic ingest key, 64 characters
		"hcxik_0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijkl": false, // environment ingest key
		"hcaic_0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijk":  false, // 63 characters
		"secret-key": false,
		"":           false,
	}
	for key, want := range cases {
		if got := IsClassicKey(key); got != want {
			t.Errorf("IsClassicKey(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestKeyID(t *testing.T) {
	// Independently computed: printf 'secret-key' | sha256sum
	if got := KeyID("secret-key"); got != "85dbe15d75ef" {
		t.Errorf("KeyID = %q", got)
	}
}
