package duckdb

import (
	"fmt"
	"math/rand/v2"
	"time"

	"lookout/internal/ingest/xray"
	"lookout/internal/telemetry"
)

// xraySpans returns n spans as the X-Ray decoder makes them from a Flask request's segment
// sent to the daemon endpoint: a segment with an HTTP request, annotations and metadata, and
// three subsegments (local code, SQL, DynamoDB), four spans a document, each with its
// aws.xray.document. Ids, times, the client address, the user and the request id vary.
func xraySpans(rnd *rand.Rand, n int, startNano int64) []telemetry.Span {
	spans := make([]telemetry.Span, 0, n+3)
	for i := 0; len(spans) < n; i++ {
		t0 := float64(startNano)/1e9 + float64(i)*4e-6
		doc := fmt.Appendf(nil, `{"trace_id":"1-%08x-%024x","id":"%016x","name":"backend-flask","start_time":%.6f,"end_time":%.6f,"origin":"AWS::EC2::Instance",`+
			`"http":{"request":{"method":"GET","url":"https://api.example.com/api/activities/home","user_agent":"Mozilla/5.0","client_ip":"10.0.%d.%d"},"response":{"status":200,"content_length":%d}},`+
			`"aws":{"xray":{"sdk":"X-Ray for Python","sdk_version":"2.15.0","sampling_rule_name":"Cruddur"}},"service":{"runtime":"CPython","runtime_version":"3.11.7"},`+
			`"annotations":{"user_handle":"user%d","page":%d,"beta":%v},"metadata":{"default":{"request":{"items":%d,"filters":["recent","home"]}}},`+
			`"subsegments":[`+
			`{"id":"%016x","name":"mock-data","start_time":%.6f,"end_time":%.6f,"namespace":"local","metadata":{"default":{"rows":20}}},`+
			`{"id":"%016x","name":"postgres","start_time":%.6f,"end_time":%.6f,"namespace":"remote","sql":{"url":"postgres://db:5432/cruddur","database_type":"PostgreSQL","sanitized_query":"SELECT * FROM activities WHERE user_id = $1"}},`+
			`{"id":"%016x","name":"DynamoDB","start_time":%.6f,"end_time":%.6f,"namespace":"aws","aws":{"operation":"GetItem","region":"us-east-1","table_name":"messages","request_id":"R%d"},"http":{"response":{"status":200}}}]}`,
			uint32(t0), rnd.Uint64()>>32, rnd.Uint64()|1, t0, t0+0.05, rnd.IntN(256), rnd.IntN(200), 1000+rnd.IntN(2000),
			rnd.IntN(10000), rnd.IntN(50), rnd.IntN(2) == 0, rnd.IntN(7),
			rnd.Uint64()|1, t0+0.001, t0+0.01, rnd.Uint64()|1, t0+0.01, t0+0.03, rnd.Uint64()|1, t0+0.03, t0+0.045, rnd.Uint64())
		d, err := xray.DecodeDocument(doc, time.Unix(0, startNano))
		if err != nil {
			panic(err)
		}
		spans = append(spans, d.Spans...)
	}
	return spans[:n]
}
