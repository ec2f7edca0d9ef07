package duckdb

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

// Retention, which rebuilds the operations from the stored spans, run between a batch's
// catalogue and its spans, leaves the batch's operations listed.
func TestRetentionKeepsOperationsOfSpansBeingWritten(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{MemoryLimit: "128MB", Threads: 1, Writers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	retention := make(chan error, 1)
	catalogued = func() {
		go func() {
			_, err := s.DeleteBefore(ctx, time.Unix(1, 0)) // removes no span
			retention <- err
		}()
		time.Sleep(200 * time.Millisecond) // time enough for it, unless it waits for the write
	}
	defer func() { catalogued = nil }()
	spans := shopSpans(rand.New(rand.NewPCG(9, 1)), 20, time.Now().UnixNano())
	if err := s.WriteSpans(ctx, spans); err != nil {
		t.Fatal(err)
	}
	catalogued = nil
	if err := <-retention; err != nil {
		t.Fatal(err)
	}
	want := map[[2]string]bool{}
	for _, sp := range spans {
		want[[2]string{sp.Service(), sp.Name}] = true
	}
	for key := range want {
		svc, name := key[0], key[1]
		ops, err := s.Operations(ctx, svc)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, op := range ops {
			found = found || op.Name == name
		}
		if !found {
			t.Errorf("operation %q of %s not listed after retention ran during its write", name, svc)
		}
	}
}
