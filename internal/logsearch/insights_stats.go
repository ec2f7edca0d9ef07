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
	type group struct {
		key  []any
		rows []Row
	}
	var groups []*group
	index := map[string]*group{}
	for _, r := range rows {
		key := make([]any, len(s.by))
		var k strings.Builder
		for i, g := range s.by {
			key[i] = g.e.eval(r)
			k.WriteString(Render(key[i]))
			k.WriteByte(0)
		}
		g, ok := index[k.String()]
		if !ok {
			g = &group{key: key}
			index[k.String()] = g
			groups = append(groups, g)
		}
		g.rows = append(g.rows, r)
	}
	if len(s.by) == 0 && len(groups) == 0 {
		groups = []*group{{}} // stats without by answers one row, even over nothing
	}
	keys := make([][]any, len(groups))
	for i, g := range groups {
		keys[i] = g.key
	}
	return s.output(keys, func(i, j int) any { return s.aggs[j].of(groups[i].rows) })
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

// of computes the aggregate over a group's rows; nil when it has no value.
func (a aggregate) of(rows []Row) any {
	if a.fn == "count" && a.arg == nil {
		return float64(len(rows))
	}
	var nums []float64
	var present []any
	var times []float64
	for _, r := range rows {
		v := a.arg.eval(r)
		if v == nil {
			continue
		}
		present = append(present, v)
		if n, ok := number(v); ok {
			nums = append(nums, n)
		}
		t, _ := number(r["@timestamp"])
		times = append(times, t)
	}
	switch a.fn {
	case "count":
		return float64(len(present))
	case "count_distinct":
		seen := map[string]bool{}
		for _, v := range present {
			seen[Render(v)] = true
		}
		return float64(len(seen))
	case "earliest", "latest":
		if len(present) == 0 {
			return nil
		}
		best := 0
		for i := range present {
			if (a.fn == "earliest" && times[i] < times[best]) || (a.fn == "latest" && times[i] > times[best]) {
				best = i
			}
		}
		return present[best]
	}
	if len(nums) == 0 {
		return nil
	}
	switch a.fn {
	case "sum":
		return sum(nums)
	case "avg":
		return sum(nums) / float64(len(nums))
	case "min":
		return slices.Min(nums)
	case "max":
		return slices.Max(nums)
	case "stddev":
		mean := sum(nums) / float64(len(nums))
		var sq float64
		for _, n := range nums {
			sq += (n - mean) * (n - mean)
		}
		return math.Sqrt(sq / float64(len(nums)))
	}
	// pct: the nearest-rank percentile.
	slices.Sort(nums)
	rank := int(math.Ceil(a.pct / 100 * float64(len(nums))))
	return nums[min(max(rank-1, 0), len(nums)-1)]
}

func sum(nums []float64) float64 {
	var s float64
	for _, n := range nums {
		s += n
	}
	return s
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
