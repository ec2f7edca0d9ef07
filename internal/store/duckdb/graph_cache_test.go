package duckdb

import (
	"context"
	"slices"
	"testing"
	"time"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

func TestGraphPieces(t *testing.T) {
	const m = graphBucket
	kept := map[int64]bool{3: true, 4: true, 7: true}
	got := graphPieces(2*m+5, 30*m+9, kept, 20)
	want := []graphPiece{
		{2*m + 5, 3 * m, false},   // the head of bucket 2
		{5 * m, 7 * m, true},      // 5 and 6; 3 and 4 are kept
		{8 * m, 18 * m, true},     // at most fillBuckets at once
		{18 * m, 20 * m, true},    //
		{20 * m, 30*m + 9, false}, // not closed, and the tail of bucket 30
	}
	if !slices.Equal(got, want) {
		t.Errorf("graphPieces = %v, want %v", got, want)
	}
	if got := graphPieces(-m-1, -m+1, nil, 0); !slices.Equal(got, []graphPiece{{-m - 1, -m + 1, false}}) {
		t.Errorf("graphPieces across a bucket's start = %v", got)
	}
}

func TestAddRange(t *testing.T) {
	var list []bucketRange
	for _, r := range []bucketRange{{10, 12}, {20, 25}, {13, 14}, {30, 31}, {15, 19}} {
		list = addRange(list, r)
	}
	slices.SortFunc(list, func(a, b bucketRange) int { return int(a.first - b.first) })
	if want := []bucketRange{{10, 25}, {30, 31}}; !slices.Equal(list, want) {
		t.Errorf("ranges = %v, want %v", list, want)
	}
}

// graphKeys tell segments by their kind alone: server spans and roots.
var graphKeys = store.SegmentKeys{Protocol: "xray", Type: "aws.xray.type", Segment: "segment", Origin: "aws.xray.origin"}

// callerOf returns the callers ServiceCalls gives the service's calls over an hour up to end.
func callerOf(t *testing.T, s *Store, service string, end time.Time) []string {
	t.Helper()
	calls, err := s.ServiceCalls(context.Background(), store.ServiceCallQuery{Keys: graphKeys, Start: end.Add(-time.Hour), End: end})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range calls {
		if c.Callee.Name == service {
			out = append(out, c.Caller.Name)
		}
	}
	slices.Sort(out)
	return out
}

// TestServiceCallsKeptAcrossChanges checks that the counts the store keeps follow the spans
// they were made of: deleted by retention, and in a file made before they were kept.
func TestServiceCallsKeptAcrossChanges(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, Config{Dir: dir, Writers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	at := time.Now().Add(-time.Hour).Truncate(time.Minute).Add(30 * time.Second)
	server := func(trace, id, parent uint64, service string, start time.Time) telemetry.Span {
		return telemetry.Span{TraceID: telemetry.TraceIDFromParts(1, trace), SpanID: telemetry.SpanIDFromUint64(id), ParentSpanID: telemetry.SpanIDFromUint64(parent),
			Name: "GET /", Kind: telemetry.SpanKindServer, StartUnixNano: start.UnixNano(), EndUnixNano: start.Add(time.Millisecond).UnixNano(),
			Resource: &telemetry.Resource{Attributes: telemetry.Attributes{{Key: "service.name", Value: telemetry.StringValue(service)}}}}
	}
	if err := s.WriteSpans(ctx, []telemetry.Span{server(1, 1, 0, "web", at), server(1, 2, 1, "api", at.Add(time.Second)),
		server(2, 1, 0, "web", at.Add(20*time.Minute)), server(2, 2, 1, "api", at.Add(20*time.Minute+time.Second))}); err != nil {
		t.Fatal(err)
	}
	end := at.Add(30 * time.Minute)
	if got := callerOf(t, s, "api", end); !slices.Equal(got, []string{"web"}) {
		t.Fatalf("api's callers = %q, want web", got)
	}
	// The first trace's web span goes: its api span becomes an entry point.
	if _, err := s.DeleteBefore(ctx, at.Add(time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if got := callerOf(t, s, "api", end); !slices.Equal(got, []string{"", "web"}) {
		t.Fatalf("api's callers after retention = %q, want an entry point and web", got)
	}
	// A file made before the counts were kept: the store counts them when they are asked for.
	if _, err := s.db.ExecContext(ctx, "DROP TABLE graph_buckets; DROP TABLE graph_calls; DROP TABLE graph_origins"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(ctx, Config{Dir: dir, Writers: 1}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if got := callerOf(t, s, "api", end); !slices.Equal(got, []string{"", "web"}) {
			t.Fatalf("api's callers in a file made before = %q, want an entry point and web", got)
		}
	}
	var kept int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM graph_buckets").Scan(&kept); err != nil || kept == 0 {
		t.Fatalf("%d buckets kept (%v)", kept, err)
	}
}

// TestCountServiceCallsAhead checks that counting ahead keeps the closed minutes since the
// time given, from its first span to its last, and no minute that a span may still join.
func TestCountServiceCallsAhead(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{Dir: t.TempDir(), Writers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	var spans []telemetry.Span
	for i, ago := range []time.Duration{50 * time.Minute, 35 * time.Minute, 30 * time.Minute, 5 * time.Minute} {
		start := now.Add(-ago)
		spans = append(spans, telemetry.Span{TraceID: telemetry.TraceIDFromParts(1, uint64(i+1)), SpanID: telemetry.SpanIDFromUint64(1),
			Name: "GET /", Kind: telemetry.SpanKindServer, StartUnixNano: start.UnixNano(), EndUnixNano: start.Add(time.Millisecond).UnixNano(),
			Resource: &telemetry.Resource{Attributes: telemetry.Attributes{{Key: "service.name", Value: telemetry.StringValue("web")}}}})
	}
	if err := s.WriteSpans(ctx, spans); err != nil {
		t.Fatal(err)
	}
	since := now.Add(-40 * time.Minute)
	if err := s.CountServiceCalls(ctx, graphKeys, since); err != nil {
		t.Fatal(err)
	}
	var first, last, n int64
	if err := s.db.QueryRowContext(ctx, "SELECT min(bucket), max(bucket), count(*) FROM graph_buckets").Scan(&first, &last, &n); err != nil {
		t.Fatal(err)
	}
	// The minutes of the spans 35 and 30 minutes ago, and those between.
	wantFirst, wantLast := spans[1].StartUnixNano/graphBucket, spans[2].StartUnixNano/graphBucket
	if first != wantFirst || last != wantLast || n != last-first+1 {
		t.Errorf("kept minutes %d..%d (%d), want %d..%d", first, last, n, wantFirst, wantLast)
	}
	var calls int64
	if err := s.db.QueryRowContext(ctx, "SELECT coalesce(sum(total), 0) FROM graph_calls").Scan(&calls); err != nil || calls != 2 {
		t.Errorf("%d calls kept (%v), want those 35 and 30 minutes ago", calls, err)
	}
}
