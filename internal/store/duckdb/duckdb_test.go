package duckdb

import (
	"context"
	"testing"

	"lookout/internal/store"
	"lookout/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	dirs := map[store.Backend]string{}
	openDir := func(t *testing.T, dir string) store.Backend {
		s, err := Open(context.Background(), Config{Dir: dir, MemoryLimit: "128MB", Threads: 2, Writers: 2})
		if err != nil {
			t.Fatal(err)
		}
		dirs[s] = dir
		return s
	}
	storetest.Run(t, storetest.Backend{
		Open: func(t *testing.T) store.Backend { return openDir(t, t.TempDir()) },
		Reopen: func(t *testing.T, s store.Backend) store.Backend {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return openDir(t, dirs[s])
		},
	})
}
