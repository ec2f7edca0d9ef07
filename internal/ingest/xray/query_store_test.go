package xray

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"lookout/internal/store"
	"lookout/internal/store/duckdb"
	"lookout/internal/telemetry"
)

// The store computes the service graph and selects the traces a filter may match; the views
// built here from whole traces are the reference both are checked against.

var queryStart = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// queryStore is a DuckDB store holding X-Ray-shaped traces over ten minutes from queryStart
// (three users, so that each has many) and OpenTelemetry ones, with the API over it.
func queryStore(t *testing.T) (*API, []*view) {
	t.Helper()
	ctx := context.Background()
	s, err := duckdb.Open(ctx, duckdb.Config{MemoryLimit: "256MB", Writers: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := fillTraces(ctx, s, 4000, 3, queryStart, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteSpans(ctx, otelTraces()); err != nil {
		t.Fatal(err)
	}
	a := NewAPI(APIConfig{Traces: s})
	ids, err := s.FindTraceIDs(ctx, store.TraceQuery{Limit: store.MaxLimit})
	if err != nil || len(ids) == store.MaxLimit {
		t.Fatalf("FindTraceIDs: %d, %v", len(ids), err)
	}
	traces, err := s.Traces(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	var views []*view
	for i, id := range ids {
		views = append(views, newView(id, traces[i]))
	}
	return a, views
}

// otelTraces are OpenTelemetry traces: a frontend that calls an orders service (which answers
// with a server span and fails), a payments service that answers nothing (inferred) and a
// database.
func otelTraces() []telemetry.Span {
	var out []telemetry.Span
	res := func(svc string) *telemetry.Resource {
		return &telemetry.Resource{Attributes: telemetry.Attributes{{Key: "service.name", Value: telemetry.StringValue(svc)}}}
	}
	for i := range 20 {
		id := telemetry.TraceIDFromParts(0xfeed, uint64(i+1))
		at := queryStart.Add(time.Duration(i) * 10 * time.Second).UnixNano()
		span := func(n uint64, parent uint64, svc, name string, kind telemetry.SpanKind, from, to int64, attrs ...telemetry.KeyValue) telemetry.Span {
			return telemetry.Span{TraceID: id, SpanID: telemetry.SpanIDFromUint64(n), ParentSpanID: telemetry.SpanIDFromUint64(parent), Name: name, Kind: kind,
				StartUnixNano: at + from*1e6, EndUnixNano: at + to*1e6, Resource: res(svc), Attributes: attrs, Ingest: telemetry.IngestInfo{Protocol: "otlp"}}
		}
		orders := span(4, 2, "orders", "POST /orders", telemetry.SpanKindServer, 12, 60+int64(i), telemetry.KeyValue{Key: "http.response.status_code", Value: telemetry.IntValue(200)})
		if i%4 == 0 {
			orders.Status.Code = telemetry.StatusError
			orders.Attributes = nil
		}
		// The entry point's HTTP attributes under OpenTelemetry's current names, on some.
		checkout := span(1, 0, "shop", "GET /checkout", telemetry.SpanKindServer, 0, 100, telemetry.KeyValue{Key: AttrUser, Value: telemetry.StringValue(fillUser(i % 3))})
		if i%2 == 0 {
			checkout.Attributes = append(checkout.Attributes, telemetry.KeyValue{Key: "url.full", Value: telemetry.StringValue(fmt.Sprintf("https://shop.example/checkout?cart=%d", i))})
		}
		if i%3 != 0 {
			checkout.Attributes = append(checkout.Attributes, telemetry.KeyValue{Key: "http.request.method", Value: telemetry.StringValue("GET")})
		}
		out = append(out,
			checkout,
			span(2, 1, "shop", "POST", telemetry.SpanKindClient, 10, 70, telemetry.KeyValue{Key: "http.request.method", Value: telemetry.StringValue("POST")}),
			orders,
			span(5, 1, "shop", "charge", telemetry.SpanKindClient, 70, 90, telemetry.KeyValue{Key: "peer.service", Value: telemetry.StringValue("payments")}),
			span(6, 4, "orders", "INSERT", telemetry.SpanKindClient, 20, 30, telemetry.KeyValue{Key: "db.system", Value: telemetry.StringValue("postgresql")}),
		)
	}
	return out
}

// normalised is v as JSON would carry it, numbers rounded to the microsecond.
func normalised(t *testing.T, v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	var round func(any) any
	round = func(v any) any {
		switch v := v.(type) {
		case float64:
			return math.Round(v*1e6) / 1e6
		case []any:
			for i := range v {
				v[i] = round(v[i])
			}
		case map[string]any:
			for k := range v {
				v[k] = round(v[k])
			}
		}
		return v
	}
	return round(out)
}

// TestServiceGraphFromStore checks that the graph the store counts is the one built from
// every trace read whole.
func TestServiceGraphFromStore(t *testing.T) {
	a, views := queryStore(t)
	want := newGraph()
	for _, v := range views {
		want.add(v)
	}
	got, traces, sampled, aerr := a.serviceGraph(context.Background(), queryStart.Add(-time.Minute), queryStart.Add(time.Hour), "", "")
	if aerr != nil {
		t.Fatal(aerr)
	}
	if traces != len(views) || sampled {
		t.Errorf("drawn from %d traces (sampled %v), want all %d", traces, sampled, len(views))
	}
	g, w := normalised(t, got["Services"]), normalised(t, want.services())
	gj, _ := json.MarshalIndent(g, "", " ")
	wj, _ := json.MarshalIndent(w, "", " ")
	if string(gj) != string(wj) {
		t.Errorf("the store's graph differs from the traces':\n%s\nwant\n%s", gj, wj)
	}
	for _, name := range []string{"frontend-react-js", "backend-flask", "users-service", "postgres", "DynamoDB", "orders", "payments", "shop", "INSERT"} {
		if !hasNode(want, name) {
			t.Errorf("the fixture has no node %s", name)
		}
	}
}

func hasNode(g *graph, name string) bool {
	for _, k := range g.keys {
		if k.name == name {
			return true
		}
	}
	return false
}

// TestTraceSummariesFromStore checks, for filters of every kind, that the pages of
// GetTraceSummaries hold exactly the traces the filter matches when each is read whole, and
// that the store selects few others where it can express the filter.
func TestTraceSummariesFromStore(t *testing.T) {
	a, views := queryStore(t)
	ctx := context.Background()
	start, end := queryStart, queryStart.Add(10*time.Minute)
	for _, tc := range []struct {
		expr  string
		exact bool // the store selects no trace the filter does not match
	}{
		{`service("backend-flask") { fault } AND annotation.user = "andrew"`, true},
		{`fault`, false},
		{`!fault`, false},
		{`error OR throttle`, false},
		{`ok`, false},
		{`annotation.page = 3`, true},
		{`annotation.page = "home"`, true},
		{`annotation.beta = true`, true},
		{`!annotation.beta`, true},
		{`annotation.page > 2 AND annotation.page <= 3`, true},
		{`annotation.user != "andrew"`, true},
		{`!(annotation.user = "andrew")`, true},
		{`user BEGINSWITH "user"`, true},
		{`user = "andrew" OR user ENDSWITH "1"`, true},
		{`http.url CONTAINS "nobody"`, false},
		{`!http.url`, false},
		{`http.url ENDSWITH "cart=8"`, false},
		{`service("shop") { http.method = "GET" }`, false},
		{`!(http.method = "GET")`, false},
		{`service("users-service")`, true},
		{`!service("users-service")`, false},
		{`service("orders") { fault }`, false},
		{`edge("backend-flask", "users-service") { ok }`, false},
		{`service(id(name: "DynamoDB", type: "AWS::DynamoDB")) { ok }`, false},
		{`service("payments")`, false},
		{`responsetime > 0.17`, false},
		{`!(responsetime > 0.17)`, false},
		{`duration > 0.2`, false},
		{`http.status = 404`, false},
		{`!(http.status != 404)`, false},
		{`partial = false`, true},
		{`root`, false},
		{`inferred`, false},
		{`service("backend-flask") { !fault AND annotation.user = "andrew" }`, false},
		{`service() { user = "andrew" } AND !service("frontend-react-js") { error }`, false},
		{`rootcause.fault.service { last and name = "orders" }`, false},
		{`rootcause.fault.exception { name = "KeyError" } AND user = "andrew"`, false},
		{`rootcause.error.service { last and name = "backend-flask" }`, false},
		{`!rootcause.fault.entity { last }`, false},
		{`rootcause.responsetime.entity { first and coverage = 1 }`, false},
	} {
		f, err := parseFilter(tc.expr, nil)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, v := range views {
			if v.startsWithin(start, end) && f.match(&scope{v: v}) {
				want = append(want, FormatTraceID(v.id))
			}
		}
		var got []string
		processed := 0
		for token := 0; ; {
			out, aerr := a.traceSummaries(ctx, start, end, false, tc.expr, token)
			if aerr != nil {
				t.Fatalf("%s: %v", tc.expr, aerr)
			}
			for _, s := range out["TraceSummaries"].([]any) {
				got = append(got, s.(map[string]any)["Id"].(string))
			}
			processed += out["TracesProcessedCount"].(int)
			next, ok := out["NextToken"].(string)
			if !ok {
				break
			}
			if len(out["TraceSummaries"].([]any)) < summariesPage && processed%maxSummaryTraces != 0 {
				t.Errorf("%s: a page of %d with a NextToken", tc.expr, len(out["TraceSummaries"].([]any)))
			}
			token = atoi(t, next)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %d traces, want %d", tc.expr, len(got), len(want))
		}
		if len(want) == 0 {
			t.Errorf("%s matches no trace of the fixture", tc.expr)
		}
		if tc.exact && processed != len(want) {
			t.Errorf("%s: the store selected %d traces for %d matches", tc.expr, processed, len(want))
		}
	}
}

func atoi(t *testing.T, s string) int {
	var n int
	if err := json.Unmarshal([]byte(s), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTraceSummariesSharingLowHalf checks that GetTraceSummaries stays exact when the parts
// of a conjunction are met by two traces whose ids share their low half, which the store's
// search may take for one trace.
func TestTraceSummariesSharingLowHalf(t *testing.T) {
	ctx := context.Background()
	s, err := duckdb.Open(ctx, duckdb.Config{MemoryLimit: "256MB", Writers: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	at := queryStart.UnixNano()
	span := func(hi, lo uint64, svc string, fault bool, attrs ...telemetry.KeyValue) telemetry.Span {
		sp := telemetry.Span{TraceID: telemetry.TraceIDFromParts(hi, lo), SpanID: telemetry.SpanIDFromUint64(hi), Name: "GET /", Kind: telemetry.SpanKindServer,
			StartUnixNano: at, EndUnixNano: at + 1e6, Attributes: attrs, Ingest: telemetry.IngestInfo{Protocol: "otlp"},
			Resource: &telemetry.Resource{Attributes: telemetry.Attributes{{Key: "service.name", Value: telemetry.StringValue(svc)}}}}
		if fault {
			sp.Status.Code = telemetry.StatusError
		}
		return sp
	}
	andrew := telemetry.KeyValue{Key: "user", Value: telemetry.StringValue("andrew")}
	both := span(3, 8, "orders", true, andrew)
	if err := s.WriteSpans(ctx, []telemetry.Span{span(1, 7, "orders", true), span(2, 7, "shop", false, andrew), both}); err != nil {
		t.Fatal(err)
	}
	a := NewAPI(APIConfig{Traces: s})
	out, aerr := a.traceSummaries(ctx, queryStart.Add(-time.Minute), queryStart.Add(time.Minute), false, `service("orders") { fault } AND annotation.user = "andrew"`, 0)
	if aerr != nil {
		t.Fatal(aerr)
	}
	var got []string
	for _, s := range out["TraceSummaries"].([]any) {
		got = append(got, s.(map[string]any)["Id"].(string))
	}
	if want := []string{FormatTraceID(both.TraceID)}; !slices.Equal(got, want) {
		t.Errorf("summaries of %v, want %v", got, want)
	}
}

// TestGroupGraphFromStore checks that a group's graph is drawn from every trace of the range
// its filter matches, read whole.
func TestGroupGraphFromStore(t *testing.T) {
	a, views := queryStore(t)
	ctx := context.Background()
	a.cfg.Settings = a.cfg.Traces.(store.SettingsStore)
	start, end := queryStart.Add(-time.Minute), queryStart.Add(time.Hour)
	for name, expr := range map[string]string{"shop": `service("orders") OR service("payments")`, "all": `!service("nothing")`} {
		if _, aerr := a.createGroup(ctx, []byte(`{"GroupName":"`+name+`","FilterExpression":`+strconv.Quote(expr)+`}`)); aerr != nil {
			t.Fatal(aerr)
		}
	}
	f, err := parseFilter(`service("orders") OR service("payments")`, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, matched := newGraph(), 0
	for _, v := range views {
		if v.startsWithin(start, end) && f.match(&scope{v: v}) {
			want.add(v)
			matched++
		}
	}
	got, traces, sampled, aerr := a.serviceGraph(ctx, start, end, "shop", "")
	if aerr != nil {
		t.Fatal(aerr)
	}
	if traces != matched || sampled || matched == 0 {
		t.Errorf("drawn from %d traces (sampled %v), want all %d", traces, sampled, matched)
	}
	if g, w := normalised(t, got["Services"]), normalised(t, want.services()); !reflect.DeepEqual(g, w) {
		t.Errorf("the group's graph differs from its traces':\n%v\nwant\n%v", g, w)
	}
	if _, traces, sampled, aerr = a.serviceGraph(ctx, start, end, "all", ""); aerr != nil || sampled || traces != len(views) {
		t.Errorf("a group of every trace: drawn from %d (sampled %v, %v), want all %d", traces, sampled, aerr, len(views))
	}
}

// TestTimeSeriesFromStore checks GetTimeSeriesServiceStatistics against the traces read
// whole: each minute's requests and faults of a service, and of the calls into it from
// another.
func TestTimeSeriesFromStore(t *testing.T) {
	a, views := queryStore(t)
	start, end := queryStart, queryStart.Add(10*time.Minute)
	for _, tc := range []struct {
		selector string
		chosen   func(n *node) bool
		key      string
	}{
		{`service("users-service")`, func(n *node) bool { return n.name == "users-service" }, "ServiceSummaryStatistics"},
		{`edge("backend-flask", "users-service")`, func(n *node) bool {
			return n.name == "users-service" && n.caller != nil && n.caller.name == "backend-flask"
		}, "EdgeSummaryStatistics"},
	} {
		type counts struct{ total, faults int64 }
		want := map[float64]counts{}
		for _, v := range views {
			if !v.startsWithin(start, end) {
				continue
			}
			for _, n := range v.nodes {
				if !tc.chosen(n) || n.span.InProgress {
					continue
				}
				at := float64(time.Unix(0, n.span.StartUnixNano).Truncate(time.Minute).Unix())
				_, fault, _, _ := n.status()
				c := want[at]
				c.total++
				if fault {
					c.faults++
				}
				want[at] = c
			}
		}
		body := fmt.Sprintf(`{"StartTime":%d,"EndTime":%d,"EntitySelectorExpression":%q,"Period":60}`, start.Unix(), end.Unix(), tc.selector)
		res, aerr := a.getTimeSeriesServiceStatistics(context.Background(), []byte(body))
		if aerr != nil {
			t.Fatal(aerr)
		}
		got := map[float64]counts{}
		for _, p := range res.(map[string]any)["TimeSeriesServiceStatistics"].([]any) {
			point := p.(map[string]any)
			s := point[tc.key].(map[string]any)
			got[point["Timestamp"].(float64)] = counts{s["TotalCount"].(int64), s["FaultStatistics"].(map[string]any)["TotalCount"].(int64)}
		}
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", tc.selector, got, want)
		}
	}
}
