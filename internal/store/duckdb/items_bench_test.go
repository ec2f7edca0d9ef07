package duckdb

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"lookout/internal/store"
	"lookout/internal/telemetry"
	"lookout/internal/triage"
)

// BenchmarkItemQueries fills a store with LOOKOUT_BENCH_OCCURRENCES error occurrences
// (default 100,000) of 10,000 items, as a project's busy week, and measures the items list
// (a page of 100 with their last day's counts, as the UI asks) and an item page's queries.
func BenchmarkItemQueries(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("LOOKOUT_BENCH_OCCURRENCES")); err == nil && v > 0 {
		n = v
	}
	const items = 10_000
	ctx := context.Background()
	s, err := Open(ctx, DefaultConfig(b.TempDir()))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	end := time.Now().Truncate(time.Hour)
	start := end.Add(-7 * 24 * time.Hour)
	step := int64(end.Sub(start)) / int64(n)
	data := `{"body":{"trace":{"frames":[` + frames30() + `],"exception":{"class":"OrderError","message":"order 42 not found"}}}}`
	const batch = 20_000
	for first := 0; first < n; first += batch {
		occs := make([]telemetry.Occurrence, 0, batch)
		for i := first; i < min(first+batch, n); i++ {
			item := (i * 7919) % items // every item is busy all week, in no order
			t := start.UnixNano() + int64(i)*step
			occs = append(occs, telemetry.Occurrence{UUID: fmt.Sprintf("o%d", i), Project: "shop", Environment: "production",
				Level: "error", TimeUnixNano: t, ReceivedUnixNano: t, Fingerprint: fmt.Sprintf("fp%d", item), Grouping: "bench",
				Title: fmt.Sprintf("OrderError%d: order not found", item), Class: fmt.Sprintf("OrderError%d", item), CodeVersion: fmt.Sprintf("1.%d.0", i*10/n),
				Host: fmt.Sprintf("web-%d", i%4), PersonID: fmt.Sprintf("u%d", i%1000), Browser: "Firefox 120", OS: "Linux", Data: data,
				Ingest: telemetry.IngestInfo{Protocol: "rollbar"}})
		}
		if err := s.WriteOccurrences(ctx, occs); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Checkpoint(ctx); err != nil {
		b.Fatal(err)
	}
	b.Run("list", func(b *testing.B) {
		for b.Loop() {
			its, total, err := s.Items(ctx, store.ItemQuery{Project: "shop", Statuses: []triage.Status{triage.Active}, Limit: 100})
			if err != nil || total != items {
				b.Fatalf("%d items of %d, %v", len(its), total, err)
			}
			ids := make([]int64, len(its))
			for i := range its {
				ids[i] = its[i].ID
			}
			if _, err := s.OccurrenceCounts(ctx, store.CountQuery{Items: ids, Start: end.Add(-23 * time.Hour), Step: time.Hour, Buckets: 24}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("item page", func(b *testing.B) {
		it, err := s.ItemByCounter(ctx, "shop", 42)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := s.Item(ctx, it.ID); err != nil {
				b.Fatal(err)
			}
			if _, err := s.ItemEvents(ctx, it.ID); err != nil {
				b.Fatal(err)
			}
			for _, f := range store.BreakdownFields {
				if _, err := s.Breakdown(ctx, it.ID, f, 5); err != nil {
					b.Fatal(err)
				}
			}
			for _, q := range []store.CountQuery{{Items: []int64{it.ID}, Start: end.Add(-47 * time.Hour), Step: time.Hour, Buckets: 48},
				{Items: []int64{it.ID}, Start: end.Add(-29 * 24 * time.Hour), Step: 24 * time.Hour, Buckets: 30}} {
				if _, err := s.OccurrenceCounts(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
			if occs, err := s.Occurrences(ctx, store.OccurrenceQuery{ItemID: it.ID, Limit: 100}); err != nil || len(occs) == 0 {
				b.Fatal(len(occs), err)
			}
		}
	})
}

// BenchmarkWriteOccurrences measures the store's work for each occurrence the loader hands
// it, in batches of 250 (what it gathers in 50 ms at 5,000 a second), each occurrence with a
// 4 KB report of its own (numbers and uuid vary, as they do), into 50 items. It checkpoints
// every 600 batches and at the end, as the pipeline does every 30 s at 5,000 occurrences a
// second. cpu-µs/occurrence counts DuckDB's threads too.
func BenchmarkWriteOccurrences(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, DefaultConfig(b.TempDir()))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	frames := frames30() + `,` + frames30()
	const batch = 250
	n := 0
	cpu := cpuTime()
	for b.Loop() {
		occs := make([]telemetry.Occurrence, batch)
		for i := range occs {
			n++
			t := time.Now().UnixNano()
			occs[i] = telemetry.Occurrence{UUID: fmt.Sprintf("o%d", n), Project: "shop", Environment: "production",
				Level: "error", TimeUnixNano: t, ReceivedUnixNano: t, Fingerprint: fmt.Sprintf("fp%d", n%50), Grouping: "bench",
				Title: fmt.Sprintf("OrderError%d: order not found", n%50), Class: fmt.Sprintf("OrderError%d", n%50), CodeVersion: "1.4.2",
				Host: fmt.Sprintf("web-%d", n%4), PersonID: fmt.Sprintf("u%d", n%1000), UserIP: "203.0.113.9", Browser: "Firefox 120", OS: "Linux",
				TraceID: telemetry.TraceIDFromParts(uint64(n), 1), SpanID: telemetry.SpanIDFromUint64(uint64(n)),
				Data:   `{"body":{"trace":{"frames":[` + frames + fmt.Sprintf(`],"exception":{"class":"OrderError%d","message":"order %d not found in shard %x"}}},"uuid":"o%d"}`, n%50, n, n*7919, n),
				Ingest: telemetry.IngestInfo{Protocol: "rollbar"}}
		}
		if err := s.WriteOccurrences(ctx, occs); err != nil {
			b.Fatal(err)
		}
		if n%(600*batch) == 0 {
			if err := s.Checkpoint(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := s.Checkpoint(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(n), "cpu-µs/occurrence")
}

// frames30 is a 30-frame trace as JSON.
func frames30() string {
	var s string
	for i := range 30 {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf(`{"filename":"/srv/app/pkg%d/module%d.py","lineno":%d,"method":"handler_%d","code":"result = step_%d(request)"}`, i%7, i, 10+3*i, i, i)
	}
	return s
}
