package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// timedReader is a fakeReader whose FindTraceIDs does what the store does with a time
// range: traces with a span starting within [Start, End], most recent first, up to Limit.
type timedReader struct {
	*fakeReader
	at map[telemetry.TraceID]time.Time // each trace has one span, starting then
}

func (r *timedReader) FindTraceIDs(ctx context.Context, q store.TraceQuery) ([]telemetry.TraceID, error) {
	r.mu.Lock()
	r.queries = append(r.queries, q)
	r.mu.Unlock()
	var ids []telemetry.TraceID
	for id, t := range r.at {
		if !t.Before(q.Start) && !t.After(q.End) {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b telemetry.TraceID) int { return r.at[b].Compare(r.at[a]) })
	return ids[:min(len(ids), q.Limit)], nil
}

// newTimedReader holds one single-span trace per time.
func newTimedReader(times ...time.Time) *timedReader {
	r := &timedReader{fakeReader: newFakeReader(), at: map[telemetry.TraceID]time.Time{}}
	for i, t := range times {
		id := telemetry.TraceID{14: byte(i >> 8), 15: byte(i)}
		r.at[id] = t
		r.add(telemetry.Span{TraceID: id, SpanID: telemetry.SpanID{7: 1}, Name: "op", StartUnixNano: t.UnixNano(), EndUnixNano: t.UnixNano() + 1e6})
	}
	return r
}

// summaries asks r for trace summaries over the hour before testNow and returns their starts.
func summaries(t *testing.T, r *timedReader, extra string) []time.Time {
	t.Helper()
	a := New(r, nil)
	a.now = func() time.Time { return testNow }
	mux := http.NewServeMux()
	a.Register(mux)
	target := fmt.Sprintf("/api/v1/trace-summaries?start=%d&end=%d%s", testNow.Add(-time.Hour).UnixMicro(), testNow.UnixMicro(), extra)
	code, body := get(t, mux, target)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", target, code, body)
	}
	var env struct{ Data []traceSummary }
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	starts := make([]time.Time, len(env.Data))
	for i, s := range env.Data {
		starts[i] = time.UnixMicro(s.Start)
	}
	return starts
}

func TestSpreadTakesTracesFromAcrossTheRange(t *testing.T) {
	// One trace a minute for the hour, then a burst of 500 in its last 10 seconds.
	var times []time.Time
	for m := range 60 {
		times = append(times, testNow.Add(-time.Hour+time.Duration(m)*time.Minute+time.Second))
	}
	for i := range 500 {
		times = append(times, testNow.Add(-10*time.Second+time.Duration(i)*time.Millisecond))
	}
	r := newTimedReader(times...)

	recent := summaries(t, r, "&limit=50")
	if len(recent) != 50 || testNow.Sub(slices.MinFunc(recent, time.Time.Compare)) > 10*time.Second {
		t.Fatalf("without spread, want the 50 most recent (all in the burst), got %d from %v", len(recent), slices.MinFunc(recent, time.Time.Compare))
	}

	spread := summaries(t, r, "&limit=50&spread=true")
	if len(spread) != 50 {
		t.Fatalf("spread: %d traces, want 50", len(spread))
	}
	// 50 windows of 72 s: each holds one or two of the minute traces and gives one, so the
	// oldest comes from the first window, and the burst, in the last, gives one.
	oldest := slices.MinFunc(spread, time.Time.Compare)
	if oldest.After(testNow.Add(-time.Hour + 72*time.Second)) {
		t.Errorf("spread: oldest trace at %v, want one from the first 72 s of the hour", oldest)
	}
	inBurst := 0
	for _, s := range spread {
		if testNow.Sub(s) <= 10*time.Second {
			inBurst++
		}
	}
	if inBurst != 1 {
		t.Errorf("spread: %d of 50 traces from the last 10 s, want the last window's share, 1", inBurst)
	}
	for i := 1; i < len(spread); i++ {
		if spread[i].Sub(spread[i-1]) > 72*time.Second {
			t.Errorf("spread: windows out of order at %d: %v after %v", i, spread[i], spread[i-1])
		}
	}
}

func TestSpreadFillsTheLimitWhenOnlyTheEndHasData(t *testing.T) {
	// A fresh install: 300 traces in the last three minutes of the hour.
	var times []time.Time
	for i := range 300 {
		times = append(times, testNow.Add(-3*time.Minute+300*time.Millisecond+time.Duration(i)*600*time.Millisecond))
	}
	r := newTimedReader(times...)
	got := summaries(t, r, "&limit=40&spread=true")
	if len(got) != 40 {
		t.Fatalf("%d traces, want the whole limit of 40 (empty windows leave theirs to later ones)", len(got))
	}
	// The last two of 40 windows of 90 s hold the traces, 150 each; each gives 20 spaced
	// evenly, so the oldest taken is about 3 minutes old, not from the end of its window.
	if oldest := slices.MinFunc(got, time.Time.Compare); testNow.Sub(oldest) < 170*time.Second {
		t.Errorf("oldest trace taken %v before the end, want about 3 minutes: taken evenly within the window", testNow.Sub(oldest))
	}
	seen := map[time.Time]bool{}
	for _, s := range got {
		if seen[s] {
			t.Fatalf("trace at %v listed twice", s)
		}
		seen[s] = true
	}
}

func TestSpreadAsksOnceWhenFewMatch(t *testing.T) {
	r := newTimedReader(testNow.Add(-30*time.Minute), testNow.Add(-time.Minute))
	if got := summaries(t, r, "&limit=20&spread=true"); len(got) != 2 {
		t.Fatalf("%d traces, want both", len(got))
	}
	if len(r.queries) != 1 {
		t.Errorf("%d FindTraceIDs calls, want 1: all matches fit the limit", len(r.queries))
	}
}

func TestSpreadParameterIsChecked(t *testing.T) {
	h, _ := server(t, newFakeReader())
	code, body := get(t, h, "/api/v1/trace-summaries?spread=maybe")
	wantError(t, "spread=maybe", code, body, http.StatusBadRequest, "spread")
}

func TestSummaryFlagsIncompleteTraces(t *testing.T) {
	res := &telemetry.Resource{Attributes: telemetry.Attributes{{Key: "service.name", Value: telemetry.StringValue("svc")}}}
	sp := func(id, parent byte) telemetry.Span {
		return telemetry.Span{TraceID: goldenTraceID, SpanID: telemetry.SpanID{7: id}, ParentSpanID: telemetry.SpanID{7: parent},
			Name: "op", StartUnixNano: 1000, EndUnixNano: 2000, Resource: res}
	}
	cases := []struct {
		name        string
		spans       []telemetry.Span
		rootMissing bool
		orphans     int
	}{
		{"complete", []telemetry.Span{sp(1, 0), sp(2, 1), sp(3, 2)}, false, 0},
		{"a child's parent missing", []telemetry.Span{sp(1, 0), sp(2, 1), sp(3, 9)}, false, 1},
		{"root missing", []telemetry.Span{sp(2, 1), sp(3, 2), sp(4, 1)}, true, 2},
	}
	for _, c := range cases {
		s := summarize(goldenTraceID, c.spans)
		if s.RootMissing != c.rootMissing || s.Orphans != c.orphans {
			t.Errorf("%s: rootMissing %v orphans %d, want %v %d", c.name, s.RootMissing, s.Orphans, c.rootMissing, c.orphans)
		}
	}
}
