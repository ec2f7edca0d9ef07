// Package query is Honeycomb's query model: the query specification users and tools send, its
// validation and resolution against a clock, what its fields and operators mean (a Plan, made
// against what a backend's events have), and the shape of results. Stores translate plans
// into their own SQL (store.QueryRunner); this package holds everything else, so that every
// backend accepts, refuses and answers queries alike.
package query

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Spec is Honeycomb's query specification, as POST /1/queries takes it.
type Spec struct {
	Calculations      []Calculation `json:"calculations,omitempty"`
	Filters           []Filter      `json:"filters,omitempty"`
	FilterCombination string        `json:"filter_combination,omitempty"`
	Breakdowns        []string      `json:"breakdowns,omitempty"`
	Orders            []Order       `json:"orders,omitempty"`
	Havings           []Having      `json:"havings,omitempty"`
	Limit             int           `json:"limit,omitempty"`
	TimeRange         int64         `json:"time_range,omitempty"`
	StartTime         int64         `json:"start_time,omitempty"`
	EndTime           int64         `json:"end_time,omitempty"`
	Granularity       int64         `json:"granularity,omitempty"`
	UsageMode         bool          `json:"usage_mode,omitempty"`

	// Accepted in the JSON so that a clear error can refuse them (Validate).
	CalculatedFields         json.RawMessage `json:"calculated_fields,omitempty"`
	Formulas                 json.RawMessage `json:"formulas,omitempty"`
	CompareTimeOffsetSeconds *int64          `json:"compare_time_offset_seconds,omitempty"`
}

// Calculation is one VISUALIZE entry.
type Calculation struct {
	Op                string   `json:"op"`
	Column            string   `json:"column,omitempty"`
	Name              string   `json:"name,omitempty"`
	Filters           []Filter `json:"filters,omitempty"`
	FilterCombination string   `json:"filter_combination,omitempty"`
}

// Filter is one WHERE condition. Value is a string, number or boolean, a list of them for
// "in" and "not-in", and absent for "exists" and "does-not-exist".
type Filter struct {
	Column string `json:"column"`
	Op     string `json:"op"`
	Value  any    `json:"value,omitempty"`
}

// Order sorts results by a calculation (Op and Column) or a breakdown (Column alone).
type Order struct {
	Op     string `json:"op,omitempty"`
	Column string `json:"column,omitempty"`
	Order  string `json:"order,omitempty"` // "ascending" (default) or "descending"
}

// Having keeps the groups whose calculation compares true with Value.
type Having struct {
	CalculateOp string  `json:"calculate_op"`
	Column      string  `json:"column,omitempty"`
	Op          string  `json:"op"`
	Value       float64 `json:"value"`
}

// Limits of a query, as Honeycomb sets them.
const (
	DefaultTimeRange = 2 * 60 * 60 // seconds
	DefaultLimit     = 100
	MaxLimit         = 1000
	MaxClauses       = 100 // breakdowns, calculations, filters, orders, havings each
	MaxRangeBuckets  = 1000
)

// Calculation ops.
const (
	OpCount         = "COUNT"
	OpCountDistinct = "COUNT_DISTINCT"
	OpSum           = "SUM"
	OpAvg           = "AVG"
	OpMin           = "MIN"
	OpMax           = "MAX"
	OpHeatmap       = "HEATMAP"
	OpConcurrency   = "CONCURRENCY"
	OpRateAvg       = "RATE_AVG"
	OpRateSum       = "RATE_SUM"
	OpRateMax       = "RATE_MAX"
)

// percentiles maps the percentile ops to their fraction.
var percentiles = map[string]float64{
	"P001": 0.001, "P01": 0.01, "P05": 0.05, "P10": 0.10, "P20": 0.20, "P25": 0.25,
	"P50": 0.50, "P75": 0.75, "P80": 0.80, "P90": 0.90, "P95": 0.95, "P99": 0.99, "P999": 0.999,
}

// Percentile reports the fraction of a percentile op ("P99" → 0.99).
func Percentile(op string) (float64, bool) {
	p, ok := percentiles[op]
	return p, ok
}

// RateBase returns the op a RATE_* op takes the rate of ("RATE_AVG" → "AVG").
func RateBase(op string) (string, bool) {
	base, ok := strings.CutPrefix(op, "RATE_")
	return base, ok && (base == OpAvg || base == OpSum || base == OpMax)
}

// needsColumn reports whether op takes a column.
func needsColumn(op string) bool { return op != OpCount && op != OpConcurrency }

func knownOp(op string) bool {
	switch op {
	case OpCount, OpCountDistinct, OpSum, OpAvg, OpMin, OpMax, OpHeatmap, OpConcurrency, OpRateAvg, OpRateSum, OpRateMax:
		return true
	}
	_, ok := percentiles[op]
	return ok
}

// Filter ops.
const (
	FilterEq            = "="
	FilterNe            = "!="
	FilterGt            = ">"
	FilterGe            = ">="
	FilterLt            = "<"
	FilterLe            = "<="
	FilterStartsWith    = "starts-with"
	FilterNotStartsWith = "does-not-start-with"
	FilterEndsWith      = "ends-with"
	FilterNotEndsWith   = "does-not-end-with"
	FilterExists        = "exists"
	FilterNotExists     = "does-not-exist"
	FilterContains      = "contains"
	FilterNotContains   = "does-not-contain"
	FilterIn            = "in"
	FilterNotIn         = "not-in"
)

// Key is the name of a calculation's value in results: its name if given, else "OP" or
// "OP(column)", as Honeycomb names it.
func (c Calculation) Key() string {
	if c.Name != "" {
		return c.Name
	}
	if c.Column == "" {
		return c.Op
	}
	return c.Op + "(" + c.Column + ")"
}

// Error is a query the user must change: it is reported as a 400 with its message.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func invalid(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// Query is a validated Spec resolved against a clock, which NewPlan plans for a store.
type Query struct {
	Spec
	Start, End  time.Time     // events with Start <= timestamp < End
	Granularity time.Duration // width of a time-series bucket
	Limit       int
	Or          bool // filters combine with OR
}

// Resolve validates s and fixes its time range against now.
func (s Spec) Resolve(now time.Time) (*Query, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	q := &Query{Spec: s, Limit: s.Limit, Or: strings.EqualFold(s.FilterCombination, "OR")}
	if len(q.Calculations) == 0 {
		q.Calculations = []Calculation{{Op: OpCount}}
	}
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	rng := s.TimeRange
	if rng == 0 && (s.StartTime == 0 || s.EndTime == 0) {
		rng = DefaultTimeRange
	}
	switch {
	case s.StartTime != 0 && s.EndTime != 0:
		q.Start, q.End = time.Unix(s.StartTime, 0), time.Unix(s.EndTime, 0)
	case s.StartTime != 0:
		q.Start = time.Unix(s.StartTime, 0)
		q.End = q.Start.Add(time.Duration(rng) * time.Second)
	case s.EndTime != 0:
		q.End = time.Unix(s.EndTime, 0)
		q.Start = q.End.Add(-time.Duration(rng) * time.Second)
	default:
		q.End = now.Truncate(time.Second).Add(time.Second)
		q.Start = q.End.Add(-time.Duration(rng) * time.Second)
	}
	total := q.End.Sub(q.Start)
	if s.Granularity > 0 {
		q.Granularity = time.Duration(s.Granularity) * time.Second
		if q.Granularity > total || total/q.Granularity > MaxRangeBuckets {
			return nil, invalid("granularity %d s must be between the time range / %d and the time range (%d s)", s.Granularity, MaxRangeBuckets, int64(total.Seconds()))
		}
	} else {
		q.Granularity = autoGranularity(total)
	}
	return q, nil
}

// autoGranularity picks a round bucket width giving about 60 to 150 buckets.
func autoGranularity(total time.Duration) time.Duration {
	for _, g := range []time.Duration{
		time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
	} {
		if total/g <= 150 {
			return g
		}
	}
	return time.Duration(math.Ceil(float64(total)/150/float64(24*time.Hour))) * 24 * time.Hour
}

// Validate reports the first problem with s as an *Error.
func (s Spec) Validate() error {
	if len(s.CalculatedFields) > 0 && string(s.CalculatedFields) != "null" && string(s.CalculatedFields) != "[]" {
		return invalid("calculated_fields are not supported")
	}
	if len(s.Formulas) > 0 && string(s.Formulas) != "null" && string(s.Formulas) != "[]" {
		return invalid("formulas are not supported")
	}
	if s.CompareTimeOffsetSeconds != nil {
		return invalid("compare_time_offset_seconds is not supported")
	}
	for what, n := range map[string]int{"calculations": len(s.Calculations), "filters": len(s.Filters), "breakdowns": len(s.Breakdowns), "orders": len(s.Orders), "havings": len(s.Havings)} {
		if n > MaxClauses {
			return invalid("at most %d %s are allowed, got %d", MaxClauses, what, n)
		}
	}
	if err := checkCombination(s.FilterCombination); err != nil {
		return err
	}
	if s.Limit < 0 || s.Limit > MaxLimit {
		return invalid("limit must be between 1 and %d", MaxLimit)
	}
	if s.TimeRange < 0 || s.StartTime < 0 || s.EndTime < 0 || s.Granularity < 0 {
		return invalid("time_range, start_time, end_time and granularity must not be negative")
	}
	if s.TimeRange != 0 && s.StartTime != 0 && s.EndTime != 0 {
		return invalid("time_range may be combined with start_time or end_time, not both")
	}
	if s.StartTime != 0 && s.EndTime != 0 && s.EndTime <= s.StartTime {
		return invalid("end_time must be after start_time")
	}
	keys := map[string]bool{}
	for _, c := range s.Calculations {
		if err := checkCalculation(c); err != nil {
			return err
		}
		keys[c.Key()] = true
	}
	for _, f := range s.Filters {
		if err := f.check(true); err != nil {
			return err
		}
	}
	for _, b := range s.Breakdowns {
		if err := checkField(b, true); err != nil {
			return err
		}
	}
	for _, o := range s.Orders {
		if o.Order != "" && o.Order != "ascending" && o.Order != "descending" {
			return invalid("order must be \"ascending\" or \"descending\", got %q", o.Order)
		}
		if o.Op == "" {
			if !slices.Contains(s.Breakdowns, o.Column) {
				return invalid("cannot order by %q: it is neither a breakdown nor a calculation", o.Column)
			}
			continue
		}
		if !s.hasCalculation(o.Op, o.Column) {
			return invalid("cannot order by %s: it is not one of the query's calculations", Calculation{Op: o.Op, Column: o.Column}.Key())
		}
		if o.Op == OpHeatmap {
			return invalid("cannot order by HEATMAP")
		}
	}
	for _, h := range s.Havings {
		switch h.Op {
		case FilterEq, FilterNe, FilterGt, FilterGe, FilterLt, FilterLe:
		default:
			return invalid("having op %q is not one of = != > >= < <=", h.Op)
		}
		if h.CalculateOp == OpHeatmap {
			return invalid("HEATMAP cannot be used in a having")
		}
		if !s.hasCalculation(h.CalculateOp, h.Column) {
			return invalid("having %s: it is not one of the query's calculations", Calculation{Op: h.CalculateOp, Column: h.Column}.Key())
		}
	}
	return nil
}

func (s Spec) hasCalculation(op, column string) bool {
	calcs := s.Calculations
	if len(calcs) == 0 {
		calcs = []Calculation{{Op: OpCount}}
	}
	for _, c := range calcs {
		if c.Op == op && c.Column == column {
			return true
		}
	}
	return false
}

func checkCombination(c string) error {
	if c != "" && !strings.EqualFold(c, "AND") && !strings.EqualFold(c, "OR") {
		return invalid("filter_combination must be AND or OR, got %q", c)
	}
	return nil
}

func checkCalculation(c Calculation) error {
	if !knownOp(c.Op) {
		return invalid("unknown calculation op %q", c.Op)
	}
	if needsColumn(c.Op) && c.Column == "" {
		return invalid("%s needs a column", c.Op)
	}
	if !needsColumn(c.Op) && c.Column != "" {
		return invalid("%s takes no column", c.Op)
	}
	if c.Column != "" {
		if err := checkField(c.Column, false); err != nil {
			return err
		}
	}
	if err := checkCombination(c.FilterCombination); err != nil {
		return err
	}
	for _, f := range c.Filters {
		if err := f.check(false); err != nil {
			return err
		}
	}
	return nil
}

// Relational prefixes: a field of another span of the same trace.
const (
	RootPrefix = "root."
	AnyPrefix  = "any."
)

// Relation splits a field into its relational prefix ("root." or "any.", or "") and the
// field of the related span.
func Relation(field string) (prefix, name string) {
	for _, p := range []string{RootPrefix, AnyPrefix} {
		if rest, ok := strings.CutPrefix(field, p); ok && rest != "" {
			return p, rest
		}
	}
	return "", field
}

func checkField(name string, relational bool) error {
	if strings.TrimSpace(name) == "" {
		return invalid("a column name must not be empty")
	}
	if len(name) > 255 {
		return invalid("column name %.40q… is longer than 255 bytes", name)
	}
	if strings.HasPrefix(name, "parent.") {
		return invalid("column %q: parent. fields are not supported; use root. or any.", name)
	}
	if p, _ := Relation(name); p != "" && !relational {
		return invalid("column %q: relational fields can only be used in filters and breakdowns", name)
	}
	return nil
}

func (f Filter) check(relational bool) error {
	if err := checkField(f.Column, relational); err != nil {
		return err
	}
	switch f.Op {
	case FilterExists, FilterNotExists:
		if f.Value != nil {
			return invalid("filter %s %s takes no value", f.Column, f.Op)
		}
		return nil
	case FilterIn, FilterNotIn:
		list, ok := f.Value.([]any)
		if !ok || len(list) == 0 {
			return invalid("filter %s %s needs a non-empty list of values", f.Column, f.Op)
		}
		for _, v := range list {
			if !scalar(v) {
				return invalid("filter %s %s: values must be strings, numbers or booleans", f.Column, f.Op)
			}
		}
		return nil
	case FilterEq, FilterNe, FilterGt, FilterGe, FilterLt, FilterLe,
		FilterStartsWith, FilterNotStartsWith, FilterEndsWith, FilterNotEndsWith, FilterContains, FilterNotContains:
		if !scalar(f.Value) {
			return invalid("filter %s %s needs a string, number or boolean value", f.Column, f.Op)
		}
		return nil
	}
	return invalid("unknown filter op %q", f.Op)
}

func scalar(v any) bool {
	switch v.(type) {
	case string, float64, bool, json.Number, int, int64:
		return true
	}
	return false
}

// ID identifies a spec by its content: the same spec always gets the same id, as Honeycomb's
// POST /1/queries does.
func (s Spec) ID() string {
	b, _ := json.Marshal(s)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:11]
}
