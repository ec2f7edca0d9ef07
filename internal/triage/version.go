package triage

import (
	"strconv"
	"strings"
)

// CompareVersions orders two code versions when both are integers or both semantic
// versions ("1.4.2", "v2.0.0-rc.1"): it returns -1, 0 or 1, and ok. Other versions (git
// SHAs, names) have no order of their own, and ok is false.
func CompareVersions(a, b string) (int, bool) {
	ai, aerr := strconv.ParseUint(a, 10, 64)
	bi, berr := strconv.ParseUint(b, 10, 64)
	if aerr == nil && berr == nil {
		return cmpInt(ai, bi), true
	}
	av, aok := parseSemver(a)
	bv, bok := parseSemver(b)
	if !aok || !bok {
		return 0, false
	}
	for i := range 3 {
		if c := cmpInt(av.core[i], bv.core[i]); c != 0 {
			return c, true
		}
	}
	switch {
	case av.pre == bv.pre:
		return 0, true
	case av.pre == "": // a release follows its pre-releases
		return 1, true
	case bv.pre == "":
		return -1, true
	}
	return comparePre(av.pre, bv.pre), true
}

type semver struct {
	core [3]uint64
	pre  string
}

func parseSemver(s string) (semver, bool) {
	s = strings.TrimPrefix(s, "v")
	s, _, _ = strings.Cut(s, "+") // build metadata does not order
	core, pre, _ := strings.Cut(s, "-")
	parts := strings.Split(core, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return semver{}, false
	}
	var v semver
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return semver{}, false
		}
		v.core[i] = n
	}
	v.pre = pre
	return v, true
}

// comparePre orders pre-release tags field by field, numbers numerically.
func comparePre(a, b string) int {
	af, bf := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(af) && i < len(bf); i++ {
		an, aerr := strconv.ParseUint(af[i], 10, 64)
		bn, berr := strconv.ParseUint(bf[i], 10, 64)
		var c int
		switch {
		case aerr == nil && berr == nil:
			c = cmpInt(an, bn)
		case aerr == nil:
			c = -1
		case berr == nil:
			c = 1
		default:
			c = strings.Compare(af[i], bf[i])
		}
		if c != 0 {
			return c
		}
	}
	return cmpInt(uint64(len(af)), uint64(len(bf)))
}

func cmpInt(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
