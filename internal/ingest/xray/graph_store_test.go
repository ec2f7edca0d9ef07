package xray

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"lookout/internal/store"
	"lookout/internal/store/duckdb"
	"lookout/internal/telemetry"
)

// spanCollector keeps the spans written to it.
type spanCollector struct{ spans []telemetry.Span }

func (c *spanCollector) WriteSpans(_ context.Context, spans []telemetry.Span) error {
	c.spans = append(c.spans, spans...)
	return nil
}

// TestServiceGraphLateSpans checks the graph the store keeps counted against the one built
// from whole traces while spans arrive late and out of order: parents after the segments
// they called, and segments after the calls they answer, into minutes already counted; and
// after the store is opened again.
func TestServiceGraphLateSpans(t *testing.T) {
	ctx := context.Background()
	all := &spanCollector{}
	if err := fillTraces(ctx, all, 3000, 3, queryStart, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	// Hold back whole segments (each with its subsegments): the frontend's of one trace in
	// three, so that the backend's segment has no caller yet, and the backend's of another,
	// so that the frontend's call is answered by no segment yet.
	owners := segmentOwners(all.spans)
	var early, late []telemetry.Span
	for i, sp := range all.spans {
		owner := all.spans[owners[i]]
		held := owner.Service() == "frontend-react-js" && sp.TraceID.Low()%3 == 0 ||
			owner.Service() == "backend-flask" && sp.TraceID.Low()%3 == 1
		if held {
			late = append(late, sp)
		} else {
			early = append(early, sp)
		}
	}
	slices.Reverse(late)
	if len(late) == 0 || len(early) == 0 {
		t.Fatalf("%d spans held back of %d", len(late), len(all.spans))
	}

	dir := t.TempDir()
	s, err := duckdb.Open(ctx, duckdb.Config{Dir: dir, MemoryLimit: "256MB", Writers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	if err := s.WriteSpans(ctx, early); err != nil {
		t.Fatal(err)
	}
	// The first range holds every trace and ends within minutes; the second cuts through
	// traces, minutes and the reach of the spans held back.
	ranges := [][2]time.Time{
		{queryStart.Add(-17 * time.Second), queryStart.Add(10*time.Minute + 23*time.Second)},
		{queryStart.Add(2*time.Minute + 13500*time.Millisecond), queryStart.Add(7*time.Minute + 41*time.Second)},
	}
	check := func(when string) {
		t.Helper()
		a := NewAPI(APIConfig{Traces: s})
		for _, r := range ranges {
			wj, _ := json.MarshalIndent(normalised(t, graphFromTraces(t, s, r[0], r[1]).services()), "", " ")
			for pass := range 2 { // counting, then reading what was kept
				got, _, _, aerr := a.serviceGraph(ctx, r[0], r[1], "", "")
				if aerr != nil {
					t.Fatal(aerr)
				}
				gj, _ := json.MarshalIndent(normalised(t, got["Services"]), "", " ")
				if string(gj) != string(wj) {
					t.Fatalf("%s, %v–%v, pass %d: the store's graph differs from the traces':\n%s\nwant\n%s", when, r[0], r[1], pass, gj, wj)
				}
			}
		}
	}
	check("before the late spans")
	if err := s.WriteSpans(ctx, late); err != nil {
		t.Fatal(err)
	}
	check("after the late spans")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = duckdb.Open(ctx, duckdb.Config{Dir: dir, MemoryLimit: "256MB", Writers: 2}); err != nil {
		t.Fatal(err)
	}
	check("opened again")
}

// segmentOwners returns, for each span, the index of the segment it belongs to (itself for a
// segment), as the views find it.
func segmentOwners(spans []telemetry.Span) []int {
	type key struct {
		trace telemetry.TraceID
		span  telemetry.SpanID
	}
	at := map[key]int{}
	for i, sp := range spans {
		at[key{sp.TraceID, sp.SpanID}] = i
	}
	out := make([]int, len(spans))
	for i := range spans {
		j := i
		for !isSegment(&spans[j]) {
			p, ok := at[key{spans[j].TraceID, spans[j].ParentSpanID}]
			if !ok {
				break
			}
			j = p
		}
		out[i] = j
	}
	return out
}

// graphFromTraces is the graph of the nodes that started in [from, to), built from every
// trace of the store read whole.
func graphFromTraces(t *testing.T, s *duckdb.Store, from, to time.Time) *graph {
	t.Helper()
	ctx := context.Background()
	ids, err := s.FindTraceIDs(ctx, store.TraceQuery{Limit: store.MaxLimit})
	if err != nil || len(ids) == store.MaxLimit {
		t.Fatalf("FindTraceIDs: %d, %v", len(ids), err)
	}
	traces, err := s.Traces(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	g := newGraph()
	for i, id := range ids {
		v := newView(id, traces[i])
		v.nodes = slices.DeleteFunc(v.nodes, func(n *node) bool {
			return n.span.StartUnixNano < from.UnixNano() || n.span.StartUnixNano >= to.UnixNano()
		})
		g.add(v)
	}
	return g
}
