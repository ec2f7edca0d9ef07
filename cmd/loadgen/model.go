package main

// The synthetic workload: a small shop of eight services whose traces look like what an
// OpenTelemetry SDK exports (HTTP server and client spans, database calls, some internal work,
// about 2% errors with an exception event). Everything here runs once, to build the templates;
// see template.go for how each request is made unique.

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

type service struct {
	name    string
	version string
	routes  []route  // what its HTTP server spans are named after
	queries []query  // its database calls
	callees []string // services it calls
}

type route struct {
	method, pattern string
	idName          string // the {placeholder} in pattern, "" for none
}

type query struct {
	system, db, operation, table, statement string
	peer                                    string
}

// The span names this model can produce: 21 routes, 10 queries and 4 internal operations.
var services = []service{
	{name: "frontend", version: "2.14.0", callees: []string{"api-gateway"},
		routes: []route{{"GET", "/", ""}, {"GET", "/products/{id}", "id"}, {"GET", "/cart", ""}, {"POST", "/checkout", ""}, {"GET", "/account/orders", ""}}},
	{name: "api-gateway", version: "1.9.3", callees: []string{"catalog", "cart", "checkout", "user"},
		routes:  []route{{"GET", "/api/products", ""}, {"GET", "/api/products/{id}", "id"}, {"GET", "/api/cart", ""}, {"POST", "/api/cart/items", ""}, {"POST", "/api/checkout", ""}, {"GET", "/api/users/{id}/orders", "id"}},
		queries: []query{{"redis", "0", "GET", "sessions", "GET session:{id}", "redis-sessions.internal"}}},
	{name: "catalog", version: "3.2.1", callees: []string{"inventory"},
		routes:  []route{{"GET", "/catalog/items/{id}", "id"}, {"GET", "/catalog/search", ""}},
		queries: []query{{"postgresql", "catalog", "SELECT", "products", "SELECT id, name, price, description FROM products WHERE id = $1", "pg-catalog.internal"}, {"redis", "0", "GET", "products", "GET product:{id}", "redis-cache.internal"}}},
	{name: "cart", version: "1.4.0", callees: []string{"catalog", "inventory"},
		routes:  []route{{"GET", "/carts/{id}", "id"}, {"PUT", "/carts/{id}/items", "id"}},
		queries: []query{{"postgresql", "shop", "SELECT", "carts", "SELECT item_id, quantity FROM cart_items WHERE cart_id = $1", "pg-shop.internal"}, {"postgresql", "shop", "UPDATE", "carts", "UPDATE carts SET updated_at = now(), total = $2 WHERE id = $1", "pg-shop.internal"}}},
	{name: "checkout", version: "5.0.2", callees: []string{"payment", "inventory", "cart", "user"},
		routes:  []route{{"POST", "/orders", ""}},
		queries: []query{{"postgresql", "shop", "INSERT", "orders", "INSERT INTO orders (user_id, total, currency, status) VALUES ($1, $2, $3, 'pending') RETURNING id", "pg-shop.internal"}, {"postgresql", "shop", "SELECT", "orders", "SELECT id, status, total FROM orders WHERE user_id = $1 ORDER BY created_at DESC LIMIT 20", "pg-shop.internal"}}},
	{name: "payment", version: "0.9.7",
		routes:  []route{{"POST", "/payments/charge", ""}},
		queries: []query{{"postgresql", "payments", "INSERT", "charges", "INSERT INTO charges (order_id, amount, provider) VALUES ($1, $2, $3)", "pg-payments.internal"}}},
	{name: "user", version: "2.0.0",
		routes:  []route{{"GET", "/users/{id}", "id"}},
		queries: []query{{"postgresql", "users", "SELECT", "users", "SELECT id, email, name, tier FROM users WHERE id = $1", "pg-users.internal"}}},
	{name: "inventory", version: "1.1.8",
		routes:  []route{{"GET", "/stock/{sku}", "sku"}, {"POST", "/stock/reserve", ""}},
		queries: []query{{"postgresql", "inventory", "UPDATE", "stock", "UPDATE stock SET reserved = reserved + $2 WHERE sku = $1 AND available >= $2", "pg-inventory.internal"}}},
}

var internalOps = []string{"render template", "serialize response", "validate cart", "compute price"}

const podsPerService = 3

var serviceIndex = func() map[string]int {
	m := map[string]int{}
	for i, s := range services {
		m[s.name] = i
	}
	return m
}()

// resourceFor returns the resource of pod p of service s.
func resourceFor(s, p int) *resourcepb.Resource {
	svc := services[s]
	return &resourcepb.Resource{Attributes: []*commonpb.KeyValue{
		strAttr("service.name", svc.name),
		strAttr("service.version", svc.version),
		strAttr("host.name", fmt.Sprintf("ip-10-0-%d-%d.ec2.internal", s+1, 10+p*17)),
		strAttr("deployment.environment", "production"),
		strAttr("k8s.pod.name", fmt.Sprintf("%s-7d9f8b6c4-%s", svc.name, podSuffix(s, p))),
	}}
}

func podSuffix(s, p int) string {
	const letters = "bcdfghjklmnpqrstvwxz2456789"
	r := rand.New(rand.NewPCG(uint64(s), uint64(p)))
	b := make([]byte, 5)
	for i := range b {
		b[i] = letters[r.IntN(len(letters))]
	}
	return string(b)
}

// requestIDLen is the length of the request.id attribute, which the sender rewrites for
// every request (see template.go), so it is as high-cardinality as a real request id.
const requestIDLen = 16

const requestIDKey = "request.id"

// genSpan is a span while its trace is being built.
type genSpan struct {
	svc, pod int
	span     *tracepb.Span
	children []*genSpan
	server   bool  // an HTTP server span, which may call others
	depth    int   // number of service hops from the root
	selfNS   int64 // time spent in the span itself
	lag      int64 // for a client span's server child: network time before the server starts
}

// traceBuilder builds one trace of n spans.
type traceBuilder struct {
	r       *rand.Rand
	traceID []byte
	spanIDs map[uint64]bool // span ids used in this request, to keep them distinct
	userID  string
	reqID   string
	spans   []*genSpan
	pods    map[int]int // the pod of each service this trace visits
}

func (b *traceBuilder) newSpanID() []byte {
	for {
		v := b.r.Uint64()
		if v != 0 && !b.spanIDs[v] {
			b.spanIDs[v] = true
			id := make([]byte, 8)
			for i := range id {
				id[i] = byte(v >> (8 * i))
			}
			return id
		}
	}
}

func (b *traceBuilder) pod(svc int) int {
	if p, ok := b.pods[svc]; ok {
		return p
	}
	p := b.r.IntN(podsPerService)
	b.pods[svc] = p
	return p
}

// fillPath replaces the {placeholder} of a route with an id.
func (b *traceBuilder) fillPath(rt route) string {
	if rt.idName == "" {
		return rt.pattern
	}
	var id string
	if rt.idName == "sku" {
		id = fmt.Sprintf("SKU-%05d", b.r.IntN(20000))
	} else {
		id = strconv.Itoa(100000 + b.r.IntN(900000))
	}
	return replacePlaceholder(rt.pattern, id)
}

func replacePlaceholder(pattern, id string) string {
	for i := 0; i < len(pattern); i++ {
		if pattern[i] == '{' {
			for j := i; j < len(pattern); j++ {
				if pattern[j] == '}' {
					return pattern[:i] + id + pattern[j+1:]
				}
			}
		}
	}
	return pattern
}

func (b *traceBuilder) add(gs *genSpan, parent *genSpan) *genSpan {
	gs.span.TraceId = b.traceID
	gs.span.SpanId = b.newSpanID()
	if parent != nil {
		gs.span.ParentSpanId = parent.span.SpanId
		parent.children = append(parent.children, gs)
	}
	gs.pod = b.pod(gs.svc)
	b.spans = append(b.spans, gs)
	return gs
}

func (b *traceBuilder) commonAttrs(attrs []*commonpb.KeyValue) []*commonpb.KeyValue {
	return append(attrs, strAttr("user.id", b.userID), strAttr(requestIDKey, b.reqID))
}

func (b *traceBuilder) serverSpan(svc int, parent *genSpan, peer string) *genSpan {
	s := services[svc]
	rt := s.routes[b.r.IntN(len(s.routes))]
	depth := 0
	if parent != nil {
		depth = parent.depth + 1
	}
	sp := &tracepb.Span{
		Name: rt.method + " " + rt.pattern,
		Kind: tracepb.Span_SPAN_KIND_SERVER,
		Attributes: b.commonAttrs([]*commonpb.KeyValue{
			strAttr("http.request.method", rt.method),
			strAttr("http.route", rt.pattern),
			intAttr("http.response.status_code", 200),
			strAttr("url.path", b.fillPath(rt)),
			strAttr("net.peer.name", peer),
			strAttr("network.protocol.version", "1.1"),
			boolAttr("app.cache_hit", b.r.IntN(4) == 0),
			floatAttr("app.cart.value", math.Round(b.r.Float64()*50000)/100),
		}),
	}
	return b.add(&genSpan{svc: svc, span: sp, server: true, depth: depth, selfNS: logUniform(b.r, 0.1e6, 3e6)}, parent)
}

// call adds a client span in parent's service and the server span of the callee under it.
func (b *traceBuilder) call(parent *genSpan, callee int) {
	s := services[callee]
	rt := s.routes[b.r.IntN(len(s.routes))]
	client := &tracepb.Span{
		Name: rt.method,
		Kind: tracepb.Span_SPAN_KIND_CLIENT,
		Attributes: b.commonAttrs([]*commonpb.KeyValue{
			strAttr("http.request.method", rt.method),
			strAttr("http.route", rt.pattern),
			intAttr("http.response.status_code", 200),
			strAttr("url.path", b.fillPath(rt)),
			strAttr("net.peer.name", s.name+".shop.svc.cluster.local"),
			strAttr("network.protocol.version", "1.1"),
			boolAttr("app.retry", b.r.IntN(50) == 0),
			floatAttr("app.timeout_s", float64(1+b.r.IntN(10))/2),
		}),
	}
	c := b.add(&genSpan{svc: parent.svc, span: client, depth: parent.depth, selfNS: 0}, parent)
	srv := b.serverSpan(callee, c, services[parent.svc].name+".shop.svc.cluster.local")
	srv.lag = logUniform(b.r, 0.1e6, 1.5e6)
}

func (b *traceBuilder) dbSpan(parent *genSpan) {
	s := services[parent.svc]
	if len(s.queries) == 0 {
		b.internalSpan(parent)
		return
	}
	q := s.queries[b.r.IntN(len(s.queries))]
	name := q.operation + " " + q.table
	if q.system == "redis" {
		name = q.operation
	}
	sp := &tracepb.Span{
		Name: name,
		Kind: tracepb.Span_SPAN_KIND_CLIENT,
		Attributes: b.commonAttrs([]*commonpb.KeyValue{
			strAttr("db.system", q.system),
			strAttr("db.name", q.db),
			strAttr("db.operation", q.operation),
			strAttr("db.statement", replacePlaceholder(q.statement, strconv.Itoa(b.r.IntN(1000000)))),
			strAttr("net.peer.name", q.peer),
			intAttr("db.rows_affected", int64(b.r.IntN(40))),
			boolAttr("app.cache_hit", b.r.IntN(3) == 0),
			floatAttr("app.query_cost", math.Round(b.r.Float64()*10000)/100),
		}),
	}
	b.add(&genSpan{svc: parent.svc, span: sp, depth: parent.depth, selfNS: logUniform(b.r, 0.2e6, 25e6)}, parent)
}

func (b *traceBuilder) internalSpan(parent *genSpan) {
	op := internalOps[b.r.IntN(len(internalOps))]
	sp := &tracepb.Span{
		Name: op,
		Kind: tracepb.Span_SPAN_KIND_INTERNAL,
		Attributes: b.commonAttrs([]*commonpb.KeyValue{
			strAttr("code.function", "handle"+string(rune('A'+b.r.IntN(26)))),
			strAttr("code.namespace", "shop/"+services[parent.svc].name),
			strAttr("thread.name", "worker-"+strconv.Itoa(b.r.IntN(16))),
			intAttr("app.items", int64(1+b.r.IntN(12))),
			boolAttr("app.cache_hit", b.r.IntN(2) == 0),
			floatAttr("app.score", math.Round(b.r.Float64()*1000)/1000),
		}),
	}
	b.add(&genSpan{svc: parent.svc, span: sp, depth: parent.depth, selfNS: logUniform(b.r, 0.05e6, 4e6)}, parent)
}

// buildTrace returns a trace of n spans: a frontend request fanning out through the gateway to
// backends and their databases, with start times relative to the trace's start (0) and the
// trace's duration.
func buildTrace(r *rand.Rand, traceID []byte, n int, spanIDs map[uint64]bool) ([]*genSpan, int64) {
	b := &traceBuilder{r: r, traceID: traceID, spanIDs: spanIDs, pods: map[int]int{},
		userID: "user-" + strconv.Itoa(r.IntN(10000)), reqID: randomHex(r, requestIDLen)}
	root := b.serverSpan(serviceIndex["frontend"], nil, "203.0.113."+strconv.Itoa(1+r.IntN(254)))
	if n >= 3 {
		b.call(root, serviceIndex["api-gateway"])
	}
	for len(b.spans) < n {
		left := n - len(b.spans)
		// Pick a server span to do more work, preferring deeper ones so traces fan out
		// across services rather than piling onto the root.
		var servers []*genSpan
		for _, gs := range b.spans {
			if gs.server {
				servers = append(servers, gs)
			}
		}
		p := servers[len(servers)-1-min(len(servers)-1, int(r.ExpFloat64()*2))]
		callees := services[p.svc].callees
		x := r.Float64()
		switch {
		case left >= 2 && len(callees) > 0 && p.depth < 5 && x < 0.45:
			b.call(p, serviceIndex[callees[r.IntN(len(callees))]])
		case x < 0.85:
			b.dbSpan(p)
		default:
			b.internalSpan(p)
		}
	}
	// About 2% of spans fail, with an exception event.
	for _, gs := range b.spans {
		if r.IntN(50) == 0 {
			fail(r, gs)
		}
	}
	// Times are relative to the trace's start, plus timeBase: protobuf leaves out zero
	// values, and every time must be in the encoding to be rewritten.
	dur := layout(root, timeBase)
	finishEvents(b.spans)
	return b.spans, dur
}

const timeBase = 1_000_000

// layout places a span and its subtree starting at start and returns its duration: children
// run one after the other, each after a short gap.
func layout(gs *genSpan, start int64) int64 {
	start += gs.lag
	t := start + gs.selfNS/2
	for _, c := range gs.children {
		t += 20_000 // 20µs between calls
		t += layout(c, t)
	}
	end := t + gs.selfNS/2 + 10_000
	gs.span.StartTimeUnixNano = uint64(start)
	gs.span.EndTimeUnixNano = uint64(end)
	return end - start + gs.lag
}

var exceptions = []struct{ typ, msg string }{
	{"java.net.SocketTimeoutException", "Read timed out after 2000 ms"},
	{"*pq.Error", "pq: deadlock detected"},
	{"context.deadlineExceededError", "context deadline exceeded"},
	{"ConnectionResetError", "[Errno 104] Connection reset by peer"},
	{"InsufficientStockError", "not enough stock to reserve the requested quantity"},
}

func fail(r *rand.Rand, gs *genSpan) {
	ex := exceptions[r.IntN(len(exceptions))]
	sp := gs.span
	sp.Status = &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: ex.msg}
	for _, kv := range sp.Attributes {
		if kv.Key == "http.response.status_code" {
			kv.Value = &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: 500}}
		}
	}
	stack := fmt.Sprintf("%s: %s\n\tat shop.%s.Handler.serve(handler.go:%d)\n\tat shop.%s.Router.dispatch(router.go:%d)\n\tat net/http.HandlerFunc.ServeHTTP(server.go:2294)\n\tat net/http.serverHandler.ServeHTTP(server.go:3301)",
		ex.typ, ex.msg, services[gs.svc].name, 40+r.IntN(400), services[gs.svc].name, 20+r.IntN(200))
	sp.Events = append(sp.Events, &tracepb.Span_Event{
		Name: "exception",
		Attributes: []*commonpb.KeyValue{
			strAttr("exception.type", ex.typ),
			strAttr("exception.message", ex.msg),
			strAttr("exception.stacktrace", stack),
		},
	})
}

// finishEvents sets event times to their span's end; called after layout.
func finishEvents(spans []*genSpan) {
	for _, gs := range spans {
		for _, ev := range gs.span.Events {
			ev.TimeUnixNano = gs.span.EndTimeUnixNano
		}
	}
}

func logUniform(r *rand.Rand, lo, hi float64) int64 {
	return int64(lo * math.Exp(r.Float64()*math.Log(hi/lo)))
}

func randomHex(r *rand.Rand, n int) string {
	b := make([]byte, (n+1)/2)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return hex.EncodeToString(b)[:n]
}

func strAttr(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

func intAttr(k string, v int64) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: v}}}
}

func boolAttr(k string, v bool) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: v}}}
}

func floatAttr(k string, v float64) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: v}}}
}
