package duckdb

import (
	"math/rand/v2"
	"time"

	"lookout/internal/ingest/xray"
	"lookout/internal/ingest/xray/xraytest"
	"lookout/internal/telemetry"
)

// xraySpans returns n spans as the X-Ray decoder makes them from a Flask request's segment
// sent to the daemon endpoint: a segment with an HTTP request, annotations and metadata, and
// three subsegments (local code, SQL, DynamoDB), four spans a document, each with its
// aws.xray.document. Ids, times, the client address, the user and the request id vary.
func xraySpans(rnd *rand.Rand, n int, startNano int64) []telemetry.Span {
	spans := make([]telemetry.Span, 0, n+3)
	for i := 0; len(spans) < n; i++ {
		doc := xraytest.AppendSegment(nil, rnd, float64(startNano)/1e9+float64(i)*4e-6)
		d, err := xray.DecodeDocument(doc, time.Unix(0, startNano))
		if err != nil {
			panic(err)
		}
		spans = append(spans, d.Spans...)
	}
	return spans[:n]
}
