// Package spanerrors sees the exceptions that OpenTelemetry spans record (events named
// "exception") as error occurrences, grouped into items by the same rules as what Rollbar's
// SDKs report, so that one errors view covers both. A span's exceptions are filed under the
// project named after its service (service.name), in its deployment environment.
package spanerrors

import (
	"context"
	"encoding/json"
	"fmt"

	"lookout/internal/ingest"
	"lookout/internal/telemetry"
	"lookout/internal/triage"
)

// Also returns a store function that writes spans with write, then the occurrences of their
// exceptions with writeOccurrences. Both writes are idempotent (an occurrence's uuid is its
// span's and the event's index), so a batch replayed after a crash stores nothing twice.
func Also(write ingest.StoreFunc[telemetry.Span], writeOccurrences func(context.Context, []telemetry.Occurrence) error) ingest.StoreFunc[telemetry.Span] {
	return func(ctx context.Context, spans []telemetry.Span) error {
		if err := write(ctx, spans); err != nil {
			return err
		}
		if occs := Occurrences(spans); len(occs) > 0 {
			return writeOccurrences(ctx, occs)
		}
		return nil
	}
}

// Occurrences returns an occurrence for each exception event of spans, in order.
func Occurrences(spans []telemetry.Span) []telemetry.Occurrence {
	var out []telemetry.Occurrence
	for i := range spans {
		sp := &spans[i]
		for j, ev := range sp.Events {
			if ev.Name == "exception" {
				out = append(out, occurrence(sp, j, &ev))
			}
		}
	}
	return out
}

func str(attrs telemetry.Attributes, keys ...string) string {
	for _, k := range keys {
		if v, ok := attrs.Get(k); ok && v.AsString() != "" {
			return v.AsString()
		}
	}
	return ""
}

func occurrence(sp *telemetry.Span, index int, ev *telemetry.Event) telemetry.Occurrence {
	var res telemetry.Attributes
	if sp.Resource != nil {
		res = sp.Resource.Attributes
	}
	service := str(res, "service.name")
	if service == "" {
		service = "unknown_service"
	}
	env := str(res, "deployment.environment.name", "deployment.environment")
	if env == "" {
		env = "default"
	}
	class := str(ev.Attributes, "exception.type")
	if class == "" {
		class = "Exception"
	}
	message := str(ev.Attributes, "exception.message")
	stack := str(ev.Attributes, "exception.stacktrace")
	frames := ParseStack(stack)
	report := triage.Report{Chain: []triage.Exception{{Class: class, Message: message, Frames: frames}}}
	g := triage.Group(report, nil)
	when := ev.TimeUnixNano
	if when <= 0 {
		when = sp.StartUnixNano
	}
	jframes := make([]map[string]string, len(frames))
	for i, f := range frames {
		jframes[i] = map[string]string{"filename": f.Filename, "method": f.Method}
	}
	custom := map[string]string{"span": sp.Name, "trace_id": sp.TraceID.String(), "span_id": sp.SpanID.String()}
	if stack != "" {
		custom["stacktrace"] = stack
	}
	data, _ := json.Marshal(map[string]any{ // of strings and maps of strings: cannot fail
		"environment": env, "level": "error", "platform": "opentelemetry", "language": str(res, "telemetry.sdk.language"),
		"code_version": str(res, "service.version"),
		"body":         map[string]any{"trace": map[string]any{"frames": jframes, "exception": map[string]string{"class": class, "message": message}}},
		"custom":       custom,
		"server":       map[string]string{"host": str(res, "host.name")},
	})
	return telemetry.Occurrence{
		UUID: fmt.Sprintf("otel-%s-%s-%d", sp.TraceID, sp.SpanID, index), Project: service, Environment: env, Level: "error",
		TimeUnixNano: when, ReceivedUnixNano: when, Fingerprint: g.Fingerprint, Grouping: g.Explanation, Title: g.Title,
		Class: class, CodeVersion: str(res, "service.version"), Platform: "opentelemetry", Language: str(res, "telemetry.sdk.language"),
		Context: sp.Name, Host: str(res, "host.name"), TraceID: sp.TraceID, SpanID: sp.SpanID, Data: string(data),
		Ingest: telemetry.IngestInfo{Protocol: "otlp"},
	}
}
