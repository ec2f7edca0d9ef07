package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/klauspost/compress/zstd"

	"lookout/internal/telemetry"
)

// Plain text lines without a trace, which are most of what CloudWatch Logs clients send, are
// kept in blocks rather than a row each: the lines of one stream that one write stores make
// one row of log_blocks, its fields shared by every line and the lines themselves one zstd
// frame. A row a line would cost DuckDB an appended string, its statistics and a
// compression at checkpoint each; a block costs one zstd pass over its bodies, which also
// compresses them better (lines of one stream repeat each other) than a column's ZSTD
// vectors, whose lengths stay raw. Readers decode the blocks of their range in Go.

// logLine is one line of a block.
type logLine struct {
	ID                 uint64
	TimeNS, ObservedNS int64
	Body               string
}

// logBlock is the lines of one stream that one write stored, with what they share.
type logBlock struct {
	FirstID                 uint64 // the lowest id of its lines, which names the block
	Group, Stream, Protocol string
	ResourceID              int64
	Lines                   []logLine
}

// inBlock says whether a record is kept in a block: a text line that nothing but its group,
// stream, resource and protocol describes.
func inBlock(r *telemetry.LogRecord) bool {
	return !notPlain(r) && !traced(r)
}

// blockEncoder compresses blocks at zstd's fastest level: on lines such as access logs it
// gives no more bytes than the default level (21.5 against 22.7 a 200-byte line, in blocks
// of 1,000) at four fifths of its CPU.
var blockEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
	zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false), zstd.WithZeroFrames(true))

// blockDecoder decodes blocks, at most maxBlockBytes of them each.
var blockDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxBlockBytes))

// maxBlockBytes bounds a block's decoded size: a PutLogEvents request holds at most 1 MiB of
// lines, an OTLP request what its listener's limit lets through.
const maxBlockBytes = 256 << 20

// encodeBlock appends to dst the data of lines: zstd of their count, then for each its id,
// time and observed time as differences from the line before, and its body's length, all
// varints, then the bodies one after another. Fields first and bodies after, so that zstd
// meets like with like. Bodies must be valid UTF-8.
func encodeBlock(dst []byte, lines []logLine) []byte {
	size := 0
	for _, l := range lines {
		size += len(l.Body)
	}
	raw := make([]byte, 0, 16*len(lines)+size)
	raw = binary.AppendUvarint(raw, uint64(len(lines)))
	var prev logLine
	for _, l := range lines {
		raw = binary.AppendUvarint(raw, l.ID-prev.ID) // a lower id wraps, and adding it back unwraps
		raw = binary.AppendVarint(raw, l.TimeNS-prev.TimeNS)
		raw = binary.AppendVarint(raw, l.ObservedNS-prev.ObservedNS)
		raw = binary.AppendUvarint(raw, uint64(len(l.Body)))
		prev = l
	}
	for _, l := range lines {
		raw = append(raw, l.Body...)
	}
	return blockEncoder.EncodeAll(raw, dst)
}

var errBadBlock = errors.New("log block: malformed data")

// decodeBlock reads the lines encodeBlock wrote. The bodies share one string.
func decodeBlock(data []byte) ([]logLine, error) {
	raw, err := blockDecoder.DecodeAll(data, nil)
	if err != nil {
		return nil, fmt.Errorf("log block: %w", err)
	}
	count, n := binary.Uvarint(raw)
	if n <= 0 || count > uint64(len(raw)) { // every line takes at least four bytes
		return nil, errBadBlock
	}
	raw = raw[n:]
	lines := make([]logLine, count)
	lengths := make([]uint64, count)
	var id uint64
	var t, o int64
	for i := range lines {
		var d [4]int64
		for f := range d {
			var n int
			if f == 0 || f == 3 {
				var u uint64
				u, n = binary.Uvarint(raw)
				d[f] = int64(u)
			} else {
				d[f], n = binary.Varint(raw)
			}
			if n <= 0 {
				return nil, errBadBlock
			}
			raw = raw[n:]
		}
		id, t, o = id+uint64(d[0]), t+d[1], o+d[2]
		lines[i] = logLine{ID: id, TimeNS: t, ObservedNS: o}
		lengths[i] = uint64(d[3])
	}
	bodies := unsafe.String(unsafe.SliceData(raw), len(raw)) // raw is this call's own, never written again
	for i := range lines {
		if lengths[i] > uint64(len(bodies)) {
			return nil, errBadBlock
		}
		lines[i].Body, bodies = bodies[:lengths[i]], bodies[lengths[i]:]
	}
	if len(bodies) != 0 {
		return nil, errBadBlock
	}
	return lines, nil
}

// minBlockLines is the fewest lines a block holds: fewer, as a client that sends each line on
// its own writes them, are kept as rows, which cost no frame and no row of log_blocks each.
const minBlockLines = 16

// blockKey is what a block's lines share.
type blockKey struct {
	group, stream, protocol string
	resourceID              int64
}

// logBlocks splits records into the rows of log_blocks (one a stream, resource and protocol,
// lines in the records' order), their data appended to the block files, and the records kept
// a row each.
func (s *Store) logBlocks(records []*telemetry.LogRecord, resources map[*telemetry.Resource]int64) (blocks [][]driver.Value, rows []*telemetry.LogRecord, err error) {
	var keys []blockKey
	byKey := map[blockKey][]*telemetry.LogRecord{}
	for _, r := range records {
		if !inBlock(r) {
			rows = append(rows, r)
			continue
		}
		k := blockKey{r.Group, r.Stream, r.Ingest.Protocol, resources[r.Resource]}
		if byKey[k] == nil {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], r)
	}
	for _, k := range keys {
		if len(byKey[k]) < minBlockLines {
			rows = append(rows, byKey[k]...)
			continue
		}
		lines := make([]logLine, len(byKey[k]))
		for i, r := range byKey[k] {
			lines[i] = logLine{ID: r.ID, TimeNS: r.TimeUnixNano, ObservedNS: r.ObservedTimeUnixNano, Body: validUTF8(r.Body.AsString())}
		}
		row, err := s.blockRow(k, lines)
		if err != nil {
			return nil, nil, err
		}
		blocks = append(blocks, row)
	}
	return blocks, rows, nil
}

// blockRow appends the data of lines, which must not be empty, to the block files and
// returns the row of log_blocks that names it.
func (s *Store) blockRow(k blockKey, lines []logLine) ([]driver.Value, error) {
	firstID, lastID := lines[0].ID, lines[0].ID
	first, last, lastObserved := lines[0].TimeNS, lines[0].TimeNS, lines[0].ObservedNS
	var bytes int64
	for _, l := range lines {
		firstID, lastID = min(firstID, l.ID), max(lastID, l.ID)
		first, last = min(first, l.TimeNS), max(last, l.TimeNS)
		lastObserved = max(lastObserved, l.ObservedNS)
		bytes += int64(len(l.Body))
	}
	data := encodeBlock(nil, lines)
	file, offset, err := s.blockFiles.append(data)
	if err != nil {
		return nil, err
	}
	return []driver.Value{firstID, lastID, first, last, lastObserved, validUTF8(k.group), validUTF8(k.stream),
		k.resourceID, validUTF8(k.protocol), int32(len(lines)), bytes, int32(file), offset, int32(len(data))}, nil
}

// blockLines reads and decodes the data of a block.
func (s *Store) blockLines(file int, offset int64, size int) ([]logLine, error) {
	data, err := s.blockFiles.read(file, offset, size)
	if err != nil {
		return nil, err
	}
	return decodeBlock(data)
}

// blockConds adds to b what blocks holding lines of groups and streams (nil: any), streams
// starting with prefix (empty: any), in [start, end) (zero: unbounded) meet.
func blockConds(b *sqlBuilder, groups, streams []string, prefix string, start, end time.Time) {
	if groups != nil {
		b.whereIn("log_group", groups)
	}
	if streams != nil {
		b.whereIn("stream", streams)
	}
	if prefix != "" {
		b.where("starts_with(stream, %s)", prefix)
	}
	if !start.IsZero() {
		b.where("last_ns >= %s", start.UnixNano())
	}
	if !end.IsZero() {
		b.where("first_ns < %s", end.UnixNano())
	}
}

const blockColumns = `first_id, log_group, stream, protocol, resource_id, file, "offset", size`

// eachLogBlock decodes the blocks that b's conditions select, in no particular order, and
// hands each to fn; an error from fn ends the scan and is returned. A block may hold lines
// outside the range its conditions name.
func (s *Store) eachLogBlock(ctx context.Context, b *sqlBuilder, fn func(*logBlock) error) error {
	return s.decodeBlocks(ctx, "SELECT "+blockColumns+" FROM log_blocks"+b.clause(), b.args, fn)
}

// blockRef is a block before its lines are read: what they share, and where its data is.
type blockRef struct {
	logBlock
	file, size int
	offset     int64
}

// decodeBlocks runs query, which selects blockColumns, reads and decodes the blocks it names
// on every core, and hands each to fn, one at a time, in no particular order.
func (s *Store) decodeBlocks(ctx context.Context, query string, args []any, fn func(*logBlock) error) error {
	refs, err := s.blockRefs(ctx, query, args)
	if err != nil || len(refs) == 0 {
		return err
	}
	workers := min(runtime.GOMAXPROCS(0), len(refs))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan *blockRef)
	type decoded struct {
		blk *logBlock
		err error
	}
	done := make(chan decoded, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ref := range next {
				blk := ref.logBlock
				lines, err := s.blockLines(ref.file, ref.offset, ref.size)
				if err != nil {
					err = fmt.Errorf("log block %d: %w", blk.FirstID, err)
				}
				blk.Lines = lines
				select {
				case done <- decoded{&blk, err}:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() {
		defer close(next)
		for i := range refs {
			select {
			case next <- &refs[i]:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(done)
	}()
	for d := range done {
		if err == nil {
			if err = d.err; err == nil {
				err = fn(d.blk)
			}
			if err != nil {
				cancel() // the workers stop; done closes once they have
			}
		}
	}
	return err
}

// blockRefs runs query, which selects blockColumns.
func (s *Store) blockRefs(ctx context.Context, query string, args []any) ([]blockRef, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("log blocks: %w", err)
	}
	defer rows.Close()
	var refs []blockRef
	for rows.Next() {
		var r blockRef
		if err := rows.Scan(&r.FirstID, &r.Group, &r.Stream, &r.Protocol, &r.ResourceID, &r.file, &r.offset, &r.size); err != nil {
			return nil, fmt.Errorf("log blocks: %w", err)
		}
		refs = append(refs, r)
	}
	return refs, rows.Err()
}

// cutBlocks removes the lines of blocks older than a cutoff, with the statements of one of
// logs_blocks_cut's pairs, given $1: whole deletes the blocks whose every line is older and
// returns their number of lines, partial selects those that also hold younger ones, with
// their cutoff, which are written again without the older lines. It returns how many lines
// it removed.
func (s *Store) cutBlocks(ctx context.Context, conn *sql.Conn, whole, partial string, arg int64) (int64, error) {
	var removed int64
	rows, err := conn.QueryContext(ctx, whole, arg)
	if err != nil {
		return 0, fmt.Errorf("expire log blocks: %w", err)
	}
	for rows.Next() {
		var lines int64
		if err := rows.Scan(&lines); err != nil {
			rows.Close()
			return 0, err
		}
		removed += lines
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	rows, err = conn.QueryContext(ctx, partial, arg)
	if err != nil {
		return 0, fmt.Errorf("expire log blocks: %w", err)
	}
	type cut struct {
		blk    logBlock
		before int64
	}
	var cuts []cut
	for rows.Next() {
		var c cut
		var file, size int
		var offset int64
		if err := rows.Scan(&c.blk.FirstID, &c.blk.Group, &c.blk.Stream, &c.blk.Protocol, &c.blk.ResourceID, &file, &offset, &size, &c.before); err != nil {
			rows.Close()
			return 0, err
		}
		if c.blk.Lines, err = s.blockLines(file, offset, size); err != nil {
			rows.Close()
			return 0, fmt.Errorf("log block %d: %w", c.blk.FirstID, err)
		}
		cuts = append(cuts, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, c := range cuts {
		kept := slices.DeleteFunc(c.blk.Lines, func(l logLine) bool { return l.TimeNS < c.before })
		removed += int64(len(c.blk.Lines) - len(kept))
		if _, err := conn.ExecContext(ctx, "DELETE FROM log_blocks WHERE first_id = $1", c.blk.FirstID); err != nil {
			return 0, err
		}
		if len(kept) == 0 {
			continue
		}
		row, err := s.blockRow(blockKey{c.blk.Group, c.blk.Stream, c.blk.Protocol, c.blk.ResourceID}, kept)
		if err != nil {
			return 0, err
		}
		args := make([]any, len(row))
		for i, v := range row {
			args[i] = v
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO log_blocks VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)", args...); err != nil {
			return 0, err
		}
	}
	return removed, nil
}
