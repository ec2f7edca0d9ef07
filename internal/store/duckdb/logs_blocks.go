package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

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
// meets like with like.
func encodeBlock(dst []byte, lines []*telemetry.LogRecord) []byte {
	bodies := make([]string, len(lines))
	size := 0
	for i, r := range lines {
		bodies[i] = validUTF8(r.Body.AsString())
		size += len(bodies[i])
	}
	raw := make([]byte, 0, 16*len(lines)+size)
	raw = binary.AppendUvarint(raw, uint64(len(lines)))
	var id uint64
	var t, o int64
	for i, r := range lines {
		raw = binary.AppendUvarint(raw, r.ID-id) // a lower id wraps, and adding it back unwraps
		raw = binary.AppendVarint(raw, r.TimeUnixNano-t)
		raw = binary.AppendVarint(raw, r.ObservedTimeUnixNano-o)
		raw = binary.AppendUvarint(raw, uint64(len(bodies[i])))
		id, t, o = r.ID, r.TimeUnixNano, r.ObservedTimeUnixNano
	}
	for _, b := range bodies {
		raw = append(raw, b...)
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
	bodies := string(raw)
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

// blockKey is what a block's lines share.
type blockKey struct {
	group, stream, protocol string
	resourceID              int64
}

// logBlocks splits records into the rows of log_blocks (one a stream, resource and protocol,
// lines in the records' order) and the records kept a row each.
func logBlocks(records []*telemetry.LogRecord, resources map[*telemetry.Resource]int64) (blocks [][]driver.Value, rows []*telemetry.LogRecord) {
	var keys []blockKey
	lines := map[blockKey][]*telemetry.LogRecord{}
	for _, r := range records {
		if !inBlock(r) {
			rows = append(rows, r)
			continue
		}
		k := blockKey{r.Group, r.Stream, r.Ingest.Protocol, resources[r.Resource]}
		if lines[k] == nil {
			keys = append(keys, k)
		}
		lines[k] = append(lines[k], r)
	}
	for _, k := range keys {
		ls := lines[k]
		firstID, lastID := ls[0].ID, ls[0].ID
		first, last, lastObserved := ls[0].TimeUnixNano, ls[0].TimeUnixNano, ls[0].ObservedTimeUnixNano
		var bytes int64
		for _, r := range ls {
			firstID, lastID = min(firstID, r.ID), max(lastID, r.ID)
			first, last = min(first, r.TimeUnixNano), max(last, r.TimeUnixNano)
			lastObserved = max(lastObserved, r.ObservedTimeUnixNano)
			bytes += int64(len(r.Body.AsString()))
		}
		blocks = append(blocks, []driver.Value{firstID, lastID, first, last, lastObserved, validUTF8(k.group), validUTF8(k.stream),
			k.resourceID, validUTF8(k.protocol), int32(len(ls)), bytes, encodeBlock(nil, ls)})
	}
	return blocks, rows
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

const blockColumns = "first_id, log_group, stream, protocol, resource_id, data"

// eachLogBlock decodes the blocks that b's conditions select, in no particular order, and
// hands each to fn; an error from fn ends the scan and is returned. A block may hold lines
// outside the range its conditions name.
func (s *Store) eachLogBlock(ctx context.Context, b *sqlBuilder, fn func(*logBlock) error) error {
	rows, err := s.db.QueryContext(ctx, "SELECT "+blockColumns+" FROM log_blocks"+b.clause(), b.args...)
	if err != nil {
		return fmt.Errorf("log blocks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		blk, err := scanBlock(rows)
		if err != nil {
			return err
		}
		if err := fn(blk); err != nil {
			return err
		}
	}
	return rows.Err()
}

// scanBlock reads a row of blockColumns and decodes its lines.
func scanBlock(rows *sql.Rows) (*logBlock, error) {
	var blk logBlock
	var data []byte
	if err := rows.Scan(&blk.FirstID, &blk.Group, &blk.Stream, &blk.Protocol, &blk.ResourceID, &data); err != nil {
		return nil, fmt.Errorf("log blocks: %w", err)
	}
	lines, err := decodeBlock(data)
	if err != nil {
		return nil, fmt.Errorf("log block %d: %w", blk.FirstID, err)
	}
	blk.Lines = lines
	return &blk, nil
}
