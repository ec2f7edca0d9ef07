package duckdb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

func TestBlockRoundTrip(t *testing.T) {
	lines := []logLine{
		{ID: 10, TimeNS: 5e18, ObservedNS: 5e18 + 1, Body: "first"},
		{ID: 3, TimeNS: -7, ObservedNS: 0, Body: ""}, // a lower id, a time before 1970
		{ID: 1<<64 - 1, TimeNS: -1 << 63, ObservedNS: 1<<63 - 1, Body: "ünïcode\nand a newline"},
	}
	got, err := decodeBlock(encodeBlock(nil, lines))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, lines) {
		t.Errorf("decoded %+v, want %+v", got, lines)
	}
	if _, err := decodeBlock(encodeBlock(nil, lines)[:10]); err == nil {
		t.Error("a cut block decoded")
	}
}

func FuzzLogBlock(f *testing.F) {
	f.Add(encodeBlock(nil, []logLine{{ID: 1, TimeNS: 2, ObservedNS: 3, Body: "a line"}}))
	f.Add(blockEncoder.EncodeAll([]byte{5, 1, 1, 1, 200}, nil)) // a length past the end
	f.Add([]byte("not zstd"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines, err := decodeBlock(data)
		if err != nil {
			return
		}
		again, err := decodeBlock(encodeBlock(nil, lines))
		if err != nil || !reflect.DeepEqual(again, lines) && len(lines) > 0 {
			t.Fatalf("lines %+v read back as %+v, %v", lines, again, err)
		}
	})
}

// blockTestRecords are n plain lines of three streams in two groups, written in requests of
// up to 50 lines of one stream whose times overlap other requests', ids increasing.
func blockTestRecords(rng *rand.Rand, n int) [][]telemetry.LogRecord {
	res := &telemetry.Resource{Attributes: telemetry.Attributes{{Key: telemetry.ServiceNameKey, Value: telemetry.StringValue("b")}}}
	streams := [][2]string{{"api", "web/1"}, {"api", "web/2"}, {"jobs", "worker"}}
	words := []string{"GET", "POST", "/home", "200", "500", "ok", "slow"}
	var requests [][]telemetry.LogRecord
	id := uint64(1 << 20)
	for n > 0 {
		st := streams[rng.IntN(len(streams))]
		size := min(n, 1+rng.IntN(50))
		at := int64(rng.IntN(60)) * 1e9
		var req []telemetry.LogRecord
		for range size {
			at += int64(rng.IntN(3)) * 1e6 // instants repeat: ids break the tie
			body := fmt.Sprintf("%s %s %s", words[rng.IntN(len(words))], words[rng.IntN(len(words))], words[rng.IntN(len(words))])
			req = append(req, telemetry.LogRecord{ID: id, TimeUnixNano: at, ObservedTimeUnixNano: at + 5e8, Group: st[0], Stream: st[1],
				Body: telemetry.StringValue(body), Resource: res, Ingest: telemetry.IngestInfo{Protocol: "cloudwatch"}})
			id++
		}
		requests = append(requests, req)
		n -= size
	}
	return requests
}

// TestBlocksReadAsRows writes the same lines to a store that keeps them in blocks and to one
// that keeps them as rows (each marked with an event name, which keeps a record a row), and
// to a third that keeps a random half each way, and asks all three the same queries: pages
// both ways with cursors, ranges that cut blocks, texts, streams and groups.
func TestBlocksReadAsRows(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	requests := blockTestRecords(rng, 3000)
	open := func(asRow func(i int) bool) *Store {
		s, err := Open(ctx, Config{MemoryLimit: "128MB", Threads: 1, Writers: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		for i, req := range requests {
			req = slices.Clone(req)
			for j := range req {
				if asRow(i*100 + j) {
					req[j].EventName = "row"
				}
			}
			if err := s.WriteLogs(ctx, req); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	rows := open(func(int) bool { return true })
	blocks := open(func(int) bool { return false })
	mixed := open(func(i int) bool { return i%3 == 0 })
	small := 0 // lines of requests too short for a block: rows in every store
	for _, req := range requests {
		if len(req) < minBlockLines {
			small += len(req)
		}
	}
	var n int
	if err := blocks.db.QueryRow("SELECT count(*) FROM logs").Scan(&n); err != nil || n != small || small == 0 {
		t.Fatalf("%d rows in the store of blocks (%v), want the %d lines of short requests", n, err, small)
	}
	read := func(s *Store, q store.LogQuery) []telemetry.LogRecord {
		t.Helper()
		var out []telemetry.LogRecord
		err := s.ScanLogs(ctx, q, 7, func(batch []telemetry.LogRecord) error {
			for _, r := range batch {
				r.EventName = ""
				out = append(out, r)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	queries := []store.LogQuery{
		{},
		{Descending: true},
		{Limit: 25},
		{Limit: 25, Descending: true},
		{Group: "api", Limit: 100},
		{Groups: []string{"jobs", "nope"}, Descending: true},
		{Stream: "web/2", Start: time.Unix(0, 10e9), End: time.Unix(0, 20e9)},
		{StreamPrefix: "web/", Contains: []string{"GET", "200"}},
		{Contains: []string{"slow"}, Descending: true, Limit: 40},
		{Start: time.Unix(0, 30_001_000_000), End: time.Unix(0, 30_050_000_000), Descending: true},
		{TraceID: telemetry.TraceIDFromParts(1, 1)},
	}
	for range 20 { // pages from random cursors
		at := int64(rng.IntN(80)) * 1e9
		queries = append(queries, store.LogQuery{After: &store.LogKey{TimeUnixNano: at, ID: 1<<20 + uint64(rng.IntN(3000))},
			Limit: 1 + rng.IntN(60), Descending: rng.IntN(2) == 0})
	}
	for i, q := range queries {
		want := read(rows, q)
		if len(want) == 0 && i < 9 {
			t.Fatalf("query %d (%+v) matches nothing: not a test", i, q)
		}
		if got := read(blocks, q); !reflect.DeepEqual(got, want) {
			t.Errorf("query %d (%+v): blocks answer %d records, rows %d", i, q, len(got), len(want))
		}
		if got := read(mixed, q); !reflect.DeepEqual(got, want) {
			t.Errorf("query %d (%+v): a mixed store answers %d records, rows %d", i, q, len(got), len(want))
		}
	}
}

// A block file that no block names any more is removed at the next checkpoint; the store
// starts a file of its own each time it opens.
func TestUnusedBlockFilesRemoved(t *testing.T) {
	ctx := context.Background()
	cfg := Config{Dir: t.TempDir(), MemoryLimit: "128MB", Threads: 1, Writers: 1}
	requests := blockTestRecords(rand.New(rand.NewPCG(3, 4)), 400)
	files := func() []string {
		t.Helper()
		entries, err := os.ReadDir(filepath.Join(cfg.Dir, "lookout.duckdb.blocks"))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	var later int64 // every line of the second store's writes is at or after it
	for i, part := range [][][]telemetry.LogRecord{requests[:len(requests)/2], requests[len(requests)/2:]} {
		s, err := Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, req := range part {
			if i == 1 {
				for j := range req {
					req[j].TimeUnixNano += 1e12
				}
				later = 1e12
			}
			if err := s.WriteLogs(ctx, req); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if got := files(); len(got) != 2 {
		t.Fatalf("block files %v, want one a store", got)
	}
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.DeleteBefore(ctx, time.Unix(0, later)); err != nil {
		t.Fatal(err)
	}
	if err := s.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if got := files(); !slices.Equal(got, []string{"00000002.blocks"}) {
		t.Errorf("block files %v after the first file's lines are gone, want the second's alone", got)
	}
	want := 0
	for _, req := range requests[len(requests)/2:] {
		want += len(req)
	}
	got, err := s.Logs(ctx, store.LogQuery{Limit: 1000})
	if err != nil || len(got) != want {
		t.Errorf("read %d lines (%v), want %d", len(got), err, want)
	}
}
