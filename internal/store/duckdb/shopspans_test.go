package duckdb

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"lookout/internal/telemetry"
)

// shopSpans returns n spans shaped like the load generator's shop (cmd/loadgen/model.go):
// traces of 5 to 50 spans over eight services of three pods each, HTTP server and client
// spans, database calls and internal work with their own attribute sets (23 keys in all), a
// user id and a request id unique per trace on every span, and 2 % error spans with an
// exception event.
func shopSpans(rnd *rand.Rand, n int, startNano int64) []telemetry.Span {
	resources := make([]*telemetry.Resource, len(shopServices)*3)
	for i := range resources {
		svc := shopServices[i/3]
		resources[i] = &telemetry.Resource{Attributes: telemetry.Attributes{
			{Key: "service.name", Value: telemetry.StringValue(svc)},
			{Key: "service.version", Value: telemetry.StringValue(fmt.Sprintf("%d.%d.%d", i%5, i%7, i%3))},
			{Key: "host.name", Value: telemetry.StringValue(fmt.Sprintf("ip-10-0-%d-%d.ec2.internal", i/3+1, 10+i%3*17))},
			{Key: "deployment.environment", Value: telemetry.StringValue("production")},
			{Key: "k8s.pod.name", Value: telemetry.StringValue(fmt.Sprintf("%s-7d9f8b6c4-%05x", svc, rnd.IntN(1<<20)))},
		}}
	}
	scope := &telemetry.Scope{Name: "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp", Version: "0.61.0"}
	spans := make([]telemetry.Span, 0, n)
	start := startNano
	for len(spans) < n {
		size := min(5+rnd.IntN(46), n-len(spans))
		tid := telemetry.TraceIDFromParts(rnd.Uint64(), rnd.Uint64())
		user := "user-" + strconv.Itoa(rnd.IntN(10000))
		reqID := fmt.Sprintf("%016x", rnd.Uint64())
		root := len(spans)
		for i := range size {
			svc := rnd.IntN(len(shopServices))
			if i == 0 {
				svc = 0
			}
			sp := telemetry.Span{
				TraceID: tid, SpanID: telemetry.SpanIDFromUint64(rnd.Uint64() | 1),
				StartUnixNano: start + int64(i)*200_000, Resource: resources[svc*3+rnd.IntN(3)], Scope: scope,
				Status: telemetry.Status{Code: telemetry.StatusUnset}, Ingest: telemetry.IngestInfo{Protocol: "otlp"},
			}
			sp.EndUnixNano = sp.StartUnixNano + int64(50_000+rnd.IntN(30_000_000))
			if i > 0 {
				sp.ParentSpanID = spans[root+rnd.IntN(i)].SpanID
			}
			shopShape(rnd, &sp, i == 0)
			sp.Attributes = append(sp.Attributes,
				telemetry.KeyValue{Key: "user.id", Value: telemetry.StringValue(user)},
				telemetry.KeyValue{Key: "request.id", Value: telemetry.StringValue(reqID)})
			if rnd.IntN(50) == 0 {
				sp.Status = telemetry.Status{Code: telemetry.StatusError, Message: "context deadline exceeded"}
				sp.Events = []telemetry.Event{{TimeUnixNano: sp.EndUnixNano, Name: "exception", Attributes: telemetry.Attributes{
					{Key: "exception.type", Value: telemetry.StringValue("context.deadlineExceededError")},
					{Key: "exception.message", Value: telemetry.StringValue("context deadline exceeded")},
					{Key: "exception.stacktrace", Value: telemetry.StringValue(fmt.Sprintf("context deadline exceeded\n\tat shop.%s.Handler.serve(handler.go:%d)\n\tat net/http.HandlerFunc.ServeHTTP(server.go:2294)", shopServices[svc], 40+rnd.IntN(400)))},
				}}}
			}
			spans = append(spans, sp)
		}
		start += 1_000_000
	}
	return spans
}

var shopServices = []string{"frontend", "api-gateway", "catalog", "cart", "checkout", "payment", "user", "inventory"}

var shopRoutes = []string{"/api/products/{id}", "/api/cart", "/api/checkout", "/catalog/items/{id}", "/carts/{id}/items", "/orders", "/payments/charge", "/users/{id}", "/stock/{sku}"}

var shopQueries = []string{
	"SELECT id, name, price, description FROM products WHERE id = %d",
	"UPDATE carts SET updated_at = now(), total = $2 WHERE id = %d",
	"INSERT INTO orders (user_id, total, currency, status) VALUES (%d, $2, $3, 'pending') RETURNING id",
	"GET product:%d",
}

// shopShape names a span and gives it the attributes of its kind: an HTTP server or client
// span, a database call, or internal work.
func shopShape(rnd *rand.Rand, sp *telemetry.Span, root bool) {
	str, num := telemetry.StringValue, telemetry.IntValue
	route := shopRoutes[rnd.IntN(len(shopRoutes))]
	path := fmt.Sprintf("%s?i=%d", route, 100000+rnd.IntN(900000))
	shape := rnd.IntN(10)
	if root {
		shape = 0
	}
	switch {
	case shape < 3:
		sp.Name, sp.Kind = "GET "+route, telemetry.SpanKindServer
		sp.Attributes = telemetry.Attributes{{Key: "http.request.method", Value: str("GET")}, {Key: "http.route", Value: str(route)},
			{Key: "http.response.status_code", Value: num(200)}, {Key: "url.path", Value: str(path)},
			{Key: "net.peer.name", Value: str("203.0.113." + strconv.Itoa(1+rnd.IntN(254)))}, {Key: "network.protocol.version", Value: str("1.1")},
			{Key: "app.cache_hit", Value: telemetry.BoolValue(rnd.IntN(4) == 0)}, {Key: "app.cart.value", Value: telemetry.DoubleValue(float64(rnd.IntN(50000)) / 100)}}
	case shape < 5:
		sp.Name, sp.Kind = "GET", telemetry.SpanKindClient
		sp.Attributes = telemetry.Attributes{{Key: "http.request.method", Value: str("GET")}, {Key: "http.route", Value: str(route)},
			{Key: "http.response.status_code", Value: num(200)}, {Key: "url.path", Value: str(path)},
			{Key: "net.peer.name", Value: str(shopServices[rnd.IntN(len(shopServices))] + ".shop.svc.cluster.local")}, {Key: "network.protocol.version", Value: str("1.1")},
			{Key: "app.retry", Value: telemetry.BoolValue(rnd.IntN(50) == 0)}, {Key: "app.timeout_s", Value: telemetry.DoubleValue(float64(1+rnd.IntN(10)) / 2)}}
	case shape < 9:
		q := rnd.IntN(len(shopQueries))
		sp.Name, sp.Kind = "SELECT products", telemetry.SpanKindClient
		sp.Attributes = telemetry.Attributes{{Key: "db.system", Value: str("postgresql")}, {Key: "db.name", Value: str("shop")},
			{Key: "db.operation", Value: str("SELECT")}, {Key: "db.statement", Value: str(fmt.Sprintf(shopQueries[q], rnd.IntN(1000000)))},
			{Key: "net.peer.name", Value: str("pg-shop.internal")}, {Key: "db.rows_affected", Value: num(int64(rnd.IntN(40)))},
			{Key: "app.cache_hit", Value: telemetry.BoolValue(rnd.IntN(3) == 0)}, {Key: "app.query_cost", Value: telemetry.DoubleValue(float64(rnd.IntN(10000)) / 100)}}
	default:
		sp.Name, sp.Kind = "compute price", telemetry.SpanKindInternal
		sp.Attributes = telemetry.Attributes{{Key: "code.function", Value: str("handle" + string(rune('A'+rnd.IntN(26))))},
			{Key: "code.namespace", Value: str("shop/cart")}, {Key: "thread.name", Value: str("worker-" + strconv.Itoa(rnd.IntN(16)))},
			{Key: "app.items", Value: num(int64(1 + rnd.IntN(12)))}, {Key: "app.cache_hit", Value: telemetry.BoolValue(rnd.IntN(2) == 0)},
			{Key: "app.score", Value: telemetry.DoubleValue(float64(rnd.IntN(1000)) / 1000)}}
	}
}
