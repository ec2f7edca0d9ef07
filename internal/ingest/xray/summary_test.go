package xray

import (
	"encoding/json"
	"fmt"
	"testing"

	"lookout/internal/telemetry"
)

// TestSummaryInstancesOfOpenTelemetrySpans: spans sent over OTLP name their EC2 instance
// with OpenTelemetry's resource attributes, which a summary lists once; a host outside AWS
// is no EC2 instance.
func TestSummaryInstancesOfOpenTelemetrySpans(t *testing.T) {
	resource := func(attrs ...string) *telemetry.Resource {
		r := &telemetry.Resource{}
		for i := 0; i < len(attrs); i += 2 {
			r.Attributes = append(r.Attributes, telemetry.KeyValue{Key: attrs[i], Value: telemetry.StringValue(attrs[i+1])})
		}
		return r
	}
	ec2 := resource(telemetry.ServiceNameKey, "api", "cloud.provider", "aws", "host.id", "i-0123456789abcdef0")
	laptop := resource(telemetry.ServiceNameKey, "worker", "host.id", "laptop-7")
	id := telemetry.TraceIDFromParts(1, 2)
	span := func(n, parent uint64, r *telemetry.Resource, kind telemetry.SpanKind) telemetry.Span {
		return telemetry.Span{TraceID: id, SpanID: telemetry.SpanIDFromUint64(n), ParentSpanID: telemetry.SpanIDFromUint64(parent),
			Name: fmt.Sprint("op", n), Kind: kind, StartUnixNano: int64(n) * 1e6, EndUnixNano: 1e9, Resource: r}
	}
	spans := []telemetry.Span{
		span(1, 0, ec2, telemetry.SpanKindServer),
		span(2, 1, ec2, telemetry.SpanKindClient),
		span(3, 2, laptop, telemetry.SpanKindServer),
	}
	if got := fmt.Sprint(summary(newView(id, spans))["InstanceIds"]); got != "[map[Id:i-0123456789abcdef0]]" {
		t.Errorf("InstanceIds = %s, want the EC2 instance once, not the laptop", got)
	}
}

// TestHTTPOfCurrentOpenTelemetryNames: OpenTelemetry's SDKs now name a request's method,
// URL, user agent and client address http.request.method, url.full, user_agent.original and
// client.address; the summary's Http, the filter's http keywords and the span's segment
// document read them as X-Ray's.
func TestHTTPOfCurrentOpenTelemetryNames(t *testing.T) {
	id := telemetry.TraceIDFromParts(3, 4)
	attrs := telemetry.Attributes{
		{Key: "http.request.method", Value: telemetry.StringValue("PUT")},
		{Key: "url.full", Value: telemetry.StringValue("https://shop.example/cart/7")},
		{Key: "user_agent.original", Value: telemetry.StringValue("curl/8.5")},
		{Key: "client.address", Value: telemetry.StringValue("203.0.113.9")},
		{Key: "http.response.status_code", Value: telemetry.IntValue(503)},
	}
	spans := []telemetry.Span{{TraceID: id, SpanID: telemetry.SpanIDFromUint64(1), Name: "PUT /cart/{id}", Kind: telemetry.SpanKindServer,
		StartUnixNano: 1e9, EndUnixNano: 2e9, Attributes: attrs,
		Resource: &telemetry.Resource{Attributes: telemetry.Attributes{{Key: telemetry.ServiceNameKey, Value: telemetry.StringValue("shop")}}}}}

	s := summary(newView(id, spans))
	want := "map[ClientIp:203.0.113.9 HttpMethod:PUT HttpStatus:503 HttpURL:https://shop.example/cart/7 UserAgent:curl/8.5]"
	if got := fmt.Sprint(s["Http"]); got != want {
		t.Errorf("summary's Http = %s, want %s", got, want)
	}
	for expr, want := range map[string]bool{`http.method = "PUT" AND http.url ENDSWITH "/cart/7"`: true,
		`http.useragent BEGINSWITH "curl" AND http.clientip = "203.0.113.9"`: true, `http.method = "GET"`: false} {
		f, err := parseFilter(expr, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.match(&scope{v: newView(id, spans)}); got != want {
			t.Errorf("%s matches: %v, want %v", expr, got, want)
		}
	}
	docs := Segments(spans)
	var doc struct {
		HTTP struct {
			Request  map[string]string    `json:"request"`
			Response struct{ Status int } `json:"response"`
		} `json:"http"`
	}
	if len(docs) != 1 || json.Unmarshal([]byte(docs[0].Document), &doc) != nil {
		t.Fatalf("segments = %v", docs)
	}
	if got := fmt.Sprint(doc.HTTP.Request, doc.HTTP.Response.Status); got != "map[client_ip:203.0.113.9 method:PUT url:https://shop.example/cart/7 user_agent:curl/8.5] 503" {
		t.Errorf("document's http = %s", got)
	}
}
