package cwlogs

import (
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"strings"

	"lookout/internal/store"
)

// Tokens are cursors, never server state: the same request always gets the same token, and
// a token stays valid as long as its records exist. Event tokens name a record's place in
// the order of records (store.LogKey) and a direction, in the 56 digits AWS's tokens have:
// the time, the id, and a check against tokens that were not lookout's.

// keyDigits renders a key as 56 digits; eventIds are these digits too.
func keyDigits(k store.LogKey) string {
	s := fmt.Sprintf("%020d%020d", k.TimeUnixNano, k.ID)
	return s + fmt.Sprintf("%016d", check(s))
}

func check(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64() % 1e16
}

// parseKeyDigits is the inverse of keyDigits.
func parseKeyDigits(s string) (store.LogKey, bool) {
	if len(s) != 56 || fmt.Sprintf("%016d", check(s[:40])) != s[40:] {
		return store.LogKey{}, false
	}
	t, err1 := strconv.ParseInt(s[:20], 10, 64)
	id, err2 := strconv.ParseUint(s[20:40], 10, 64)
	if err1 != nil || err2 != nil || t < 0 {
		return store.LogKey{}, false
	}
	return store.LogKey{TimeUnixNano: t, ID: id}, true
}

// A direction of reading: forward is oldest first.
const (
	forward  = "f"
	backward = "b"
)

// keyToken is a cursor: forward from k reads the records after k, backward the records
// before k.
func keyToken(dir string, k store.LogKey) string { return dir + "/" + keyDigits(k) + "/s" }

func parseKeyToken(tok string) (dir string, k store.LogKey, ok bool) {
	dir, rest, found := strings.Cut(tok, "/")
	if !found || (dir != forward && dir != backward) {
		return "", k, false
	}
	rest = strings.TrimSuffix(rest, "/s")
	k, ok = parseKeyDigits(rest)
	return dir, k, ok
}

// Keys before and after every record.
var (
	firstKey = store.LogKey{}
	lastKey  = store.LogKey{TimeUnixNano: math.MaxInt64, ID: math.MaxUint64}
)

// justAfter is the smallest key greater than k; justBefore the greatest key less than k.
func justAfter(k store.LogKey) store.LogKey {
	if k.ID == math.MaxUint64 {
		return store.LogKey{TimeUnixNano: k.TimeUnixNano + 1}
	}
	return store.LogKey{TimeUnixNano: k.TimeUnixNano, ID: k.ID + 1}
}

func justBefore(k store.LogKey) store.LogKey {
	if k.ID == 0 {
		return store.LogKey{TimeUnixNano: k.TimeUnixNano - 1, ID: math.MaxUint64}
	}
	return store.LogKey{TimeUnixNano: k.TimeUnixNano, ID: k.ID - 1}
}

// Describe* operations page through sorted names: their tokens are an offset.

func offsetToken(offset int) string { return "o/" + strconv.Itoa(offset) }

func parseOffsetToken(tok string) (int, error) {
	if tok == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimPrefix(tok, "o/"))
	if err != nil || n < 0 || !strings.HasPrefix(tok, "o/") {
		return 0, errBadToken
	}
	return n, nil
}
