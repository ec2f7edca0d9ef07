package duckdb

import (
	"context"
	"database/sql"
	"sync"

	"lookout/internal/telemetry"
)

// Written records make their groups and streams exist and grow their streams' figures
// (log_streams: first and last times, records, bytes). Two statements a write cost more than
// appending a request's lines, so the store tallies what writes add in memory and saves it
// before anything reads or changes the catalogue, and before every checkpoint: the file a
// checkpoint leaves always has the figures of the records it holds.

// streamTally is what committed writes have added to streams since it was last saved.
type streamTally struct {
	mu      sync.Mutex
	streams map[streamKey]*streamStats
}

type streamKey struct{ group, stream string }

// streamStats is what records add to a stream; created is when the first of them was written.
type streamStats struct {
	created, first, last, lastIngest, records, bytes int64
}

// add counts records written at now.
func (t *streamTally) add(records []*telemetry.LogRecord, now int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.streams == nil {
		t.streams = map[streamKey]*streamStats{}
	}
	var k streamKey
	var st *streamStats
	for _, r := range records {
		if st == nil || r.Group != k.group || r.Stream != k.stream { // a request's records share them
			k = streamKey{r.Group, r.Stream}
			if st = t.streams[k]; st == nil {
				st = &streamStats{created: now, first: r.TimeUnixNano, last: r.TimeUnixNano}
				t.streams[k] = st
			}
		}
		st.first, st.last = min(st.first, r.TimeUnixNano), max(st.last, r.TimeUnixNano)
		st.lastIngest = max(st.lastIngest, r.ObservedTimeUnixNano)
		st.records++
		st.bytes += int64(len(r.Body.AsString()))
	}
}

// take empties the tally and returns what it held.
func (t *streamTally) take() map[streamKey]*streamStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	taken := t.streams
	t.streams = nil
	return taken
}

// putBack returns what take returned to the tally, when it could not be saved.
func (t *streamTally) putBack(taken map[streamKey]*streamStats) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.streams == nil {
		t.streams = map[streamKey]*streamStats{}
	}
	for k, b := range taken {
		a := t.streams[k]
		if a == nil {
			t.streams[k] = b
			continue
		}
		a.created, a.first, a.last = min(a.created, b.created), min(a.first, b.first), max(a.last, b.last)
		a.lastIngest, a.records, a.bytes = max(a.lastIngest, b.lastIngest), a.records+b.records, a.bytes+b.bytes
	}
}

// saveStreams writes the tally into the catalogue on conn, the logs' writer, whose lock the
// caller holds, outside any transaction (one rolled back would lose it). One statement a
// table, whatever the number of streams: each costs a plan.
func (s *Store) saveStreams(ctx context.Context, conn *sql.Conn) error {
	taken := s.streamTally.take()
	if len(taken) == 0 {
		return nil
	}
	n := len(taken)
	groups, streams := make([]string, 0, n), make([]string, 0, n)
	created, first, last, lastIngest, records, bytes := make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)
	for k, st := range taken {
		groups, streams = append(groups, validUTF8(k.group)), append(streams, validUTF8(k.stream))
		created, first, last = append(created, st.created), append(first, st.first), append(last, st.last)
		lastIngest, records, bytes = append(lastIngest, st.lastIngest), append(records, st.records), append(bytes, st.bytes)
	}
	_, err := conn.ExecContext(ctx, sqlFile("logs_group_ensure")[0], groups, created)
	if err == nil {
		_, err = conn.ExecContext(ctx, sqlFile("logs_stream_written")[0], groups, streams, created, first, last, lastIngest, records, bytes)
	}
	if err != nil {
		s.streamTally.putBack(taken)
	}
	return err
}

// streamsSaved saves the tally before a read of the catalogue.
func (s *Store) streamsSaved(ctx context.Context) error {
	w := s.writers[0]
	w.mu.Lock()
	defer w.mu.Unlock()
	return s.saveStreams(ctx, w.conn)
}
