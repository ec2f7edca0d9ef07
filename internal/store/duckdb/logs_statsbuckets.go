package duckdb

import (
	"cmp"
	"encoding/binary"
	"math"
	"slices"

	"lookout/internal/store"
)

// statsBuckets gathers the buckets of a LogStats answer from rows of aggregate queries and
// from block lines alike, which it merges: counts add, distinct values unite, minima and
// maxima combine, and each bucket keeps its newest record.
type statsBuckets struct {
	q     store.LogStatsQuery
	index map[string]*statsBucket // by encoded key (appendKeyTime, appendKeyText)
	order []*statsBucket          // as first met
	key   []byte                  // the key being looked up
}

// statsBucket is one bucket being gathered.
type statsBucket struct {
	key      []any
	records  int64 // that met the condition
	newestNS int64 // the newest record's time and id, in (time, id) order
	newestID uint64
	aggs     []aggState // one for each of the query's aggregates
}

// aggState is what one aggregate holds so far: the distinct values of count_distinct (of a
// time or a text), the value of min or max when set.
type aggState struct {
	times map[int64]struct{}
	texts map[string]struct{}
	value int64
	set   bool
}

func newStatsBuckets(q store.LogStatsQuery) *statsBuckets {
	s := &statsBuckets{q: q, index: map[string]*statsBucket{}}
	if len(q.By) == 0 {
		s.bucket() // exactly one bucket, even when nothing matches: its key is empty
	}
	return s
}

// bucket returns the bucket of the key in s.key, and whether it is new, which leaves its
// key values for the caller to set.
func (s *statsBuckets) bucket() (*statsBucket, bool) {
	if b, ok := s.index[string(s.key)]; ok {
		return b, false
	}
	b := &statsBucket{key: make([]any, len(s.q.By)), newestNS: math.MinInt64, aggs: make([]aggState, len(s.q.Aggregates))}
	s.index[string(s.key)] = b
	s.order = append(s.order, b)
	return b, true
}

// appendKeyTime and appendKeyText encode a bucket's key values, which are a time (or bin) or
// a text according to its grouping, into the key that finds it.
func appendKeyTime(key []byte, v int64) []byte {
	return binary.LittleEndian.AppendUint64(key, uint64(v))
}

func appendKeyText(key []byte, v string) []byte {
	return append(binary.AppendUvarint(key, uint64(len(v))), v...)
}

// addRow adds a row of addStatsRows' shape: keys (int64, a float64 bin, or string), the
// record count, the newest record's time and id when ordered, then the non-count aggregates.
func (s *statsBuckets) addRow(row []any) {
	keys, row := row[:len(s.q.By)], row[len(s.q.By):]
	records := asInt64(row[0])
	if records <= 0 { // the one row of a query without groupings where nothing matched
		return
	}
	s.key = s.key[:0]
	for i, k := range keys {
		if f, ok := k.(float64); ok { // a bin
			k = int64(f)
		}
		switch v := k.(type) {
		case int64:
			s.key = appendKeyTime(s.key, v)
		case string:
			s.key = appendKeyText(s.key, v)
		}
		keys[i] = k
	}
	b, _ := s.bucket()
	copy(b.key, keys)
	b.records += records
	row = row[1:]
	if s.q.Ordered {
		id, _ := row[1].(uint64)
		b.noteNewest(asInt64(row[0]), id)
		row = row[2:]
	}
	for i, a := range s.q.Aggregates {
		if a.Fn == "count" {
			continue
		}
		st := &b.aggs[i]
		switch v := row[0].(type) {
		case []any: // count_distinct's values
			for _, x := range v {
				switch x := x.(type) {
				case int64:
					st.addDistinctTime(x)
				case string:
					st.addDistinctText(x)
				}
			}
		case nil: // min or max of nothing
		default:
			st.combine(a.Fn, asInt64(v))
		}
		row = row[1:]
	}
}

// noteNewest makes the record of time ns and id the bucket's newest if it is.
func (b *statsBucket) noteNewest(ns int64, id uint64) {
	if ns > b.newestNS || ns == b.newestNS && id >= b.newestID {
		b.newestNS, b.newestID = ns, id
	}
}

func (a *aggState) addDistinctTime(v int64) {
	if a.times == nil {
		a.times = map[int64]struct{}{}
	}
	a.times[v] = struct{}{}
}

func (a *aggState) addDistinctText(v string) {
	if a.texts == nil {
		a.texts = map[string]struct{}{}
	}
	a.texts[v] = struct{}{}
}

// combine adds v to the min or max (fn) so far.
func (a *aggState) combine(fn string, v int64) {
	if !a.set || fn == "min" && v < a.value || fn == "max" && v > a.value {
		a.value, a.set = v, true
	}
}

// result is the buckets gathered, in the order the query asks for, and the records they hold.
func (s *statsBuckets) result() ([]store.LogBucket, int64) {
	if s.q.Ordered {
		slices.SortFunc(s.order, func(a, b *statsBucket) int {
			return cmp.Or(cmp.Compare(b.newestNS, a.newestNS), cmp.Compare(b.newestID, a.newestID))
		})
	}
	out := make([]store.LogBucket, len(s.order))
	var matched int64
	for i, b := range s.order {
		matched += b.records
		out[i] = store.LogBucket{Key: b.key, Values: make([]any, len(s.q.Aggregates))}
		for j, a := range s.q.Aggregates {
			st := &b.aggs[j]
			switch {
			case a.Fn == "count":
				out[i].Values[j] = b.records
			case a.Fn == "count_distinct":
				out[i].Values[j] = int64(len(st.times) + len(st.texts))
			case st.set:
				out[i].Values[j] = st.value
			}
		}
	}
	return out, matched
}
