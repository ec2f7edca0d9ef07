package xray

import (
	"fmt"
	"testing"

	"lookout/internal/telemetry"
)

// TestSummaryResourcesOfOpenTelemetrySpans: spans sent over OTLP name their AWS resource
// and EC2 instance with OpenTelemetry's resource attributes, which a summary lists once
// each; a host outside AWS is no EC2 instance.
func TestSummaryResourcesOfOpenTelemetrySpans(t *testing.T) {
	resource := func(attrs ...string) *telemetry.Resource {
		r := &telemetry.Resource{}
		for i := 0; i < len(attrs); i += 2 {
			r.Attributes = append(r.Attributes, telemetry.KeyValue{Key: attrs[i], Value: telemetry.StringValue(attrs[i+1])})
		}
		return r
	}
	lambda := resource(telemetry.ServiceNameKey, "thumbnails", "cloud.provider", "aws",
		"cloud.resource_id", "arn:aws:lambda:us-east-1:123456789012:function:thumbnails")
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
		span(3, 2, lambda, telemetry.SpanKindServer),
		span(4, 3, lambda, telemetry.SpanKindInternal),
		span(5, 1, laptop, telemetry.SpanKindServer),
	}
	s := summary(newView(id, spans))
	if got := fmt.Sprint(s["ResourceARNs"]); got != "[map[ARN:arn:aws:lambda:us-east-1:123456789012:function:thumbnails]]" {
		t.Errorf("ResourceARNs = %s, want the function's ARN once", got)
	}
	if got := fmt.Sprint(s["InstanceIds"]); got != "[map[Id:i-0123456789abcdef0]]" {
		t.Errorf("InstanceIds = %s, want the EC2 instance once, not the laptop", got)
	}
}
