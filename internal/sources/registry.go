// Package sources keeps what lookout knows of each sender (which SDK, through which protocol,
// with which credential, into which service, dataset, project or log group; since when, how
// much, and what was refused and why) and turns it into warnings a person can act on. It
// answers the question a new user asks first: "I sent data; why do I not see it?"
//
// Receivers report through the request's context (Observe), the ingest listeners' middleware
// fills in what the transport tells (user agent, credentials, status), and receivers without a
// request (UDP) call Record. Everything is kept in memory, bounded, and forgotten at restart.
package sources

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"sync"
	"time"
)

// Sender identifies one sender as lookout tells them apart.
type Sender struct {
	// Protocol is the wire protocol: "otlp", "honeycomb", "xray", "rollbar", "cloudwatch-logs".
	Protocol string `json:"protocol"`
	// SDK names the client and its version, from its notifier fields, telemetry.sdk.* or its
	// user agent: "opentelemetry go 1.47.0", "rollbar-go 1.4.5".
	SDK string `json:"sdk"`
	// Credential is the fingerprint of its API key, token or access key id (Fingerprint), never
	// the credential itself; "" when it sent none.
	Credential string `json:"credential"`
	// Destination is where its data lands: "service backend-flask", "dataset cruddur",
	// "project default / production", "log group cruddur".
	Destination string `json:"destination"`
}

// Fingerprint is how lookout shows a credential: the first 12 hex digits of its sha256,
// enough to tell credentials apart, useless to anyone who reads it.
func Fingerprint(secret string) string {
	if secret == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:6])
}

// Limits of what the registry keeps.
const (
	maxSenders  = 1000
	maxReasons  = 8
	rateWindow  = time.Minute
	rateBuckets = 6 // of rateWindow/rateBuckets each
	// Recent is how long a finding stays a warning after it was last seen.
	Recent = 10 * time.Minute
)

// Registry is the senders lookout has seen. It is safe for concurrent use.
type Registry struct {
	mu      sync.Mutex
	senders map[Sender]*stats
	notes   map[[2]string]finding // (kind, subject) → latest: findings about no one sender
	now     func() time.Time
}

// stats is what the registry counts of one sender.
type stats struct {
	firstSeen, lastSeen time.Time
	requests, items     int64
	refused             int64
	refusals            map[string]int64 // reason → items
	lastRefused         time.Time
	buckets             [rateBuckets]int64 // items per bucket, ring
	bucketStart         time.Time          // start of the newest bucket
	newest              int
	findings            map[string]finding // kind → latest
}

type finding struct {
	message string
	at      time.Time
	traceID string
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{senders: map[Sender]*stats{}, notes: map[[2]string]finding{}, now: time.Now}
}

// Note records a finding about stored data rather than one sender (spans of a service whose
// parent never arrived): kind names the problem, subject what it is about, traceID (may be "")
// an example. The latest message for a subject is kept.
func (r *Registry) Note(kind, subject, message, traceID string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.notes[[2]string{kind, subject}]; !ok && len(r.notes) >= maxSenders {
		return
	}
	r.notes[[2]string{kind, subject}] = finding{message: message, at: r.now(), traceID: traceID}
}

// Record counts one request (or datagram) of a sender: items that landed and items refused
// with a reason. A nil registry records nothing.
func (r *Registry) Record(s Sender, items, refused int, reason string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.stats(s)
	st.requests++
	st.items += int64(items)
	r.advance(st)
	st.buckets[st.newest] += int64(items)
	if refused > 0 {
		st.refused += int64(refused)
		st.lastRefused = st.lastSeen
		if _, ok := st.refusals[reason]; ok || len(st.refusals) < maxReasons {
			st.refusals[reason] += int64(refused)
		}
	}
}

// Warn records a finding about a sender: kind names the problem ("late-batches"), message says
// it in plain words. The latest message of a kind is kept.
func (r *Registry) Warn(s Sender, kind, message string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.stats(s)
	st.findings[kind] = finding{message: message, at: st.lastSeen}
}

// stats returns the sender's stats, creating them, and marks it seen (r.mu held).
func (r *Registry) stats(s Sender) *stats {
	now := r.now()
	st, ok := r.senders[s]
	if !ok {
		if len(r.senders) >= maxSenders {
			r.evictOldest()
		}
		st = &stats{firstSeen: now, bucketStart: now, refusals: map[string]int64{}, findings: map[string]finding{}}
		r.senders[s] = st
	}
	st.lastSeen = now
	return st
}

func (r *Registry) evictOldest() {
	var oldest Sender
	var at time.Time
	for s, st := range r.senders {
		if at.IsZero() || st.lastSeen.Before(at) {
			oldest, at = s, st.lastSeen
		}
	}
	delete(r.senders, oldest)
}

// advance moves the rate ring to now, clearing buckets that passed (r.mu held).
func (r *Registry) advance(st *stats) {
	width := rateWindow / rateBuckets
	for n := 0; r.now().Sub(st.bucketStart) >= width && n <= rateBuckets; n++ {
		st.newest = (st.newest + 1) % rateBuckets
		st.buckets[st.newest] = 0
		st.bucketStart = st.bucketStart.Add(width)
	}
	if r.now().Sub(st.bucketStart) >= width { // idle for longer than the window
		st.bucketStart = r.now()
	}
}

// SenderReport is what the sources page shows of one sender.
type SenderReport struct {
	Sender
	FirstSeen    time.Time        `json:"firstSeen"`
	LastSeen     time.Time        `json:"lastSeen"`
	Requests     int64            `json:"requests"`
	Items        int64            `json:"items"`
	PerMinute    int64            `json:"perMinute"` // items in the last minute
	Refused      int64            `json:"refused"`
	Refusals     map[string]int64 `json:"refusals,omitempty"`
	Warnings     []Warning        `json:"warnings,omitempty"`
	LastRefused  time.Time        `json:"lastRefused,omitzero"`
	ActiveRecent bool             `json:"active"` // seen within Recent
}

// Warning is one problem, in plain words, about one sender.
type Warning struct {
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
	At      time.Time `json:"at"`
	Sender  *Sender   `json:"sender,omitempty"`
	TraceID string    `json:"traceID,omitempty"` // an example trace, in hex
}

// Report is every sender, by protocol and destination, and every current warning, newest
// first.
type Report struct {
	Senders  []SenderReport `json:"senders"`
	Warnings []Warning      `json:"warnings"`
}

// Report returns what the registry knows now.
func (r *Registry) Report() Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	rep := Report{Senders: []SenderReport{}, Warnings: []Warning{}}
	for s, st := range r.senders {
		r.advance(st)
		var perMinute int64
		for _, n := range st.buckets {
			perMinute += n
		}
		sr := SenderReport{Sender: s, FirstSeen: st.firstSeen, LastSeen: st.lastSeen, Requests: st.requests,
			Items: st.items, PerMinute: perMinute, Refused: st.refused, Refusals: maps.Clone(st.refusals),
			LastRefused: st.lastRefused, ActiveRecent: now.Sub(st.lastSeen) < Recent}
		for kind, f := range st.findings {
			if now.Sub(f.at) < Recent {
				sr.Warnings = append(sr.Warnings, Warning{Kind: kind, Message: f.message, At: f.at})
			}
		}
		slices.SortFunc(sr.Warnings, func(a, b Warning) int { return b.At.Compare(a.At) })
		rep.Senders = append(rep.Senders, sr)
	}
	// A stable order, so that a live page does not reshuffle.
	slices.SortFunc(rep.Senders, func(a, b SenderReport) int {
		return cmp.Or(cmp.Compare(a.Protocol, b.Protocol), cmp.Compare(a.Destination, b.Destination),
			cmp.Compare(a.Credential, b.Credential), cmp.Compare(a.SDK, b.SDK))
	})
	for i := range rep.Senders {
		for _, w := range rep.Senders[i].Warnings {
			w.Sender = &rep.Senders[i].Sender
			rep.Warnings = append(rep.Warnings, w)
		}
	}
	rep.Warnings = append(rep.Warnings, crossSenderWarnings(rep.Senders, now)...)
	for k, f := range r.notes {
		if now.Sub(f.at) < Recent {
			rep.Warnings = append(rep.Warnings, Warning{Kind: k[0], Message: f.message, At: f.at, TraceID: f.traceID})
		} else {
			delete(r.notes, k)
		}
	}
	slices.SortStableFunc(rep.Warnings, func(a, b Warning) int { return b.At.Compare(a.At) })
	return rep
}
