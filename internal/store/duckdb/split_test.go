package duckdb

import (
	"testing"

	"lookout/internal/telemetry"
)

// A batch without repeats is kept as it is, not copied; a repeat keeps the most complete
// version in the first version's place.
func TestMostCompleteSpans(t *testing.T) {
	svc := &telemetry.Resource{Attributes: telemetry.Attributes{{Key: "service.name", Value: telemetry.StringValue("checkout")}}}
	span := func(trace uint64, id byte, inProgress bool) telemetry.Span {
		return telemetry.Span{TraceID: telemetry.TraceIDFromParts(0, trace), SpanID: telemetry.SpanID{7: id}, InProgress: inProgress, Resource: svc}
	}
	batch := []telemetry.Span{span(1, 1, false), span(1, 2, true), span(2, 1, false)}
	if got := mostCompleteSpans(batch); &got[0] != &batch[0] || len(got) != len(batch) {
		t.Errorf("a batch without repeats was copied or changed")
	}

	batch = []telemetry.Span{span(1, 1, true), span(1, 2, false), span(1, 1, false), span(3, 1, false), span(1, 1, true)}
	got := mostCompleteSpans(batch)
	want := []telemetry.Span{batch[2], batch[1], batch[3]}
	if len(got) != len(want) {
		t.Fatalf("got %d spans, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].TraceID != want[i].TraceID || got[i].SpanID != want[i].SpanID || got[i].InProgress != want[i].InProgress {
			t.Errorf("span %d: got %v/%v in progress %v, want %v/%v in progress %v", i,
				got[i].TraceID, got[i].SpanID, got[i].InProgress, want[i].TraceID, want[i].SpanID, want[i].InProgress)
		}
	}
	if !batch[0].InProgress {
		t.Error("the caller's batch was changed")
	}
}

// split gives each writer all of a batch's spans of a trace, each with its own key set and
// layout, and every span to exactly one writer.
func TestSplit(t *testing.T) {
	const n, writers = 1000, 3
	spans := make([]telemetry.Span, n)
	e := &entries{keysets: make([]int64, n), layouts: make([][]int16, n)}
	for i := range spans {
		spans[i].TraceID = telemetry.TraceIDFromParts(uint64(i%7), uint64(i*i%101))
		spans[i].SpanID = telemetry.SpanID{6: byte(i >> 8), 7: byte(i)}
		e.keysets[i] = int64(i)
		e.layouts[i] = []int16{int16(i)}
	}
	parts := split(spans, e, writers)
	if len(parts) != writers {
		t.Fatalf("%d parts, want %d", len(parts), writers)
	}
	seen := make([]bool, n)
	writerOf := map[telemetry.TraceID]int{}
	for w, p := range parts {
		if len(p.keysets) != len(p.spans) || len(p.layouts) != len(p.spans) {
			t.Fatalf("part %d: %d spans, %d key sets, %d layouts", w, len(p.spans), len(p.keysets), len(p.layouts))
		}
		for k, s := range p.spans {
			i := int(s.SpanID[6])<<8 | int(s.SpanID[7])
			if seen[i] {
				t.Errorf("span %d given twice", i)
			}
			seen[i] = true
			if p.keysets[k] != int64(i) || p.layouts[k][0] != int16(i) {
				t.Errorf("span %d has the key set %d and layout %v of another", i, p.keysets[k], p.layouts[k])
			}
			if other, ok := writerOf[s.TraceID]; ok && other != w {
				t.Errorf("trace %v split between writers %d and %d", s.TraceID, other, w)
			}
			writerOf[s.TraceID] = w
		}
		if w+1 < writers && cap(p.spans) != len(p.spans) { // a share must not reach into the next one's room
			t.Errorf("part %d can grow into the next", w)
		}
	}
	for i, ok := range seen {
		if !ok {
			t.Errorf("span %d given to no writer", i)
		}
	}
}
