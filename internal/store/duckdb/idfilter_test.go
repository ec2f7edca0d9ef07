package duckdb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

func TestIDFilter(t *testing.T) {
	const n = 100_000
	f := newIDFilter(n)
	r := rand.New(rand.NewPCG(1, 2))
	added := make([]int64, n)
	for i := range added {
		added[i] = r.Int64()
		f.add(added[i])
	}
	for _, h := range added {
		if !f.mayHold(h) {
			t.Fatalf("the filter lost %d", h)
		}
	}
	if f.full() {
		t.Error("full at its capacity")
	}
	for _, h := range added { // ids stored again are not counted again
		f.add(h)
	}
	if f.full() {
		t.Error("full with ids added twice")
	}
	falsePositives := 0
	for range n {
		if f.mayHold(r.Int64()) {
			falsePositives++
		}
	}
	if rate := float64(falsePositives) / n; rate > 0.002 { // 16 bits and 8 probes give about 0.06 %
		t.Errorf("false-positive rate %.4f", rate)
	}
	for range n / 10 { // new ids past the capacity fill it
		f.add(r.Int64())
	}
	if !f.full() {
		t.Error("not full past its capacity")
	}
}

// TestResentUUIDsAfterFilterRebuild checks that resent occurrences are kept once when the
// filter is full and read again from the store, and that fresh ones are kept.
func TestResentUUIDsAfterFilterRebuild(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{Dir: t.TempDir(), MemoryLimit: "128MB", Threads: 2, Writers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	occ := func(i int) telemetry.Occurrence {
		return telemetry.Occurrence{UUID: fmt.Sprintf("u%d", i), Project: "p", Environment: "e", Level: "error", Fingerprint: "f",
			Title: "t", TimeUnixNano: int64(i+1) * 1e9, ReceivedUnixNano: int64(i+1) * 1e9, Data: "{}"}
	}
	if err := s.WriteOccurrences(ctx, []telemetry.Occurrence{occ(0), occ(1), occ(2)}); err != nil {
		t.Fatal(err)
	}
	s.errs.uuids.n = s.errs.uuids.capacity + 1 // as if it had filled up
	if err := s.WriteOccurrences(ctx, []telemetry.Occurrence{occ(1), occ(3), occ(2), occ(3)}); err != nil {
		t.Fatal(err)
	}
	if s.errs.uuids.full() {
		t.Error("the filter was not rebuilt")
	}
	occs, err := s.Occurrences(ctx, store.OccurrenceQuery{Project: "p"})
	if err != nil || len(occs) != 4 {
		t.Fatalf("%d occurrences stored, want 4 (%v)", len(occs), err)
	}
	it, err := s.ItemByCounter(ctx, "p", 1)
	if err != nil || it.Total != 4 {
		t.Fatalf("item total %d, want 4 (%v)", it.Total, err)
	}
}
