package store

import (
	"time"

	"lookout/internal/telemetry"
	"lookout/internal/triage"
)

// Item is every occurrence of one error (or message) in a project's environment, as
// Rollbar keeps it.
type Item struct {
	ID          int64 // unique in the store
	Project     string
	Counter     int64 // unique in the project, in order of first occurrence
	Environment string
	Fingerprint string
	Grouping    string // why its occurrences have its fingerprint (the first one's explanation)
	Title       string
	Level       string
	Class       string
	Framework   string
	Platform    string
	Language    string
	triage.State
	AssignedTo               string
	TitleLocked, LevelLocked bool  // set by a person; occurrences no longer change them
	Total                    int64 // occurrences
	People                   int64 // distinct person ids among them
	FirstSeen, LastSeen      time.Time
	FirstOccurrence          int64 // occurrence ids
	LastOccurrence           int64
	LastActivated            time.Time // zero when never reactivated or reopened
	LastResolved             time.Time // zero when never resolved
}

// ItemSort orders items.
type ItemSort string

const (
	SortLastSeen  ItemSort = "last_seen" // newest first; the default
	SortCount     ItemSort = "count"     // most occurrences first
	SortFirstSeen ItemSort = "first_seen"
)

// ItemQuery selects items. Empty fields match everything.
type ItemQuery struct {
	Project      string
	Statuses     []triage.Status
	Levels       []string
	Environments []string
	Text         string // in the title, case-insensitive
	IDs          []int64
	TraceID      telemetry.TraceID // items with an occurrence in this trace
	Sort         ItemSort
	Offset       int
	Limit        int // 0 means DefaultLimit
}

// StoredOccurrence is an occurrence with the ids the store gave it.
type StoredOccurrence struct {
	ID     int64 // unique in the store, in order of arrival
	ItemID int64
	telemetry.Occurrence
}

// OccurrenceQuery selects occurrences. Empty fields match everything.
type OccurrenceQuery struct {
	Project string
	ItemID  int64
	UUID    string
	TraceID telemetry.TraceID
	Offset  int
	Limit   int // 0 means DefaultLimit
}

// CountQuery asks for occurrence counts per item over time.
type CountQuery struct {
	Project string
	Items   []int64 // nil means every item of Project
	Start   time.Time
	Step    time.Duration
	Buckets int
}

// BreakdownField is an occurrence field an item's occurrences can be counted by.
type BreakdownField string

const (
	ByCodeVersion BreakdownField = "code_version"
	ByHost        BreakdownField = "host"
	ByBrowser     BreakdownField = "browser"
	ByOS          BreakdownField = "os"
	ByEnvironment BreakdownField = "environment"
	ByContext     BreakdownField = "context"
	ByPerson      BreakdownField = "person"
	ByUserIP      BreakdownField = "user_ip"
)

// BreakdownFields lists every BreakdownField.
var BreakdownFields = []BreakdownField{ByCodeVersion, ByHost, ByBrowser, ByOS, ByEnvironment, ByContext, ByPerson, ByUserIP}

// ValueCount is how many occurrences have a value.
type ValueCount struct {
	Value string
	Count int64
}

// ItemEvent is one change in an item's history.
type ItemEvent struct {
	ItemID  int64
	Time    time.Time
	Kind    triage.EventKind
	Version string // the occurrence's code version (new, reactivated); the version resolved in
	By      string // who: a person, "api", "deploy 12"; empty for occurrences
	Detail  string // the new title, level or assignee
}

// ItemUpdate is a change to an item; nil fields stay as they are.
type ItemUpdate struct {
	Status            *triage.Status
	ResolvedInVersion string
	Title             *string
	Level             *string
	AssignedTo        *string
	By                string
	Time              time.Time
}

// Deploy is a release of a project's code to an environment.
type Deploy struct {
	ID            int64
	Project       string
	Environment   string
	Revision      string
	LocalUsername string
	RollbarUser   string
	Comment       string
	Status        string // started, succeeded, failed or timed_out
	StartTime     time.Time
	FinishTime    time.Time // zero until it succeeded, failed or timed out
}

// Version is a code version of a project and what happened in it.
type Version struct {
	Version                    string
	FirstSeen, LastSeen        time.Time
	Occurrences                int64
	New, Reactivated, Resolved int64 // items
}
