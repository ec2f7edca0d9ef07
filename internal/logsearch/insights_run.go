package logsearch

// Run evaluates a query over its rows given a batch at a time, newest first, and keeps
// only what the answer needs: the rows its leading fields, parse and filter commands pass,
// and of those, when a stats comes next, only each group's running aggregates, or when a
// limit (after a sort, perhaps) ends the query, only the rows that can still be among the
// first. Memory then follows the answer rather than the records read.
type Run struct {
	local  []stage // the leading stages that look at one row at a time
	rest   []stage // the stages after them
	stats  *statsAcc
	sort   sortStage // with top: the query ends with [sort,] limit top
	top    int
	kept   []Row
	passed int // rows the local stages passed
}

// Start begins a run of q. A limit above 0 is the most rows the answer will be cut to, so
// that a run without stats keeps no more.
func (q *Query) Start(limit int) *Run {
	r := &Run{}
	n := 0
	for ; n < len(q.stages); n++ {
		switch q.stages[n].(type) {
		case *fieldsStage, *parseStage, filterStage:
			continue
		}
		break
	}
	r.local, r.rest = q.stages[:n], q.stages[n:]
	switch rest := r.rest; {
	case len(rest) > 0 && isStats(rest[0]):
		r.stats = rest[0].(*statsStage).accumulate()
	case len(rest) == 0:
		r.top = limit
	case len(rest) == 1 && isSort(rest[0]):
		r.sort, r.top = rest[0].(sortStage), limit
	case len(rest) == 1 && isLimit(rest[0]):
		r.top = lower(int(rest[0].(limitStage)), limit)
	case len(rest) == 2 && isSort(rest[0]) && isLimit(rest[1]):
		r.sort, r.top = rest[0].(sortStage), lower(int(rest[1].(limitStage)), limit)
	}
	return r
}

// lower is the lower of two limits, where 0 is none.
func lower(a, b int) int {
	if a == 0 || b == 0 {
		return max(a, b)
	}
	return min(a, b)
}

func isStats(s stage) bool { _, ok := s.(*statsStage); return ok }
func isLimit(s stage) bool { _, ok := s.(limitStage); return ok }
func isSort(s stage) bool  { _, ok := s.(sortStage); return ok }

// Add runs the next rows, older than those before them, through the query. It may change
// rows and the maps in it.
func (r *Run) Add(rows []Row) {
	for _, s := range r.local {
		rows = s.apply(rows)
	}
	r.passed += len(rows)
	switch {
	case r.stats != nil:
		r.stats.add(rows)
	case r.top > 0 && r.sort == nil:
		r.kept = append(r.kept, rows[:min(len(rows), r.top-len(r.kept))]...)
	case r.top > 0:
		r.kept = append(r.kept, rows...)
		if len(r.kept) > 2*r.top { // keep the rows the sort can still put first; it is stable
			r.kept = r.sort.apply(r.kept)[:r.top]
		}
	default:
		r.kept = append(r.kept, rows...)
	}
}

// Kept is the number of rows the run holds: the answer's rows so far, when no stats
// aggregates them.
func (r *Run) Kept() int { return len(r.kept) }

// Finish is the query's answer over the rows added, and the rows that passed its filters:
// those that reached its first stats, limit or dedup, or its end.
func (r *Run) Finish() (out []Row, matched int) {
	switch {
	case r.stats != nil:
		out = r.stats.rows()
		for _, s := range r.rest[1:] {
			out = s.apply(out)
		}
		return out, r.passed
	case r.top > 0:
		if r.sort != nil {
			r.kept = r.sort.apply(r.kept)
		}
		return r.kept[:min(len(r.kept), r.top)], r.passed
	}
	matched = -1
	rows := r.kept
	for _, s := range r.rest {
		switch s.(type) {
		case *statsStage, limitStage, dedupStage:
			if matched < 0 {
				matched = len(rows)
			}
		}
		rows = s.apply(rows)
	}
	if matched < 0 {
		matched = len(rows)
	}
	return rows, matched
}
