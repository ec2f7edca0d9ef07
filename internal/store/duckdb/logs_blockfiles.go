package duckdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The data of log blocks is kept in files of its own, appended to, beside the database:
// DuckDB writes a row group again whole at each checkpoint until it is full, and a row
// group of blocks holds a hundred million lines, so kept in a table their bytes would be
// written again at every checkpoint. log_blocks holds where each block's data is.
//
// A checkpoint syncs the files before the database, so that the file a checkpoint leaves
// names only data on disk. A crash loses what was appended since (the ingest log writes it
// again, into a new file: the store never appends to a file it did not start). A file that
// no block names once a checkpoint is done is removed.

// blockFiles are the files of a store's log blocks, numbered from 1 in the order written.
type blockFiles struct {
	dir  string
	temp bool // made for an in-memory store, removed when it closes

	mu     sync.Mutex
	cur    *os.File // the file being appended to, nil until the first append
	curNo  int
	size   int64
	synced bool
}

// blockFileSize is the size past which the next append starts a new file, so that removing
// old blocks frees files whole.
const blockFileSize = 64 << 20

func openBlockFiles(dir string) (*blockFiles, error) {
	f := &blockFiles{dir: dir, synced: true}
	if dir == "" {
		var err error
		if f.dir, err = os.MkdirTemp("", "lookout-log-blocks-"); err != nil {
			return nil, fmt.Errorf("log block files: %w", err)
		}
		f.temp = true
	} else if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("log block files: %w", err)
	}
	nums, err := f.numbers()
	if len(nums) > 0 {
		f.curNo = slices.Max(nums)
	}
	return f, err
}

// numbers lists the numbers of the files in the directory.
func (f *blockFiles) numbers() ([]int, error) {
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return nil, fmt.Errorf("log block files: %w", err)
	}
	var nums []int
	for _, e := range entries {
		if n, err := strconv.Atoi(strings.TrimSuffix(e.Name(), ".blocks")); err == nil && strings.HasSuffix(e.Name(), ".blocks") {
			nums = append(nums, n)
		}
	}
	return nums, nil
}

func (f *blockFiles) path(no int) string {
	return filepath.Join(f.dir, fmt.Sprintf("%08d.blocks", no))
}

// append writes data at the end of the current file and says where.
func (f *blockFiles) append(data []byte) (no int, offset int64, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cur == nil || f.size >= blockFileSize {
		if err := f.rotate(); err != nil {
			return 0, 0, err
		}
	}
	if _, err := f.cur.Write(data); err != nil {
		// Whatever part was written is never named; the next append starts a new file.
		f.cur.Close()
		f.cur = nil
		return 0, 0, fmt.Errorf("log block files: %w", err)
	}
	offset, f.size, f.synced = f.size, f.size+int64(len(data)), false
	return f.curNo, offset, nil
}

// rotate syncs and closes the current file and starts the next.
func (f *blockFiles) rotate() error {
	if err := f.syncLocked(); err != nil {
		return err
	}
	if f.cur != nil {
		f.cur.Close()
	}
	cur, err := os.OpenFile(f.path(f.curNo+1), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("log block files: %w", err)
	}
	f.cur, f.curNo, f.size, f.synced = cur, f.curNo+1, 0, false
	return nil
}

// sync makes what was appended durable, the new file's name included.
func (f *blockFiles) sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.syncLocked()
}

func (f *blockFiles) syncLocked() error {
	if f.synced || f.cur == nil {
		return nil
	}
	if err := f.cur.Sync(); err != nil {
		return fmt.Errorf("log block files: %w", err)
	}
	if d, err := os.Open(f.dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("log block files: %w", err)
		}
	}
	f.synced = true
	return nil
}

// read returns size bytes at offset of file no.
func (f *blockFiles) read(no int, offset int64, size int) ([]byte, error) {
	file, err := os.Open(f.path(no))
	if err != nil {
		return nil, fmt.Errorf("log block files: %w", err)
	}
	defer file.Close()
	data := make([]byte, size)
	if _, err := file.ReadAt(data, offset); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("log block files: %w", err)
	}
	return data, nil
}

// removeUnused removes the files other than the current one that used does not hold.
func (f *blockFiles) removeUnused(used map[int]bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	nums, err := f.numbers()
	for _, n := range nums {
		if !used[n] && (f.cur == nil || n != f.curNo) {
			err = errors.Join(err, os.Remove(f.path(n)))
		}
	}
	return err
}

// close syncs and closes the current file; a temporary directory is removed.
func (f *blockFiles) close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	err := f.syncLocked()
	if f.cur != nil {
		err = errors.Join(err, f.cur.Close())
		f.cur = nil
	}
	if f.temp {
		err = errors.Join(err, os.RemoveAll(f.dir))
	}
	return err
}

// removeUnusedBlockFiles removes the block files no block names. It runs after a checkpoint,
// with the writers locked: then the database file names no other, and no write is between
// appending to a file and naming it.
func (s *Store) removeUnusedBlockFiles(ctx context.Context) error {
	rows, err := s.writers[0].conn.QueryContext(ctx, "SELECT DISTINCT file FROM log_blocks")
	if err != nil {
		return fmt.Errorf("log block files: %w", err)
	}
	defer rows.Close()
	used := map[int]bool{}
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			return err
		}
		used[n] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return s.blockFiles.removeUnused(used)
}
