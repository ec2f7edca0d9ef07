package triage

import (
	"encoding/json"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

func TestParameterise(t *testing.T) {
	cases := map[string]string{
		"db timeout after 30s for user 12345":                 "db timeout after 30s for user <int>",
		"order 42 not found in shard 7f3a9c":                  "order <int> not found in shard <hex>",
		"mail to ann@example.com failed":                      "mail to <email> failed",
		"GET https://api.example.com/v1/x?id=9 returned 503":  "GET <url> returned 503",
		"request d4c7acef-55bf-4c9e-a95e-4fe9428a8287 failed": "request <uuid> failed",
		"at 2026-11-26T11:59:00Z from 10.0.0.12":              "at <date> from <ip>",
		"took 1.25 ms at 12:01:02":                            "took <float> ms at <time>",
		"disk usage 91% on /var":                              "disk usage <int>% on /var",
		"error 7 in dead code at 0xdeadbeef":                  "error 7 in dead code at <hex>",
		"HTTP 502 from upstream, code=1234":                   "HTTP 502 from upstream, code=1234",
		"cache miss rate high":                                "cache miss rate high",
	}
	for in, want := range cases {
		if got := Parameterise(in); got != want {
			t.Errorf("Parameterise(%q) = %q, want %q", in, got, want)
		}
	}
}

func chain(classes ...string) []Exception {
	var out []Exception
	for _, c := range classes {
		out = append(out, Exception{Class: c, Message: "boom", Frames: []Frame{
			{"/usr/local/lib/python3.11/site-packages/flask/app.py", "dispatch_request"},
			{"/srv/app/views.py", "order"},
		}})
	}
	return out
}

func TestDefaultGrouping(t *testing.T) {
	base := Default(Report{Chain: chain("ValueError"), Root: "/srv/app"})
	if len(base.Fingerprint) != 40 || base.Title != "ValueError: boom" {
		t.Fatalf("grouping %+v", base)
	}
	if !strings.Contains(base.Explanation, "<root>/views.py order") || strings.Contains(base.Explanation, "flask") {
		t.Errorf("explanation %q should list the project's frame only", base.Explanation)
	}
	otherMessage := chain("ValueError")
	otherMessage[0].Message = "another"
	if Default(Report{Chain: otherMessage, Root: "/srv/app"}).Fingerprint != base.Fingerprint {
		t.Error("the message changed the fingerprint")
	}
	if Default(Report{Chain: chain("KeyError"), Root: "/srv/app"}).Fingerprint == base.Fingerprint {
		t.Error("another class has the same fingerprint")
	}
	if Default(Report{Chain: chain("ValueError", "KeyError"), Root: "/srv/app"}).Fingerprint == base.Fingerprint {
		t.Error("a cause did not change the fingerprint")
	}
	library := chain("ValueError")
	library[0].Frames[0].Method = "full_dispatch_request"
	if Default(Report{Chain: library, Root: "/srv/app"}).Fingerprint != base.Fingerprint {
		t.Error("a library frame changed the fingerprint")
	}
	hashed := []Exception{{Class: "Error", Frames: []Frame{{"/srv/app/static/main.3f9a2b1c.js", "render42"}}}}
	rehashed := []Exception{{Class: "Error", Frames: []Frame{{"/srv/app/static/main.9e8d7c6b.js", "render57"}}}}
	if Default(Report{Chain: hashed}).Fingerprint != Default(Report{Chain: rehashed}).Fingerprint {
		t.Error("a build hash or a numbered function changed the fingerprint")
	}
	m1 := Default(Report{Message: "user 123 signed up"})
	m2 := Default(Report{Message: "user 456 signed up"})
	if m1.Fingerprint != m2.Fingerprint || m1.Title != "user 123 signed up" {
		t.Errorf("messages %+v %+v", m1, m2)
	}
}

func TestClientFingerprintAndRules(t *testing.T) {
	data := map[string]any{"context": "/pay/:id", "body": map[string]any{"trace": map[string]any{
		"exception": map[string]any{"class": "TimeoutError"},
		"frames":    []any{map[string]any{"filename": "/srv/app/payments/charge.py", "lineno": json.Number("12")}},
	}}}
	r := Report{Chain: chain("TimeoutError"), Data: data, Fingerprint: "my-own"}
	if g := Group(r, nil); g.Fingerprint != "my-own" || !strings.Contains(g.Explanation, "my-own") {
		t.Errorf("client fingerprint: %+v", g)
	}
	r.Fingerprint = strings.Repeat("x", 41)
	if g := Group(r, nil); g.Fingerprint != digest(r.Fingerprint) {
		t.Errorf("a long client fingerprint is not hashed: %q", g.Fingerprint)
	}
	rules, err := ParseRules([]byte(`[
	 {"condition": {"path": "body.trace.exception.class", "eq": "Nope"}, "fingerprint": "never"},
	 {"condition": {"all": [{"path": "body.trace.exception.class", "eq": "TimeoutError"},
	                        {"path": "body.trace.frames.*.filename", "contains": "payments"},
	                        {"path": "body.trace.frames.-1.lineno", "gte": 10},
	                        {"none": [{"path": "context", "in": ["/health"]}]}]},
	  "fingerprint": "{{ default_fingerprint }}-{{ context }}", "title": "Timeout in {{context}}"}]`))
	if err != nil {
		t.Fatal(err)
	}
	g := Group(r, rules)
	def := Default(r)
	if g.Fingerprint != digest(def.Fingerprint+"-/pay/:id") || g.Title != "Timeout in /pay/:id" || !strings.Contains(g.Explanation, "rule 2") {
		t.Errorf("rule grouping %+v", g)
	}
	data["context"] = "/health"
	if g := Group(r, rules); strings.Contains(g.Explanation, "rule") {
		t.Errorf("a rule matched though its none condition did: %+v", g)
	}
	for _, bad := range []string{`[{"condition": {"path": "a"}, "fingerprint": "x"}]`, `[{"condition": {"path": "a", "eq": 1}}]`,
		`[{"condition": {"path": "a", "like": 1}, "fingerprint": "x"}]`, `[{"condition": {"path": "a", "in": 1}, "title": "x"}]`, `{}`} {
		if _, err := ParseRules([]byte(bad)); err == nil {
			t.Errorf("ParseRules(%s) accepted it", bad)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	cases := []struct {
		a, b string
		want int
		ok   bool
	}{
		{"10", "9", 1, true}, {"1.4.2", "1.10.0", -1, true}, {"v2.0.0", "2.0.0", 0, true},
		{"2.0.0-rc.1", "2.0.0", -1, true}, {"2.0.0-rc.2", "2.0.0-rc.10", -1, true}, {"2.0.0-alpha", "2.0.0-1", 1, true},
		{"abc123", "def456", 0, false}, {"1.2", "1.2.0", 0, true}, {"5", "1.2.3", 0, false},
	}
	for _, c := range cases {
		got, ok := CompareVersions(c.a, c.b)
		if got != c.want || ok != c.ok {
			t.Errorf("CompareVersions(%q, %q) = %d, %v; want %d, %v", c.a, c.b, got, ok, c.want, c.ok)
		}
	}
}

func TestStateMachine(t *testing.T) {
	semver := func(v, than string) bool { c, _ := CompareVersions(v, than); return c >= 0 }
	s, ev, err := Set(State{Status: Active}, Resolved, "1.4.0")
	if err != nil || ev != ResolvedBy || s != (State{Resolved, "1.4.0"}) {
		t.Fatalf("resolve: %+v %q %v", s, ev, err)
	}
	if next, re := Arrive(s, "1.3.9", semver); re || next != s {
		t.Error("an older version reactivated the item")
	}
	if next, re := Arrive(s, "1.4.0", semver); !re || next.Status != Active {
		t.Error("the version it was resolved in did not reactivate it")
	}
	if _, re := Arrive(s, "", semver); !re {
		t.Error("an occurrence with no version did not reactivate it")
	}
	plain := State{Status: Resolved}
	if _, re := Arrive(plain, "0.1", semver); !re {
		t.Error("an item resolved in no version stayed resolved")
	}
	if next, re := Arrive(State{Status: Muted}, "9.9", semver); re || next.Status != Muted {
		t.Error("a muted item changed")
	}
	if _, ev, _ := Set(s, Active, ""); ev != Reopened {
		t.Errorf("setting a resolved item active: %q, want reopened", ev)
	}
	if _, ev, _ := Set(State{Status: Muted}, Active, ""); ev != Unmuted {
		t.Errorf("setting a muted item active: %q, want unmuted", ev)
	}
	if _, ev, _ := Set(State{Status: Active}, Active, ""); ev != "" {
		t.Errorf("no change made event %q", ev)
	}
	if _, _, err := Set(State{Status: Active}, Muted, "1.0"); err == nil {
		t.Error("a version accepted for muting")
	}
}

func FuzzGroup(f *testing.F) {
	f.Add("ValueError", "/srv/app/x.py", "f", "order 42 at 10.0.0.1", "/srv/app", `[{"condition":{"path":"body.x.*.y","eq":1},"fingerprint":"{{ body.x.0 }}"}]`)
	f.Add("", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, class, file, method, msg, root, rules string) {
		rs, _ := ParseRules([]byte(rules))
		var data map[string]any
		json.Unmarshal([]byte(`{"body":{"x":[{"y":1}]}}`), &data)
		r := Report{Message: msg, Root: root, Data: data, Title: msg}
		if class != "" {
			r.Chain = []Exception{{Class: class, Message: msg, Frames: []Frame{{file, method}}}}
		}
		g := Group(r, rs)
		if g.Fingerprint == "" || len(g.Fingerprint) > maxFingerprint || len(g.Title) > maxTitle {
			t.Fatalf("grouping %+v", g)
		}
		if again := Group(r, rs); again != g {
			t.Fatalf("grouping is not deterministic: %+v then %+v", g, again)
		}
	})
}

// normaliseMethod leaves out what the regular expression \d{2,} matches, and nothing else.
func TestNormaliseMethodDropsDigitRuns(t *testing.T) {
	runs := regexp.MustCompile(`\d{2,}`)
	rng := rand.New(rand.NewPCG(5, 6))
	alphabet := "a1$ 9é0_<>"
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(string([]rune(alphabet)[rng.IntN(len([]rune(alphabet)))]))
		}
		m := b.String()
		if got, want := normaliseMethod(m), runs.ReplaceAllString(m, ""); got != want {
			t.Fatalf("normaliseMethod(%q) = %q, want %q", m, got, want)
		}
	}
}
