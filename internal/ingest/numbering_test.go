package ingest

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"lookout/internal/ingest/wal"
	"lookout/internal/metrics"
	"lookout/internal/store"
	"lookout/internal/store/duckdb"
)

// TestLogIDsAreConsecutive: log records get consecutive ids from the first run's start
// (position 1 << 24), one after another in the order they are stored, and concurrent
// requests share them out without gaps or repeats.
func TestLogIDsAreConsecutive(t *testing.T) {
	st := newMemStore()
	h := start(t, t.TempDir(), st, testConfig())
	for i := range 3 {
		if err := h.logs.Write(context.Background(), logBatch(i*4, 4)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if err := h.logs.Write(context.Background(), logBatch(100+i*5, 5)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	h.shutdown(t)
	const first = 1 << 24
	for i, id := range st.logOrder[:12] {
		if id != first+uint64(i) {
			t.Fatalf("record %d stored with id %d, want %d (stored %v)", i, id, first+i, st.logOrder[:12])
		}
	}
	got := slices.Sorted(slices.Values(st.logOrder))
	for i, id := range got {
		if id != first+uint64(i) {
			t.Fatalf("ids %v: not consecutive from %d", got, first)
		}
	}
	if len(got) != 12+40 {
		t.Fatalf("%d records stored, want 52", len(got))
	}
}

// TestReplayKeepsLogIDs: records replayed after a crash keep the ids they were acknowledged
// with, an earlier version's record is numbered by its position as that version did, and
// the next run numbers above them all.
func TestReplayKeepsLogIDs(t *testing.T) {
	dir := t.TempDir()
	hung := newMemStore()
	hung.gate = make(chan struct{}) // never opened: the first run dies before loading
	h1 := start(t, dir, hung, testConfig())
	acknowledged := map[string]uint64{}
	for i := range 3 {
		logs := logBatch(i*2, 2)
		if err := h1.logs.Write(context.Background(), logs); err != nil {
			t.Fatal(err)
		}
		for _, r := range logs {
			acknowledged[r.Body.Str()] = r.ID
		}
	}
	var earlierPos wal.Position
	earlier := logBatch(50, 2)
	record := earlierLogRecord(t, earlier)
	if err := h1.p.append(context.Background(), 1, func() []byte { return record }, func(pos wal.Position) { earlierPos = pos }); err != nil {
		t.Fatal(err)
	}
	for i, r := range earlier {
		acknowledged[r.Body.Str()] = uint64(earlierPos)<<24 | uint64(i)
	}

	st := newMemStore()
	h2 := start(t, dir, st, testConfig())
	waitUntil(t, h2.p.Ready)
	later := logBatch(60, 1)
	if err := h2.logs.Write(context.Background(), later); err != nil {
		t.Fatal(err)
	}
	h2.shutdown(t)
	for body, id := range acknowledged {
		if st.logIDs[body] != id {
			t.Errorf("%q replayed with id %d, acknowledged with %d", body, st.logIDs[body], id)
		}
	}
	if want := uint64(earlierPos+1) << 24; later[0].ID != want || st.logIDs["line 60"] != want {
		t.Errorf("the next run's first record got id %d (stored %d), want %d", later[0].ID, st.logIDs["line 60"], want)
	}
	if len(st.logIDs) != len(acknowledged)+1 {
		t.Errorf("stored %d records, want 9", len(st.logIDs))
	}
}

// TestReplayIntoDuckDB: a run loads log records into the real store, which makes them
// durable, and dies before the pipeline's own checkpoint; the next run replays them, and the
// store, recognising their ids, keeps each record once, with the id it was acknowledged with.
func TestReplayIntoDuckDB(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st1, err := duckdb.Open(ctx, duckdb.Config{Dir: filepath.Join(dir, "store"), MemoryLimit: "128MB", Threads: 1, Writers: 1})
	if err != nil {
		t.Fatal(err)
	}
	p1, err := NewPipeline(filepath.Join(dir, "log"), st1, testConfig(), quiet, metrics.New())
	if err != nil {
		t.Fatal(err)
	}
	logs1 := AddInput(p1, Logs, st1.WriteLogs).Sink("test")
	if err := p1.Start(ctx); err != nil {
		t.Fatal(err)
	}
	acknowledged := map[string]uint64{}
	for i := range 3 {
		logs := logBatch(i*10, 10)
		if err := logs1.Write(ctx, logs); err != nil {
			t.Fatal(err)
		}
		for _, r := range logs {
			acknowledged[r.Body.Str()] = r.ID
		}
	}
	stored := func(st *duckdb.Store) map[string]uint64 {
		logs, err := st.Logs(ctx, store.LogQuery{Group: "svc", Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]uint64{}
		for _, r := range logs {
			if _, again := ids[r.Body.Str()]; again {
				t.Errorf("%q stored twice", r.Body.Str())
			}
			ids[r.Body.Str()] = r.ID
		}
		return ids
	}
	waitUntil(t, func() bool { return len(stored(st1)) == 30 })
	p1.stopLoad() // the crash: the loader stops before the pipeline checkpoints
	<-p1.stopped
	p1.wal.Close()
	if err := st1.Close(); err != nil { // the store's own checkpoint made the records durable
		t.Fatal(err)
	}

	st2, err := duckdb.Open(ctx, duckdb.Config{Dir: filepath.Join(dir, "store"), MemoryLimit: "128MB", Threads: 1, Writers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	p2, err := NewPipeline(filepath.Join(dir, "log"), st2, testConfig(), quiet, metrics.New())
	if err != nil {
		t.Fatal(err)
	}
	AddInput(p2, Logs, st2.WriteLogs)
	if p2.replayFrom >= p2.replayTo {
		t.Fatal("nothing to replay: the first run checkpointed")
	}
	if err := p2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, p2.Ready)
	if err := p2.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := stored(st2); !maps.Equal(got, acknowledged) {
		t.Fatalf("after the replay the store holds %v, want %v", got, acknowledged)
	}
}
