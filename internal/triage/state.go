package triage

import (
	"errors"
	"fmt"
)

// Status is where an item stands.
type Status string

const (
	Active   Status = "active"   // shown, notified
	Resolved Status = "resolved" // fixed; an occurrence from a newer version (or none) reactivates it
	Muted    Status = "muted"    // hidden; stays muted whatever arrives
)

// ParseStatus reads a status name.
func ParseStatus(s string) (Status, error) {
	switch st := Status(s); st {
	case Active, Resolved, Muted:
		return st, nil
	}
	return "", fmt.Errorf("unknown status %q: use active, resolved or muted", s)
}

// EventKind names a change in an item's history.
type EventKind string

const (
	New         EventKind = "new"         // its first occurrence arrived
	Reactivated EventKind = "reactivated" // an occurrence arrived while it was resolved
	Reopened    EventKind = "reopened"    // someone set a resolved item active again
	ResolvedBy  EventKind = "resolved"    // someone, or a deploy, resolved it
	MutedBy     EventKind = "muted"
	Unmuted     EventKind = "unmuted" // someone set a muted item active again
	Assigned    EventKind = "assigned"
	Retitled    EventKind = "title"
	Releveled   EventKind = "level"
)

// State is the part of an item the state machine moves.
type State struct {
	Status            Status
	ResolvedInVersion string // with Resolved: occurrences of older versions do not reactivate
}

// AtLeast reports whether code version v is the same as or newer than version than. The
// store answers it from what it knows of the project's versions (CompareVersions, then the
// order they were first seen in).
type AtLeast func(v, than string) bool

// Arrive returns an item's state after an occurrence of code version v arrives, and
// whether that reactivated it. Rollbar's rule: a resolved item reactivates on an occurrence
// with no version, or, when it was resolved in a version, one at least that version; when
// it was resolved in no version, on any occurrence. A muted item stays muted.
func Arrive(s State, v string, atLeast AtLeast) (State, bool) {
	if s.Status != Resolved {
		return s, false
	}
	if v != "" && s.ResolvedInVersion != "" && !atLeast(v, s.ResolvedInVersion) {
		return s, false
	}
	return State{Status: Active}, true
}

// maxVersion is the longest version Rollbar accepts for resolved_in_version.
const maxVersion = 40

// Set returns the state after someone (or a deploy) sets the status, and the event that
// records it ("" when nothing changes). inVersion is only for Resolved.
func Set(s State, to Status, inVersion string) (State, EventKind, error) {
	if inVersion != "" && to != Resolved {
		return s, "", errors.New("resolved_in_version is only for resolving")
	}
	if len(inVersion) > maxVersion {
		return s, "", fmt.Errorf("resolved_in_version is longer than %d characters", maxVersion)
	}
	next := State{Status: to, ResolvedInVersion: inVersion}
	if next == s {
		return s, "", nil
	}
	switch to {
	case Resolved:
		return next, ResolvedBy, nil
	case Muted:
		return next, MutedBy, nil
	case Active:
		if s.Status == Muted {
			return next, Unmuted, nil
		}
		return next, Reopened, nil
	}
	return s, "", fmt.Errorf("unknown status %q", to)
}
