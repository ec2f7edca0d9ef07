package triage

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Rule is one of a project's custom grouping rules, in Rollbar's JSON syntax:
//
//	{"condition": {"all": [{"path": "body.trace.exception.class", "eq": "TimeoutError"},
//	                       {"path": "body.trace.frames.*.filename", "contains": "payments"}]},
//	 "fingerprint": "payments-timeout-error", "title": "Timeout error in payments code"}
//
// Rules are tried in order; the first whose condition matches gives the fingerprint and
// title, in which {{ default_fingerprint }}, {{ default_title }} and {{ path }} are replaced.
type Rule struct {
	Condition   Condition `json:"condition"`
	Fingerprint string    `json:"fingerprint"`
	Title       string    `json:"title"`
}

// Condition is a leaf {path, operator: value} or a branch {all | any | none: [conditions]}.
type Condition struct {
	All, Any, None []Condition
	Path           string
	Op             string // eq, neq, in, nin, contains, ncontains, gt, gte, lt, lte
	Value          any
}

var operators = map[string]bool{"eq": true, "neq": true, "in": true, "nin": true, "contains": true,
	"ncontains": true, "gt": true, "gte": true, "lt": true, "lte": true}

// positive names the operator each negated one negates.
var positive = map[string]string{"neq": "eq", "nin": "in", "ncontains": "contains"}

// maxConditionDepth bounds how deeply conditions nest.
const maxConditionDepth = 16

// ParseRules reads a list of rules, refusing one that is incomplete or names an unknown
// operator.
func ParseRules(b []byte) ([]Rule, error) {
	var rules []Rule
	if err := json.Unmarshal(b, &rules); err != nil {
		return nil, fmt.Errorf("grouping rules: %w", err)
	}
	for i, r := range rules {
		if r.Fingerprint == "" && r.Title == "" {
			return nil, fmt.Errorf("grouping rule %d: give a fingerprint or a title", i+1)
		}
		if err := r.Condition.check(0); err != nil {
			return nil, fmt.Errorf("grouping rule %d: %w", i+1, err)
		}
	}
	return rules, nil
}

// UnmarshalJSON reads a condition in Rollbar's syntax.
func (c *Condition) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return errors.New("a condition is an object")
	}
	for key, raw := range m {
		var err error
		switch {
		case key == "all":
			err = json.Unmarshal(raw, &c.All)
		case key == "any":
			err = json.Unmarshal(raw, &c.Any)
		case key == "none":
			err = json.Unmarshal(raw, &c.None)
		case key == "path":
			err = json.Unmarshal(raw, &c.Path)
		case operators[key]:
			if c.Op != "" {
				return errors.New("a condition has one operator")
			}
			c.Op = key
			dec := json.NewDecoder(strings.NewReader(string(raw)))
			dec.UseNumber()
			err = dec.Decode(&c.Value)
		default:
			return fmt.Errorf("unknown condition key %q", key)
		}
		if err != nil {
			return fmt.Errorf("condition %q: %w", key, err)
		}
	}
	return nil
}

func (c *Condition) check(depth int) error {
	if depth > maxConditionDepth {
		return errors.New("conditions nest too deeply")
	}
	branches := len(c.All) + len(c.Any) + len(c.None)
	switch {
	case c.Path != "" && c.Op == "":
		return fmt.Errorf("condition on %q has no operator", c.Path)
	case c.Path == "" && c.Op != "":
		return fmt.Errorf("condition %q has no path", c.Op)
	case c.Path == "" && branches == 0:
		return errors.New("a condition needs a path and an operator, or all, any or none")
	case (c.Op == "in" || c.Op == "nin") && !isList(c.Value):
		return fmt.Errorf("%q takes a list", c.Op)
	}
	for _, list := range [][]Condition{c.All, c.Any, c.None} {
		for i := range list {
			if err := list[i].check(depth + 1); err != nil {
				return err
			}
		}
	}
	return nil
}

func isList(v any) bool { _, ok := v.([]any); return ok }

// Match reports whether data satisfies the condition. A leaf's path may go through lists by
// index (negative from the end) or "*" (any element).
func (c *Condition) Match(data map[string]any) bool {
	if c.Path != "" {
		values := lookup(data, strings.Split(c.Path, "."))
		if pos, negated := positive[c.Op]; negated { // no value may match the positive operator
			for _, v := range values {
				if compare(pos, v, c.Value) {
					return false
				}
			}
			return true
		}
		for _, v := range values {
			if compare(c.Op, v, c.Value) {
				return true
			}
		}
		return len(values) == 0 && isNumeric(c.Op) && compare(c.Op, nil, c.Value)
	}
	for i := range c.All {
		if !c.All[i].Match(data) {
			return false
		}
	}
	for i := range c.None {
		if c.None[i].Match(data) {
			return false
		}
	}
	if len(c.Any) == 0 {
		return true
	}
	for i := range c.Any {
		if c.Any[i].Match(data) {
			return true
		}
	}
	return false
}

// lookup returns the values at a dotted path; "*" fans out over a list's elements.
func lookup(v any, path []string) []any {
	if len(path) == 0 {
		return []any{v}
	}
	switch x := v.(type) {
	case map[string]any:
		if next, ok := x[path[0]]; ok {
			return lookup(next, path[1:])
		}
	case []any:
		if path[0] == "*" {
			var out []any
			for _, e := range x {
				out = append(out, lookup(e, path[1:])...)
			}
			return out
		}
		if i, err := strconv.Atoi(path[0]); err == nil {
			if i < 0 {
				i += len(x)
			}
			if i >= 0 && i < len(x) {
				return lookup(x[i], path[1:])
			}
		}
	}
	return nil
}

func isNumeric(op string) bool { return op == "gt" || op == "gte" || op == "lt" || op == "lte" }

// compare applies a positive operator; numeric operators read a missing or non-numeric
// left side as 0, as Rollbar does.
func compare(op string, left, right any) bool {
	switch op {
	case "eq":
		return text(left) == text(right)
	case "in":
		list, _ := right.([]any)
		for _, r := range list {
			if text(left) == text(r) {
				return true
			}
		}
		return false
	case "contains":
		s, ok := left.(string)
		return ok && strings.Contains(s, text(right))
	}
	l, r := number(left), number(right)
	switch op {
	case "gt":
		return l > r
	case "gte":
		return l >= r
	case "lt":
		return l < r
	case "lte":
		return l <= r
	}
	return false
}

// text is a value as its JSON text, strings unquoted, for comparing values of any kind.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "null"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func number(v any) float64 {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case float64:
		return x
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f
	}
	return 0
}

var templateField = regexp.MustCompile(`\{\{\s*([^{}\s]+)\s*\}\}`)

// expand fills a rule's template.
func (r Rule) expand(tmpl string, data map[string]any, def Grouping) string {
	return templateField.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := templateField.FindStringSubmatch(m)[1]
		switch name {
		case "default_fingerprint":
			return def.Fingerprint
		case "default_title":
			return def.Title
		}
		if v := lookup(data, strings.Split(name, ".")); len(v) > 0 {
			return text(v[0])
		}
		return ""
	})
}
