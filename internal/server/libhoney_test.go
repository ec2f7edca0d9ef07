package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	libhoney "github.com/honeycombio/libhoney-go"
	"github.com/honeycombio/libhoney-go/transmission"

	"lookout/internal/server"
)

// TestLibhoney sends events with libhoney-go, Honeycomb's own Go client, over JSON and over
// msgpack (both zstd-compressed, libhoney's default), and reads them back as spans.
func TestLibhoney(t *testing.T) {
	srv := start(t)
	for _, msgpack := range []bool{false, true} {
		t.Run(fmt.Sprintf("msgpack=%v", msgpack), func(t *testing.T) {
			client, err := libhoney.NewClient(libhoney.ClientConfig{
				APIKey:  "hcxik_lookout-test-key",
				Dataset: "checkout-events",
				APIHost: "http://" + srv.Addrs().HTTP,
				Transmission: &transmission.Honeycomb{
					MaxBatchSize: 50, BatchTimeout: 20 * time.Millisecond, BatchSendTimeout: 10 * time.Second,
					MaxConcurrentBatches: 2, PendingWorkCapacity: 100, BlockOnResponse: true,
					EnableMsgpackEncoding: msgpack,
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			traceID := fmt.Sprintf("%032x", time.Now().UnixNano())
			start := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
			root := client.NewEvent()
			root.Timestamp = start
			root.Add(map[string]any{
				"trace.trace_id": traceID, "trace.span_id": "00000000000000a1", "name": "POST /checkout",
				"service.name": "checkout", "duration_ms": 42.0, "cart.items": 3, "cart.total": 99.5, "vip": true,
			})
			child := client.NewEvent()
			child.Timestamp = start.Add(5 * time.Millisecond)
			child.SampleRate = 4
			child.Add(map[string]any{
				"trace.trace_id": traceID, "trace.span_id": "00000000000000b2", "trace.parent_id": "00000000000000a1",
				"name": "charge card", "service.name": "payments", "duration_ms": 30, "error": true,
			})
			for _, ev := range []*libhoney.Event{root, child} {
				if err := ev.SendPresampled(); err != nil {
					t.Fatal(err)
				}
			}
			client.Flush()
			for i := 0; i < 2; i++ {
				select {
				case r := <-client.TxResponses():
					if r.Err != nil || r.StatusCode != 202 {
						t.Fatalf("event answer: status %d, err %v, body %s", r.StatusCode, r.Err, r.Body)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("no answer from lookout")
				}
			}
			client.Close()

			tr := waitForTrace(t, srv, traceID, 2)
			spans := map[string]jaegerSpan{}
			for _, s := range tr.Spans {
				spans[s.SpanID] = s
			}
			r, c := spans["00000000000000a1"], spans["00000000000000b2"]
			if r.OperationName != "POST /checkout" || r.StartTime != start.UnixMicro() || r.Duration != 42_000 {
				t.Errorf("root: %q start %d duration %d", r.OperationName, r.StartTime, r.Duration)
			}
			if kv, _ := tag(r.Tags, "cart.items"); kv.Value != float64(3) || kv.Type != "int64" {
				t.Errorf("cart.items = %+v", kv)
			}
			if kv, _ := tag(r.Tags, "cart.total"); kv.Value != 99.5 {
				t.Errorf("cart.total = %+v", kv)
			}
			if tr.Processes[r.ProcessID].ServiceName != "checkout" || tr.Processes[c.ProcessID].ServiceName != "payments" {
				t.Errorf("services %q and %q", tr.Processes[r.ProcessID].ServiceName, tr.Processes[c.ProcessID].ServiceName)
			}
			if len(c.References) != 1 || c.References[0].SpanID != "00000000000000a1" || c.Duration != 30_000 {
				t.Errorf("child: references %+v duration %d", c.References, c.Duration)
			}
			if kv, _ := tag(c.Tags, "error"); kv.Value != true {
				t.Errorf("child error tag = %+v", kv)
			}
		})
	}

	// A Honeycomb tool discovers the dataset and its columns.
	var datasets []struct{ Name, Slug string }
	honeycombGet(t, srv, "/1/datasets", &datasets)
	if len(datasets) != 1 || datasets[0].Name != "checkout-events" || datasets[0].Slug != "checkout-events" {
		t.Fatalf("datasets = %+v", datasets)
	}
	var columns []struct {
		KeyName string `json:"key_name"`
		Type    string `json:"type"`
	}
	honeycombGet(t, srv, "/1/columns/checkout-events", &columns)
	types := map[string]string{}
	for _, c := range columns {
		types[c.KeyName] = c.Type
	}
	for k, want := range map[string]string{"cart.items": "integer", "cart.total": "float", "vip": "boolean", "duration_ms": "float", "service.name": "string"} {
		if types[k] != want {
			t.Errorf("column %s type %q, want %q (all: %v)", k, types[k], want, types)
		}
	}
}

func honeycombGet(t *testing.T, srv *server.Server, path string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+srv.Addrs().HTTP+path, nil)
	req.Header.Set("X-Honeycomb-Team", "hcxik_lookout-test-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: status %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
