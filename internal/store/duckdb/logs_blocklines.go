package duckdb

import (
	"cmp"
	"math"
	"strings"

	"lookout/internal/store"
)

// lineStats adds block lines to a statsBuckets as addStatsRows adds rows.
type lineStats struct {
	acc        *statsBuckets
	start, end int64 // the range's nanoseconds
	bounded    bool  // by end
	cond       lineCond
	keys       []lineKey
	aggs       []int // the non-count aggregates' indexes
	ordered    bool
	scanned    int64 // lines in range
}

func newLineStats(q store.LogStatsQuery, acc *statsBuckets) *lineStats {
	ls := &lineStats{acc: acc, start: math.MinInt64, ordered: q.Ordered}
	if !q.Start.IsZero() {
		ls.start = q.Start.UnixNano()
	}
	if !q.End.IsZero() {
		ls.end, ls.bounded = q.End.UnixNano(), true
	}
	if q.Where != nil {
		ls.cond = compileLineCond(*q.Where)
	}
	for _, g := range q.By {
		ls.keys = append(ls.keys, lineKey{field: g.Field, bin: g.BinMillis, intBin: intBins(q, g)})
	}
	for i, a := range q.Aggregates {
		if a.Fn != "count" {
			ls.aggs = append(ls.aggs, i)
		}
	}
	return ls
}

// addBlock adds the lines of blk in range.
func (ls *lineStats) addBlock(blk *logBlock) error {
	acc := ls.acc
	for i := range blk.Lines {
		l := &blk.Lines[i]
		if l.TimeNS < ls.start || ls.bounded && l.TimeNS >= ls.end {
			continue
		}
		ls.scanned++
		if ls.cond != nil && !ls.cond(blk.Stream, l) {
			continue
		}
		acc.key = acc.key[:0]
		for _, k := range ls.keys {
			if k.field == store.LogStreamName {
				acc.key = appendKeyText(acc.key, blk.Stream)
			} else {
				acc.key = appendKeyTime(acc.key, k.time(l))
			}
		}
		b, isNew := acc.bucket()
		if isNew {
			for j, k := range ls.keys {
				if k.field == store.LogStreamName {
					b.key[j] = blk.Stream
				} else {
					b.key[j] = k.time(l)
				}
			}
		}
		b.records++
		if ls.ordered {
			b.noteNewest(l.TimeNS, l.ID)
		}
		for _, j := range ls.aggs {
			a := acc.q.Aggregates[j]
			switch {
			case a.Fn == "count_distinct" && a.Field == store.LogStreamName:
				b.aggs[j].addDistinctText(blk.Stream)
			case a.Fn == "count_distinct":
				b.aggs[j].addDistinctTime(lineMillis(a.Field, l))
			default:
				b.aggs[j].combine(a.Fn, lineMillis(a.Field, l))
			}
		}
	}
	return nil
}

// lineKey is a grouping of block lines: groupKeysSQL's key of a line.
type lineKey struct {
	field  store.LogField
	bin    int64 // milliseconds; 0: none
	intBin bool  // computed by integer division (intBins)
}

// time is the key of a line grouped by a time field or its bins.
func (k lineKey) time(l *logLine) int64 {
	if k.intBin {
		return l.TimeNS / (k.bin * 1e6) * k.bin
	}
	ms := lineMillis(k.field, l)
	if k.bin > 0 {
		return int64(math.Floor(float64(ms)/float64(k.bin)) * float64(k.bin)) // fdiv's
	}
	return ms
}

// lineMillis is a time field of a line in epoch milliseconds, truncated as DuckDB's integer
// division does (towards zero, which is not the floor before 1970).
func lineMillis(f store.LogField, l *logLine) int64 {
	if f == store.LogIngestTime {
		return l.ObservedNS / 1e6
	}
	return l.TimeNS / 1e6
}

// lineCond tests a block line of a stream.
type lineCond func(stream string, l *logLine) bool

// compileLineCond is c, which logCondSQL accepts, as a test of block lines that holds when
// its SQL would on the line's row.
func compileLineCond(c store.LogCond) lineCond {
	switch c.Op {
	case "and", "or":
		subs := make([]lineCond, len(c.Conds))
		for i, sub := range c.Conds {
			subs[i] = compileLineCond(sub)
		}
		decisive := c.Op == "or" // the outcome of a part that decides the whole
		return func(stream string, l *logLine) bool {
			for _, sub := range subs {
				if sub(stream, l) == decisive {
					return decisive
				}
			}
			return !decisive
		}
	case "not":
		inner := compileLineCond(c.Conds[0])
		return func(stream string, l *logLine) bool { return !inner(stream, l) }
	}
	if c.Field == store.LogTime || c.Field == store.LogIngestTime {
		field, v, holds := c.Field, c.Values[0].(float64), compared[c.Op]
		return func(_ string, l *logLine) bool { return holds[compareMillis(lineMillis(field, l), v)+1] }
	}
	text := func(stream string, _ *logLine) string { return stream }
	if c.Field == store.LogMessage {
		text = func(_ string, l *logLine) string { return l.Body }
	}
	switch c.Op {
	case "in":
		values := make([]string, len(c.Values))
		for i, v := range c.Values {
			values[i] = v.(string)
		}
		return func(stream string, l *logLine) bool {
			t := text(stream, l)
			for _, v := range values {
				if t == v {
					return true
				}
			}
			return false
		}
	case "contains":
		v := c.Values[0].(string)
		return func(stream string, l *logLine) bool { return strings.Contains(text(stream, l), v) }
	}
	v, holds := c.Values[0].(string), compared[c.Op]
	return func(stream string, l *logLine) bool { return holds[strings.Compare(text(stream, l), v)+1] }
}

// compared says whether a comparison holds when its left side is less than, equal to or
// greater than its right.
var compared = map[string][3]bool{
	"=": {false, true, false}, "!=": {true, false, true},
	"<": {true, false, false}, "<=": {true, true, false},
	">": {false, false, true}, ">=": {false, true, true},
}

// compareMillis compares a time with a value as DuckDB compares doubles, which holds NaN
// above every other number.
func compareMillis(ms int64, v float64) int {
	if math.IsNaN(v) {
		return -1
	}
	return cmp.Compare(float64(ms), v)
}
