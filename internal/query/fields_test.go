package query

import (
	"slices"
	"sort"
	"testing"

	"lookout/internal/telemetry"
)

// A span with every optional part set shows, as a raw event, exactly the standard fields
// spans have (besides its attributes and timestamp): the list and raw events agree.
func TestSpanEventHasSpansStandardFields(t *testing.T) {
	sp := telemetry.Span{
		TraceID: telemetry.TraceIDFromParts(0, 7), SpanID: telemetry.SpanIDFromUint64(2), ParentSpanID: telemetry.SpanIDFromUint64(1),
		Name: "GET /", Kind: telemetry.SpanKindServer, StartUnixNano: 1e9, EndUnixNano: 1e9 + 2_500_000,
		Status: telemetry.Status{Code: telemetry.StatusError, Message: "boom"}, TraceState: "ot=th:0", SampleRate: 4,
		Scope:    &telemetry.Scope{Name: "lib", Version: "1.2"},
		Resource: &telemetry.Resource{Attributes: telemetry.Attributes{{Key: "service.name", Value: telemetry.StringValue("svc")}}},
		Events:   []telemetry.Event{{Name: "log"}},
	}
	ev := SpanEvent(&sp)
	var got, want []string
	for k := range ev {
		if k != "timestamp" {
			got = append(got, k)
		}
	}
	for _, f := range StandardFields() {
		if f.On&Spans != 0 {
			want = append(want, f.Name)
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("raw event fields %v, want %v", got, want)
	}
	if ev["trace.trace_id"] != "0000000000000007" || ev["duration_ms"] != 2.5 || ev["error"] != true || ev["meta.sample_rate"] != int64(4) || ev["type"] != "server" {
		t.Errorf("event: %v", ev)
	}
	// Standard fields a span lacks leave its attributes of those names showing.
	sp.Status, sp.Attributes = telemetry.Status{}, telemetry.Attributes{{Key: "error", Value: telemetry.StringValue("retry")}}
	if ev := SpanEvent(&sp); ev["error"] != "retry" || ev["status_message"] != nil {
		t.Errorf("without error status: %v", ev)
	}
}

func TestStandardFieldsListed(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range StandardFields() {
		if seen[f.Name] || f.Alias {
			t.Errorf("%s listed twice or as an alias", f.Name)
		}
		seen[f.Name] = true
		if g, ok := Standard(f.Name); !ok || g.Name != f.Name {
			t.Errorf("Standard(%q) = %v", f.Name, g)
		}
	}
	if f, ok := Standard("service_name"); !ok || f.Std != StdService || seen["service_name"] {
		t.Errorf("service_name: %+v", f)
	}
}
