package duckdb

import "math/bits"

// uuidFilter is a Bloom filter of the stored occurrences' uuid hashes: a batch whose uuids it
// has never seen is fresh without a look-up, and only the hashes it may hold are looked up.
// Deleted occurrences stay in it, which only costs look-ups.
type uuidFilter struct {
	words    []uint64
	n        int // hashes added
	capacity int // hashes it holds at its false-positive rate; beyond it, it is rebuilt larger
}

// 16 bits a hash and 8 probes: about 0.06 % false positives at capacity.
const (
	uuidFilterBits   = 16
	uuidFilterProbes = 8
	minUUIDCapacity  = 1 << 16
)

func newUUIDFilter(capacity int) uuidFilter {
	capacity = max(capacity, minUUIDCapacity)
	return uuidFilter{words: make([]uint64, capacity*uuidFilterBits/64), capacity: capacity}
}

// full reports whether the filter holds more hashes than it was sized for.
func (f *uuidFilter) full() bool { return f.n > f.capacity }

func (f *uuidFilter) add(h int64) {
	m := uint64(len(f.words) * 64)
	a, b := probes(h)
	for i := range uint64(uuidFilterProbes) {
		bit := (a + i*b) % m
		f.words[bit/64] |= 1 << (bit % 64)
	}
	f.n++
}

func (f *uuidFilter) mayHold(h int64) bool {
	m := uint64(len(f.words) * 64)
	a, b := probes(h)
	for i := range uint64(uuidFilterProbes) {
		bit := (a + i*b) % m
		if f.words[bit/64]&(1<<(bit%64)) == 0 {
			return false
		}
	}
	return true
}

// probes derives the two hashes of double hashing from a uuid hash, mixed first (splitmix64's
// finaliser) so that the probes do not depend on how uuidHash spreads its bits.
func probes(h int64) (uint64, uint64) {
	x := uint64(h)
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x, bits.RotateLeft64(x, 32) | 1
}
