package xray

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// A store filled with X-Ray-shaped traces for the query benchmarks: the spans the decoder
// makes of Cruddur's segments (a React frontend calling a Flask backend, which queries
// Postgres and DynamoDB and sometimes calls a users service), cloned with new ids, times,
// users and outcomes, so that filling 10M spans takes minutes rather than decoding hours.

// fillUser names the i-th user the traces have; the first is "andrew".
func fillUser(i int) string {
	if i == 0 {
		return "andrew"
	}
	return fmt.Sprintf("user%04d", i)
}

// traceTemplate is the spans of one trace shape with one outcome, as decoded.
type traceTemplate struct {
	spans []telemetry.Span
	start int64
}

// Outcomes of the backend segment: most requests succeed, some fail on the server (fault),
// some on the client's side (error), and DynamoDB sometimes throttles.
var fillOutcomes = []struct {
	weight          int
	backend, dynamo string // extra fields of the backend segment and of its DynamoDB call
}{
	{945, `"http":{"request":{"method":"GET","url":"https://api.example.com/api/activities/home"},"response":{"status":200}}`, `"http":{"response":{"status":200}}`},
	{20, `"fault":true,"http":{"request":{"method":"GET","url":"https://api.example.com/api/activities/home"},"response":{"status":500}},"cause":{"exceptions":[{"id":"0c3f2e1d4b5a6978","type":"KeyError","message":"'handle'"}]}`, `"http":{"response":{"status":200}}`},
	{30, `"error":true,"http":{"request":{"method":"GET","url":"https://api.example.com/api/users/nobody"},"response":{"status":404}}`, `"http":{"response":{"status":200}}`},
	{5, `"http":{"request":{"method":"GET","url":"https://api.example.com/api/activities/home"},"response":{"status":200}}`, `"throttle":true,"error":true,"http":{"response":{"status":429}}`},
}

// traceDocuments are the segment documents of a trace: frontend (when withFrontend), backend
// and, when withUsers, the users service the backend calls.
func traceDocuments(backend, dynamo string, withFrontend, withUsers bool) []string {
	const trace = `"trace_id":"1-6b0cd722-547b7d678bf2d20e5de43bd5"`
	var docs []string
	backendParent := ""
	if withFrontend {
		docs = append(docs, `{`+trace+`,"id":"a000000000000001","name":"frontend-react-js","start_time":1796003618.200,"end_time":1796003618.400,"origin":"AWS::ECS::Container",`+
			`"http":{"request":{"method":"GET","url":"https://app.example.com/home","user_agent":"Mozilla/5.0","client_ip":"10.0.3.4"},"response":{"status":200}},"user":"U",`+
			`"annotations":{"user":"U","page":"home"},`+
			`"subsegments":[{"id":"a000000000000002","name":"backend-flask","start_time":1796003618.210,"end_time":1796003618.390,"namespace":"remote",`+
			`"http":{"request":{"method":"GET","url":"https://api.example.com/api/activities/home"},"response":{"status":200}}}]}`)
		backendParent = `"parent_id":"a000000000000002",`
	}
	usersCall, usersSegment := "", ""
	if withUsers {
		usersCall = `,{"id":"b000000000000005","name":"users-service","start_time":1796003618.300,"end_time":1796003618.340,"namespace":"remote","http":{"request":{"method":"GET","url":"http://users:8080/users/U"},"response":{"status":200}}}`
		usersSegment = `{` + trace + `,"id":"c000000000000001","parent_id":"b000000000000005","name":"users-service","start_time":1796003618.302,"end_time":1796003618.338,"origin":"AWS::ECS::Container",` +
			`"http":{"request":{"method":"GET","url":"http://users:8080/users/U"},"response":{"status":200}},"annotations":{"user":"U"},` +
			`"subsegments":[{"id":"c000000000000002","name":"DynamoDB","start_time":1796003618.305,"end_time":1796003618.330,"namespace":"aws","aws":{"operation":"GetItem","table_name":"users"},"http":{"response":{"status":200}}}]}`
	}
	docs = append(docs, `{`+trace+`,`+backendParent+`"id":"b000000000000001","name":"backend-flask","start_time":1796003618.220,"end_time":1796003618.380,"origin":"AWS::EC2::Instance",`+backend+`,"user":"U",`+
		`"aws":{"xray":{"sdk":"X-Ray for Python","sdk_version":"2.15.0","sampling_rule_name":"Cruddur"}},`+
		`"annotations":{"user":"U","page":3,"beta":true},"metadata":{"default":{"request":{"items":3}}},`+
		`"subsegments":[`+
		`{"id":"b000000000000002","name":"mock-data","start_time":1796003618.225,"end_time":1796003618.235,"namespace":"local"},`+
		`{"id":"b000000000000003","name":"postgres","start_time":1796003618.240,"end_time":1796003618.270,"namespace":"remote","sql":{"url":"postgres://db:5432/cruddur","database_type":"PostgreSQL","sanitized_query":"SELECT * FROM activities WHERE user_id = $1"}},`+
		`{"id":"b000000000000004","name":"DynamoDB","start_time":1796003618.270,"end_time":1796003618.295,"namespace":"aws","aws":{"operation":"Query","table_name":"messages"},`+dynamo+`}`+
		usersCall+`]}`)
	if withUsers {
		docs = append(docs, usersSegment)
	}
	return docs
}

// fillTemplates decodes every trace shape with every outcome; each is listed as often as its
// weight says, out of 1,000.
func fillTemplates() ([]*traceTemplate, error) {
	var out []*traceTemplate
	for _, o := range fillOutcomes {
		for shape, weight := range []int{60, 25, 15} { // frontend→backend, …→users, backend alone
			t := &traceTemplate{}
			for _, doc := range traceDocuments(o.backend, o.dynamo, shape < 2, shape == 1) {
				d, err := DecodeDocument([]byte(doc), time.Now())
				if err != nil {
					return nil, fmt.Errorf("template: %w", err)
				}
				t.spans = append(t.spans, d.Spans...)
			}
			t.start = t.spans[0].StartUnixNano
			for range o.weight * weight / 100 {
				out = append(out, t)
			}
		}
	}
	return out, nil
}

// fillTraces writes traces of about spans spans in all, their starts spread evenly over
// [start, start+span), with users users.
func fillTraces(ctx context.Context, w store.SpanWriter, spans, users int, start time.Time, span time.Duration) error {
	templates, err := fillTemplates()
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const batch = 20_000
	traces := spans * 100 / 645 // 6.45 spans a trace on average
	step := span.Nanoseconds() / int64(traces)
	var buf []telemetry.Span
	for i := range traces {
		t := templates[rng.IntN(len(templates))]
		at := start.UnixNano() + int64(i)*step
		id := telemetry.TraceIDFromParts(uint64(at/1e9)<<32|uint64(rng.Uint32()), rng.Uint64())
		user := telemetry.StringValue(fillUser(rng.IntN(users)))
		jitter := rng.Int64N(40e6) // response times vary by up to 40 ms
		ids := map[telemetry.SpanID]telemetry.SpanID{}
		for _, sp := range t.spans {
			ids[sp.SpanID] = telemetry.SpanIDFromUint64(rng.Uint64() | 1)
		}
		for _, sp := range t.spans {
			sp.TraceID, sp.SpanID = id, ids[sp.SpanID]
			if p, ok := ids[sp.ParentSpanID]; ok {
				sp.ParentSpanID = p
			}
			sp.StartUnixNano += at - t.start
			sp.EndUnixNano += at - t.start + jitter
			sp.Attributes = append(telemetry.Attributes(nil), sp.Attributes...)
			for j := range sp.Attributes {
				if k := sp.Attributes[j].Key; k == "user" || k == AttrUser {
					sp.Attributes[j].Value = user
				}
			}
			buf = append(buf, sp)
		}
		if len(buf) >= batch || i == traces-1 {
			if err := w.WriteSpans(ctx, buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	return nil
}
