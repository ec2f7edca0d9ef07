package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"lookout/internal/store"
	"lookout/internal/telemetry"
	"lookout/internal/triage"
)

// occurrence is a valid occurrence of project p's item with fingerprint fp, i seconds after
// base.
func occurrence(p, env, fp string, i int, version string) telemetry.Occurrence {
	return telemetry.Occurrence{
		UUID: fmt.Sprintf("%s-%s-%s-%d-%s", p, env, fp, i, version), Project: p, Environment: env, Level: "error",
		TimeUnixNano: at(time.Duration(i) * time.Second), ReceivedUnixNano: at(time.Duration(i)*time.Second + time.Millisecond),
		Fingerprint: fp, Grouping: "classes of " + fp, Title: "Error " + fp + fmt.Sprint(i), Class: "E" + fp,
		CodeVersion: version, Framework: "flask", Platform: "linux", Language: "python", Context: "/x/<id>",
		Host: fmt.Sprintf("web-%d", i%2), PersonID: fmt.Sprintf("u%d", i%3), UserIP: "203.0.113.9", Browser: "Firefox 120", OS: "Linux",
		Data:   fmt.Sprintf(`{"body":{"message":{"body":"<b>%d</b> ünï"}}}`, i),
		Ingest: telemetry.IngestInfo{Protocol: "rollbar", KeyID: "k1"},
	}
}

// errorFixture is 12 occurrences: project "shop" has items a (production, 6 occurrences, 3
// of them in a trace), b (production, 3) and a again in staging (1, another item); project
// "blog" has item a (2).
func errorFixture() []telemetry.Occurrence {
	var out []telemetry.Occurrence
	for i := range 6 {
		o := occurrence("shop", "production", "a", i, "1.0.0")
		if i%2 == 0 {
			o.TraceID, o.SpanID = traceID(1), spanID(byte(i+1))
		}
		out = append(out, o)
	}
	for i := range 3 {
		out = append(out, occurrence("shop", "production", "b", 10+i, "1.0.0"))
	}
	out = append(out, occurrence("shop", "staging", "a", 20, ""))
	for i := range 2 {
		out = append(out, occurrence("blog", "production", "a", 30+i, "7"))
	}
	out[7].Level = "warning" // not the item's first: its level stays
	return out
}

func writeOccurrences(t *testing.T, s *handle, occs []telemetry.Occurrence) {
	t.Helper()
	if err := s.WriteOccurrences(context.Background(), occs); err != nil {
		t.Fatalf("WriteOccurrences: %v", err)
	}
}

func items(t *testing.T, s *handle, q store.ItemQuery) ([]store.Item, int) {
	t.Helper()
	got, total, err := s.Items(context.Background(), q)
	if err != nil {
		t.Fatalf("Items(%+v): %v", q, err)
	}
	return got, total
}

// itemSummary is what the fixture decides of an item.
type itemSummary struct {
	Project, Env, Fingerprint, Title, Level string
	Counter, Total, People                  int64
	First, Last                             time.Time
}

func summarise(its []store.Item) []itemSummary {
	out := make([]itemSummary, len(its))
	for i, it := range its {
		out[i] = itemSummary{it.Project, it.Environment, it.Fingerprint, it.Title, it.Level, it.Counter, it.Total, it.People, it.FirstSeen, it.LastSeen}
	}
	return out
}

func sec(i int) time.Time { return time.Unix(0, at(time.Duration(i)*time.Second)).UTC() }

func testOccurrenceItems(t *testing.T, b Backend) {
	s := open(t, b)
	all := errorFixture()
	writeOccurrences(t, s, all[:8])
	writeOccurrences(t, s, append(all[4:], all[5])) // a replay overlapping the first, with a repeat
	got, total := items(t, s, store.ItemQuery{Limit: 100, Sort: store.SortFirstSeen})
	want := []itemSummary{
		{"blog", "production", "a", "Error a30", "error", 1, 2, 2, sec(30), sec(31)},
		{"shop", "staging", "a", "Error a20", "error", 3, 1, 1, sec(20), sec(20)},
		{"shop", "production", "b", "Error b10", "error", 2, 3, 3, sec(10), sec(12)},
		{"shop", "production", "a", "Error a0", "error", 1, 6, 3, sec(0), sec(5)},
	}
	if total != 4 || !reflect.DeepEqual(summarise(got), want) {
		t.Fatalf("items (total %d):\n got %+v\nwant %+v", total, summarise(got), want)
	}
	a := got[3]
	if a.Status != triage.Active || a.Class != "Ea" || a.Grouping != "classes of a" || a.Framework != "flask" || a.Language != "python" {
		t.Errorf("item a %+v", a)
	}
	occs, err := s.Occurrences(context.Background(), store.OccurrenceQuery{ItemID: a.ID, Limit: 100})
	if err != nil || len(occs) != 6 {
		t.Fatalf("occurrences of a: %d, %v", len(occs), err)
	}
	if occs[0].ID != a.LastOccurrence || occs[5].ID != a.FirstOccurrence {
		t.Errorf("first/last occurrence ids %d/%d, occurrences %d..%d", a.FirstOccurrence, a.LastOccurrence, occs[5].ID, occs[0].ID)
	}
	for i, so := range occs {
		if w := all[5-i]; !reflect.DeepEqual(so.Occurrence, w) || so.ItemID != a.ID {
			t.Errorf("occurrence %d:\n got %+v\nwant %+v", i, so.Occurrence, w)
		}
	}
	byID, err := s.Item(context.Background(), a.ID)
	if err != nil || !reflect.DeepEqual(byID, a) {
		t.Errorf("Item(%d) = %+v, %v; want %+v", a.ID, byID, err, a)
	}
	byCounter, err := s.ItemByCounter(context.Background(), "shop", 2)
	if err != nil || byCounter.Fingerprint != "b" {
		t.Errorf("ItemByCounter(shop, 2) = %+v, %v", byCounter, err)
	}
	if _, err := s.ItemByCounter(context.Background(), "shop", 9); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown counter: %v", err)
	}
	events, err := s.ItemEvents(context.Background(), a.ID)
	if err != nil || len(events) != 1 || events[0].Kind != triage.New || events[0].Version != "1.0.0" || !events[0].Time.Equal(sec(0)) {
		t.Errorf("events of a %+v, %v", events, err)
	}
}

func testItemQueries(t *testing.T, b Backend) {
	s := open(t, b)
	writeOccurrences(t, s, errorFixture())
	fps := func(its []store.Item) []string {
		var out []string
		for _, it := range its {
			out = append(out, it.Project+"/"+it.Environment+"/"+it.Fingerprint)
		}
		return out
	}
	cases := []struct {
		name string
		q    store.ItemQuery
		want []string
	}{
		{"project, last seen", store.ItemQuery{Project: "shop"}, []string{"shop/staging/a", "shop/production/b", "shop/production/a"}},
		{"count", store.ItemQuery{Project: "shop", Sort: store.SortCount}, []string{"shop/production/a", "shop/production/b", "shop/staging/a"}},
		{"environment", store.ItemQuery{Environments: []string{"staging"}}, []string{"shop/staging/a"}},
		{"text", store.ItemQuery{Text: "ERROR B"}, []string{"shop/production/b"}},
		{"trace", store.ItemQuery{TraceID: traceID(1)}, []string{"shop/production/a"}},
		{"level", store.ItemQuery{Levels: []string{"warning"}}, nil},
		{"status", store.ItemQuery{Statuses: []triage.Status{triage.Resolved, triage.Muted}}, nil},
		{"page", store.ItemQuery{Project: "shop", Limit: 2, Offset: 1}, []string{"shop/production/b", "shop/production/a"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, total := items(t, s, c.q)
			if !reflect.DeepEqual(fps(got), c.want) {
				t.Errorf("got %v, want %v", fps(got), c.want)
			}
			if c.name == "page" && total != 3 {
				t.Errorf("total %d, want 3", total)
			}
		})
	}
	traced, err := s.Occurrences(context.Background(), store.OccurrenceQuery{TraceID: traceID(1)})
	if err != nil || len(traced) != 3 || traced[0].SpanID != spanID(5) {
		t.Errorf("occurrences of trace 1: %+v, %v", traced, err)
	}
	one, err := s.Occurrences(context.Background(), store.OccurrenceQuery{Project: "shop", UUID: errorFixture()[7].UUID})
	if err != nil || len(one) != 1 || one[0].Level != "warning" {
		t.Errorf("occurrence by uuid: %+v, %v", one, err)
	}
	if _, err := s.Occurrence(context.Background(), one[0].ID); err != nil {
		t.Errorf("Occurrence(%d): %v", one[0].ID, err)
	}
	if _, err := s.Occurrence(context.Background(), 99999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown occurrence: %v", err)
	}
	a, _ := items(t, s, store.ItemQuery{Project: "shop", Sort: store.SortCount, Limit: 1})
	counts, err := s.OccurrenceCounts(context.Background(), store.CountQuery{Items: []int64{a[0].ID}, Start: base, Step: 2 * time.Second, Buckets: 4})
	if err != nil || !reflect.DeepEqual(counts[a[0].ID], []int64{2, 2, 2, 0}) {
		t.Errorf("counts %v, %v", counts, err)
	}
	all, err := s.OccurrenceCounts(context.Background(), store.CountQuery{Project: "shop", Start: base, Step: time.Hour, Buckets: 1})
	if err != nil || len(all) != 3 || all[a[0].ID][0] != 6 {
		t.Errorf("counts of every item %v, %v", all, err)
	}
	hosts, err := s.Breakdown(context.Background(), a[0].ID, store.ByHost, 10)
	if err != nil || !reflect.DeepEqual(hosts, []store.ValueCount{{Value: "web-0", Count: 3}, {Value: "web-1", Count: 3}}) {
		t.Errorf("hosts %+v, %v", hosts, err)
	}
	envs, err := s.Environments(context.Background(), "shop")
	if err != nil || !reflect.DeepEqual(envs, []string{"production", "staging"}) {
		t.Errorf("environments %v, %v", envs, err)
	}
	projects, err := s.Projects(context.Background())
	if err != nil || !reflect.DeepEqual(projects, []string{"blog", "shop"}) {
		t.Errorf("projects %v, %v", projects, err)
	}
}

func status(st triage.Status) *triage.Status { return &st }

func testItemTriage(t *testing.T, b Backend) {
	ctx := context.Background()
	s := open(t, b)
	writeOccurrences(t, s, []telemetry.Occurrence{occurrence("p", "prod", "x", 0, "1.4.0"), occurrence("p", "prod", "m", 0, "")})
	its, _ := items(t, s, store.ItemQuery{Project: "p", Sort: store.SortFirstSeen})
	x, m := its[1], its[0]
	if x.Fingerprint != "x" {
		x, m = m, x
	}
	when := base.Add(time.Minute)
	it, err := s.UpdateItem(ctx, x.ID, store.ItemUpdate{Status: status(triage.Resolved), ResolvedInVersion: "1.4.1", By: "ann", Time: when})
	if err != nil || it.Status != triage.Resolved || it.ResolvedInVersion != "1.4.1" || !it.LastResolved.Equal(when) {
		t.Fatalf("resolve: %+v, %v", it, err)
	}
	title := "Checkout fails"
	if _, err := s.UpdateItem(ctx, m.ID, store.ItemUpdate{Status: status(triage.Muted), Title: &title, By: "ann", Time: when}); err != nil {
		t.Fatal(err)
	}
	writeOccurrences(t, s, []telemetry.Occurrence{occurrence("p", "prod", "x", 100, "1.4.0"), occurrence("p", "prod", "m", 100, "9")})
	if it, _ := s.Item(ctx, x.ID); it.Status != triage.Resolved || it.Total != 2 {
		t.Errorf("an occurrence of an older version changed the resolved item: %+v", it)
	}
	if it, _ := s.Item(ctx, m.ID); it.Status != triage.Muted || it.Title != title || !it.TitleLocked {
		t.Errorf("the muted item: %+v", it)
	}
	writeOccurrences(t, s, []telemetry.Occurrence{occurrence("p", "prod", "x", 200, "1.4.1")})
	it, _ = s.Item(ctx, x.ID)
	if it.Status != triage.Active || it.Title != "Error x200" || !it.LastActivated.Equal(sec(200)) {
		t.Errorf("the version it was resolved in did not reactivate it: %+v", it)
	}
	if _, err := s.UpdateItem(ctx, x.ID, store.ItemUpdate{Status: status(triage.Resolved), By: "bob", Time: when}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateItem(ctx, x.ID, store.ItemUpdate{Status: status(triage.Active), By: "bob", Time: when}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateItem(ctx, 12345, store.ItemUpdate{Status: status(triage.Muted)}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown item: %v", err)
	}
	if b.Reopen != nil {
		s = reopen(t, b, s)
	}
	events, err := s.ItemEvents(ctx, x.ID)
	var kinds []string
	for _, e := range events {
		kinds = append(kinds, string(e.Kind)+" "+e.Version+" "+e.By)
	}
	// by time: the updates at base+1m, the occurrences at base and base+200s
	want := []string{"new 1.4.0 ", "resolved 1.4.1 ann", "resolved  bob", "reopened  bob", "reactivated 1.4.1 "}
	if err != nil || !reflect.DeepEqual(kinds, want) {
		t.Errorf("history %q, %v; want %q", kinds, err, want)
	}
	versions, err := s.Versions(ctx, "p")
	if err != nil || len(versions) != 3 {
		t.Fatalf("versions %+v, %v", versions, err)
	}
	byVersion := map[string]store.Version{}
	for _, v := range versions {
		byVersion[v.Version] = v
	}
	if v := byVersion["1.4.1"]; v.Occurrences != 1 || v.Reactivated != 1 || v.Resolved != 1 || v.New != 0 {
		t.Errorf("version 1.4.1: %+v", v)
	}
	if v := byVersion["1.4.0"]; v.Occurrences != 2 || v.New != 1 || !v.FirstSeen.Equal(sec(0)) || !v.LastSeen.Equal(sec(100)) {
		t.Errorf("version 1.4.0: %+v", v)
	}
}

// testVersionOrder resolves items in versions that have no order of their own (git SHAs):
// the order the store first saw them in decides.
func testVersionOrder(t *testing.T, b Backend) {
	ctx := context.Background()
	s := open(t, b)
	writeOccurrences(t, s, []telemetry.Occurrence{occurrence("p", "prod", "x", 0, "c0ffee1"), occurrence("p", "prod", "y", 1, "badf00d")})
	its, _ := items(t, s, store.ItemQuery{Project: "p", Sort: store.SortFirstSeen})
	for _, it := range its {
		if _, err := s.UpdateItem(ctx, it.ID, store.ItemUpdate{Status: status(triage.Resolved), ResolvedInVersion: "badf00d", Time: base}); err != nil {
			t.Fatal(err)
		}
	}
	writeOccurrences(t, s, []telemetry.Occurrence{occurrence("p", "prod", "x", 2, "c0ffee1"), occurrence("p", "prod", "y", 3, "deadbee")})
	got, _ := items(t, s, store.ItemQuery{Project: "p", Statuses: []triage.Status{triage.Active}})
	if len(got) != 1 || got[0].Fingerprint != "y" {
		t.Errorf("active after an older and a newer version: %+v", summarise(got))
	}
}

func testDeploys(t *testing.T, b Backend) {
	ctx := context.Background()
	s := open(t, b)
	var ids []int64
	for i, rev := range []string{"abc", "def"} {
		d, err := s.RecordDeploy(ctx, store.Deploy{Project: "p", Environment: "prod", Revision: rev, LocalUsername: "ann",
			Comment: "fix #1", Status: "started", StartTime: sec(i)})
		if err != nil || d.ID == 0 {
			t.Fatalf("RecordDeploy: %+v, %v", d, err)
		}
		ids = append(ids, d.ID)
	}
	if ids[0] == ids[1] {
		t.Fatal("two deploys have one id")
	}
	d, err := s.UpdateDeploy(ctx, "p", ids[0], "succeeded", "", sec(5))
	if err != nil || d.Status != "succeeded" || d.Comment != "fix #1" || !d.FinishTime.Equal(sec(5)) {
		t.Errorf("UpdateDeploy: %+v, %v", d, err)
	}
	if _, err := s.UpdateDeploy(ctx, "other", ids[0], "failed", "", sec(5)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a deploy of another project: %v", err)
	}
	ds, err := s.Deploys(ctx, "p", 0, 10)
	if err != nil || len(ds) != 2 || ds[0].Revision != "def" || ds[1].Status != "succeeded" {
		t.Errorf("deploys %+v, %v", ds, err)
	}
	if b.Reopen != nil {
		s = reopen(t, b, s)
		if d, err := s.Deploy(ctx, "p", ids[1]); err != nil || d.Revision != "def" || !d.StartTime.Equal(sec(1)) {
			t.Errorf("after reopening: %+v, %v", d, err)
		}
	}
}

func testOccurrencesDurable(t *testing.T, b Backend) {
	if b.Reopen == nil {
		t.Skip("the backend cannot be reopened")
	}
	s := open(t, b)
	all := errorFixture()
	writeOccurrences(t, s, all)
	if err := s.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, b, s)
	writeOccurrences(t, s, all) // replayed after a restart: nothing new
	writeOccurrences(t, s, []telemetry.Occurrence{occurrence("shop", "production", "c", 40, "")})
	got, total := items(t, s, store.ItemQuery{Project: "shop", Limit: 10, Sort: store.SortFirstSeen})
	if total != 4 || got[0].Fingerprint != "c" || got[0].Counter != 4 || got[3].Total != 6 {
		t.Errorf("after reopening: %+v", summarise(got))
	}
	occs, _ := s.Occurrences(context.Background(), store.OccurrenceQuery{Limit: 100})
	if len(occs) != 13 {
		t.Errorf("%d occurrences, want 13", len(occs))
	}
	seen := map[int64]bool{}
	for _, o := range occs {
		if seen[o.ID] {
			t.Errorf("occurrence id %d given twice", o.ID)
		}
		seen[o.ID] = true
	}
}
