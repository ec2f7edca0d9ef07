package sampling

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"lookout/internal/store"
)

// settingsKind is the kind rules are stored under.
const settingsKind = "xray-sampling-rule"

// Interval is how often, in seconds, SDKs are told to report statistics and ask for targets.
const Interval = 10

// quotaTTL is how long a client's share of a reservoir holds: two reports, so that a client
// that stops asking soon gives its share back.
const quotaTTL = 2 * Interval * time.Second

// activeFor is how long a client counts among a rule's clients after its last report.
const activeFor = 2 * Interval * time.Second

// Errors the API maps to X-Ray's exceptions.
var (
	ErrNotFound = errors.New("rule not found")
	ErrExists   = errors.New("a rule with this name already exists")
	ErrInvalid  = errors.New("invalid rule")
)

// Sampler keeps the rules, shares each rule's reservoir among the clients that ask for
// targets, and keeps their statistics. It is safe for concurrent use.
type Sampler struct {
	settings store.SettingsStore
	now      func() time.Time

	mu      sync.Mutex
	rules   map[string]*Record
	clients map[string]map[string]clientState // rule -> client id -> state
	stats   []Statistic                       // the last hour of reports
}

type clientState struct {
	lastSeen time.Time
	requests int64
	quota    int // the share of the reservoir it was given, held until lastSeen+quotaTTL
}

// Statistic is what a client reported for a rule over its last interval.
type Statistic struct {
	RuleName     string  `json:"RuleName"`
	ClientID     string  `json:"ClientID"`
	Timestamp    float64 `json:"Timestamp"`
	RequestCount int64   `json:"RequestCount"`
	SampledCount int64   `json:"SampledCount"`
	BorrowCount  int64   `json:"BorrowCount"`
}

// Target is a client's share of a rule, as GetSamplingTargets answers it.
type Target struct {
	RuleName          string   `json:"RuleName"`
	FixedRate         float64  `json:"FixedRate"`
	ReservoirQuota    *int     `json:"ReservoirQuota,omitempty"`
	ReservoirQuotaTTL *float64 `json:"ReservoirQuotaTTL,omitempty"`
	Interval          int      `json:"Interval"`
}

// Unprocessed is a statistic the sampler could not take.
type Unprocessed struct {
	RuleName  string `json:"RuleName"`
	ErrorCode string `json:"ErrorCode"`
	Message   string `json:"Message"`
}

// New loads the rules kept in settings; the Default rule is made if there is none.
func New(ctx context.Context, settings store.SettingsStore) (*Sampler, error) {
	s := &Sampler{settings: settings, now: time.Now, rules: map[string]*Record{}, clients: map[string]map[string]clientState{}}
	docs, err := settings.Settings(ctx, settingsKind)
	if err != nil {
		return nil, err
	}
	for name, doc := range docs {
		var rec Record
		if err := json.Unmarshal(doc, &rec); err != nil {
			return nil, fmt.Errorf("sampling rule %q: %w", name, err)
		}
		rec.SamplingRule.normalize()
		s.rules[name] = &rec
	}
	if s.rules[DefaultName] == nil {
		s.rules[DefaultName] = &Record{SamplingRule: defaultRule()}
		s.rules[DefaultName].SamplingRule.normalize()
	}
	return s, nil
}

// epoch is a time as X-Ray's epoch seconds.
func epoch(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// Rules returns every rule, by priority then name (Default last).
func (s *Sampler) Rules() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sorted()
}

func (s *Sampler) sorted() []Record {
	out := make([]Record, 0, len(s.rules))
	for _, r := range s.rules {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].SamplingRule, out[j].SamplingRule
		if (a.RuleName == DefaultName) != (b.RuleName == DefaultName) {
			return b.RuleName == DefaultName
		}
		if a.Priority != b.Priority {
			return a.Priority < b.Priority
		}
		return a.RuleName < b.RuleName
	})
	return out
}

// Match returns the rule that applies to req: the first by priority, Default last.
func (s *Sampler) Match(req Request) Rule {
	for _, r := range s.Rules() {
		if r.SamplingRule.Matches(req) {
			return r.SamplingRule
		}
	}
	return defaultRule()
}

// Create adds a rule; a rule of that name must not exist. With replace, it replaces one that
// does (rules loaded from files at start).
func (s *Sampler) Create(ctx context.Context, r Rule, replace bool) (Record, error) {
	r.normalize()
	if err := r.validate(); err != nil {
		return Record{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := epoch(s.now())
	rec := Record{SamplingRule: r, CreatedAt: now, ModifiedAt: now}
	if old, ok := s.rules[r.RuleName]; ok {
		if !replace {
			return Record{}, ErrExists
		}
		rec.CreatedAt = old.CreatedAt
	}
	return rec, s.put(ctx, rec)
}

// Update changes the fields of a rule that u sets; it names the rule by RuleName or RuleARN.
func (s *Sampler) Update(ctx context.Context, name string, update func(*Rule)) (Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.rules[name]
	if !ok {
		return Record{}, ErrNotFound
	}
	rec := *old
	rec.SamplingRule.Attributes = maps.Clone(old.SamplingRule.Attributes)
	update(&rec.SamplingRule)
	if name == DefaultName { // only its rates are the user's to change
		def := defaultRule()
		def.FixedRate, def.ReservoirSize = rec.SamplingRule.FixedRate, rec.SamplingRule.ReservoirSize
		rec.SamplingRule = def
	}
	rec.SamplingRule.RuleName = name
	rec.SamplingRule.normalize()
	if err := rec.SamplingRule.validate(); err != nil {
		return Record{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	rec.ModifiedAt = epoch(s.now())
	return rec, s.put(ctx, rec)
}

// Delete removes a rule; Default cannot be.
func (s *Sampler) Delete(ctx context.Context, name string) (Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.rules[name]
	if !ok {
		return Record{}, ErrNotFound
	}
	if name == DefaultName {
		return Record{}, fmt.Errorf("%w: the Default rule cannot be deleted", ErrInvalid)
	}
	if err := s.settings.DeleteSetting(ctx, settingsKind, name); err != nil {
		return Record{}, err
	}
	delete(s.rules, name)
	delete(s.clients, name)
	return *old, nil
}

// NameOf returns the name of the rule an ARN or name designates.
func NameOf(nameOrARN string) string {
	const marker = ":sampling-rule/"
	if i := strings.LastIndex(nameOrARN, marker); i >= 0 {
		return nameOrARN[i+len(marker):]
	}
	return nameOrARN
}

// put stores a rule and keeps it (s.mu held).
func (s *Sampler) put(ctx context.Context, rec Record) error {
	doc, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := s.settings.PutSetting(ctx, settingsKind, rec.SamplingRule.RuleName, doc); err != nil {
		return err
	}
	s.rules[rec.SamplingRule.RuleName] = &rec
	return nil
}

// LastModification is the latest ModifiedAt of the rules: SDKs refresh their rules when it
// passes the time they last did.
func (s *Sampler) LastModification() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	last := 0.0
	for _, r := range s.rules {
		last = math.Max(last, r.ModifiedAt)
	}
	return last
}

// Targets takes the statistics of one client's report and returns its share of each rule it
// reported on. A rule's reservoir (ReservoirSize a second) is divided evenly among the
// clients that reported traffic for it recently, so that all of them together sample at most
// that many requests a second, however many there are; the remainder goes to the first
// clients by id. A client gets no more than the others' shares leave: when clients come, a
// newcomer may get less than its fair share until the others report again and hand back
// what they held (a round, Interval seconds).
func (s *Sampler) Targets(stats []Statistic) ([]Target, []Unprocessed) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var targets []Target
	var unprocessed []Unprocessed
	for _, st := range stats {
		rule, ok := s.rules[st.RuleName]
		if !ok {
			unprocessed = append(unprocessed, Unprocessed{RuleName: st.RuleName, ErrorCode: "400", Message: "Rule not found"})
			continue
		}
		clients := s.clients[st.RuleName]
		if clients == nil {
			clients = map[string]clientState{}
			s.clients[st.RuleName] = clients
		}
		clients[st.ClientID] = clientState{lastSeen: now, requests: st.RequestCount}
		s.record(st, now)
		size := rule.SamplingRule.ReservoirSize
		// Shares still held by the other clients come off the reservoir first: clients report
		// at different times, and a newcomer's fair share may still be another's.
		quota := min(share(clients, st.ClientID, size, now), max(0, size-heldByOthers(clients, st.ClientID, now)))
		clients[st.ClientID] = clientState{lastSeen: now, requests: st.RequestCount, quota: quota}
		ttl := epoch(now.Add(quotaTTL))
		targets = append(targets, Target{RuleName: st.RuleName, FixedRate: rule.SamplingRule.FixedRate,
			ReservoirQuota: &quota, ReservoirQuotaTTL: &ttl, Interval: Interval})
	}
	return targets, unprocessed
}

// heldByOthers is the part of a reservoir that clients other than id were given and still hold.
func heldByOthers(clients map[string]clientState, id string, now time.Time) int {
	held := 0
	for cid, c := range clients {
		if cid != id && now.Sub(c.lastSeen) < quotaTTL {
			held += c.quota
		}
	}
	return held
}

// share is a client's part of a reservoir of size: an even split among the active clients
// with traffic, the remainder to the first by id. Clients that reported no requests get none.
func share(clients map[string]clientState, id string, size int, now time.Time) int {
	var active []string
	for cid, c := range clients {
		if now.Sub(c.lastSeen) > activeFor {
			delete(clients, cid)
			continue
		}
		if c.requests > 0 {
			active = append(active, cid)
		}
	}
	if clients[id].requests == 0 || len(active) == 0 {
		return 0
	}
	slices.Sort(active)
	quota := size / len(active)
	if slices.Index(active, id) < size%len(active) {
		quota++
	}
	return quota
}

// record keeps a report for the statistics, an hour of them (s.mu held).
func (s *Sampler) record(st Statistic, now time.Time) {
	st.Timestamp = epoch(now)
	s.stats = append(s.stats[s.hourStart(now):], st)
}

// Statistics returns the reports of the last hour, oldest first. Older ones are kept until
// the next report, so they are left out here.
func (s *Sampler) Statistics() []Statistic {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.stats[s.hourStart(s.now()):])
}

// hourStart is the index of the first report of the hour before now (s.mu held).
func (s *Sampler) hourStart(now time.Time) int {
	i, _ := slices.BinarySearchFunc(s.stats, epoch(now.Add(-time.Hour)), func(st Statistic, t float64) int { return cmp.Compare(st.Timestamp, t) })
	return i
}
