// Package sampling is X-Ray's centralized sampling: rules that say which requests to trace,
// and the reservoir of each rule shared among every SDK instance that asks for targets.
// Rules are kept in the store (store.Settings), so they survive restarts.
package sampling

import (
	"fmt"
	"strings"
)

// Rule is a sampling rule, in the X-Ray API's shape.
type Rule struct {
	RuleName      string            `json:"RuleName"`
	RuleARN       string            `json:"RuleARN"`
	ResourceARN   string            `json:"ResourceARN"`
	Priority      int               `json:"Priority"`
	FixedRate     float64           `json:"FixedRate"`
	ReservoirSize int               `json:"ReservoirSize"`
	ServiceName   string            `json:"ServiceName"`
	ServiceType   string            `json:"ServiceType"`
	Host          string            `json:"Host"`
	HTTPMethod    string            `json:"HTTPMethod"`
	URLPath       string            `json:"URLPath"`
	Version       int               `json:"Version"`
	Attributes    map[string]string `json:"Attributes"`
}

// Record is a rule with its times, epoch seconds.
type Record struct {
	SamplingRule Rule    `json:"SamplingRule"`
	CreatedAt    float64 `json:"CreatedAt"`
	ModifiedAt   float64 `json:"ModifiedAt"`
}

// DefaultName is the rule that always exists and matches last.
const DefaultName = "Default"

// defaultRule is X-Ray's own default: one request a second, then 5%.
func defaultRule() Rule {
	return Rule{RuleName: DefaultName, ResourceARN: "*", Priority: 10000, FixedRate: 0.05, ReservoirSize: 1,
		ServiceName: "*", ServiceType: "*", Host: "*", HTTPMethod: "*", URLPath: "*", Version: 1, Attributes: map[string]string{}}
}

// ARN is a rule's ARN, in lookout's fixed region and account.
func ARN(name string) string { return "arn:aws:xray:us-east-1:000000000000:sampling-rule/" + name }

// normalize fills what the SDKs need of every rule: wildcards for empty patterns, version 1,
// an attributes object.
func (r *Rule) normalize() {
	for _, p := range []*string{&r.ResourceARN, &r.ServiceName, &r.ServiceType, &r.Host, &r.HTTPMethod, &r.URLPath} {
		if *p == "" {
			*p = "*"
		}
	}
	if r.Version == 0 {
		r.Version = 1
	}
	if r.Attributes == nil {
		r.Attributes = map[string]string{}
	}
	r.RuleARN = ARN(r.RuleName)
}

// validate checks a rule against X-Ray's limits, in its words.
func (r *Rule) validate() error {
	switch {
	case r.RuleName == "" || len(r.RuleName) > 32:
		return fmt.Errorf("a RuleName is 1 to 32 characters")
	case strings.Trim(r.RuleName, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "":
		return fmt.Errorf("a RuleName may hold letters, digits, '-' and '_' only")
	case r.RuleName != DefaultName && (r.Priority < 1 || r.Priority > 9999):
		return fmt.Errorf("the Priority must be between 1 and 9999")
	case r.FixedRate < 0 || r.FixedRate > 1:
		return fmt.Errorf("the FixedRate must be between 0 and 1")
	case r.ReservoirSize < 0:
		return fmt.Errorf("the ReservoirSize must not be negative")
	case r.Version != 1:
		return fmt.Errorf("the Version must be 1")
	case len(r.ServiceName) > 64 || len(r.ServiceType) > 64 || len(r.Host) > 64:
		return fmt.Errorf("a ServiceName, ServiceType or Host is at most 64 characters")
	case len(r.HTTPMethod) > 10 || len(r.URLPath) > 128 || len(r.ResourceARN) > 500:
		return fmt.Errorf("an HTTPMethod is at most 10 characters, a URLPath 128, a ResourceARN 500")
	case len(r.Attributes) > 5:
		return fmt.Errorf("a rule has at most 5 Attributes")
	}
	for k, v := range r.Attributes {
		if len(k) < 1 || len(k) > 32 || len(v) < 1 || len(v) > 32 {
			return fmt.Errorf("attribute keys and values are 1 to 32 characters")
		}
	}
	return nil
}

// Request is what a rule is matched against: the properties of a request an SDK decides on.
// Empty properties are not checked.
type Request struct {
	ServiceName, ServiceType, Host, HTTPMethod, URLPath, ResourceARN string
	Attributes                                                       map[string]string
}

// Matches reports whether the rule applies to req, with X-Ray's wildcards.
func (r *Rule) Matches(req Request) bool {
	for _, c := range [][2]string{{r.ServiceName, req.ServiceName}, {r.ServiceType, req.ServiceType}, {r.Host, req.Host},
		{r.HTTPMethod, req.HTTPMethod}, {r.URLPath, req.URLPath}, {r.ResourceARN, req.ResourceARN}} {
		if c[1] != "" && !Wildcard(c[0], c[1]) {
			return false
		}
	}
	for k, pattern := range r.Attributes {
		if v, ok := req.Attributes[k]; !ok || !Wildcard(pattern, v) {
			return false
		}
	}
	return true
}

// Wildcard matches text against an X-Ray pattern: '*' is any run of characters (none
// included), '?' exactly one, case aside.
func Wildcard(pattern, text string) bool {
	if pattern == "*" {
		return true
	}
	p, t := []rune(strings.ToLower(pattern)), []rune(strings.ToLower(text))
	// Greedy matching with backtracking to the last star: linear in practice.
	pi, ti, star, mark := 0, 0, -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
