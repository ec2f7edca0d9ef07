package logsearch

import (
	"lookout/internal/store"
)

// A query's leading filters and first stats, when they use only the fields every record
// has, run in the store as one aggregation (store.LogStats) rather than over rows here;
// the rest of the query runs over the rows the store answers. Only what the store computes
// exactly as Run would is handed to it.

// StatsPlan is a query split between the store and Go.
type StatsPlan struct {
	Store store.LogStatsQuery // without groups or time range: the caller's to fill
	stats *statsStage
	rest  []stage
}

// storeFields are the fields every record has, by their Insights names. Filters may test
// @message in the store; stats may not group or aggregate it there.
var storeFields = map[string]store.LogField{"@timestamp": store.LogTime, "@ingestionTime": store.LogIngestTime,
	"@logStream": store.LogStreamName, "@message": store.LogMessage}

// StatsPlan returns the plan of a query that begins with filters (and fields that change
// nothing) and a stats the store can compute; false for any other query.
func (q *Query) StatsPlan() (*StatsPlan, bool) {
	var conds []store.LogCond
	for i, st := range q.stages {
		switch s := st.(type) {
		case filterStage:
			c, ok := storeCond(s.cond)
			if !ok {
				return nil, false
			}
			conds = append(conds, c)
		case *fieldsStage:
			for j, e := range s.exprs {
				if f, ok := e.(fieldRef); !ok || string(f) != s.names[j] {
					return nil, false
				}
			}
		case *statsStage:
			// Groups keep the order of their first row, but a lone bin() orders them anew.
			ordered := len(s.by) > 1 || len(s.by) == 1 && !s.by[0].bin
			p := &StatsPlan{Store: store.LogStatsQuery{Ordered: ordered}, stats: s, rest: q.stages[i+1:]}
			switch len(conds) {
			case 0:
			case 1:
				p.Store.Where = &conds[0]
			default:
				p.Store.Where = &store.LogCond{Op: "and", Conds: conds}
			}
			for _, g := range s.by {
				sg, ok := storeGrouping(g)
				if !ok {
					return nil, false
				}
				p.Store.By = append(p.Store.By, sg)
			}
			for _, a := range s.aggs {
				sa, ok := storeAggregate(a)
				if !ok {
					return nil, false
				}
				p.Store.Aggregates = append(p.Store.Aggregates, sa)
			}
			return p, true
		default:
			return nil, false
		}
	}
	return nil, false
}

// Finish turns the store's answer into the query's rows, as Run would answer them over the
// same records, and counts the records that matched its filters.
func (p *StatsPlan) Finish(res *store.LogStatsResult) (rows []Row, matched int) {
	keys := make([][]any, len(res.Buckets))
	for i, b := range res.Buckets {
		keys[i] = make([]any, len(b.Key))
		for j, k := range b.Key {
			if ms, ok := k.(int64); ok {
				keys[i][j] = Time(ms)
			} else {
				keys[i][j] = k
			}
		}
	}
	rows = p.stats.output(keys, func(g, a int) any {
		// Counts, and min and max of times, are numbers in Run's rows.
		if n, ok := res.Buckets[g].Values[a].(int64); ok {
			return float64(n)
		}
		return nil
	})
	for _, s := range p.rest {
		rows = s.apply(rows)
	}
	return rows, int(res.Matched)
}

// storeField is the store field a reference names.
func storeField(e expr) (store.LogField, bool) {
	f, ok := e.(fieldRef)
	if !ok {
		return 0, false
	}
	sf, ok := storeFields[string(f)]
	return sf, ok
}

// isText says whether a store field is text rather than a time.
func isText(f store.LogField) bool { return f == store.LogStreamName || f == store.LogMessage }

// flipped is a comparison with its sides swapped.
var flipped = map[string]string{"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

// storeCond is a filter condition as the store tests it, when it tests exactly as eval.
func storeCond(e expr) (store.LogCond, bool) {
	switch x := e.(type) {
	case binary:
		if x.op == "and" || x.op == "or" {
			l, okL := storeCond(x.l)
			r, okR := storeCond(x.r)
			return store.LogCond{Op: x.op, Conds: []store.LogCond{l, r}}, okL && okR
		}
		if _, ok := flipped[x.op]; !ok {
			return store.LogCond{}, false
		}
		op, field, lit := x.op, x.l, x.r
		if _, isField := x.l.(fieldRef); !isField {
			op, field, lit = flipped[x.op], x.r, x.l
		}
		f, okF := storeField(field)
		l, okL := lit.(literal)
		if !okF || !okL {
			return store.LogCond{}, false
		}
		// compare orders numbers as numbers and the rest as text: so times against
		// numbers, and texts against texts that are not numbers.
		switch v := l.v.(type) {
		case float64:
			okL = !isText(f)
		case string:
			_, isNum := number(v)
			okL = isText(f) && !isNum
		default:
			okL = false
		}
		if !okL {
			return store.LogCond{}, false
		}
		return store.LogCond{Op: op, Field: f, Values: []any{l.v}}, true
	case not:
		inner, ok := storeCond(x.e)
		return store.LogCond{Op: "not", Conds: []store.LogCond{inner}}, ok
	case match:
		// A time matches as its rendered text, which the store does not hold.
		f, ok := storeField(x.e)
		if !ok || !isText(f) || x.op == "" {
			return store.LogCond{}, false
		}
		c := store.LogCond{Op: x.op, Field: f, Values: x.texts}
		if x.negate {
			c = store.LogCond{Op: "not", Conds: []store.LogCond{c}}
		}
		return c, true
	}
	return store.LogCond{}, false
}

// storeGrouping is a stats grouping the store can compute: a field, or bin() of whole
// milliseconds.
func storeGrouping(g grouping) (store.LogGrouping, bool) {
	if f, ok := storeField(g.e); ok {
		return store.LogGrouping{Field: f}, f != store.LogMessage
	}
	c, ok := g.e.(call)
	if !ok || c.name != "bin" {
		return store.LogGrouping{}, false
	}
	period, okP := c.args[0].(literal)
	f, okF := storeField(c.args[1])
	ms, isFloat := period.v.(float64)
	if !okP || !okF || !isFloat || ms < 1 || ms != float64(int64(ms)) || isText(f) {
		return store.LogGrouping{}, false
	}
	return store.LogGrouping{Field: f, BinMillis: int64(ms)}, true
}

// storeAggregate is an aggregate the store can compute: counts of fields every record has,
// distinct values, and the first and last times.
func storeAggregate(a aggregate) (store.LogAggregate, bool) {
	if a.arg == nil {
		return store.LogAggregate{Fn: "count"}, true
	}
	f, ok := storeField(a.arg)
	switch {
	case !ok || f == store.LogMessage:
		return store.LogAggregate{}, false
	case a.fn == "count", a.fn == "count_distinct":
		return store.LogAggregate{Fn: a.fn, Field: f}, true
	case (a.fn == "min" || a.fn == "max") && !isText(f):
		return store.LogAggregate{Fn: a.fn, Field: f}, true
	}
	return store.LogAggregate{}, false
}

// MessageTexts returns texts that the @message of every record the query keeps holds: those
// of like "text" tests its leading filters require. A store can hand over only the records
// holding them.
func (q *Query) MessageTexts() []string {
	var texts []string
	for _, st := range q.stages {
		f, ok := st.(filterStage)
		if !ok {
			break
		}
		texts = append(texts, requiredTexts(f.cond)...)
	}
	return texts
}

// requiredTexts are the texts a condition requires @message to hold.
func requiredTexts(e expr) []string {
	switch x := e.(type) {
	case binary:
		if x.op == "and" {
			return append(requiredTexts(x.l), requiredTexts(x.r)...)
		}
	case match:
		if f, ok := x.e.(fieldRef); ok && f == "@message" && x.op == "contains" && !x.negate {
			return []string{x.texts[0].(string)}
		}
	}
	return nil
}
