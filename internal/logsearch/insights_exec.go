package logsearch

import (
	"context"
	"errors"
	"time"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// Scope is what Execute runs a query over and how much it answers.
type Scope struct {
	Groups     []string
	Start, End time.Time // the records' times, within [Start, End)
	Limit      int       // rows answered at most
	// MaxRead bounds the records read when the store cannot aggregate the query; 0 for none.
	MaxRead int
	// Row is the row a record is to the query; nil for RecordRow.
	Row func(*telemetry.LogRecord) Row
}

// Answer is a query's answer and what it took.
type Answer struct {
	Rows                  []Row
	Matched               int64 // records that passed the filters (see Run.Finish)
	Scanned, ScannedBytes int64 // records and bytes of the range looked at
	// Complete is false when MaxRead, or maxKept rows held, stopped the reading before the
	// range was read.
	Complete bool
}

// readBatch is the most records the store hands over at a time.
const readBatch = 4096

// errEnough ends a scan when the run needs no more records.
var errEnough = errors.New("enough records")

// maxKept bounds the rows a run holds when its answer needs them all (a dedup, say).
const maxKept = 100_000

// maxWindow bounds the reading windows, so that doubling them cannot overflow.
const maxWindow = time.Duration(1 << 62)

// Execute answers q over the records of s's groups and range: in the store when it can
// aggregate them there (StatsPlan, and no message it tests is a structured body), else by
// reading them back from the range's end in time windows, each twice as long as the one
// before, each in one pass (ScanLogs), through a Run, the store handing over only the
// records that hold the texts q's filters require of @message. A query answered by its newest matches (Newest) stops reading once it has
// them; its counts are then of the records read, except that a query without filters
// matched every record of the range.
func Execute(ctx context.Context, src store.LogReader, q *Query, s Scope) (*Answer, error) {
	if plan, ok := q.StatsPlan(); ok {
		sq := plan.Store
		sq.Groups, sq.Start, sq.End = s.Groups, s.Start, s.End
		res, err := src.LogStats(ctx, sq)
		switch {
		case err == nil:
			rows, matched := plan.Finish(res)
			return &Answer{Rows: cut(rows, s.Limit), Matched: int64(matched), Scanned: res.Scanned, ScannedBytes: res.ScannedBytes, Complete: true}, nil
		case !errors.Is(err, store.ErrStructuredBodies): // those are read below
			return nil, err
		}
	}
	row := s.Row
	if row == nil {
		row = RecordRow
	}
	_, filtered, newest := q.Newest() // the run's top is then the newest matches it needs
	first := time.Minute
	if newest { // a few of the newest records may do
		first = time.Second
	}
	ans := &Answer{Complete: true}
	run := q.Start(s.Limit)
	lq := store.LogQuery{Groups: s.Groups, Contains: q.MessageTexts(), Descending: true}
	stopped := false
	take := func(batch []telemetry.LogRecord) error {
		rows := make([]Row, len(batch))
		for i := range batch {
			rows[i] = row(&batch[i])
			ans.ScannedBytes += int64(len(batch[i].Body.AsString()))
		}
		ans.Scanned += int64(len(batch))
		run.Add(rows)
		switch {
		case newest && run.top > 0 && run.Kept() >= run.top:
			stopped = true
		case s.MaxRead > 0 && ans.Scanned >= int64(s.MaxRead) || run.Kept() >= maxKept:
			ans.Complete = false
		default:
			return nil
		}
		return errEnough
	}
	for hi, width := s.End, first; hi.After(s.Start) && !stopped && ans.Complete; hi, width = lq.Start, min(2*width, maxWindow) {
		lq.Start, lq.End, lq.Limit = s.Start, hi, 0
		if hi.Sub(s.Start) > width {
			lq.Start = hi.Add(-width)
		}
		if s.MaxRead > 0 {
			lq.Limit = s.MaxRead - int(ans.Scanned)
		}
		if newest && !filtered && run.top > 0 {
			lq.Limit = run.top - run.Kept()
		}
		if err := src.ScanLogs(ctx, lq, readBatch, take); err != nil && err != errEnough {
			return nil, err
		}
	}
	rows, matched := run.Finish()
	ans.Rows, ans.Matched = cut(rows, s.Limit), int64(matched)
	if len(lq.Contains) > 0 && !stopped || stopped && !filtered {
		// The store looked at more records than it handed over, or the query matched every
		// record of the range.
		res, err := src.LogStats(ctx, store.LogStatsQuery{Groups: s.Groups, Start: s.Start, End: s.End})
		if err != nil {
			return nil, err
		}
		ans.Scanned, ans.ScannedBytes = res.Scanned, res.ScannedBytes
		if stopped {
			ans.Matched = res.Scanned
		}
	}
	return ans, nil
}

func cut(rows []Row, limit int) []Row {
	if limit > 0 && len(rows) > limit {
		return rows[:limit]
	}
	return rows
}
