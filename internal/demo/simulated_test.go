package demo

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// simulate runs n requests, one every interval up to now, through the SDK into memory.
func simulate(t *testing.T, n int, now time.Time) []tracetest.SpanStub {
	t.Helper()
	mem := tracetest.NewInMemoryExporter()
	sim, shutdown, err := newSimulator(func() (sdktrace.SpanProcessor, error) {
		return sdktrace.NewSimpleSpanProcessor(mem), nil
	}, 42)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		sim.request(context.Background(), now.Add(-time.Duration(n-i)*interval))
	}
	spans := mem.GetSpans() // before shutdown, which empties the exporter
	shutdown()
	return spans
}

func attr(attrs []attribute.KeyValue, key string) attribute.Value {
	for _, a := range attrs {
		if string(a.Key) == key {
			return a.Value
		}
	}
	return attribute.Value{}
}

func resourceAttr(s tracetest.SpanStub, key string) string {
	v, _ := s.Resource.Set().Value(attribute.Key(key))
	return v.AsString()
}

func TestErrorsFollowTheHTTPStatus(t *testing.T) {
	now := time.Now()
	spans := simulate(t, 3000, now)
	roots, failedRoots := 0, 0
	for _, s := range spans {
		status := attr(s.Attributes, "http.response.status_code").AsInt64()
		isErr := s.Status.Code == codes.Error
		if s.EndTime.After(now) || s.EndTime.Before(s.StartTime) {
			t.Fatalf("%s ends at %v (start %v, now %v)", s.Name, s.EndTime, s.StartTime, now)
		}
		if status == 0 {
			continue
		}
		want := status >= 500 || status >= 400 && s.SpanKind == trace.SpanKindClient
		if isErr != want {
			t.Errorf("%s %s: HTTP %d, error status %v, want %v", resourceAttr(s, "service.name"), s.Name, status, isErr, want)
		}
		if !s.Parent.IsValid() {
			roots++
			if status >= 500 {
				failedRoots++
			}
		}
	}
	// Each failed request shows its cause: a database span failed with the error.
	failedQueries := 0
	for _, s := range spans {
		if attr(s.Attributes, "db.system").AsString() != "" && s.Status.Code == codes.Error && s.Status.Description != "" && len(s.Events) == 1 {
			failedQueries++
		}
	}
	if failedQueries != failedRoots {
		t.Errorf("%d failed database spans for %d failed requests, want one each", failedQueries, failedRoots)
	}
	if roots != 3000 {
		t.Errorf("%d root spans, want one per request", roots)
	}
	// About 1% of all requests and an eighth of the canary's (a quarter of the traffic, a
	// third of it reading messages, which does not fail): 1% + 25% * 2/3 * 1/8, about 3%.
	if failedRoots < 45 || failedRoots > 150 {
		t.Errorf("%d of 3000 requests failed, want about 3%%", failedRoots)
	}
}

func TestTheBadDeployIsSlowerAndFails(t *testing.T) {
	spans := simulate(t, 4000, time.Now())
	type stats struct {
		durations []time.Duration
		errors    int
	}
	byVersion := map[string]*stats{}
	for _, s := range spans {
		if resourceAttr(s, "service.name") != "cruddur-api" || s.SpanKind != trace.SpanKindServer || attr(s.Attributes, "http.route").AsString() != "/api/activities/home" {
			continue
		}
		v := resourceAttr(s, "service.version")
		if byVersion[v] == nil {
			byVersion[v] = &stats{}
		}
		byVersion[v].durations = append(byVersion[v].durations, s.EndTime.Sub(s.StartTime))
		if s.Status.Code == codes.Error {
			byVersion[v].errors++
		}
	}
	stable, canary := byVersion["1.9.0"], byVersion["1.10.0"]
	if stable == nil || canary == nil {
		t.Fatalf("versions seen: %v", byVersion)
	}
	median := func(d []time.Duration) time.Duration {
		slices.Sort(d)
		return d[len(d)/2]
	}
	if ms, mc := median(stable.durations), median(canary.durations); mc < 2*ms {
		t.Errorf("median GET /api/activities/home: canary %v, stable %v; want the canary at least twice as slow", mc, ms)
	}
	rate := func(s *stats) float64 { return float64(s.errors) / float64(len(s.durations)) }
	if rate(canary) < 4*rate(stable) || rate(canary) < 0.05 {
		t.Errorf("error rates: canary %.3f, stable %.3f; want the canary's several times higher", rate(canary), rate(stable))
	}
	share := float64(len(canary.durations)) / float64(len(canary.durations)+len(stable.durations))
	if share < 0.15 || share > 0.35 {
		t.Errorf("the canary serves %.2f of the requests, want about %.2f", share, canaryShare)
	}
}

func TestSearchIsTheSlowEndpoint(t *testing.T) {
	spans := simulate(t, 3000, time.Now())
	byRoute := map[string][]time.Duration{}
	for _, s := range spans {
		if s.SpanKind == trace.SpanKindServer && resourceAttr(s, "service.version") == "1.9.0" {
			r := attr(s.Attributes, "http.route").AsString()
			byRoute[r] = append(byRoute[r], s.EndTime.Sub(s.StartTime))
		}
	}
	median := func(d []time.Duration) time.Duration {
		slices.Sort(d)
		return d[len(d)/2]
	}
	search := median(byRoute["/api/activities/search"])
	for r, d := range byRoute {
		if r != "/api/activities/search" && median(d)*3 > search {
			t.Errorf("median %s %v, search %v: want search at least three times slower", r, median(d), search)
		}
	}
}
