package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	duckdbdriver "github.com/duckdb/duckdb-go/v2"

	"lookout/internal/telemetry"
)

// WriteLogs implements store.LogWriter: records whose id is stored already are skipped; of the
// rest, plain text lines without a trace are kept in blocks (logs_blocks.go) and the others
// appended to the logs table, in one transaction, after any resource they name; what they add
// to their groups and streams is tallied (logs_tally.go). Like WriteSpans, it checkpoints
// every checkpointAfter records, which bounds what DuckDB holds uncompressed.
func (s *Store) WriteLogs(ctx context.Context, logs []telemetry.LogRecord) error {
	if len(logs) == 0 {
		return nil
	}
	written, err := s.writeLogs(ctx, logs)
	if err != nil {
		return err
	}
	if s.unsaved.Add(int64(written)) >= checkpointAfter {
		// The records are stored whatever becomes of the checkpoint, which the next one retries.
		if err := s.Checkpoint(ctx); err != nil {
			s.log.Warn("checkpoint failed", "err", err)
		}
	}
	return nil
}

// writeLogs appends the fresh records of logs and returns how many there were.
func (s *Store) writeLogs(ctx context.Context, logs []telemetry.LogRecord) (int, error) {
	e := s.cat.resourceEntries(logs)
	w := s.writers[0]
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(e.newResources) > 0 {
		if err := w.writeCatalogue(ctx, e); err != nil {
			return 0, fmt.Errorf("store resources: %w", err)
		}
		s.cat.stored(e)
	}
	fresh, err := s.logIDs.fresh(ctx, w.conn, logs, s.blockLines)
	if err != nil || len(fresh) == 0 {
		return 0, err
	}
	blocks, rows, err := s.logBlocks(fresh, e.resources)
	if err != nil {
		return 0, err
	}
	if _, err := w.conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return 0, err
	}
	columns, row := []string(nil), logRow
	if !slices.ContainsFunc(rows, notPlain) {
		p := &plainLogRows{}
		columns, row = plainLogColumns, p.row
	}
	err = w.conn.Raw(func(dc any) error {
		if err := appendRows(dc.(driver.Conn), "", "log_blocks", nil, len(blocks), func(app *duckdbdriver.Appender, i int) error {
			return app.AppendRow(blocks[i]...)
		}); err != nil {
			return err
		}
		return appendRows(dc.(driver.Conn), "", "logs", columns, len(rows), func(app *duckdbdriver.Appender, i int) error {
			return app.AppendRow(row(rows[i], e.resources[rows[i].Resource])...)
		})
	})
	if err == nil {
		_, err = w.conn.ExecContext(ctx, "COMMIT")
	}
	if err != nil {
		w.conn.ExecContext(context.Background(), "ROLLBACK")
		return 0, fmt.Errorf("append log records: %w", err)
	}
	s.streamTally.add(fresh, time.Now().UnixNano())
	return len(fresh), nil
}

// logIDBound is at least every stored log record's id, once known: the pipeline numbers
// records in increasing order, so a live batch's ids are all above it, and only replayed
// batches need their ids looked up.
type logIDBound struct {
	known bool
	max   uint64
}

// fresh returns the records of logs whose id is neither stored nor repeated earlier in logs,
// reading through conn, and blocks' lines with lines.
func (b *logIDBound) fresh(ctx context.Context, conn *sql.Conn, logs []telemetry.LogRecord, lines blockReader) ([]*telemetry.LogRecord, error) {
	lo, hi := logs[0].ID, logs[0].ID
	increasing := true // as the ingest pipeline numbers a batch: no id can repeat
	for i := range logs {
		lo, hi = min(lo, logs[i].ID), max(hi, logs[i].ID)
		increasing = increasing && (i == 0 || logs[i].ID > logs[i-1].ID)
	}
	if !b.known {
		if err := conn.QueryRowContext(ctx, sqlFile("logs_known")[1]).Scan(&b.max); err != nil {
			return nil, fmt.Errorf("highest log id: %w", err)
		}
		b.known = true
	}
	seen := map[uint64]bool{}
	if lo <= b.max {
		if err := storedLogIDs(ctx, conn, lo, hi, seen, lines); err != nil {
			return nil, err
		}
	}
	b.max = max(b.max, hi) // whether the write succeeds or not: a bound, not the stored maximum
	fresh := make([]*telemetry.LogRecord, 0, len(logs))
	for i := range logs {
		if !seen[logs[i].ID] {
			if !increasing {
				seen[logs[i].ID] = true
			}
			fresh = append(fresh, &logs[i])
		}
	}
	return fresh, nil
}

// blockReader reads the lines of a block.
type blockReader func(file int, offset int64, size int) ([]logLine, error)

// storedLogIDs adds the stored ids from lo to hi to seen.
func storedLogIDs(ctx context.Context, conn *sql.Conn, lo, hi uint64, seen map[uint64]bool, lines blockReader) error {
	rows, err := conn.QueryContext(ctx, sqlFile("logs_known")[0], lo, hi)
	if err != nil {
		return fmt.Errorf("stored log ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id uint64
		var file, offset, size sql.NullInt64 // where a block's data is; NULL for a row
		if err := rows.Scan(&id, &file, &offset, &size); err != nil {
			return err
		}
		if !file.Valid {
			seen[id] = true
			continue
		}
		block, err := lines(int(file.Int64), offset.Int64, int(size.Int64))
		if err != nil {
			return fmt.Errorf("log block %d: %w", id, err)
		}
		for _, l := range block {
			if l.ID >= lo && l.ID <= hi {
				seen[l.ID] = true
			}
		}
	}
	return rows.Err()
}

// resourceEntries looks up the catalogue ids of the resources of log records, giving new
// ones an id at once.
func (c *catalogue) resourceEntries(logs []telemetry.LogRecord) *entries {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := &entries{resources: map[*telemetry.Resource]int64{}}
	for i := range logs {
		r := logs[i].Resource
		if _, ok := e.resources[r]; ok {
			continue
		}
		hash := resourceHash(r)
		id, ok := c.resources[hash]
		for _, nr := range e.newResources {
			if nr.hash == hash {
				id, ok = nr.id, true
			}
		}
		if !ok {
			id = c.nextID
			c.nextID++
			e.newResources = append(e.newResources, newResource{id: id, hash: hash, resource: r})
		}
		e.resources[r] = id
	}
	return e
}

// logRow is a log record as a row of the logs table, in its column order.
func logRow(r *telemetry.LogRecord, resourceID int64) []driver.Value {
	a := encodeAttrs(r.Attributes)
	var scopeName, scopeVersion any
	if r.Scope != nil {
		scopeName, scopeVersion = validUTF8(r.Scope.Name), validUTF8(r.Scope.Version)
	}
	return []driver.Value{r.ID, r.TimeUnixNano, r.ObservedTimeUnixNano, validUTF8(r.Group), validUTF8(r.Stream),
		uint8(r.Severity), nullable(r.SeverityText), nullable(r.EventName), uint8(r.Body.Kind()), validUTF8(r.Body.Encode()),
		int64(r.TraceID.High()), int64(r.TraceID.Low()), int64(r.SpanID.Uint64()), r.Flags,
		resourceID, scopeName, scopeVersion, validUTF8(r.Ingest.Protocol), nullable(r.Ingest.Dataset), nullable(r.Ingest.KeyID),
		a.keys, a.kinds, a.values, logExtra(r)}
}

// plainLogColumns are the columns of the logs table a plain record sets: the others keep
// their defaults, which stand for what such a record leaves empty. Plain records with a trace
// (or a body other than text) leave out half the columns, three of them lists, which saves
// the appender two thirds of its work; those without are kept in blocks (logs_blocks.go).
var plainLogColumns = []string{"id", "time_ns", "observed_ns", "log_group", "stream", "body", "resource_id", "protocol",
	"body_kind", "trace_hi", "trace_lo", "span_id"}

// notPlain says whether a record sets a column outside plainLogColumns.
func notPlain(r *telemetry.LogRecord) bool {
	return r.Severity != 0 || r.SeverityText != "" || r.EventName != "" || r.Flags != 0 || r.Scope != nil ||
		r.Ingest.Dataset != "" || r.Ingest.KeyID != "" || len(r.Attributes) > 0 || r.DroppedAttributesCount != 0
}

// traced says whether a record has a trace or a body other than text.
func traced(r *telemetry.LogRecord) bool {
	return r.Body.Kind() != telemetry.KindString || !r.TraceID.IsZero() || !r.SpanID.IsZero()
}

// plainLogRows makes the rows of a batch's plain records, of plainLogColumns. It reuses one
// row, which the appender copies at once, and in it the texts a request's records share
// (group, stream, protocol) while they repeat: putting a value in a driver.Value allocates.
type plainLogRows struct {
	values                  []driver.Value
	group, stream, protocol string
}

func (p *plainLogRows) row(r *telemetry.LogRecord, resourceID int64) []driver.Value {
	if p.values == nil || r.Group != p.group || r.Stream != p.stream || r.Ingest.Protocol != p.protocol {
		p.group, p.stream, p.protocol = r.Group, r.Stream, r.Ingest.Protocol
		p.values = make([]driver.Value, len(plainLogColumns))
		p.values[3], p.values[4], p.values[7] = validUTF8(r.Group), validUTF8(r.Stream), validUTF8(r.Ingest.Protocol)
	}
	v := p.values
	v[0], v[1], v[2] = r.ID, r.TimeUnixNano, r.ObservedTimeUnixNano
	v[5], v[6] = validUTF8(r.Body.Encode()), resourceID
	v[8], v[9], v[10], v[11] = uint8(r.Body.Kind()), int64(r.TraceID.High()), int64(r.TraceID.Low()), int64(r.SpanID.Uint64())
	return v
}

// nullable is text for a column where NULL stands for empty.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return validUTF8(s)
}

// logExtra is the extra column of a log record: the fields most records leave empty.
func logExtra(r *telemetry.LogRecord) any {
	e := extra{DroppedAttrs: r.DroppedAttributesCount}
	if r.Scope != nil {
		e.ScopeAttrs, e.ScopeDropped = toJSONAttrs(r.Scope.Attributes), r.Scope.DroppedAttributesCount
	}
	if e.DroppedAttrs == 0 && e.ScopeAttrs == nil && e.ScopeDropped == 0 {
		return nil
	}
	b, _ := json.Marshal(e) // plain structs of strings and numbers: cannot fail
	return string(b)
}
