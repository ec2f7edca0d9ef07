package main

import (
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// TestMaterialize checks that requests made from templates are valid, realistic and carry
// ids that never repeat.
func TestMaterialize(t *testing.T) {
	const seed, spansPerRequest = 42, 500
	var templates []*template
	for i := 0; i < 4; i++ {
		tm, err := buildTemplate(seed, i, spansPerRequest)
		if err != nil {
			t.Fatal(err)
		}
		templates = append(templates, tm)
	}
	traceIDs := map[string]bool{}
	spanIDs := map[string]bool{}
	requestIDs := map[string]bool{}
	var spans, errorSpans, attrs int
	services := map[string]bool{}
	names := map[string]bool{}
	now := time.Now().UnixNano()
	var buf []byte
	for seq := uint64(1); seq <= 40; seq++ {
		tm := templates[seq%uint64(len(templates))]
		ends := make([]int64, len(tm.traceSpans))
		for i := range ends {
			ends[i] = now - int64(i)*int64(time.Second)
		}
		buf = tm.materialize(buf, seed, seq, ends)
		var req collectortrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(buf, &req); err != nil {
			t.Fatal(err)
		}
		inRequest := map[string]*tracepb.Span{}
		var all []*tracepb.Span
		for _, rs := range req.ResourceSpans {
			if n := len(rs.Resource.Attributes); n != 5 {
				t.Fatalf("resource has %d attributes, want 5", n)
			}
			services[rs.Resource.Attributes[0].Value.GetStringValue()] = true
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					inRequest[string(sp.SpanId)] = sp
					all = append(all, sp)
				}
			}
		}
		if len(all) != spansPerRequest {
			t.Fatalf("request has %d spans, want %d", len(all), spansPerRequest)
		}
		hi, lo := traceID(seed, seq, 0)
		wantFirst := make([]byte, 16)
		for i := 0; i < 8; i++ {
			wantFirst[i] = byte(hi >> (56 - 8*i))
			wantFirst[8+i] = byte(lo >> (56 - 8*i))
		}
		sawFirst := false
		traceStart := map[string]uint64{}
		for _, sp := range all {
			spans++
			attrs += len(sp.Attributes)
			names[sp.Name] = true
			tid := string(sp.TraceId)
			if tid == string(wantFirst) {
				sawFirst = true
			}
			traceIDs[tid] = true
			key := tid + string(sp.SpanId)
			if spanIDs[key] {
				t.Fatalf("span id repeats: %x", sp.SpanId)
			}
			spanIDs[key] = true
			if len(sp.ParentSpanId) > 0 {
				p, ok := inRequest[string(sp.ParentSpanId)]
				if !ok || string(p.TraceId) != tid {
					t.Fatalf("span %x has a parent that is not in its trace", sp.SpanId)
				}
				if sp.StartTimeUnixNano < p.StartTimeUnixNano || sp.EndTimeUnixNano > p.EndTimeUnixNano {
					t.Fatalf("span %x is not within its parent", sp.SpanId)
				}
			} else {
				traceStart[tid] = sp.StartTimeUnixNano
			}
			if sp.EndTimeUnixNano < sp.StartTimeUnixNano || sp.EndTimeUnixNano > uint64(now) || sp.StartTimeUnixNano < uint64(now-time.Hour.Nanoseconds()) {
				t.Fatalf("span times %d..%d are not in the last hour before %d", sp.StartTimeUnixNano, sp.EndTimeUnixNano, now)
			}
			if sp.Status.GetCode() == tracepb.Status_STATUS_CODE_ERROR {
				errorSpans++
				if len(sp.Events) != 1 || sp.Events[0].Name != "exception" || sp.Events[0].TimeUnixNano != sp.EndTimeUnixNano {
					t.Fatalf("error span without its exception event: %v", sp.Events)
				}
			}
			for _, kv := range sp.Attributes {
				if kv.Key == requestIDKey {
					requestIDs[kv.Value.GetStringValue()] = true
				}
			}
		}
		if !sawFirst {
			t.Fatalf("request %d does not hold the trace id traceID reports", seq)
		}
		if len(traceStart) != len(tm.traceSpans) {
			t.Fatalf("request has %d root spans, want one per trace (%d)", len(traceStart), len(tm.traceSpans))
		}
	}
	if len(services) != len(serviceIndex) {
		t.Errorf("%d services, want %d", len(services), len(serviceIndex))
	}
	if len(names) < 25 {
		t.Errorf("%d span names, want about 30", len(names))
	}
	if a := float64(attrs) / float64(spans); a < 9 || a > 11 {
		t.Errorf("%.1f attributes per span, want about 10", a)
	}
	if e := float64(errorSpans) / float64(spans); e < 0.01 || e > 0.03 {
		t.Errorf("%.3f of spans are errors, want about 0.02", e)
	}
	if len(requestIDs) != len(traceIDs) {
		t.Errorf("%d request ids for %d traces, want one each", len(requestIDs), len(traceIDs))
	}
	t.Logf("%d spans in %d traces, %d names, %.1f attributes/span, %.1f%% errors", spans, len(traceIDs), len(names), float64(attrs)/float64(spans), 100*float64(errorSpans)/float64(spans))
}

func TestQuantile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3}
	if m := median(xs); m != 3 {
		t.Errorf("median %v, want 3", m)
	}
	if q := quantile([]float64{0, 10}, 0.95); q != 9.5 {
		t.Errorf("p95 %v, want 9.5", q)
	}
	if g := group(1234567); g != "1,234,567" {
		t.Errorf("group = %q", g)
	}
}
