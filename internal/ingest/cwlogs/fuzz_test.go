package cwlogs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"lookout/internal/aws"
	"lookout/internal/store/duckdb"
	"lookout/internal/telemetry"
)

// storeSink writes straight to the store, so that reads see what the fuzzer put.
type storeSink struct{ s *duckdb.Store }

func (k storeSink) Write(ctx context.Context, r []telemetry.LogRecord) error {
	return k.s.WriteLogs(ctx, r)
}
func (storeSink) Rejected(int) {}

// FuzzRequest sends arbitrary JSON 1.1 requests to every operation, against a real store
// holding a group and a stream. Each must be answered 200 with a JSON object, or 400 in AWS's
// error shape: never a crash, and never a 500, which would mean lookout failed.
func FuzzRequest(f *testing.F) {
	ctx := context.Background()
	s, err := duckdb.Open(ctx, duckdb.Config{MemoryLimit: "128MB", Threads: 1, Writers: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	h := New(storeSink{s}, s, &aws.Verifier{}, nil, nil)
	if err := s.CreateLogGroup(ctx, "g", nil); err != nil {
		f.Fatal(err)
	}
	if err := s.CreateLogStream(ctx, "g", "s"); err != nil {
		f.Fatal(err)
	}
	now := time.Now().UnixMilli()
	seeds := map[string]string{
		"PutLogEvents":          fmt.Sprintf(`{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":%d,"message":"GET /a 200"},{"timestamp":%d,"message":"{\"a\":1}"}],"sequenceToken":"x"}`, now-1, now),
		"GetLogEvents":          `{"logGroupName":"g","logStreamName":"s","limit":2,"startFromHead":true,"nextToken":"f/0000000000000000000000000000000000000000000000000000000000/s"}`,
		"FilterLogEvents":       `{"logGroupIdentifier":"arn:aws:logs:eu-west-1:000000000000:log-group:g","filterPattern":"{ $.a = 1 } ","limit":1,"startTime":0,"endTime":99999999999999}`,
		"CreateLogGroup":        `{"logGroupName":"h","tags":{"k":"v"}}`,
		"CreateLogStream":       `{"logGroupName":"g","logStreamName":"t"}`,
		"DeleteLogStream":       `{"logGroupName":"g","logStreamName":"t"}`,
		"DescribeLogGroups":     `{"logGroupNamePrefix":"g","limit":1,"nextToken":"o/1"}`,
		"DescribeLogStreams":    `{"logGroupName":"g","orderBy":"LastEventTime","descending":true,"limit":50}`,
		"PutRetentionPolicy":    `{"logGroupName":"g","retentionInDays":3653}`,
		"DeleteRetentionPolicy": `{"logGroupName":"g"}`,
		"TagResource":           `{"resourceArn":"arn:aws:logs:us-east-1:000000000000:log-group:g","tags":{"a":"b"}}`,
		"UntagResource":         `{"resourceArn":"arn:aws:logs:us-east-1:000000000000:log-group:g","tagKeys":["a"]}`,
		"ListTagsLogGroup":      `{"logGroupName":"g"}`,
		"StartQuery":            `{"logGroupNames":["g"],"startTime":0,"endTime":99999999999,"queryString":"filter @message like /GET/ | stats count(*) by bin(1m)"}`,
		"GetQueryResults":       `{"queryId":"x"}`,
		"GetLogRecord":          `{"logRecordPointer":"ZwAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMA"}`,
		"GetLogGroupFields":     `{"logGroupName":"g","time":1700000000}`,
		"StartLiveTail":         `{"logGroupIdentifiers":["g"]}`, // Live Tail is off here: answered at once
		"Nope":                  `{}`,
	}
	for op, body := range seeds {
		f.Add(op, []byte(body))
	}
	f.Fuzz(func(t *testing.T, op string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", targetPrefix+op)
		w := httptest.NewRecorder()
		aws.WithRequestID(http.HandlerFunc(h.serve)).ServeHTTP(w, req)
		if w.Header().Get("X-Amzn-RequestId") == "" {
			t.Fatal("no request id")
		}
		var out map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("status %d with a body that is not a JSON object: %q", w.Code, w.Body.Bytes())
		}
		switch w.Code {
		case http.StatusOK:
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			code, _ := out["__type"].(string)
			msg, _ := out["message"].(string)
			if code == "" || msg == "" || w.Header().Get("X-Amzn-ErrorType") != code {
				t.Fatalf("error not in AWS's shape: %q", w.Body.Bytes())
			}
		default:
			t.Fatalf("status %d: %q", w.Code, w.Body.Bytes())
		}
	})
}

// FuzzLiveTailEvents encodes session updates of arbitrary messages and names as Live Tail
// sends them, and decodes them with the SDK's event-stream decoder: what comes out is what
// went in, with valid checksums.
func FuzzLiveTailEvents(f *testing.F) {
	f.Add("ERROR a", "s1", "g", 1, int64(700))
	f.Add("\x00\xff\"\\\u2028", "", "arn:aws:logs:x:0:log-group:g", 3, int64(1))
	f.Fuzz(func(t *testing.T, msg, stream, group string, n int, at int64) {
		n = int(uint(n) % 4) // sampling is TestLiveTailGoSDK's: it does not depend on the text
		records := make([]telemetry.LogRecord, n)
		for i := range records {
			records[i] = telemetry.LogRecord{Group: "g", Stream: stream, Body: telemetry.StringValue(msg), TimeUnixNano: at * 1e6, ObservedTimeUnixNano: at * 1e6}
		}
		var buf bytes.Buffer
		if err := eventstream.NewEncoder().Encode(&buf, eventMessage(":event-type", "sessionUpdate", "event", sessionUpdate(records, 0, map[string]string{"g": group}))); err != nil {
			t.Fatal(err)
		}
		m, err := eventstream.NewDecoder().Decode(&buf, nil)
		if err != nil {
			t.Fatalf("decoding what was encoded: %v", err)
		}
		if m.Headers.Get(":event-type").String() != "sessionUpdate" || m.Headers.Get(":message-type").String() != "event" {
			t.Fatalf("headers %v", m.Headers)
		}
		var u struct {
			SessionMetadata struct{ Sampled bool }
			SessionResults  []liveTailEvent
		}
		if err := json.Unmarshal(m.Payload, &u); err != nil {
			t.Fatal(err)
		}
		if len(u.SessionResults) != min(n, liveTailMaxEvents) || u.SessionMetadata.Sampled != (n > liveTailMaxEvents) {
			t.Fatalf("%d records gave %d results, sampled %v", n, len(u.SessionResults), u.SessionMetadata.Sampled)
		}
		// encoding/json writes each byte that is not UTF-8 as U+FFFD, as ranging over a string reads it.
		valid := func(s string) string { return strings.Map(func(r rune) rune { return r }, s) }
		want := liveTailEvent{LogStreamName: valid(stream), LogGroupIdentifier: valid(group), Message: valid(msg), Timestamp: at, IngestionTime: at}
		for _, e := range u.SessionResults {
			if e != want {
				t.Fatalf("result %+v, want %+v", e, want)
			}
		}
	})
}
