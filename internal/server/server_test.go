package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"lookout/internal/server"
)

// start boots a real lookout on free loopback ports with its data in a temporary directory.
func start(t testing.TB, mutate ...func(*server.Config)) *server.Server {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.HTTPAddr, cfg.GRPCAddr, cfg.UIAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.XRayAddr = "127.0.0.1:0"
	cfg.Store.DuckDB.MemoryLimit = "128MB"
	for _, m := range mutate {
		m(&cfg)
	}
	warnings := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(warnings, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := server.Start(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Generous: a loaded machine may take seconds to load and checkpoint what a test
		// sent, and under the race detector, beside the other packages' tests, over a
		// minute (the browser test, once); the bound is there to catch a shutdown that hangs.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		began := time.Now()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown after %v: %v\nlookout's warnings:\n%s", time.Since(began), err, warnings)
		} else if took := time.Since(began); took > 5*time.Second {
			t.Logf("lookout took %v to stop:\n%s", took, warnings)
		}
	})
	return srv
}

// lockedBuffer keeps the first MiB the server logs, for a failing test to show.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() < 1<<20 {
		b.buf.Write(p)
	}
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// getJSON fetches a query API path into v and returns the status.
// apiClient is the tests' HTTP client. Not http.DefaultClient: the X-Ray Go SDK's sampling
// (aws-sdk-go v1's session) writes to it as it starts when AWS_CA_BUNDLE is set.
var apiClient = &http.Client{Timeout: time.Minute}

func getJSON(t *testing.T, srv *server.Server, path string, v any) int {
	t.Helper()
	resp, err := apiClient.Get(fmt.Sprintf("http://%s%s", srv.Addrs().UI, path))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
	return resp.StatusCode
}

// Jaeger's JSON, declared here independently of the api package.
type jaegerResponse struct {
	Data   []jaegerTrace `json:"data"`
	Errors []struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	} `json:"errors"`
}

type jaegerTrace struct {
	TraceID   string                   `json:"traceID"`
	Spans     []jaegerSpan             `json:"spans"`
	Processes map[string]jaegerProcess `json:"processes"`
}

type jaegerSpan struct {
	TraceID       string `json:"traceID"`
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	References    []struct {
		RefType string `json:"refType"`
		TraceID string `json:"traceID"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	StartTime int64      `json:"startTime"`
	Duration  int64      `json:"duration"`
	Tags      []jaegerKV `json:"tags"`
	Logs      []struct {
		Timestamp int64      `json:"timestamp"`
		Fields    []jaegerKV `json:"fields"`
	} `json:"logs"`
	ProcessID string `json:"processID"`
}

type jaegerKV struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

type jaegerProcess struct {
	ServiceName string     `json:"serviceName"`
	Tags        []jaegerKV `json:"tags"`
}

func tag(kvs []jaegerKV, key string) (jaegerKV, bool) {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv, true
		}
	}
	return jaegerKV{}, false
}

// waitForTrace polls until the trace has n spans: an acknowledged span is durable at once
// and visible to queries as soon as the loader has moved it into the store.
func waitForTrace(t *testing.T, srv *server.Server, traceID string, n int) jaegerTrace {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got jaegerResponse
		status := getJSON(t, srv, "/api/traces/"+traceID, &got)
		if status == http.StatusOK && len(got.Data) == 1 && len(got.Data[0].Spans) == n {
			return got.Data[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s: status %d, %d traces, errors %v; want %d spans", traceID, status, len(got.Data), got.Errors, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
