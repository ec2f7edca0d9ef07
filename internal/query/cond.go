package query

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Test is what a condition checks of a field's value.
type Test uint8

const (
	Exists Test = iota + 1 // the field has a value
	Equal                  // the value equals Values[0]
	Less                   // the value is below Values[0]
	LessEqual
	Greater
	GreaterEqual
	StartsWith // the value's text starts with Values[0]
	EndsWith
	Contains
	In // the value equals one of Values
)

// Cond is a condition on an event: a test of one field, or (Field nil) a combination of
// conditions.
type Cond struct {
	// A combination holds when every one of Terms holds, or with Or at least one.
	Terms []*Cond
	Or    bool

	Field *Field
	Test  Test
	// Not negates the test: the condition holds wherever the test does not, on events
	// without the field too ("!=" matches events that lack the field).
	Not bool
	// Number compares values as numbers; else the value's text is compared.
	Number bool
	// Values are float64 when Number, else string: one for most tests, none for Exists,
	// any number for In.
	Values []any
}

// A test of a relational field holds for an event when some related span (the trace's root,
// or any span of the trace) passes it, negations included: "root.http.route != /" holds where
// the root has another route or none.

// filterTests maps Honeycomb's filter ops to a test and whether it is negated.
var filterTests = map[string]struct {
	test Test
	not  bool
}{
	FilterExists: {Exists, false}, FilterNotExists: {Exists, true},
	FilterEq: {Equal, false}, FilterNe: {Equal, true},
	FilterLt: {Less, false}, FilterLe: {LessEqual, false}, FilterGt: {Greater, false}, FilterGe: {GreaterEqual, false},
	FilterStartsWith: {StartsWith, false}, FilterNotStartsWith: {StartsWith, true},
	FilterEndsWith: {EndsWith, false}, FilterNotEndsWith: {EndsWith, true},
	FilterContains: {Contains, false}, FilterNotContains: {Contains, true},
	FilterIn: {In, false}, FilterNotIn: {In, true},
}

// newTest makes the condition of a validated filter on a resolved field. How its values
// compare: "=", "!=" and "in" compare numbers when the query gives numbers (every one, for
// "in"), text otherwise; "<" and the like compare numbers whenever the value reads as one,
// "12" included; starts-with and the like always compare text. Booleans compare as the text
// "true" or "false".
func newTest(fl Filter, field *Field) *Cond {
	t := filterTests[fl.Op]
	c := &Cond{Field: field, Test: t.test, Not: t.not}
	switch t.test {
	case Exists:
	case Equal:
		c.Number = isNumber(fl.Value)
		c.Values = []any{c.value(fl.Value)}
	case In:
		list, _ := fl.Value.([]any)
		c.Number = true
		for _, v := range list {
			c.Number = c.Number && isNumber(v)
		}
		for _, v := range list {
			c.Values = append(c.Values, c.value(v))
		}
	case Less, LessEqual, Greater, GreaterEqual:
		_, c.Number = numberValue(fl.Value)
		c.Values = []any{c.value(fl.Value)}
	default:
		c.Values = []any{textValue(fl.Value)}
	}
	return c
}

// value is v in the form the condition compares.
func (c *Cond) value(v any) any {
	if c.Number {
		n, _ := numberValue(v)
		return n
	}
	return textValue(v)
}

// isNumber reports whether a filter value is a JSON number.
func isNumber(v any) bool {
	switch v.(type) {
	case float64, json.Number, int, int64:
		return true
	}
	return false
}

// numberValue reads a filter value as a number: numbers, and strings that read as one.
func numberValue(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
	}
	return 0, false
}

// textValue is a filter value as stored text: numbers in their shortest form, booleans as
// true or false.
func textValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return x.String()
	}
	n, _ := numberValue(v)
	return strconv.FormatFloat(n, 'g', -1, 64)
}

// combine joins conditions: nil for none, the one for one.
func combine(terms []*Cond, or bool) *Cond {
	switch len(terms) {
	case 0:
		return nil
	case 1:
		return terms[0]
	}
	return &Cond{Terms: terms, Or: or}
}

// needsSpan reports whether only an event with a field that only spans have can satisfy c.
func (c *Cond) needsSpan() bool {
	switch {
	case c == nil:
		return false
	case c.Field != nil:
		return !c.Not && c.Field.SpansOnly()
	case c.Or:
		return !slices.ContainsFunc(c.Terms, func(t *Cond) bool { return !t.needsSpan() })
	}
	return slices.ContainsFunc(c.Terms, (*Cond).needsSpan)
}
