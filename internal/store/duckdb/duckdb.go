// Package duckdb is lookout's embedded store: one DuckDB database file under the data
// directory. It is the only package that imports the DuckDB driver.
//
// Writes are serialised through one connection: each batch is appended to a temporary staging
// table and moved into the spans table in one transaction, skipping spans already stored.
// DuckDB syncs its write-ahead log on every commit, so a returned WriteSpans is durable.
package duckdb

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	duckdbdriver "github.com/duckdb/duckdb-go/v2"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

// sqlStatements holds the statements of each embedded .sql file by name, split on ";" at
// line ends once, when the package loads.
var sqlStatements = func() map[string][]string {
	files, err := sqlFiles.ReadDir("sql")
	if err != nil {
		panic(err) // embedded at build time
	}
	m := make(map[string][]string, len(files))
	for _, f := range files {
		b, err := sqlFiles.ReadFile("sql/" + f.Name())
		if err != nil {
			panic(err)
		}
		var stmts []string
		for _, s := range strings.SplitAfter(string(b), ";\n") {
			if strings.TrimSpace(stripComments(s)) != "" {
				stmts = append(stmts, s)
			}
		}
		m[strings.TrimSuffix(f.Name(), ".sql")] = stmts
	}
	return m
}()

// sqlFile returns the statements of an embedded .sql file.
func sqlFile(name string) []string {
	stmts, ok := sqlStatements[name]
	if !ok {
		panic("no embedded sql/" + name + ".sql") // a programming error
	}
	return stmts
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// Config configures the store.
type Config struct {
	// Dir holds the database file. Empty means an in-memory database (tests only: nothing is
	// durable).
	Dir string
	// MemoryLimit caps DuckDB's buffer memory, e.g. "256MB".
	MemoryLimit string
	// Threads is how many threads DuckDB may use for one query; 0 means one per core.
	Threads int
	// Writers is how many connections write in parallel, each taking the spans of a share
	// of the traces.
	Writers int
	Logger  *slog.Logger
}

// DefaultConfig returns the configuration lookout serves with.
func DefaultConfig(dir string) Config {
	return Config{Dir: dir, MemoryLimit: "128MB", Writers: 2, Logger: slog.Default()}
}

// Store is the DuckDB backend. It offers every capability of the store contract.
type Store struct {
	db      *sql.DB
	log     *slog.Logger
	writers []*writer
	cat     *catalogue

	resources idCache[*telemetry.Resource] // read caches, by id
	keysets   idCache[*keysetEntry]
}

// Open opens or creates the database in cfg.Dir.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	path := ""
	if cfg.Dir != "" {
		if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		path = filepath.Join(cfg.Dir, "lookout.duckdb")
	}
	// Batches of tens of thousands of rows would pass DuckDB's default 16 MiB log threshold
	// at almost every commit, making each commit a checkpoint; let the log grow larger and
	// checkpoint on lookout's schedule instead. Queries always say ORDER BY, so inserts need
	// not keep their order.
	settings := []string{"checkpoint_threshold=256MB", "preserve_insertion_order=false"}
	if cfg.MemoryLimit != "" {
		settings = append(settings, "memory_limit="+cfg.MemoryLimit)
	}
	if cfg.Threads > 0 {
		settings = append(settings, fmt.Sprintf("threads=%d", cfg.Threads))
	}
	dsn := path
	if len(settings) > 0 {
		dsn += "?" + strings.Join(settings, "&")
	}
	connector, err := duckdbdriver.NewConnector(dsn, nil)
	if err != nil && path != "" {
		// DuckDB cannot always replay its own log after a crash. lookout's ingest log holds
		// everything since the last checkpoint, so set DuckDB's log aside and open without it.
		if _, statErr := os.Stat(path + ".wal"); statErr == nil {
			aside := fmt.Sprintf("%s.wal.corrupt-%d", path, time.Now().Unix())
			cfg.Logger.Error("the store's log cannot be replayed; setting it aside, the ingest log will restore its data", "err", err, "moved_to", aside)
			if renameErr := os.Rename(path+".wal", aside); renameErr == nil {
				connector, err = duckdbdriver.NewConnector(dsn, nil)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open duckdb %s: %w", path, err)
	}
	db := sql.OpenDB(connector)
	for _, stmt := range sqlFile("schema") {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			db.Close()
			return nil, fmt.Errorf("create schema: %w", err)
		}
	}
	columns, err := migrateAttrColumns(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	s := &Store{db: db, log: cfg.Logger}
	if s.cat, err = loadCatalogue(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	s.cat.columns = columns
	if err := db.QueryRowContext(ctx, "SELECT coalesce(max(sample_rate) > 1, false) FROM spans").Scan(&s.cat.sampled); err != nil {
		db.Close()
		return nil, err
	}
	for range max(cfg.Writers, 1) {
		w, err := newWriter(ctx, db)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.writers = append(s.writers, w)
	}
	return s, nil
}

// Checkpoint implements store.Checkpointer: it writes DuckDB's log into the database file.
func (s *Store) Checkpoint(ctx context.Context) error {
	defer s.lockWriters()()
	_, err := s.writers[0].conn.ExecContext(ctx, "FORCE CHECKPOINT")
	return err
}

// Close checkpoints the database and closes it.
func (s *Store) Close() error {
	unlock := s.lockWriters()
	var werr error
	for _, w := range s.writers {
		werr = errors.Join(werr, w.conn.Close())
	}
	unlock()
	if _, err := s.db.Exec("CHECKPOINT"); err != nil {
		s.log.Warn("checkpoint on close failed", "err", err)
	}
	if err := s.db.Close(); err != nil {
		return err
	}
	return werr
}

// The capabilities the store offers.
var (
	_ store.Backend       = (*Store)(nil)
	_ store.SpanWriter    = (*Store)(nil)
	_ store.TraceReader   = (*Store)(nil)
	_ store.QueryRunner   = (*Store)(nil)
	_ store.DatasetReader = (*Store)(nil)
	_ store.Retainer      = (*Store)(nil)
	_ store.LogWriter     = (*Store)(nil)
	_ store.LogReader     = (*Store)(nil)
)
