// Package factory opens the storage backend a configuration names. It is the one place that
// knows every backend: adding one is a package that implements the store contract's
// capabilities, its settings here, and a case in Open.
package factory

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"lookout/internal/store"
	"lookout/internal/store/duckdb"
)

// Kinds are the backends lookout can use, the default first.
var Kinds = []string{"duckdb"}

// Config names a backend and holds each backend's settings.
type Config struct {
	Kind   string // one of Kinds
	DuckDB duckdb.Config
}

// DefaultConfig keeps data in the embedded DuckDB store under dataDir.
func DefaultConfig(dataDir string) Config {
	return Config{Kind: "duckdb", DuckDB: duckdb.DefaultConfig(dataDir)}
}

// RegisterFlags adds the flags that choose and configure the backend: --store, and each
// backend's settings under its name (--duckdb.memory-limit, ...).
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Kind, "store", c.Kind, "storage backend: "+strings.Join(Kinds, ", "))
	fs.StringVar(&c.DuckDB.MemoryLimit, "duckdb.memory-limit", c.DuckDB.MemoryLimit, "memory DuckDB may use for its buffers")
	fs.IntVar(&c.DuckDB.Threads, "duckdb.threads", c.DuckDB.Threads, "threads DuckDB may use for one query (0: one per core)")
}

// Open opens the configured backend.
func Open(ctx context.Context, c Config, log *slog.Logger) (store.Backend, error) {
	switch c.Kind {
	case "duckdb":
		cfg := c.DuckDB
		cfg.Logger = log
		return duckdb.Open(ctx, cfg)
	}
	return nil, fmt.Errorf("unknown store %q; use one of: %s", c.Kind, strings.Join(Kinds, ", "))
}
