package cwlogs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

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
	h := New(storeSink{s}, s, &aws.Verifier{}, nil)
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
