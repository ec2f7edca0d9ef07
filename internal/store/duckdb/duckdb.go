// Package duckdb is lookout's embedded store: one DuckDB database file under the data
// directory. It is the only package that imports the DuckDB driver.
//
// Writes go through a few connections, each storing its share of a batch in one transaction
// and skipping spans already stored. The database file is written only at checkpoints
// (openDB): a returned WriteSpans is visible to reads, and durable once Checkpoint returns.
package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
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
	traces  *traceFilter // the traces spans are stored of (tracefilter.go)
	unsaved atomic.Int64 // spans and log records written since the last checkpoint
	threads int          // DuckDB's threads for queries; a checkpoint has one fewer

	spanWrites sync.RWMutex // span writes hold it to read, DeleteBefore to write (write.go)

	resources idCache[*telemetry.Resource] // read caches, by id
	keysets   idCache[*keysetEntry]

	errs errorCatalogue // error items' keys and ids; writers[0].mu guards it (occurrences.go)

	graphs *graphCache // the service graph's counts (graph_cache.go)

	streamTally streamTally // what log writes add to their streams, until saved (logs_tally.go)
	blockFiles  *blockFiles // the data of log blocks (logs_blockfiles.go)
	logIDs      logIDBound  // writers[0].mu guards it (logs.go)
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
	_, statErr := os.Stat(path)
	fresh := path == "" || errors.Is(statErr, os.ErrNotExist)
	db, err := openDB(ctx, path, fresh, cfg)
	if err != nil {
		return nil, err
	}
	for _, stmt := range sqlFile("schema") {
		if !fresh {
			// An earlier lookout's file has an older storage version, in which DuckDB
			// would store text it is told to compress with ZSTD uncompressed.
			stmt = strings.ReplaceAll(stmt, " USING COMPRESSION zstd", "")
		}
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
	s := &Store{db: db, log: cfg.Logger, traces: newTraceFilter(db)}
	if s.graphs, err = newGraphCache(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	if s.cat, err = loadCatalogue(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	s.cat.columns = columns
	if err := db.QueryRowContext(ctx, "SELECT coalesce(max(sample_rate) > 1, false) FROM spans").Scan(&s.cat.sampled); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.QueryRowContext(ctx, "SELECT current_setting('threads')").Scan(&s.threads); err != nil {
		db.Close()
		return nil, err
	}
	blocksDir := ""
	if path != "" {
		blocksDir = path + ".blocks"
	}
	if s.blockFiles, err = openBlockFiles(blocksDir); err != nil {
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

// openDB opens DuckDB with the database file at path attached (in memory if path is
// empty) as every connection's default catalog.
//
// The file is attached without DuckDB's own log (RECOVERY_MODE NO_WAL_WRITES): every batch
// written since the last checkpoint is in lookout's ingest log, which is replayed after a
// crash, so DuckDB's log would only repeat it, uncompressed and synced at every commit. A
// commit is then visible at once and durable at the next checkpoint; a crash leaves the file
// as its last checkpoint wrote it.
//
// A fresh file is written in storageVersion; files an earlier lookout made keep the
// version they were made in, which DuckDB goes on reading and writing.
func openDB(ctx context.Context, path string, fresh bool, cfg Config) (*sql.DB, error) {
	// Checkpoints are the store's to make (checkpointAfter); DuckDB's own threshold, on its
	// estimate of the rows held in memory, is a safety net. Queries always say ORDER BY, so
	// inserts need not keep their order.
	settings := []string{"checkpoint_threshold=1GB", "preserve_insertion_order=false"}
	if cfg.MemoryLimit != "" {
		settings = append(settings, "memory_limit="+cfg.MemoryLimit)
	}
	if cfg.Threads > 0 {
		settings = append(settings, fmt.Sprintf("threads=%d", cfg.Threads))
	}
	var attach string
	if path != "" {
		options := "RECOVERY_MODE NO_WAL_WRITES"
		if fresh {
			options += ", STORAGE_VERSION " + sqlString(storageVersion)
		}
		attach = fmt.Sprintf("ATTACH IF NOT EXISTS %s AS lookout (%s); USE lookout", sqlString(path), options)
	}
	connector, err := duckdbdriver.NewConnector("?"+strings.Join(settings, "&"), func(conn driver.ExecerContext) error {
		if attach == "" {
			return nil
		}
		_, err := conn.ExecContext(context.Background(), attach, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	db := sql.OpenDB(connector)
	err = db.PingContext(ctx) // the first connection attaches the file
	if err != nil && path != "" {
		// Databases written by earlier versions of lookout have DuckDB's log, which DuckDB
		// cannot always replay after a crash. lookout's ingest log holds everything since
		// the last checkpoint, so set DuckDB's log aside and open without it.
		if _, statErr := os.Stat(path + ".wal"); statErr == nil {
			aside := fmt.Sprintf("%s.wal.corrupt-%d", path, time.Now().Unix())
			cfg.Logger.Error("the store's log cannot be replayed; setting it aside, the ingest log will restore its data", "err", err, "moved_to", aside)
			if renameErr := os.Rename(path+".wal", aside); renameErr == nil {
				err = db.PingContext(ctx)
			}
		}
	}
	if err == nil && path != "" {
		// Spill where the data is, not in the working directory.
		_, err = db.ExecContext(ctx, "SET GLOBAL temp_directory = "+sqlString(path+".tmp"))
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open duckdb %s: %w", path, err)
	}
	return db, nil
}

// storageVersion is the DuckDB storage format of new database files: one in which DuckDB
// compresses text with ZSTD, which the logs table asks of its bodies (schema.sql); v1.0,
// its default, cannot.
const storageVersion = "v1.4.0"

// sqlString quotes s as an SQL string literal, for the statements that take no parameters.
func sqlString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// Checkpoint implements store.Checkpointer: it writes what was written since the last
// checkpoint into the database file, compressed, and syncs it.
func (s *Store) Checkpoint(ctx context.Context) error {
	defer s.lockWriters()()
	s.unsaved.Store(0)
	if err := s.graphs.flush(ctx); err != nil {
		return err
	}
	if err := s.saveStreams(ctx, s.writers[0].conn); err != nil {
		return err
	}
	// The file the checkpoint leaves must name only block data on disk.
	if err := s.blockFiles.sync(); err != nil {
		return err
	}
	if err := s.forceCheckpoint(ctx); err != nil {
		return err
	}
	return s.removeUnusedBlockFiles(ctx)
}

// forceCheckpoint has DuckDB checkpoint with a thread fewer than queries have, so that a core
// is left to ingest, which goes on decoding meanwhile. With every thread, on two cores, the
// threads that ran out of the checkpoint's tasks waited for the others' by spinning: the
// checkpoint took half as much CPU again for a quarter less time (BENCHMARKS.md). Queries
// that run meanwhile have the fewer threads too, for a second or two.
func (s *Store) forceCheckpoint(ctx context.Context) error {
	conn := s.writers[0].conn
	if s.threads > 1 {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("SET threads = %d", s.threads-1)); err != nil {
			return err
		}
		defer func() {
			if _, err := conn.ExecContext(context.Background(), fmt.Sprintf("SET threads = %d", s.threads)); err != nil {
				s.log.Warn("DuckDB's threads not restored after a checkpoint", "err", err)
			}
		}()
	}
	_, err := conn.ExecContext(ctx, "FORCE CHECKPOINT")
	return err
}

// checkpointAfter is how many spans or log records the store writes before it checkpoints
// of its own accord, which bounds the uncompressed rows DuckDB holds (and spills once past
// its memory limit). The store checkpoints rather than DuckDB, which would do it within a
// commit while the other writer's transaction is open, and then leave some row groups
// unmerged.
const checkpointAfter = 500_000

// Close checkpoints the database and closes it.
func (s *Store) Close() error {
	s.traces.close()
	unlock := s.lockWriters()
	werr := s.saveStreams(context.Background(), s.writers[0].conn)
	for _, w := range s.writers {
		werr = errors.Join(werr, w.conn.Close())
	}
	unlock()
	if err := s.graphs.flush(context.Background()); err != nil {
		s.log.Warn("service graph counts not flushed on close", "err", err)
	}
	if err := s.blockFiles.sync(); err != nil {
		s.log.Warn("log block files not synced on close", "err", err)
	} else if _, err := s.db.Exec("CHECKPOINT"); err != nil {
		s.log.Warn("checkpoint on close failed", "err", err)
	}
	if err := s.db.Close(); err != nil {
		return err
	}
	return errors.Join(werr, s.blockFiles.close())
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
	_ store.SpanReviser   = (*Store)(nil)
	_ store.SettingsStore = (*Store)(nil)

	_ store.OccurrenceWriter = (*Store)(nil)
	_ store.ItemReader       = (*Store)(nil)
	_ store.ItemTriager      = (*Store)(nil)
)
