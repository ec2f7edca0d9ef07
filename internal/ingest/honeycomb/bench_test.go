package honeycomb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"lookout/internal/telemetry"
)

type discardSink struct{}

func (discardSink) Write(context.Context, []telemetry.Span) error { return nil }
func (discardSink) Rejected(int)                                  {}

// BenchmarkBatch measures the Events API receiver alone (decode, convert, answer) on batches
// of 50 events of 12 fields, libhoney's default batch size.
func BenchmarkBatch(b *testing.B) {
	events := make([]map[string]any, 50)
	for i := range events {
		events[i] = map[string]any{
			"time": time.Now().Add(time.Duration(i) * time.Millisecond).Format(time.RFC3339Nano),
			"data": map[string]any{
				"trace.trace_id": fmt.Sprintf("%032x", i+1), "trace.span_id": fmt.Sprintf("%016x", i+1),
				"name": "GET /api/cart", "service.name": "cart", "duration_ms": 12.5,
				"http.method": "GET", "http.status_code": 200, "user.id": fmt.Sprintf("u%d", i),
				"request.id": fmt.Sprintf("%016x", i*7919), "cache.hit": i%2 == 0, "db.rows": i, "region": "eu-west-1",
			},
		}
	}
	body, _ := json.Marshal(events)
	h := NewHandler(discardSink{}, nil)
	mux := http.NewServeMux()
	h.Register(mux)
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := httptest.NewRequest("POST", "/1/batch/bench", bytes.NewReader(body))
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
	b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "events/s")
}
