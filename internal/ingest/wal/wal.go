// Package wal is lookout's ingest write-ahead log: an append-only sequence of segment files
// of CRC-framed records. A record is acknowledged only once it is fsynced; concurrent appends
// share one fsync (group commit), so durability costs one disk flush per group, not per
// request.
//
// Segment files are named by their first record's sequence number. A record is framed as
// [length uint32][crc32c uint32][payload], little-endian; a torn or corrupt tail (a crash in
// the middle of a write) ends replay at the last whole record, and appends continue in a new
// segment.
package wal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// MaxRecordBytes bounds one record; a longer length prefix can only be corruption.
const MaxRecordBytes = 256 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Position names a record: the sequence number it was given, counting from 1.
type Position uint64

// Log is the write-ahead log. It is safe for concurrent use.
type Log struct {
	dir         string
	segmentSize int64

	mu      sync.Mutex
	queue   []*appendReq
	next    Position // sequence number of the next record
	current Position // first position of the segment being written; 0 before the first
	flusher chan struct{}
	closed  bool
	done    chan struct{}

	// owned by the flusher goroutine
	f        *os.File
	w        *bufio.Writer
	fileSize int64
}

type appendReq struct {
	payload []byte
	pos     Position
	done    chan error
}

// Options tune a Log.
type Options struct {
	// SegmentBytes is the size after which a new segment file starts.
	SegmentBytes int64
}

// Open opens the log in dir, creating it if needed. Call Replay before Append to read what
// an earlier run left; appends go to a new segment.
func Open(dir string, opts Options) (*Log, error) {
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = 64 << 20
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	l := &Log{dir: dir, segmentSize: opts.SegmentBytes, flusher: make(chan struct{}, 1), done: make(chan struct{})}
	segs, err := l.segments()
	if err != nil {
		return nil, err
	}
	l.next = 1
	if len(segs) > 0 {
		// Count the records of the last segment to find the next sequence number.
		last := segs[len(segs)-1]
		n, err := scanSegment(l.path(last), func(Position, []byte) error { return nil }, last)
		if err != nil {
			return nil, err
		}
		l.next = last + Position(n)
		if n == 0 { // created, then the process died before a whole record was written
			if err := os.Remove(l.path(last)); err != nil {
				return nil, err
			}
		}
	}
	go l.flushLoop()
	return l, nil
}

func (l *Log) path(first Position) string {
	return filepath.Join(l.dir, fmt.Sprintf("%020d.wal", uint64(first)))
}

// segments lists the first positions of the segment files, in order.
func (l *Log) segments() ([]Position, error) {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return nil, err
	}
	var segs []Position
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".wal")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			continue
		}
		segs = append(segs, Position(n))
	}
	slices.Sort(segs)
	return segs, nil
}

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("wal: closed")

// Append writes payload as one record and returns its position once it is on disk. The
// caller must not modify payload until Append returns.
func (l *Log) Append(payload []byte) (Position, error) {
	if len(payload) > MaxRecordBytes {
		return 0, fmt.Errorf("wal: record of %d bytes exceeds %d", len(payload), MaxRecordBytes)
	}
	req := &appendReq{payload: payload, done: make(chan error, 1)}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return 0, ErrClosed
	}
	req.pos = l.next
	l.next++
	l.queue = append(l.queue, req)
	l.mu.Unlock()
	select {
	case l.flusher <- struct{}{}:
	default:
	}
	return req.pos, <-req.done
}

// flushLoop writes queued records and syncs them, one fsync per group.
func (l *Log) flushLoop() {
	defer close(l.done)
	for {
		l.mu.Lock()
		batch := l.queue
		l.queue = nil
		closed := l.closed
		l.mu.Unlock()
		if len(batch) == 0 {
			if closed {
				if l.f != nil {
					l.f.Close()
				}
				return
			}
			<-l.flusher
			continue
		}
		err := l.write(batch)
		for _, req := range batch {
			req.done <- err
		}
	}
}

func (l *Log) write(batch []*appendReq) error {
	if l.f == nil || l.fileSize >= l.segmentSize {
		if err := l.rotate(batch[0].pos); err != nil {
			return err
		}
	}
	var header [8]byte
	for _, req := range batch {
		binary.LittleEndian.PutUint32(header[:4], uint32(len(req.payload)))
		binary.LittleEndian.PutUint32(header[4:], crc32.Checksum(req.payload, castagnoli))
		l.w.Write(header[:])
		l.w.Write(req.payload)
		l.fileSize += int64(len(header) + len(req.payload))
	}
	if err := l.w.Flush(); err != nil {
		return l.fail(err)
	}
	if err := l.f.Sync(); err != nil {
		return l.fail(err)
	}
	return nil
}

// fail drops the current segment after a failed write, so that the next group starts in a
// fresh file rather than after a partial record.
func (l *Log) fail(err error) error {
	l.f.Close()
	l.f = nil
	return fmt.Errorf("wal: write: %w", err)
}

func (l *Log) rotate(first Position) error {
	if l.f != nil {
		if err := l.f.Close(); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(l.path(first), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("wal: new segment: %w", err)
	}
	if err := syncDir(l.dir); err != nil {
		f.Close()
		return err
	}
	l.f, l.fileSize = f, 0
	l.mu.Lock()
	l.current = first
	l.mu.Unlock()
	if l.w == nil {
		l.w = bufio.NewWriterSize(f, 1<<20)
	} else {
		l.w.Reset(f)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Replay calls fn for every record at or after from, in order. It stops at the first torn
// or corrupt record of a segment and goes on with the next segment.
func (l *Log) Replay(from Position, fn func(pos Position, payload []byte) error) error {
	segs, err := l.segments()
	if err != nil {
		return err
	}
	for i, first := range segs {
		if i+1 < len(segs) && segs[i+1] <= from {
			continue // wholly before from
		}
		if _, err := scanSegment(l.path(first), func(pos Position, payload []byte) error {
			if pos < from {
				return nil
			}
			return fn(pos, payload)
		}, first); err != nil {
			return err
		}
	}
	return nil
}

// scanSegment reads the whole records of one segment and returns how many there were. A
// short or corrupt record ends the segment without error: it is a write a crash cut short.
func scanSegment(path string, fn func(Position, []byte) error, first Position) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var header [8]byte
	n := 0
	for {
		if _, err := io.ReadFull(r, header[:]); err != nil {
			return n, nil
		}
		size := binary.LittleEndian.Uint32(header[:4])
		if size > MaxRecordBytes {
			return n, nil
		}
		payload := make([]byte, size)
		if _, err := io.ReadFull(r, payload); err != nil {
			return n, nil
		}
		if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(header[4:]) {
			return n, nil
		}
		if err := fn(first+Position(n), payload); err != nil {
			return n, err
		}
		n++
	}
}

// RemoveBefore deletes the segments whose records all precede pos.
func (l *Log) RemoveBefore(pos Position) error {
	segs, err := l.segments()
	if err != nil {
		return err
	}
	l.mu.Lock()
	current := l.current
	l.mu.Unlock()
	for i, first := range segs {
		if i+1 >= len(segs) || segs[i+1] > pos || first == current {
			break
		}
		if err := os.Remove(l.path(first)); err != nil {
			return err
		}
	}
	return nil
}

// Next returns the position the next appended record will get.
func (l *Log) Next() Position {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.next
}

// Close waits for queued appends to be written and closes the log.
func (l *Log) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	select {
	case l.flusher <- struct{}{}:
	default:
	}
	<-l.done
	return nil
}
