package duckdb

import (
	"context"
	"database/sql"
	"math/bits"
)

// idFilter is a Bloom filter of hashes of stored ids (occurrences' uuids, traces' ids): a batch
// whose ids it has never seen is fresh without a look-up, and only the ids it may hold are
// looked up. Deleted ids stay in it, which only costs look-ups.
type idFilter struct {
	words    []uint64
	n        int // hashes added
	capacity int // hashes it holds at its false-positive rate; beyond it, it is rebuilt larger
}

// 16 bits a hash and 8 probes: about 0.06 % false positives at capacity.
const (
	idFilterBits   = 16
	idFilterProbes = 8
	minIDCapacity  = 1 << 16
)

func newIDFilter(capacity int) idFilter {
	capacity = max(capacity, minIDCapacity)
	return idFilter{words: make([]uint64, capacity*idFilterBits/64), capacity: capacity}
}

// full reports whether the filter holds more hashes than it was sized for.
func (f *idFilter) full() bool { return f.n > f.capacity }

// add adds a hash. One it holds already (a trace stored by batch after batch) is not counted
// again, so that only distinct ids fill the filter.
func (f *idFilter) add(h int64) {
	m := uint64(len(f.words) * 64)
	a, b := probes(h)
	added := false
	for i := range uint64(idFilterProbes) {
		bit := (a + i*b) % m
		added = added || f.words[bit/64]&(1<<(bit%64)) == 0
		f.words[bit/64] |= 1 << (bit % 64)
	}
	if added {
		f.n++
	}
}

func (f *idFilter) mayHold(h int64) bool {
	m := uint64(len(f.words) * 64)
	a, b := probes(h)
	for i := range uint64(idFilterProbes) {
		bit := (a + i*b) % m
		if f.words[bit/64]&(1<<(bit%64)) == 0 {
			return false
		}
	}
	return true
}

// probes derives the two hashes of double hashing from an id's hash, mixed first (splitmix64's
// finaliser) so that the probes do not depend on how the hash spreads its bits.
func probes(h int64) (uint64, uint64) {
	x := uint64(h)
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x, bits.RotateLeft64(x, 32) | 1
}

// readIDFilter reads a filter of the ids the query ids returns, with room for as many again:
// count is the query of how many there are, and hash reads a row's id as its hash.
func readIDFilter(ctx context.Context, db querier, count, ids string, hash func(*sql.Rows) (int64, error)) (idFilter, error) {
	var n int
	if err := db.QueryRowContext(ctx, count).Scan(&n); err != nil {
		return idFilter{}, err
	}
	f := newIDFilter(2 * n)
	rows, err := db.QueryContext(ctx, ids)
	if err != nil {
		return idFilter{}, err
	}
	defer rows.Close()
	for rows.Next() {
		h, err := hash(rows)
		if err != nil {
			return idFilter{}, err
		}
		f.add(h)
	}
	return f, rows.Err()
}
