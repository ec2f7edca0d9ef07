// Package xraytest makes the X-Ray segment documents lookout's tests and benchmarks send.
package xraytest

import (
	"fmt"
	"math/rand/v2"
)

// AppendSegment appends a Flask request's segment as the Python SDK sends it, begun start
// epoch seconds: an HTTP request, annotations and metadata, and three subsegments (local
// code, SQL, DynamoDB), about 1.3 kB and four spans. Ids, the client address, the response
// size, the user, the page and the request id come from rnd.
func AppendSegment(dst []byte, rnd *rand.Rand, start float64) []byte {
	return fmt.Appendf(dst, `{"trace_id":"1-%08x-%08x%016x","id":"%016x","name":"backend-flask","start_time":%.6f,"end_time":%.6f,"origin":"AWS::EC2::Instance",`+
		`"http":{"request":{"method":"GET","url":"https://api.example.com/api/activities/home","user_agent":"Mozilla/5.0","client_ip":"10.0.%d.%d"},"response":{"status":200,"content_length":%d}},`+
		`"aws":{"xray":{"sdk":"X-Ray for Python","sdk_version":"2.15.0","sampling_rule_name":"Cruddur"}},"service":{"runtime":"CPython","runtime_version":"3.11.7"},`+
		`"annotations":{"user_handle":"user%d","page":%d,"beta":%v},"metadata":{"default":{"request":{"items":%d,"filters":["recent","home"]}}},`+
		`"subsegments":[`+
		`{"id":"%016x","name":"mock-data","start_time":%.6f,"end_time":%.6f,"namespace":"local","metadata":{"default":{"rows":20}}},`+
		`{"id":"%016x","name":"postgres","start_time":%.6f,"end_time":%.6f,"namespace":"remote","sql":{"url":"postgres://db:5432/cruddur","database_type":"PostgreSQL","sanitized_query":"SELECT * FROM activities WHERE user_id = $1"}},`+
		`{"id":"%016x","name":"DynamoDB","start_time":%.6f,"end_time":%.6f,"namespace":"aws","aws":{"operation":"GetItem","region":"us-east-1","table_name":"messages","request_id":"R%d"},"http":{"response":{"status":200}}}]}`,
		uint32(start), rnd.Uint32(), rnd.Uint64(), rnd.Uint64()|1, start, start+0.05, rnd.IntN(256), rnd.IntN(200), 1000+rnd.IntN(2000),
		rnd.IntN(10000), rnd.IntN(50), rnd.IntN(2) == 0, rnd.IntN(7),
		rnd.Uint64()|1, start+0.001, start+0.01, rnd.Uint64()|1, start+0.01, start+0.03, rnd.Uint64()|1, start+0.03, start+0.045, rnd.Uint64())
}
