package cruddur

import (
	"fmt"
	"sync/atomic"
)

// Trouble is one of the mistakes Cruddur's authors lost hours to, switched on so that it can be
// found in lookout.
type Trouble string

// The troubles, one on at a time.
const (
	// NoTrouble is Cruddur working as intended.
	NoTrouble Trouble = ""
	// TestKey sends half the spans with an API key of another environment.
	TestKey Trouble = "test-key"
	// UnendedSegment begins an X-Ray segment in a view and never ends it.
	UnendedSegment Trouble = "unended-segment"
	// MissingReturn makes the home view return nothing: a 500 and a Rollbar item.
	MissingReturn Trouble = "missing-return"
	// LateLogs ships logs as watchtower does by default: every 60 seconds.
	LateLogs Trouble = "late-logs"
	// NoRules points the X-Ray SDK's sampling at an address where no daemon answers.
	NoRules Trouble = "no-rules"
)

// Troubles lists every trouble with what it does, in the order a UI offers them.
var Troubles = []struct {
	Name        Trouble
	Description string
}{
	{TestKey, "half the spans are sent with an API key from another environment"},
	{UnendedSegment, "a view begins an X-Ray segment and never ends it"},
	{MissingReturn, "the home view returns nothing: Flask's 500, reported to Rollbar"},
	{LateLogs, "logs are batched for 60 seconds before they are sent, watchtower's default"},
	{NoRules, "the X-Ray SDK cannot reach the sampling rules and falls back to its default"},
}

// ParseTrouble returns the trouble of a name, or an error naming the known ones.
func ParseTrouble(name string) (Trouble, error) {
	if name == "" || name == "none" {
		return NoTrouble, nil
	}
	for _, t := range Troubles {
		if string(t.Name) == name {
			return t.Name, nil
		}
	}
	return NoTrouble, fmt.Errorf("unknown trouble %q: want none, test-key, unended-segment, missing-return, late-logs or no-rules", name)
}

// troubleSwitch holds the trouble that is on; safe for concurrent use.
type troubleSwitch struct{ on atomic.Value }

func (s *troubleSwitch) get() Trouble {
	t, _ := s.on.Load().(Trouble)
	return t
}
