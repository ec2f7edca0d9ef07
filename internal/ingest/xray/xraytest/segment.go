// Package xraytest makes the X-Ray segment documents lookout's tests and benchmarks send.
package xraytest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
)

// AppendSegment appends a Flask request's segment as the Python SDK (2.x) sends it, begun
// start epoch seconds: an HTTP request, annotations and metadata, and three subsegments (local
// code, SQL, DynamoDB), about 2 kB and four spans. Its layout is the SDK's own, byte for
// byte: json.dumps's spacing, members in the SDK's order, each subsegment with its parent,
// trace id and type, and times as Python writes a float, in the fewest digits that give it
// back. Ids, the client address, the response size, the user, the page and the request id
// come from rnd.
func AppendSegment(dst []byte, rnd *rand.Rand, start float64) []byte {
	traceID := fmt.Appendf(nil, "1-%08x-%08x%016x", uint32(start), rnd.Uint32(), rnd.Uint64())
	id := fmt.Appendf(nil, "%016x", rnd.Uint64()|1)
	dst = fmt.Appendf(dst, `{"id": "%s", "name": "backend-flask", "start_time": `, id)
	dst = appendSeconds(dst, start)
	dst = fmt.Appendf(dst, `, "in_progress": false, `+
		`"http": {"request": {"method": "GET", "url": "https://api.example.com/api/activities/home", "user_agent": "Mozilla/5.0", "client_ip": "10.0.%d.%d"}, "response": {"status": 200, "content_length": %d}}, `+
		`"annotations": {"user_handle": "user%d", "page": %d, "beta": %v}, "metadata": {"default": {"request": {"items": %d, "filters": ["recent", "home"]}}}, `+
		`"aws": {"xray": {"sdk": "X-Ray for Python", "sdk_version": "2.15.0", "sampling_rule_name": "Cruddur"}}, "subsegments": [`,
		rnd.IntN(256), rnd.IntN(200), 1000+rnd.IntN(2000), rnd.IntN(10000), rnd.IntN(50), rnd.IntN(2) == 0, rnd.IntN(7))
	subsegment := func(dst []byte, name string, from, to float64, namespace, before, after string) []byte {
		dst = fmt.Appendf(dst, `{"id": "%016x", "name": "%s", "start_time": `, rnd.Uint64()|1, name)
		dst = appendSeconds(dst, start+from)
		dst = fmt.Appendf(dst, `, "parent_id": "%s", "in_progress": false, %s"trace_id": "%s", "type": "subsegment", "namespace": "%s", %s"end_time": `,
			id, before, traceID, namespace, after)
		return appendSeconds(dst, start+to)
	}
	dst = subsegment(dst, "mock-data", 0.001, 0.01, "local", `"metadata": {"default": {"rows": 20}}, `, "")
	dst = append(dst, "}, "...)
	dst = subsegment(dst, "postgres", 0.01, 0.03, "remote", "",
		`"sql": {"url": "postgres://db:5432/cruddur", "database_type": "PostgreSQL", "sanitized_query": "SELECT * FROM activities WHERE user_id = $1"}, `)
	dst = append(dst, "}, "...)
	dst = subsegment(dst, "DynamoDB", 0.03, 0.045, "aws",
		fmt.Sprintf(`"http": {"response": {"status": 200}}, "aws": {"operation": "GetItem", "region": "us-east-1", "table_name": "messages", "request_id": "R%d"}, `, rnd.Uint64()), "")
	dst = fmt.Appendf(dst, `}], "trace_id": "%s", "service": {"runtime": "CPython", "runtime_version": "3.11.7"}, "origin": "AWS::EC2::Instance", "end_time": `, traceID)
	dst = appendSeconds(dst, start+0.05)
	return append(dst, '}')
}

// appendSeconds appends epoch seconds as Python's json.dumps writes a float of that size:
// the fewest digits that read back as the same float, without an exponent, and ".0" after a
// whole number.
func appendSeconds(dst []byte, s float64) []byte {
	n := len(dst)
	dst = strconv.AppendFloat(dst, s, 'f', -1, 64)
	if !bytes.ContainsRune(dst[n:], '.') {
		dst = append(dst, ".0"...)
	}
	return dst
}
