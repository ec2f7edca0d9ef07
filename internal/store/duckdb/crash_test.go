package duckdb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// The crash test plays the ingest pipeline's part (internal/ingest): a writer process
// records each batch as acknowledged (fsynced) before writing it to the store, and every
// few batches checkpoints the store and then records how many batches the checkpoint covers.
// It is killed at random moments, every other time while it checkpoints; each time the
// database must open, and writing again the batches acknowledged since the last recorded
// checkpoint must leave every span stored once.

const (
	crashDirEnv       = "LOOKOUT_CRASH_DIR"
	crashBatchSpans   = 4000
	crashCheckpointIn = 4 // batches
)

// crashBatch is batch number b of the crash test's stream, the same in every process.
func crashBatch(b int) []telemetry.Span {
	return shopSpans(rand.New(rand.NewPCG(7, uint64(b))), crashBatchSpans, 1_700_000_000_000_000_000+int64(b)*1_000_000_000)
}

// crashLines are the log lines of batch b, plain lines of two streams that the store keeps
// in blocks.
func crashLines(b int) []telemetry.LogRecord {
	res := &telemetry.Resource{Attributes: telemetry.Attributes{{Key: telemetry.ServiceNameKey, Value: telemetry.StringValue("crash")}}}
	lines := make([]telemetry.LogRecord, crashBatchLines)
	for i := range lines {
		at := 1_700_000_000_000_000_000 + int64(b)*1_000_000_000 + int64(i)*1000
		lines[i] = telemetry.LogRecord{ID: uint64(b*crashBatchLines + i + 1), TimeUnixNano: at, ObservedTimeUnixNano: at,
			Group: "crash", Stream: fmt.Sprintf("s%d", i%2), Body: telemetry.StringValue(fmt.Sprintf("batch %d line %d", b, i)),
			Resource: res, Ingest: telemetry.IngestInfo{Protocol: "cloudwatch"}}
	}
	return lines
}

const crashBatchLines = 2000

// Files of the crash test's data directory: one byte a batch acknowledged, and the number of
// batches the last checkpoint covers.
const (
	acknowledgedFile  = "acknowledged"
	checkpointedFile  = "checkpointed"
	checkpointingFile = "checkpointing" // there while the writer checkpoints
)

func TestCrashRecovery(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		t.Skip("in the writer process")
	}
	if testing.Short() {
		t.Skip("kills a writer process several times")
	}
	dir := t.TempDir()
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for round := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashWriter$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait until the writer has got somewhere, then kill it at a random moment.
		before := acknowledged(t, dir)
		deadline := time.Now().Add(time.Minute)
		for acknowledged(t, dir) < before+2 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if round%2 == 1 {
			for !exists(filepath.Join(dir, checkpointingFile)) && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(time.Duration(rnd.IntN(50)) * time.Millisecond)
		} else {
			time.Sleep(time.Duration(rnd.IntN(1000)) * time.Millisecond)
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		if acknowledged(t, dir) < before+2 {
			t.Fatalf("round %d: the writer wrote nothing in a minute:\n%s", round, out)
		}

		acked, checkpointed := acknowledged(t, dir), readCount(t, filepath.Join(dir, checkpointedFile))
		os.Remove(filepath.Join(dir, checkpointingFile))
		s, err := Open(ctx, Config{Dir: dir, MemoryLimit: "128MB", Writers: 2})
		if err != nil {
			t.Fatalf("round %d: open after kill: %v", round, err)
		}
		var before0 int64
		if err := s.db.QueryRow("SELECT count(*) FROM spans").Scan(&before0); err != nil {
			t.Fatal(err)
		}
		if atLeast := int64(checkpointed * crashBatchSpans); before0 < atLeast {
			t.Fatalf("round %d: %d spans after the kill, but the last checkpoint covered %d", round, before0, atLeast)
		}
		for b := checkpointed; b < acked; b++ {
			if err := s.WriteSpans(ctx, crashBatch(b)); err != nil {
				t.Fatalf("round %d: replay batch %d: %v", round, b, err)
			}
			if err := s.WriteLogs(ctx, crashLines(b)); err != nil {
				t.Fatalf("round %d: replay batch %d's lines: %v", round, b, err)
			}
		}
		lines, ids, sent := 0, map[uint64]bool{}, map[int][]telemetry.LogRecord{}
		err = s.ScanLogs(ctx, store.LogQuery{}, 4096, func(batch []telemetry.LogRecord) error {
			for _, r := range batch {
				b := int(r.ID-1) / crashBatchLines
				if sent[b] == nil {
					sent[b] = crashLines(b)
				}
				if want := sent[b][(r.ID-1)%crashBatchLines]; r.Body.AsString() != want.Body.AsString() {
					return fmt.Errorf("line %d reads %q, want %q", r.ID, r.Body.AsString(), want.Body.AsString())
				}
				lines, ids[r.ID] = lines+1, true
			}
			return nil
		})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if want := acked * crashBatchLines; lines != want || len(ids) != want {
			t.Fatalf("round %d: after replay %d log lines, %d distinct; want %d", round, lines, len(ids), want)
		}
		var spans, distinct int64
		if err := s.db.QueryRow("SELECT count(*), count(DISTINCT (trace_hi, trace_lo, span_id)) FROM spans").Scan(&spans, &distinct); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: killed after %d batches acknowledged, %d checkpointed; %d spans stored before the replay", round, acked, checkpointed, before0)
		if want := int64(acked * crashBatchSpans); spans != want || distinct != want {
			t.Fatalf("round %d: after replay %d spans, %d distinct; want %d", round, spans, distinct, want)
		}
		// The last batch reads back whole.
		last := crashBatch(acked - 1)
		got, err := s.Trace(ctx, last[len(last)-1].TraceID)
		if err != nil {
			t.Fatal(err)
		}
		var want []telemetry.Span
		for _, sp := range last {
			if sp.TraceID == last[len(last)-1].TraceID {
				want = append(want, sp)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("round %d: last trace has %d spans, want %d", round, len(got), len(want))
		}
		// As the pipeline does after its replay: checkpoint, then record it.
		if err := s.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		writeCount(t, filepath.Join(dir, checkpointedFile), acked)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCrashWriter is the writer process of TestCrashRecovery; it writes until it is killed.
func TestCrashWriter(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("run by TestCrashRecovery")
	}
	ctx := context.Background()
	s, err := Open(ctx, Config{Dir: dir, MemoryLimit: "128MB", Writers: 2})
	if err != nil {
		t.Fatal(err)
	}
	log, err := os.OpenFile(filepath.Join(dir, acknowledgedFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	for b := acknowledged(t, dir); ; b++ {
		spans := crashBatch(b)
		if _, err := log.Write([]byte{1}); err != nil {
			t.Fatal(err)
		}
		if err := log.Sync(); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteSpans(ctx, spans); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteLogs(ctx, crashLines(b)); err != nil {
			t.Fatal(err)
		}
		if (b+1)%crashCheckpointIn == 0 {
			if err := os.WriteFile(filepath.Join(dir, checkpointingFile), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := s.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
			writeCount(t, filepath.Join(dir, checkpointedFile), b+1)
			if err := os.Remove(filepath.Join(dir, checkpointingFile)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// acknowledged is how many batches the writer has acknowledged.
func acknowledged(t *testing.T, dir string) int {
	info, err := os.Stat(filepath.Join(dir, acknowledgedFile))
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return int(info.Size())
}

func readCount(t *testing.T, path string) int {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// writeCount replaces the file at path with n, atomically.
func writeCount(t *testing.T, path string, n int) {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(n)), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}
