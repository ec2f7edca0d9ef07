package xray

import (
	"runtime"
	"testing"
	"time"

	"lookout/internal/telemetry"
)

// orphan is an independent subsegment n of its own parent segment, which has not come.
func orphan(n uint64) *Document {
	trace := telemetry.TraceIDFromParts(1, n)
	return &Document{Independent: true, Spans: []telemetry.Span{{TraceID: trace, SpanID: telemetry.SpanIDFromUint64(2*n + 1),
		ParentSpanID: telemetry.SpanIDFromUint64(2*n + 2), Name: "mock-data"}}}
}

// segmentOf is the segment an orphan waits for.
func segmentOf(d *Document) *Document {
	sp := d.Spans[0]
	return &Document{Spans: []telemetry.Span{{TraceID: sp.TraceID, SpanID: sp.ParentSpanID, Name: "backend-flask",
		Resource: &telemetry.Resource{Attributes: telemetry.Attributes{{Key: "service.name", Value: telemetry.StringValue("backend-flask")}}}}}}
}

// TestResolverEvictsOldest fills the resolver's room for waiting subsegments and checks that
// each one more pushes out the oldest still waiting (returned to be stored if it was not), that
// subsegments whose segment came no longer count, and that expired ones are stored once.
func TestResolverEvictsOldest(t *testing.T) {
	r := newResolver(time.Second)
	now := time.Unix(1_800_000_000, 0)
	docs := make([]*Document, waitingDocs+3)
	for i := range docs {
		docs[i] = orphan(uint64(i))
	}
	for i, d := range docs[:waitingDocs] {
		if ready := r.add([]*Document{d}, now.Add(time.Duration(i)*time.Microsecond), true); len(ready) != 0 {
			t.Fatalf("orphan %d: %d ready, want it to wait", i, len(ready))
		}
	}
	// The first two orphans' segments come: they are ready, and leave the room.
	ready := r.add([]*Document{segmentOf(docs[0]), segmentOf(docs[1])}, now.Add(time.Second/2), true)
	if len(ready) != 4 || ready[1] != docs[0] || ready[3] != docs[1] {
		t.Fatalf("segments of orphans 0 and 1: ready %d, want each segment then its orphan", len(ready))
	}
	// Two more fit in the room they left; the third pushes out the oldest still waiting, 2.
	at := now.Add(time.Second / 2)
	for i, d := range docs[waitingDocs : waitingDocs+2] {
		if ready := r.add([]*Document{d}, at, true); len(ready) != 0 {
			t.Fatalf("orphan %d after two left: %d ready", waitingDocs+i, len(ready))
		}
	}
	ready = r.add([]*Document{docs[waitingDocs+2]}, at, true)
	if len(ready) != 1 || ready[0] != docs[2] {
		t.Fatalf("one orphan past the room: ready %v, want orphan 2", ready)
	}
	// After the hold every waiting orphan is stored, once; they keep waiting for their segment.
	expired := r.expired(now.Add(2 * time.Second))
	if len(expired) != waitingDocs {
		t.Fatalf("expired %d, want %d", len(expired), waitingDocs)
	}
	if again := r.expired(now.Add(3 * time.Second)); len(again) != 0 {
		t.Fatalf("expired again: %d", len(again))
	}
	// Pushed out now, orphan 3 was stored already: nothing more to store.
	if ready := r.add([]*Document{orphan(uint64(len(docs)))}, now.Add(3*time.Second), true); len(ready) != 0 {
		t.Fatalf("pushing out a stored orphan: ready %d", len(ready))
	}
	// A segment that comes late still gives its stored orphan its service.
	ready = r.add([]*Document{segmentOf(docs[4])}, now.Add(4*time.Second), true)
	if len(ready) != 2 || ready[1] != docs[4] || ready[1].Spans[0].Resource == nil {
		t.Fatalf("late segment of orphan 4: ready %d", len(ready))
	}
	// Past waitingForever, none waits any more; the last one was never stored, and is now.
	expired = r.expired(now.Add(3*time.Second + waitingForever))
	if len(expired) != 1 || expired[0].Spans[0].TraceID != orphan(uint64(len(docs))).Spans[0].TraceID {
		t.Fatalf("expired at the end: %d, want the last orphan", len(expired))
	}
	if r.count != 0 || len(r.waiting) != 0 {
		t.Fatalf("after waitingForever: %d waiting, %d parents", r.count, len(r.waiting))
	}
}

// BenchmarkResolverFull measures an orphaned subsegment's way through the resolver when its
// room for waiting subsegments is full, as it stays while a busy service never ends its
// segments: each pushes out the oldest.
func BenchmarkResolverFull(b *testing.B) {
	r := newResolver(time.Second)
	now := time.Unix(1_800_000_000, 0)
	for i := range waitingDocs {
		r.add([]*Document{orphan(uint64(i))}, now, true)
	}
	docs := make([]*Document, b.N)
	for i := range docs {
		docs[i] = orphan(uint64(waitingDocs + i))
	}
	b.ResetTimer()
	for i := range b.N {
		r.add(docs[i:i+1], now.Add(time.Duration(i)*time.Microsecond), true)
	}
}

// BenchmarkResolverCollect measures a collection of a heap that holds little but a resolver
// that knows as many entities as it keeps: what the collector pays for it each cycle.
func BenchmarkResolverCollect(b *testing.B) {
	r := newResolver(time.Second)
	now := time.Unix(1_800_000_000, 0)
	res := segmentOf(orphan(0)).Spans[0].Resource // a write's documents share their service's
	for i := range 2 * knownEntities / 4 {
		seg := segmentOf(orphan(uint64(i)))
		seg.Spans = append(seg.Spans, seg.Spans[0], seg.Spans[0], seg.Spans[0])
		for j := range seg.Spans {
			seg.Spans[j].SpanID = telemetry.SpanIDFromUint64(uint64(i)*4 + uint64(j))
			seg.Spans[j].Resource = res
		}
		r.add([]*Document{seg}, now, true)
	}
	runtime.GC()
	b.ResetTimer()
	for b.Loop() {
		runtime.GC()
	}
	runtime.KeepAlive(r)
}
