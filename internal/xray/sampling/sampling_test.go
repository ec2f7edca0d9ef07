package sampling

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"
)

// memSettings keeps settings in a map: the store's own is tested by the conformance suite.
type memSettings map[string]map[string][]byte

func (m memSettings) Settings(_ context.Context, kind string) (map[string][]byte, error) {
	return maps.Clone(m[kind]), nil
}

func (m memSettings) PutSetting(_ context.Context, kind, name string, value []byte) error {
	if m[kind] == nil {
		m[kind] = map[string][]byte{}
	}
	m[kind][name] = value
	return nil
}

func (m memSettings) DeleteSetting(_ context.Context, kind, name string) error {
	delete(m[kind], name)
	return nil
}

func TestWildcard(t *testing.T) {
	for _, c := range []struct {
		pattern, text string
		want          bool
	}{
		{"*", "", true}, {"*", "anything", true},
		{"/api/*", "/api/users/7", true}, {"/api/*", "/apx", false}, {"/api/*", "/api/", true},
		{"GET", "get", true}, {"GET", "POST", false},
		{"shop-?", "shop-1", true}, {"shop-?", "shop-12", false},
		{"a*b*c", "aXXbYYc", true}, {"a*b*c", "aXXcb", false}, {"*.example.com", "api.example.com", true},
		{"", "", true}, {"", "x", false},
	} {
		if got := Wildcard(c.pattern, c.text); got != c.want {
			t.Errorf("Wildcard(%q, %q) = %v, want %v", c.pattern, c.text, got, c.want)
		}
	}
}

// TestRulesFromFilesAndRestart loads the rule files people write for the CLI, matches
// requests by priority, and finds the rules again in a new sampler over the same settings.
func TestRulesFromFilesAndRestart(t *testing.T) {
	ctx := context.Background()
	settings := memSettings{}
	s, err := New(ctx, settings)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.LoadFiles(ctx, "testdata/rules"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		req  Request
		want string
	}{
		{Request{ServiceName: "shop-web", HTTPMethod: "POST", URLPath: "/checkout/confirm", Attributes: map[string]string{"tier": "gold"}}, "checkout"},
		{Request{ServiceName: "shop-web", HTTPMethod: "POST", URLPath: "/checkout/confirm", Attributes: map[string]string{"tier": "free"}}, DefaultName},
		{Request{ServiceName: "backend-flask", HTTPMethod: "GET", URLPath: "/api/activities/home"}, "Cruddur"},
		{Request{ServiceName: "frontend-react", HTTPMethod: "GET", URLPath: "/"}, DefaultName},
	} {
		if got := s.Match(c.req).RuleName; got != c.want {
			t.Errorf("%+v matched %s, want %s", c.req, got, c.want)
		}
	}
	again, err := New(ctx, settings)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range again.Rules() {
		names = append(names, r.SamplingRule.RuleName)
	}
	if len(names) != 3 || names[0] != "checkout" || names[1] != "Cruddur" || names[2] != DefaultName {
		t.Errorf("rules after a restart = %v, want checkout, Cruddur, Default", names)
	}
	if _, err := again.Delete(ctx, DefaultName); !errors.Is(err, ErrInvalid) {
		t.Errorf("deleting Default: %v", err)
	}
	if _, err := again.Create(ctx, Rule{RuleName: "Cruddur", Priority: 1}, false); !errors.Is(err, ErrExists) {
		t.Errorf("creating Cruddur twice: %v", err)
	}
	if _, err := again.Create(ctx, Rule{RuleName: "bad rate", Priority: 1, FixedRate: 2}, false); !errors.Is(err, ErrInvalid) {
		t.Errorf("an invalid rule: %v", err)
	}
}

// clockedSampler is a sampler whose clock reads *now, which starts at a fixed time.
func clockedSampler(t *testing.T) (*Sampler, *time.Time) {
	t.Helper()
	s, err := New(context.Background(), memSettings{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	s.now = func() time.Time { return now }
	return s, &now
}

// TestReservoirShared checks that a rule's reservoir is one for all its clients: split among
// those that had requests, never held by them together beyond its size, and given back when
// a client stops reporting.
func TestReservoirShared(t *testing.T) {
	ctx := context.Background()
	s, now := clockedSampler(t)
	if _, err := s.Create(ctx, Rule{RuleName: "r", Priority: 1, FixedRate: 0.1, ReservoirSize: 10}, false); err != nil {
		t.Fatal(err)
	}
	quota := func(client string, requests int64) int {
		t.Helper()
		targets, unprocessed := s.Targets([]Statistic{{RuleName: "r", ClientID: client, RequestCount: requests}})
		if len(targets) != 1 || len(unprocessed) != 0 || targets[0].FixedRate != 0.1 {
			t.Fatalf("targets %+v, unprocessed %+v", targets, unprocessed)
		}
		return *targets[0].ReservoirQuota
	}
	if q := quota("a", 5); q != 10 {
		t.Errorf("a lone client's quota = %d, want the whole reservoir", q)
	}
	// b and c come while a holds the whole reservoir: they wait until a has reported again.
	if qb, qc := quota("b", 5), quota("c", 5); qb != 0 || qc != 0 {
		t.Errorf("newcomers' quotas while a holds the reservoir = %d, %d; want 0, 0", qb, qc)
	}
	*now = now.Add(Interval * time.Second)
	qa, qb, qc := quota("a", 5), quota("b", 5), quota("c", 5)
	if qa+qb+qc != 10 || qa != 4 || qb != 3 || qc != 3 {
		t.Errorf("quotas of three clients = %d, %d, %d; want 4, 3, 3 (10 in all)", qa, qb, qc)
	}
	if q := quota("idle", 0); q != 0 {
		t.Errorf("a client without requests got %d", q)
	}
	*now = now.Add(activeFor + time.Second) // b and c stop reporting
	if q := quota("a", 5); q != 10 {
		t.Errorf("once the others stopped, a's quota = %d, want 10", q)
	}
	if _, unprocessed := s.Targets([]Statistic{{RuleName: "gone", ClientID: "a"}}); len(unprocessed) != 1 {
		t.Errorf("a statistic for an unknown rule: %+v", unprocessed)
	}
}

// TestStatisticsOfTheLastHour reports twice, an hour apart less a minute: both are the last
// hour's until the first is over an hour old, though no report came since to clear it.
func TestStatisticsOfTheLastHour(t *testing.T) {
	s, now := clockedSampler(t)
	report := func(requests int64) {
		s.Targets([]Statistic{{RuleName: "Default", ClientID: "a", RequestCount: requests}})
	}
	requests := func() (n int64) {
		for _, st := range s.Statistics() {
			n += st.RequestCount
		}
		return n
	}
	report(100)
	*now = now.Add(59 * time.Minute)
	report(7)
	if got := requests(); got != 107 {
		t.Errorf("%d requests in the last hour, want both reports' 107", got)
	}
	*now = now.Add(2 * time.Minute)
	if got := requests(); got != 7 {
		t.Errorf("%d requests in the last hour, want the newer report's 7", got)
	}
}
