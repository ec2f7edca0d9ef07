package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	libhoney "github.com/honeycombio/libhoney-go"
	"github.com/honeycombio/libhoney-go/transmission"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"lookout/internal/server"
)

// TestHoneycombQueryAPI sends events with libhoney-go and spans with the OpenTelemetry SDK
// (with Honeycomb's headers), then asks Honeycomb's Query Data API what a Honeycomb tool
// would, over plain HTTP, and checks the answers against values computed here.
func TestHoneycombQueryAPI(t *testing.T) {
	srv := start(t)
	const key = "hcaik_01hqk4k20zmkm9ytrjh6pqa0pr0xyt3qafb4f7kv0gss0jecff"

	// 300 libhoney events in dataset "shop", some sampled at 1 in 3.
	client, err := libhoney.NewClient(libhoney.ClientConfig{
		APIKey: key, Dataset: "shop", APIHost: "http://" + srv.Addrs().HTTP,
		Transmission: &transmission.Honeycomb{MaxBatchSize: 100, BatchTimeout: 20 * time.Millisecond, BatchSendTimeout: 10 * time.Second,
			MaxConcurrentBatches: 2, PendingWorkCapacity: 400, BlockOnResponse: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	answers := make(chan error, 1)
	go func() { // libhoney answers every event; it blocks until they are read
		for range 300 {
			if r := <-client.TxResponses(); r.Err != nil || r.StatusCode != 202 {
				answers <- fmt.Errorf("libhoney: %d %v %s", r.StatusCode, r.Err, r.Body)
				return
			}
		}
		answers <- nil
	}()
	rng := rand.New(rand.NewPCG(1, 2))
	routes := []string{"/cart", "/checkout", "/search"}
	type sent struct {
		route string
		ms    float64
		rate  float64
	}
	var events []sent
	now := time.Now()
	for i := range 300 {
		e := sent{route: routes[rng.IntN(3)], ms: math.Round(rng.Float64()*200000) / 1000, rate: 1}
		if i%4 == 0 {
			e.rate = 3
		}
		events = append(events, e)
		ev := client.NewEvent()
		ev.Timestamp = now.Add(-time.Duration(1+rng.IntN(50*60)) * time.Second)
		ev.SampleRate = uint(e.rate)
		ev.Add(map[string]any{"name": "GET " + e.route, "service.name": "shop-web", "http.route": e.route, "duration_ms": e.ms})
		if err := ev.SendPresampled(); err != nil {
			t.Fatal(err)
		}
	}
	client.Flush()
	if err := <-answers; err != nil {
		t.Fatal(err)
	}
	client.Close()

	// One OTLP trace under an environment key: dataset "cart-svc", with an exception event.
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(srv.Addrs().HTTP), otlptracehttp.WithInsecure(),
		otlptracehttp.WithHeaders(map[string]string{"x-honeycomb-team": key}))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "cart-svc"))))
	_, span := tp.Tracer("lookout/test").Start(ctx, "add item", trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attribute.String("http.route", "/cart")))
	span.RecordError(fmt.Errorf("boom"))
	span.SetStatus(codes.Error, "boom")
	span.End()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	// Expected, per route: COUNT weighted by sample rate, AVG and MAX of duration_ms over
	// durations above 10 ms.
	type agg struct{ count, sum, max float64 }
	want := map[string]*agg{}
	for _, e := range events {
		if e.ms <= 10 {
			continue
		}
		a := want[e.route]
		if a == nil {
			a = &agg{}
			want[e.route] = a
		}
		a.count += e.rate
		a.sum += e.rate * e.ms
		a.max = math.Max(a.max, e.ms)
	}

	spec := map[string]any{
		"calculations": []map[string]any{{"op": "COUNT"}, {"op": "AVG", "column": "duration_ms"}, {"op": "MAX", "column": "duration_ms"}},
		"filters":      []map[string]any{{"column": "duration_ms", "op": ">", "value": 10}},
		"breakdowns":   []string{"http.route"},
		"orders":       []map[string]any{{"column": "http.route"}},
		"time_range":   3600,
		"granularity":  300,
	}
	var result queryResult
	waitFor(t, func() bool {
		status, _ := honeycombDo(t, srv, "GET", "/1/datasets/shop", key, "")
		return status == 200
	})
	waitFor(t, func() bool {
		result = runHoneycombQuery(t, srv, key, "shop", spec)
		var total float64
		for _, r := range result.Data.Results {
			total += r.Data["COUNT"].(float64)
		}
		var wantTotal float64
		for _, a := range want {
			wantTotal += a.count
		}
		if total != wantTotal {
			t.Logf("COUNT %v, want %v", total, wantTotal)
		}
		return total == wantTotal
	})
	if !result.Complete || len(result.Data.Results) != 3 || len(result.Data.Series) == 0 {
		t.Fatalf("result: %+v", result)
	}
	for i, r := range result.Data.Results {
		route := r.Data["http.route"].(string)
		if route != routes[i] { // ordered by route
			t.Errorf("row %d is %s, want %s", i, route, routes[i])
		}
		a := want[route]
		if r.Data["COUNT"] != a.count || math.Abs(r.Data["AVG(duration_ms)"].(float64)-a.sum/a.count) > 1e-9 || r.Data["MAX(duration_ms)"] != a.max {
			t.Errorf("%s: %v, want COUNT %v AVG %v MAX %v", route, r.Data, a.count, a.sum/a.count, a.max)
		}
	}
	var seriesCount float64
	for _, s := range result.Data.Series {
		if s.Time == "" {
			t.Fatalf("series row without time: %+v", s)
		}
		seriesCount += s.Data["COUNT"].(float64)
	}
	if seriesCount != result.Data.Results[0].Data["COUNT"].(float64)+result.Data.Results[1].Data["COUNT"].(float64)+result.Data.Results[2].Data["COUNT"].(float64) {
		t.Errorf("series counts sum to %v", seriesCount)
	}

	// Every dataset: the OTLP span, its exception as a span event, and its exception copied
	// onto the span.
	all := runHoneycombQuery(t, srv, key, "__all__", map[string]any{
		"breakdowns": []string{"meta.annotation_type", "service.name"},
		"filters":    []map[string]any{{"column": "exception.message", "op": "=", "value": "boom"}},
		"time_range": 3600,
	})
	got := map[string]float64{}
	for _, r := range all.Data.Results {
		got[fmt.Sprint(r.Data["meta.annotation_type"], "/", r.Data["service.name"])] = r.Data["COUNT"].(float64)
	}
	if len(got) != 2 || got["<nil>/cart-svc"] != 1 || got["span_event/cart-svc"] != 1 {
		t.Errorf("exception events: %v", got)
	}

	// The query page's autocomplete: the dataset's fields with their types, and a field's
	// frequent values by prefix.
	var cols struct{ Data []struct{ Name, Type string } }
	getJSON(t, srv, "/api/v1/columns?dataset=shop", &cols)
	types := map[string]string{}
	for _, c := range cols.Data {
		types[c.Name] = c.Type
	}
	if types["http.route"] != "string" || types["duration_ms"] != "float" || types["service.name"] != "string" {
		t.Errorf("columns: %v", types)
	}
	var vals struct{ Data []string }
	getJSON(t, srv, "/api/v1/values?dataset=shop&column=http.route&prefix=/c", &vals)
	if len(vals.Data) != 2 || !(vals.Data[0] == "/cart" && vals.Data[1] == "/checkout" || vals.Data[0] == "/checkout" && vals.Data[1] == "/cart") {
		t.Errorf("values of http.route starting /c: %v", vals.Data)
	}

	// A field no event has is the user's to fix, named with the nearest known field: from the
	// Query Data API as Honeycomb's error, and from the query page's endpoint in its envelope.
	const unknown = `unknown column "duration"; did you mean duration_ms?`
	body, _ := json.Marshal(map[string]any{"calculations": []map[string]any{{"op": "P99", "column": "duration"}}, "time_range": 3600})
	status, resp := honeycombDo(t, srv, "POST", "/1/queries/shop", key, string(body))
	var created struct{ ID string }
	if status != 200 || json.Unmarshal(resp, &created) != nil {
		t.Fatalf("create query: %d %s", status, resp)
	}
	status, resp = honeycombDo(t, srv, "POST", "/1/query_results/shop", key, fmt.Sprintf(`{"query_id":%q}`, created.ID))
	var hcErr struct{ Error string }
	if status != 400 || json.Unmarshal(resp, &hcErr) != nil || hcErr.Error != unknown {
		t.Errorf("query result of P99(duration): %d %s, want 400 saying %s", status, resp, unknown)
	}
	uiResp, err := http.Post("http://"+srv.Addrs().UI+"/api/v1/query", "application/json", bytes.NewBufferString(`{"dataset":"shop","query":`+string(body)+`}`))
	if err != nil {
		t.Fatal(err)
	}
	var envelope jaegerResponse
	if err := json.NewDecoder(uiResp.Body).Decode(&envelope); err != nil || uiResp.StatusCode != 400 || len(envelope.Errors) != 1 || envelope.Errors[0].Msg != unknown {
		t.Errorf("query page: %d %+v %v, want 400 saying %s", uiResp.StatusCode, envelope, err, unknown)
	}
	uiResp.Body.Close()

	// Errors in Honeycomb's shape.
	for _, c := range []struct {
		method, path, key, body string
		status                  int
	}{
		{"POST", "/1/queries/shop", key, `{"calculations":[{"op":"P42","column":"duration_ms"}]}`, 400},
		{"POST", "/1/queries/shop", key, `{"filters":[{"column":"x","op":"in","value":3}]}`, 400},
		{"POST", "/1/queries/shop", key, `{"breakdowns":["x"],"orders":[{"column":"y"}]}`, 400},
		{"POST", "/1/queries/no-such-dataset", key, `{}`, 404},
		{"POST", "/1/queries/shop", "", `{}`, 401},
		{"POST", "/1/query_results/shop", key, `{"query_id":"nope"}`, 404},
		{"GET", "/1/query_results/shop/nope", key, ``, 404},
		{"POST", "/1/queries/shop", key, `{"calculations":`, 400},
	} {
		status, body := honeycombDo(t, srv, c.method, c.path, c.key, c.body)
		var e struct{ Error string }
		if status != c.status || json.Unmarshal(body, &e) != nil || e.Error == "" {
			t.Errorf("%s %s %s: %d %s, want %d with an error", c.method, c.path, c.body, status, body, c.status)
		}
	}
}

type queryResult struct {
	ID       string `json:"id"`
	Complete bool   `json:"complete"`
	Data     struct {
		Series []struct {
			Time string         `json:"time"`
			Data map[string]any `json:"data"`
		} `json:"series"`
		Results []struct {
			Data map[string]any `json:"data"`
		} `json:"results"`
	} `json:"data"`
}

// runHoneycombQuery creates a query, creates its result and reads the result back, as
// Honeycomb's clients do.
func runHoneycombQuery(t *testing.T, srv *server.Server, key, dataset string, spec any) queryResult {
	t.Helper()
	body, _ := json.Marshal(spec)
	status, resp := honeycombDo(t, srv, "POST", "/1/queries/"+dataset, key, string(body))
	var q struct{ ID string }
	if status != 200 || json.Unmarshal(resp, &q) != nil || q.ID == "" {
		t.Fatalf("create query: %d %s", status, resp)
	}
	status, resp = honeycombDo(t, srv, "POST", "/1/query_results/"+dataset, key, fmt.Sprintf(`{"query_id":%q}`, q.ID))
	var created queryResult
	if status != 201 || json.Unmarshal(resp, &created) != nil || created.ID == "" {
		t.Fatalf("create query result: %d %s", status, resp)
	}
	for {
		status, resp = honeycombDo(t, srv, "GET", "/1/query_results/"+dataset+"/"+created.ID, key, "")
		var r queryResult
		if status != 200 || json.Unmarshal(resp, &r) != nil {
			t.Fatalf("get query result: %d %s", status, resp)
		}
		if r.Complete {
			return r
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func honeycombDo(t *testing.T, srv *server.Server, method, path, key, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+srv.Addrs().HTTP+path, bytes.NewBufferString(body))
	if key != "" {
		req.Header.Set("X-Honeycomb-Team", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 201 && resp.Header.Get("Location") == "" {
		t.Errorf("201 without Location")
	}
	return resp.StatusCode, b
}

// waitFor polls cond for up to 10 s: ingest acknowledges before the store has loaded.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestQueryAPIGuardsAndLinks checks what the Query Data API shares with the UI's guards, its
// dataset names, and that a result's query_url opens lookout's UI, wherever it is reached.
func TestQueryAPIGuardsAndLinks(t *testing.T) {
	srv := start(t)
	spec := `{"calculations":[{"op":"COUNT"}],"time_range":600}`
	status, resp := honeycombDo(t, srv, "POST", "/1/queries/__all__", "k", spec)
	var q struct{ ID string }
	if status != 200 || json.Unmarshal(resp, &q) != nil {
		t.Fatalf("create query: %d %s", status, resp)
	}
	status, resp = honeycombDo(t, srv, "POST", "/1/query_results/__all__", "k", fmt.Sprintf(`{"query_id":%q}`, q.ID))
	var res struct{ Links map[string]string }
	if status != 201 || json.Unmarshal(resp, &res) != nil {
		t.Fatalf("create result: %d %s", status, resp)
	}
	want := "http://" + srv.Addrs().UI + "/query?dataset=__all__&q="
	if !strings.HasPrefix(res.Links["query_url"], want) {
		t.Fatalf("query_url = %q, want it to start with %q", res.Links["query_url"], want)
	}
	if got := request(t, "GET", res.Links["query_url"], "", nil, ""); got != http.StatusOK {
		t.Fatalf("GET query_url: %d", got)
	}
	if status, resp := honeycombDo(t, srv, "POST", "/1/queries/"+strings.Repeat("d", 300), "k", spec); status != 400 || !strings.Contains(string(resp), "at most 255 bytes") {
		t.Errorf("a 300-byte dataset name: %d %s", status, resp)
	}
	url := "http://" + srv.Addrs().HTTP + "/1/queries/__all__"
	if got := request(t, "POST", url, "evil.example", map[string]string{"X-Honeycomb-Team": "k"}, spec); got != http.StatusForbidden {
		t.Errorf("Host evil.example: %d, want 403", got)
	}
	if got := request(t, "POST", url, "", map[string]string{"X-Honeycomb-Team": "k", "Origin": "http://evil.example"}, spec); got != http.StatusForbidden {
		t.Errorf("cross-origin POST: %d, want 403", got)
	}

	behindProxy := start(t, func(c *server.Config) { c.PublicURL = "https://lookout.example.com/" })
	status, resp = honeycombDo(t, behindProxy, "POST", "/1/queries/__all__", "k", spec)
	json.Unmarshal(resp, &q)
	_, resp = honeycombDo(t, behindProxy, "POST", "/1/query_results/__all__", "k", fmt.Sprintf(`{"query_id":%q}`, q.ID))
	json.Unmarshal(resp, &res)
	if !strings.HasPrefix(res.Links["query_url"], "https://lookout.example.com/query?") {
		t.Fatalf("behind a proxy, query_url = %q (status %d)", res.Links["query_url"], status)
	}
}
