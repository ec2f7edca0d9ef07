package ingest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"lookout/internal/ingest/wal"
)

// The dead-letter log holds what the store kept refusing, and ingest log records that could
// not be read back, so that they never hold back the items behind them and are never lost
// silently. It is a write-ahead log of its own beside the ingest log, never trimmed by
// lookout; `lookout dead-letter` lists it. Each entry is
//
//	[uvarint time (unix ns)][uvarint len][reason][the ingest log record as it was written]

const deadLetterDir = "dead-letter"

type deadLetters struct {
	log *wal.Log
}

func openDeadLetters(dir string) (*deadLetters, error) {
	l, err := wal.Open(dir, wal.Options{})
	if err != nil {
		return nil, fmt.Errorf("open dead-letter log: %w", err)
	}
	return &deadLetters{log: l}, nil
}

// add appends a record and the reason it was set aside, retrying until it is on disk or ctx
// ends: the record is acknowledged, so it may only leave the ingest log for another log.
func (d *deadLetters) add(ctx context.Context, record []byte, reason string) error {
	entry := binary.AppendUvarint(nil, uint64(time.Now().UnixNano()))
	entry = binary.AppendUvarint(entry, uint64(len(reason)))
	entry = append(append(entry, reason...), record...)
	for backoff := firstBackoff; ; backoff = min(2*backoff, maxBackoff) {
		_, err := d.log.Append(entry)
		if err == nil {
			return nil
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		}
	}
}

func (d *deadLetters) close() error { return d.log.Close() }

// DeadLetter is one entry of the dead-letter log.
type DeadLetter struct {
	Time   time.Time
	Reason string
	Signal string   // "spans", "logs", or the record type's number when unknown
	Items  []string // a line describing each item, when the record can be read
	Bytes  int      // size of the record
}

// ReadDeadLetters calls fn for every entry of the dead-letter log of the ingest log in dir,
// oldest first.
func ReadDeadLetters(dir string, fn func(DeadLetter) error) error {
	path := filepath.Join(dir, deadLetterDir)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	l, err := wal.Open(path, wal.Options{})
	if err != nil {
		return err
	}
	defer l.Close()
	return l.Replay(1, func(_ wal.Position, entry []byte) error {
		d := decoder{buf: entry}
		t := int64(d.uvarint())
		reason := d.str()
		if d.err != nil {
			return fmt.Errorf("dead-letter log: %w", d.err)
		}
		dl := DeadLetter{Time: time.Unix(0, t), Reason: reason, Bytes: len(d.buf)}
		dl.Signal, dl.Items = describeRecord(d.buf)
		return fn(dl)
	})
}

// describeRecord names a record's signal and describes its items in a line each.
func describeRecord(record []byte) (string, []string) {
	if len(record) == 0 {
		return "empty", nil
	}
	switch RecordType(record[0]) {
	case RecordSpans:
		spans, err := decodeSpans(record)
		if err != nil {
			return Spans.Name, []string{"unreadable: " + err.Error()}
		}
		lines := make([]string, len(spans))
		for i := range spans {
			s := &spans[i]
			lines[i] = fmt.Sprintf("trace %s span %s service %q name %q, %d bytes", s.TraceID, s.SpanID, s.Service(), s.Name, s.Size())
		}
		return Spans.Name, lines
	case RecordLogs, RecordNumbered:
		logs, err := decodeLogs(record)
		if err != nil {
			return Logs.Name, []string{"unreadable: " + err.Error()}
		}
		lines := make([]string, len(logs))
		for i := range logs {
			r := &logs[i]
			lines[i] = fmt.Sprintf("%s group %q stream %q, %d bytes", time.Unix(0, r.TimeUnixNano).UTC().Format(time.RFC3339Nano), r.Group, r.Stream, r.Size())
		}
		return Logs.Name, lines
	}
	return fmt.Sprintf("record type %d", record[0]), nil
}
