package xray

import (
	"log/slog"
	"sync"
	"time"
)

// Problem is something that went wrong with what an X-Ray client sent, kept so that the UI
// can say why a trace is missing or incomplete.
type Problem struct {
	Time    time.Time `json:"time"`
	Kind    string    `json:"kind"` // refused, orphaned, replaced, dropped
	Via     string    `json:"via"`  // udp or api
	Code    string    `json:"code,omitempty"`
	TraceID string    `json:"traceId,omitempty"`
	ID      string    `json:"id,omitempty"`
	Message string    `json:"message"`
}

// Kinds of Problem.
const (
	ProblemRefused  = "refused"  // a document could not be read; Code says why
	ProblemOrphaned = "orphaned" // a subsegment whose segment has not come
	ProblemReplaced = "replaced" // a segment that replaced another with the same id
	ProblemDropped  = "dropped"  // documents lookout could not keep up with
)

// maxProblems is how many problems are kept, the newest.
const maxProblems = 200

// Problems keeps the latest problems and logs them, at most one line a second (with a count
// of those not logged), so that a flood of malformed datagrams cannot flood the log. It is
// safe for concurrent use.
type Problems struct {
	mu         sync.Mutex
	log        *slog.Logger
	ring       []Problem
	next       int
	lastLog    time.Time
	suppressed int
}

// NewProblems returns an empty record that logs to log.
func NewProblems(log *slog.Logger) *Problems {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Problems{log: log}
}

func (p *Problems) add(pr Problem) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.ring) < maxProblems {
		p.ring = append(p.ring, pr)
	} else {
		p.ring[p.next] = pr
	}
	p.next = (p.next + 1) % maxProblems
	if pr.Time.Sub(p.lastLog) < time.Second {
		p.suppressed++
		return
	}
	p.log.Warn("x-ray: "+pr.Kind, "via", pr.Via, "code", pr.Code, "trace", pr.TraceID, "id", pr.ID, "msg", pr.Message, "not_logged_before", p.suppressed)
	p.lastLog, p.suppressed = pr.Time, 0
}

// List returns the problems kept, newest first.
func (p *Problems) List() []Problem {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Problem, 0, len(p.ring))
	for i := 1; i <= len(p.ring); i++ {
		out = append(out, p.ring[(p.next-i+len(p.ring))%len(p.ring)])
	}
	return out
}
