package wal

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func replayAll(t *testing.T, l *Log, from Position) map[Position]string {
	t.Helper()
	got := map[Position]string{}
	if err := l.Replay(from, func(pos Position, p []byte) error { got[pos] = string(p); return nil }); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestAppendReplayReopen(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{SegmentBytes: 100}) // a new segment every few records
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	positions := make([]Position, 50)
	for i := range positions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pos, err := l.Append([]byte(fmt.Sprintf("record-%02d", i)))
			if err != nil {
				t.Error(err)
			}
			positions[i] = pos
		}()
	}
	wg.Wait()
	l.Close()

	l, err = Open(dir, Options{SegmentBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := replayAll(t, l, 1)
	if len(got) != 50 {
		t.Fatalf("replayed %d records, want 50", len(got))
	}
	for i, pos := range positions {
		if want := fmt.Sprintf("record-%02d", i); got[pos] != want {
			t.Fatalf("record at %d = %q, want %q", pos, got[pos], want)
		}
	}
	if l.Next() != 51 {
		t.Fatalf("Next after reopen = %d, want 51", l.Next())
	}
	if pos, err := l.Append([]byte("after")); err != nil || pos != 51 {
		t.Fatalf("append after reopen: %d, %v", pos, err)
	}
	if got := replayAll(t, l, 40); len(got) != 12 || got[51] != "after" || got[40] == "" {
		t.Fatalf("replay from 40 gave %d records", len(got))
	}
}

func TestTornTailIsDropped(t *testing.T) {
	dir := t.TempDir()
	l, _ := Open(dir, Options{})
	for i := 0; i < 3; i++ {
		l.Append(bytes.Repeat([]byte{byte('a' + i)}, 100))
	}
	l.Close()
	seg := filepath.Join(dir, fmt.Sprintf("%020d.wal", 1))
	info, _ := os.Stat(seg)
	if err := os.Truncate(seg, info.Size()-10); err != nil { // a crash mid-write of record 3
		t.Fatal(err)
	}
	l, _ = Open(dir, Options{})
	defer l.Close()
	if got := replayAll(t, l, 1); len(got) != 2 {
		t.Fatalf("replayed %d records from a torn segment, want 2", len(got))
	}
	if pos, _ := l.Append([]byte("next")); pos != 3 {
		t.Fatalf("first append after a torn tail got position %d, want 3", pos)
	}
	if got := replayAll(t, l, 1); len(got) != 3 || got[3] != "next" {
		t.Fatalf("after recovery replay = %v", got)
	}
}

func TestCorruptRecordEndsSegment(t *testing.T) {
	dir := t.TempDir()
	l, _ := Open(dir, Options{})
	l.Append([]byte("good"))
	l.Append([]byte("flipped"))
	l.Append([]byte("after"))
	l.Close()
	seg := filepath.Join(dir, fmt.Sprintf("%020d.wal", 1))
	b, _ := os.ReadFile(seg)
	b[8+4+8+2] ^= 0xff // a byte of the second payload
	os.WriteFile(seg, b, 0o640)
	l, _ = Open(dir, Options{})
	defer l.Close()
	if got := replayAll(t, l, 1); len(got) != 1 || got[1] != "good" {
		t.Fatalf("replay past a corrupt record = %v", got)
	}
}

func TestRemoveBefore(t *testing.T) {
	dir := t.TempDir()
	l, _ := Open(dir, Options{SegmentBytes: 1}) // one record a segment
	defer l.Close()
	for i := 0; i < 5; i++ {
		l.Append([]byte{byte(i)})
	}
	if err := l.RemoveBefore(4); err != nil {
		t.Fatal(err)
	}
	got := replayAll(t, l, 1)
	if len(got) != 2 || got[4] == "" || got[5] == "" {
		t.Fatalf("after RemoveBefore(4) replay = %v, want records 4 and 5", got)
	}
	if err := l.RemoveBefore(100); err != nil {
		t.Fatal(err)
	}
	if got := replayAll(t, l, 1); len(got) != 1 || got[5] == "" {
		t.Fatalf("the segment being written must stay: %v", got)
	}
}

func FuzzSegment(f *testing.F) {
	dir := f.TempDir()
	l, _ := Open(dir, Options{})
	l.Append([]byte("seed one"))
	l.Append(nil)
	l.Close()
	seed, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%020d.wal", 1)))
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "x.wal")
		os.WriteFile(path, data, 0o640)
		total := 0
		n, err := scanSegment(path, func(_ Position, p []byte) error { total += len(p) + 8; return nil }, 1)
		if err != nil {
			t.Fatal(err)
		}
		if total > len(data) || (n > 0 && total == 0) {
			t.Fatalf("read %d records of %d bytes from %d bytes", n, total, len(data))
		}
	})
}
