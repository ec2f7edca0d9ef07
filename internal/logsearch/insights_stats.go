package logsearch

import (
	"math"
	"slices"
	"strings"
)

// stats: aggregates of the rows, in groups by expressions. Groups come in the order of their
// first row, except that a first grouping by bin() puts time in ascending order.

type aggregate struct {
	name string
	fn   string // count, sum, avg, min, max, pct, count_distinct, earliest, latest
	arg  expr   // nil for count(*)
	pct  float64
}

type grouping struct {
	name string
	e    expr
	bin  bool
}

type statsStage struct {
	aggs []aggregate
	by   []grouping
}

func (s *statsStage) outputs() []string {
	var names []string
	for _, g := range s.by {
		names = append(names, g.name)
	}
	for _, a := range s.aggs {
		names = append(names, a.name)
	}
	return names
}

var aggregates = map[string]bool{"count": true, "sum": true, "avg": true, "min": true, "max": true, "pct": true,
	"count_distinct": true, "earliest": true, "latest": true, "stddev": true}

func (p *qparser) stats() (*statsStage, error) {
	s := &statsStage{}
	for {
		p.skip()
		start := p.pos
		fn := strings.ToLower(p.while(isWordByte))
		if !aggregates[fn] || !p.skipThen('(') {
			return nil, p.errorf(start, "expected an aggregate: count, sum, avg, min, max, pct, count_distinct, stddev, earliest or latest")
		}
		a := aggregate{fn: fn}
		if p.skipThen('*') {
			if fn != "count" {
				return nil, p.errorf(start, "only count takes *")
			}
		} else {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			a.arg = e
			if fn == "pct" {
				if !p.skipThen(',') {
					return nil, p.errorf(p.pos, "pct takes a field and a percentile")
				}
				pe, err := p.primary()
				lit, ok := pe.(literal)
				n, isNum := number(litValue(lit, ok))
				if err != nil || !isNum || n < 0 || n > 100 {
					return nil, p.errorf(start, "pct's percentile is a number from 0 to 100")
				}
				a.pct = n
			}
		}
		if !p.skipThen(')') {
			return nil, p.errorf(p.pos, "expected )")
		}
		if a.arg == nil && fn != "count" {
			return nil, p.errorf(start, "%s needs a field", fn)
		}
		a.name = strings.TrimSpace(p.src[start:p.pos])
		if p.keyword("as") {
			name, err := p.field()
			if err != nil {
				return nil, err
			}
			a.name = name
		}
		s.aggs = append(s.aggs, a)
		p.skip()
		if !p.accept(",") {
			break
		}
	}
	if !p.keyword("by") {
		return s, nil
	}
	for {
		p.skip()
		start := p.pos
		e, err := p.sum()
		if err != nil {
			return nil, err
		}
		g := grouping{name: strings.TrimSpace(p.src[start:p.pos]), e: e}
		if f, ok := e.(fieldRef); ok {
			g.name = string(f)
		}
		g.bin = strings.HasPrefix(strings.ToLower(g.name), "bin(")
		if p.keyword("as") {
			if g.name, err = p.field(); err != nil {
				return nil, err
			}
		}
		s.by = append(s.by, g)
		p.skip()
		if !p.accept(",") {
			return s, nil
		}
	}
}

func litValue(l literal, ok bool) any {
	if !ok {
		return nil
	}
	return l.v
}

func (s *statsStage) apply(rows []Row) []Row {
	acc := s.accumulate()
	acc.add(rows)
	return acc.rows()
}

// statsAcc aggregates rows given a batch at a time: it keeps each group's running values,
// not its rows.
type statsAcc struct {
	s      *statsStage
	groups []*groupAcc
	index  map[string]*groupAcc
}

type groupAcc struct {
	key  []any
	aggs []aggState
}

func (s *statsStage) accumulate() *statsAcc {
	return &statsAcc{s: s, index: map[string]*groupAcc{}}
}

func (a *statsAcc) add(rows []Row) {
	var k strings.Builder
	for _, r := range rows {
		key := make([]any, len(a.s.by))
		k.Reset()
		for i, g := range a.s.by {
			key[i] = g.e.eval(r)
			k.WriteString(Render(key[i]))
			k.WriteByte(0)
		}
		g, ok := a.index[k.String()]
		if !ok {
			g = &groupAcc{key: key, aggs: make([]aggState, len(a.s.aggs))}
			a.index[k.String()] = g
			a.groups = append(a.groups, g)
		}
		for i, agg := range a.s.aggs {
			agg.add(&g.aggs[i], r)
		}
	}
}

func (a *statsAcc) rows() []Row {
	groups := a.groups
	if len(a.s.by) == 0 && len(groups) == 0 {
		// stats without by answers one row, even over nothing
		groups = []*groupAcc{{aggs: make([]aggState, len(a.s.aggs))}}
	}
	keys := make([][]any, len(groups))
	for i, g := range groups {
		keys[i] = g.key
	}
	return a.s.output(keys, func(i, j int) any { return a.s.aggs[j].value(&groups[i].aggs[j]) })
}

// output is the rows of groups given in the order of their first row: their keys, and
// value(group, aggregate) for each aggregate. A first grouping by bin() orders them by time.
func (s *statsStage) output(keys [][]any, value func(group, aggregate int) any) []Row {
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	if len(s.by) > 0 && s.by[0].bin {
		slices.SortStableFunc(order, func(a, b int) int { return compare(keys[a][0], keys[b][0]) })
	}
	out := make([]Row, len(order))
	for i, g := range order {
		row := Row{}
		for j, by := range s.by {
			if keys[g][j] != nil {
				row[by.name] = keys[g][j]
			}
		}
		for j, a := range s.aggs {
			if v := value(g, j); v != nil {
				row[a.name] = v
			}
		}
		out[i] = row
	}
	return out
}

// aggState is an aggregate's running value over a group's rows.
type aggState struct {
	present  int       // rows with a value (all rows for count(*))
	numbers  int       // of them, numbers
	sum      float64   // of the numbers, in the order given
	min, max float64   // of the numbers
	nums     []float64 // the numbers, for pct and stddev
	seen     map[string]bool
	best     any // earliest or latest value, and its time
	bestTime float64
}

// add counts row r into st.
func (a aggregate) add(st *aggState, r Row) {
	if a.arg == nil { // count(*)
		st.present++
		return
	}
	v := a.arg.eval(r)
	if v == nil {
		return
	}
	st.present++
	switch a.fn {
	case "count_distinct":
		if st.seen == nil {
			st.seen = map[string]bool{}
		}
		st.seen[Render(v)] = true
	case "earliest", "latest":
		t, _ := number(r["@timestamp"])
		if st.present == 1 || (a.fn == "earliest" && t < st.bestTime) || (a.fn == "latest" && t > st.bestTime) {
			st.best, st.bestTime = v, t
		}
	}
	n, ok := number(v)
	if !ok {
		return
	}
	if st.numbers == 0 || n < st.min {
		st.min = n
	}
	if st.numbers == 0 || n > st.max {
		st.max = n
	}
	st.numbers++
	st.sum += n
	if a.fn == "pct" || a.fn == "stddev" {
		st.nums = append(st.nums, n)
	}
}

// value is the aggregate of the rows counted into st; nil when it has none.
func (a aggregate) value(st *aggState) any {
	switch a.fn {
	case "count":
		return float64(st.present)
	case "count_distinct":
		return float64(len(st.seen))
	case "earliest", "latest":
		return st.best
	}
	if st.numbers == 0 {
		return nil
	}
	switch a.fn {
	case "sum":
		return st.sum
	case "avg":
		return st.sum / float64(st.numbers)
	case "min":
		return st.min
	case "max":
		return st.max
	case "stddev":
		mean := st.sum / float64(st.numbers)
		var sq float64
		for _, n := range st.nums {
			sq += (n - mean) * (n - mean)
		}
		return math.Sqrt(sq / float64(st.numbers))
	}
	// pct: the nearest-rank percentile.
	slices.Sort(st.nums)
	rank := int(math.Ceil(a.pct / 100 * float64(len(st.nums))))
	return st.nums[min(max(rank-1, 0), len(st.nums)-1)]
}

// sort: sort field [asc|desc], ... (desc unless asc); rows without the field go last.
type sortKey struct {
	e    expr
	desc bool
}

type sortStage []sortKey

func (p *qparser) sort() (stage, error) {
	var keys sortStage
	for {
		e, err := p.sum()
		if err != nil {
			return nil, err
		}
		k := sortKey{e: e, desc: true}
		if p.keyword("asc") {
			k.desc = false
		} else {
			p.keyword("desc")
		}
		keys = append(keys, k)
		p.skip()
		if !p.accept(",") {
			return keys, nil
		}
	}
}

func (s sortStage) apply(rows []Row) []Row {
	slices.SortStableFunc(rows, func(a, b Row) int {
		for _, k := range s {
			x, y := k.e.eval(a), k.e.eval(b)
			switch {
			case x == nil && y == nil:
				continue
			case x == nil:
				return 1
			case y == nil:
				return -1
			}
			if c := compare(x, y); c != 0 {
				if k.desc {
					return -c
				}
				return c
			}
		}
		return 0
	})
	return rows
}
