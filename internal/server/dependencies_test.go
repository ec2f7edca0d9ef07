package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// link is a call from one service to another, by name.
type link struct{ parent, child string }

// TestDependenciesAgreeWithServiceGraph sends traces mixing OpenTelemetry spans and X-Ray
// segments: an OTLP front end calls an X-Ray service, which calls DynamoDB, a remote HTTP
// service that fails, and an OTLP service that queries its database. /api/dependencies has a
// link per caller and callee with the calls sent, inferred callees included and the entry
// point left out, and GetServiceGraph counts the same calls over the same range.
func TestDependenciesAgreeWithServiceGraph(t *testing.T) {
	srv := start(t)
	ctx := context.Background()
	tracer := func(service string) trace.Tracer {
		exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(srv.Addrs().HTTP), otlptracehttp.WithInsecure())
		if err != nil {
			t.Fatal(err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp),
			sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", service))))
		t.Cleanup(func() { tp.Shutdown(ctx) })
		return tp.Tracer("deps")
	}
	web, inventory := tracer("shop-web"), tracer("inventory")

	want := map[link]int64{}
	t0 := time.Now().Add(-time.Minute)
	for i := range 3 {
		at := func(ms int) time.Time {
			return t0.Add(time.Duration(i)*time.Second + time.Duration(ms)*time.Millisecond)
		}
		secs := func(ms int) string { return fmt.Sprintf("%.6f", float64(at(ms).UnixMicro())/1e6) }
		xid := func() string { return fmt.Sprintf("%016x", rand.Uint64()|1) }

		rootCtx, root := web.Start(ctx, "GET /checkout", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(at(0)))
		_, call := web.Start(rootCtx, "POST /orders", trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(at(1)))
		want[link{"shop-web", "orders"}]++
		tid := call.SpanContext().TraceID().String()

		// The X-Ray service: i+1 DynamoDB calls, a failing remote call, and one to inventory.
		var subs []string
		for j := range i + 1 {
			subs = append(subs, `{"id":"`+xid()+`","name":"DynamoDB","namespace":"aws","start_time":`+secs(3+j)+`,"end_time":`+secs(4+j)+
				`,"aws":{"operation":"GetItem"},"http":{"response":{"status":200}}}`)
			want[link{"orders", "DynamoDB"}]++
		}
		subs = append(subs, `{"id":"`+xid()+`","name":"payments.example","namespace":"remote","start_time":`+secs(10)+`,"end_time":`+secs(12)+
			`,"http":{"request":{"method":"POST","url":"https://payments.example/charge"},"response":{"status":500}},"fault":true}`)
		want[link{"orders", "payments.example"}]++
		toInventory := xid()
		subs = append(subs, `{"id":"`+toInventory+`","name":"inventory","namespace":"remote","start_time":`+secs(15)+`,"end_time":`+secs(25)+`}`)
		want[link{"orders", "inventory"}]++
		segment := `{"trace_id":"1-` + tid[:8] + `-` + tid[8:] + `","id":"` + xid() + `","parent_id":"` + call.SpanContext().SpanID().String() +
			`","name":"orders","start_time":` + secs(2) + `,"end_time":` + secs(30) + `,"http":{"response":{"status":200}},"subsegments":[` + strings.Join(subs, ",") + `]}`

		// The OTLP service answers the X-Ray subsegment's call and queries its database.
		parent, err := trace.SpanIDFromHex(toInventory)
		if err != nil {
			t.Fatal(err)
		}
		remote := trace.ContextWithRemoteSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: call.SpanContext().TraceID(), SpanID: parent, TraceFlags: trace.FlagsSampled, Remote: true}))
		invCtx, serve := inventory.Start(remote, "GET /stock", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(at(16)))
		_, query := inventory.Start(invCtx, "SELECT stock", trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(at(17)),
			trace.WithAttributes(attribute.String("db.system", "postgresql"), attribute.String("peer.service", "stockdb")))
		want[link{"inventory", "stockdb"}]++
		query.End(trace.WithTimestamp(at(20)))
		serve.End(trace.WithTimestamp(at(24)))
		sendDatagrams(t, srv, segment)
		call.End(trace.WithTimestamp(at(31)))
		root.End(trace.WithTimestamp(at(32)))
	}

	// One range for both: the last hour up to a minute ahead.
	end := time.Now().Add(time.Minute).Truncate(time.Second)
	var got map[link]int64
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var deps struct {
			Data []struct {
				Parent, Child string
				CallCount     int64
			}
		}
		getJSON(t, srv, fmt.Sprintf("/api/dependencies?endTs=%d&lookback=%d", end.UnixMilli(), time.Hour.Milliseconds()), &deps)
		got = map[link]int64{}
		for _, d := range deps.Data {
			got[link{d.Parent, d.Child}] += d.CallCount
		}
		if maps.Equal(got, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/api/dependencies = %v, want %v", got, want)
		}
	}

	status, body := postXRay(t, srv, "/ServiceGraph", fmt.Sprintf(`{"StartTime": %d, "EndTime": %d}`, end.Add(-time.Hour).Unix(), end.Unix()))
	if graph := serviceGraphLinks(t, body); status != http.StatusOK || !maps.Equal(graph, want) {
		t.Errorf("GetServiceGraph: %d, calls %v, want %v: %s", status, graph, want, body)
	}
}

// serviceGraphLinks sums a GetServiceGraph answer's edges by caller and callee name, leaving
// out the edges from the clients of entry points.
func serviceGraphLinks(t *testing.T, body string) map[link]int64 {
	t.Helper()
	var sg struct {
		Services []struct {
			ReferenceId int
			Name, Type  string
			Edges       []struct {
				ReferenceId       int
				SummaryStatistics struct{ TotalCount int64 }
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &sg); err != nil {
		t.Fatalf("GetServiceGraph: %v in %s", err, body)
	}
	names := map[int]string{}
	for _, s := range sg.Services {
		names[s.ReferenceId] = s.Name
	}
	links := map[link]int64{}
	for _, s := range sg.Services {
		if s.Type == "client" {
			continue
		}
		for _, e := range s.Edges {
			links[link{s.Name, names[e.ReferenceId]}] += e.SummaryStatistics.TotalCount
		}
	}
	return links
}
