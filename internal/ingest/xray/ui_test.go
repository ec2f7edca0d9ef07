package xray

import (
	"testing"
	"time"

	"lookout/internal/xray/sampling"
)

// TestSamplingMinutes files reports by the minute they came in: the newest in the last
// minute, one 90 s old in the one before the last, one over an hour old in none.
func TestSamplingMinutes(t *testing.T) {
	now := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	at := func(ago time.Duration) float64 { return float64(now.Add(-ago).UnixNano()) / 1e9 }
	stats := []sampling.Statistic{
		{RuleName: "Cruddur", ClientID: "a", Timestamp: at(61 * time.Minute), RequestCount: 1000, SampledCount: 1000},
		{RuleName: "Cruddur", ClientID: "a", Timestamp: at(90 * time.Second), RequestCount: 40, SampledCount: 5, BorrowCount: 1},
		{RuleName: "Default", ClientID: "a", Timestamp: at(30 * time.Second), RequestCount: 7, SampledCount: 1},
		{RuleName: "Cruddur", ClientID: "a", Timestamp: at(20 * time.Second), RequestCount: 60, SampledCount: 6},
		{RuleName: "Cruddur", ClientID: "b", Timestamp: at(10 * time.Second), RequestCount: 60, SampledCount: 6, BorrowCount: 1},
	}
	got := samplingMinutes(stats, now)
	if len(got) != 2 || got[0].RuleName != "Cruddur" || got[1].RuleName != "Default" {
		t.Fatalf("rules %+v, want Cruddur and Default in the order reported", got)
	}
	c, d := got[0], got[1]
	if len(c.Requests) != 60 || len(c.Sampled) != 60 || len(c.Borrowed) != 60 {
		t.Fatalf("%d, %d and %d minutes, want 60 each", len(c.Requests), len(c.Sampled), len(c.Borrowed))
	}
	want := map[int][3]int64{58: {40, 5, 1}, 59: {120, 12, 1}}
	var total int64
	for k := range 60 {
		w := want[k]
		if c.Requests[k] != w[0] || c.Sampled[k] != w[1] || c.Borrowed[k] != w[2] {
			t.Errorf("minute %d: %d requests, %d sampled, %d borrowed; want %v", k, c.Requests[k], c.Sampled[k], c.Borrowed[k], w)
		}
		total += c.Requests[k]
	}
	if total != 160 {
		t.Errorf("%d requests in the hour, want 160: the report over an hour old is left out", total)
	}
	if d.Requests[59] != 7 || d.Sampled[59] != 1 {
		t.Errorf("Default's last minute: %d requests, %d sampled; want 7 and 1", d.Requests[59], d.Sampled[59])
	}
}
