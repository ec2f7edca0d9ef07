package duckdb

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// A log query reads runs of records, each in the query's order: the rows of the logs table,
// and the matching lines of each block. logMerge hands them over as one run, loading blocks
// only when the merge reaches their time, so that a page near one end of a long range
// decodes only the blocks it needs.

// logRun is records in a query's order, one at a time.
type logRun struct {
	head telemetry.LogRecord
	next func(*telemetry.LogRecord) (bool, error) // reads the next record, false at the end
}

// blockMeta is what orders a block among a query's runs before it is loaded.
type blockMeta struct {
	firstID         uint64
	firstNS, lastNS int64
}

// blockLoad is how many blocks the merge loads at once.
const blockLoad = 8

type logMerge struct {
	q      store.LogQuery
	runs   []*logRun   // a heap, by head in the query's order
	blocks []blockMeta // those not yet loaded, in the order they may begin to matter
}

// add starts a run, keeping it if it holds a record.
func (m *logMerge) add(r *logRun) error {
	ok, err := r.next(&r.head)
	if ok {
		heap.Push(m, r)
	}
	return err
}

// before says whether record key a comes before b in the query's order.
func (m *logMerge) before(a, b store.LogKey) bool {
	c := cmp.Or(cmp.Compare(a.TimeUnixNano, b.TimeUnixNano), cmp.Compare(a.ID, b.ID))
	if m.q.Descending {
		return c > 0
	}
	return c < 0
}

// reaches says whether the next unloaded block may hold a record at or before key k.
func (m *logMerge) reaches(k store.LogKey) bool {
	if m.q.Descending {
		return m.blocks[0].lastNS >= k.TimeUnixNano
	}
	return m.blocks[0].firstNS <= k.TimeUnixNano
}

// next returns the next record of the merged runs, false when none is left.
func (m *logMerge) next(ctx context.Context, s *Store) (telemetry.LogRecord, bool, error) {
	for len(m.blocks) > 0 && (len(m.runs) == 0 || m.reaches(key(&m.runs[0].head))) {
		n := min(blockLoad, len(m.blocks))
		if err := s.loadBlocks(ctx, m, m.blocks[:n]); err != nil {
			return telemetry.LogRecord{}, false, err
		}
		m.blocks = m.blocks[n:]
	}
	if len(m.runs) == 0 {
		return telemetry.LogRecord{}, false, nil
	}
	top := m.runs[0]
	r := top.head
	ok, err := top.next(&top.head)
	if ok {
		heap.Fix(m, 0)
	} else {
		heap.Pop(m)
	}
	return r, true, err
}

func key(r *telemetry.LogRecord) store.LogKey {
	return store.LogKey{TimeUnixNano: r.TimeUnixNano, ID: r.ID}
}

// heap.Interface, by head.
func (m *logMerge) Len() int           { return len(m.runs) }
func (m *logMerge) Less(i, j int) bool { return m.before(key(&m.runs[i].head), key(&m.runs[j].head)) }
func (m *logMerge) Swap(i, j int)      { m.runs[i], m.runs[j] = m.runs[j], m.runs[i] }
func (m *logMerge) Push(x any)         { m.runs = append(m.runs, x.(*logRun)) }
func (m *logMerge) Pop() any {
	r := m.runs[len(m.runs)-1]
	m.runs = m.runs[:len(m.runs)-1]
	return r
}

// blockIndex lists the blocks that may hold lines q matches, in the order the merge needs
// them: by earliest line, or newest first by latest line.
func (s *Store) blockIndex(ctx context.Context, q store.LogQuery, groups, streams []string) ([]blockMeta, error) {
	var b sqlBuilder
	blockConds(&b, groups, streams, q.StreamPrefix, q.Start, q.End)
	order := "first_ns, first_id"
	if q.Descending {
		order = "last_ns DESC, first_id DESC"
	}
	if q.After != nil {
		if q.Descending {
			b.where("first_ns <= %s", q.After.TimeUnixNano)
		} else {
			b.where("last_ns >= %s", q.After.TimeUnixNano)
		}
	}
	rows, err := s.db.QueryContext(ctx, "SELECT first_id, first_ns, last_ns FROM log_blocks"+b.clause()+" ORDER BY "+order, b.args...)
	if err != nil {
		return nil, fmt.Errorf("log blocks: %w", err)
	}
	defer rows.Close()
	var metas []blockMeta
	for rows.Next() {
		var bm blockMeta
		if err := rows.Scan(&bm.firstID, &bm.firstNS, &bm.lastNS); err != nil {
			return nil, fmt.Errorf("log blocks: %w", err)
		}
		metas = append(metas, bm)
	}
	return metas, rows.Err()
}

// loadBlocks reads blocks and adds a run of each one's lines that m's query matches.
func (s *Store) loadBlocks(ctx context.Context, m *logMerge, metas []blockMeta) error {
	ids := make([]string, len(metas))
	for i, bm := range metas {
		ids[i] = strconv.FormatUint(bm.firstID, 10) // numbers lookout made, not user text
	}
	var b sqlBuilder
	b.conds = append(b.conds, "first_id IN ("+strings.Join(ids, ", ")+")")
	return s.eachLogBlock(ctx, &b, func(blk *logBlock) error {
		records, err := s.blockRecords(ctx, blk, m)
		if err != nil || len(records) == 0 {
			return err
		}
		i := 0
		return m.add(&logRun{next: func(r *telemetry.LogRecord) (bool, error) {
			if i == len(records) {
				return false, nil
			}
			*r = records[i]
			i++
			return true, nil
		}})
	})
}

// blockRecords is the lines of a block that m's query matches, as records in its order.
func (s *Store) blockRecords(ctx context.Context, blk *logBlock, m *logMerge) ([]telemetry.LogRecord, error) {
	q := m.q
	res, err := s.resource(ctx, blk.ResourceID)
	if err != nil {
		return nil, err
	}
	var records []telemetry.LogRecord
	for _, l := range blk.Lines {
		k := store.LogKey{TimeUnixNano: l.TimeNS, ID: l.ID}
		if !q.Start.IsZero() && l.TimeNS < q.Start.UnixNano() || !q.End.IsZero() && l.TimeNS >= q.End.UnixNano() ||
			q.After != nil && !m.before(*q.After, k) || !containsAll(l.Body, q.Contains) {
			continue
		}
		records = append(records, telemetry.LogRecord{ID: l.ID, TimeUnixNano: l.TimeNS, ObservedTimeUnixNano: l.ObservedNS,
			Group: blk.Group, Stream: blk.Stream, Body: telemetry.StringValue(l.Body), Resource: res,
			Ingest: telemetry.IngestInfo{Protocol: blk.Protocol}})
	}
	less := func(a, b telemetry.LogRecord) int {
		if m.before(key(&a), key(&b)) {
			return -1
		}
		return 1
	}
	if !slices.IsSortedFunc(records, less) { // lines are mostly written in order
		slices.SortFunc(records, less)
	}
	return records, nil
}

func containsAll(s string, texts []string) bool {
	for _, t := range texts {
		if !strings.Contains(s, t) {
			return false
		}
	}
	return true
}
