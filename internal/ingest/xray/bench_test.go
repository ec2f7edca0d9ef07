package xray

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"lookout/internal/ingest"
	"lookout/internal/telemetry"
)

// realisticSegment is a Flask request's segment as the Python SDK sends it: an HTTP request,
// annotations, metadata, and three subsegments (local code, SQL, DynamoDB); about 1.3 kB.
const realisticSegment = `{"trace_id":"1-6b0cd722-547b7d678bf2d20e5de43bd5","id":"fa816986ff39bb79","name":"backend-flask","start_time":1796003618.267238,"end_time":1796003618.317238,"origin":"AWS::EC2::Instance",` +
	`"http":{"request":{"method":"GET","url":"https://api.example.com/api/activities/home","user_agent":"Mozilla/5.0","client_ip":"10.0.3.4"},"response":{"status":200,"content_length":1834}},` +
	`"aws":{"xray":{"sdk":"X-Ray for Python","sdk_version":"2.15.0","sampling_rule_name":"Cruddur"}},"service":{"runtime":"CPython","runtime_version":"3.11.7"},` +
	`"annotations":{"user_handle":"andrewbrown","page":3,"beta":true},"metadata":{"default":{"request":{"items":3,"filters":["recent","home"]}}},` +
	`"subsegments":[` +
	`{"id":"891e8df36a2c4fd3","name":"mock-data","start_time":1796003618.268,"end_time":1796003618.277,"namespace":"local","metadata":{"default":{"rows":20}}},` +
	`{"id":"d556352d7c8d7fb1","name":"postgres","start_time":1796003618.277,"end_time":1796003618.297,"namespace":"remote","sql":{"url":"postgres://db:5432/cruddur","database_type":"PostgreSQL","sanitized_query":"SELECT * FROM activities WHERE user_id = $1"}},` +
	`{"id":"53995c3f42cd8ad8","name":"DynamoDB","start_time":1796003618.297,"end_time":1796003618.312,"namespace":"aws","aws":{"operation":"GetItem","region":"us-east-1","table_name":"messages","request_id":"R7"},"http":{"response":{"status":200}}}]}`

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
// writes one: 1,024 realistic segments (4,096 spans), each with ids and a user of its own.
func BenchmarkLogRecord(b *testing.B) {
	var spans []telemetry.Span
	for i := range 1024 {
		doc := strings.NewReplacer("547b7d678bf2d20e5de43bd5", fmt.Sprintf("%024x", i*7919+1), "fa816986ff39bb79", fmt.Sprintf("%016x", i*4+1),
			"891e8df36a2c4fd3", fmt.Sprintf("%016x", i*4+2), "d556352d7c8d7fb1", fmt.Sprintf("%016x", i*4+3),
			"53995c3f42cd8ad8", fmt.Sprintf("%016x", i*4+4), "andrewbrown", fmt.Sprintf("user%d", i)).Replace(realisticSegment)
		d, err := DecodeDocument([]byte(doc), time.Now())
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
