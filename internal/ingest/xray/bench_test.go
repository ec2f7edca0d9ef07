package xray

import (
	"math/rand/v2"
	"testing"
	"time"

	"lookout/internal/ingest"
	"lookout/internal/ingest/xray/xraytest"
	"lookout/internal/telemetry"
)

// realisticSegment is a Flask request's segment as the Python SDK sends it (xraytest).
var realisticSegment = string(xraytest.AppendSegment(nil, rand.New(rand.NewPCG(1, 2)), 1796003618.267238))

// BenchmarkDecodeDocument measures the decoding of one realistic segment into its four spans.
func BenchmarkDecodeDocument(b *testing.B) {
	now := time.Now()
	b.SetBytes(int64(len(realisticSegment)))
	for b.Loop() {
		if _, err := DecodeDocument([]byte(realisticSegment), now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLogRecord measures the ingest log's record of a batch as the daemon endpoint
// writes one: 1,024 realistic segments (4,096 spans).
func BenchmarkLogRecord(b *testing.B) {
	var spans []telemetry.Span
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 1024 {
		doc := xraytest.AppendSegment(nil, rnd, 1796003618.267238+float64(i)*1e-3)
		d, err := DecodeDocument(doc, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		spans = append(spans, d.Spans...)
	}
	var size int
	for b.Loop() {
		size = len(ingest.Spans.Encode(spans))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(spans)), "ns/span")
	b.ReportMetric(float64(size)/float64(len(spans)), "B/span")
}
