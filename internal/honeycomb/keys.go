package honeycomb

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
)

var classicIngestKey = regexp.MustCompile(`^hc[a-z]ic_[0-9a-z]{58}$`)

// IsClassicKey reports whether key is a Honeycomb classic key: 32 hex digits, or a 64-character
// classic ingest key. Any other key is an environment key. Classic keys name their dataset;
// environment keys' OTLP spans are filed by service.
func IsClassicKey(key string) bool {
	switch len(key) {
	case 32:
		for i := 0; i < len(key); i++ {
			if c := key[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
		return true
	case 64:
		return classicIngestKey.MatchString(key)
	}
	return false
}

// KeyID is what lookout records of an API key: the first 12 hex digits of its sha256, enough
// to tell keys apart, useless to anyone who reads it.
func KeyID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:6])
}
