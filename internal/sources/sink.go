package sources

import (
	"context"
	"encoding/json"
	"strings"

	"lookout/internal/ingest"
	"lookout/internal/telemetry"
)

// Sink wraps a receiver's sink so that the items it stores are counted for the sender of
// their request: describe says where an item lands and which SDK made it ("" when the item
// does not say).
func Sink[T any](next ingest.Sink[T], describe func(*T) (destination, sdk string)) ingest.Sink[T] {
	return &sink[T]{next: next, describe: describe}
}

type sink[T any] struct {
	next     ingest.Sink[T]
	describe func(*T) (string, string)
}

func (s *sink[T]) Write(ctx context.Context, items []T) error {
	if err := s.next.Write(ctx, items); err != nil {
		return err
	}
	if q := Observe(ctx); q != nil {
		for i := range items {
			dest, sdk := s.describe(&items[i])
			q.Landed(dest, 1)
			q.SetSDK(sdk)
		}
	}
	return nil
}

func (s *sink[T]) Rejected(n int) { s.next.Rejected(n) }

// DescribeSpan files a span under the dataset its sender named, else its service, and names
// the SDK of its resource.
func DescribeSpan(sp *telemetry.Span) (string, string) {
	if sp.Ingest.Dataset != "" {
		return "dataset " + sp.Ingest.Dataset, resourceSDK(sp.Resource)
	}
	return "service " + sp.Service(), resourceSDK(sp.Resource)
}

// DescribeLog files a log record under its log group.
func DescribeLog(r *telemetry.LogRecord) (string, string) {
	return "log group " + r.Group, resourceSDK(r.Resource)
}

// DescribeOccurrence files an error occurrence under its project and environment, and names
// the notifier that sent it ("rollbar-go 1.4.5").
func DescribeOccurrence(o *telemetry.Occurrence) (string, string) {
	var data struct {
		Notifier struct{ Name, Version string }
	}
	json.Unmarshal([]byte(o.Data), &data) // a notifier is optional
	sdk := strings.TrimSpace(strings.TrimPrefix(data.Notifier.Name, "rollbar/") + " " + data.Notifier.Version)
	return "project " + o.Project + " / " + o.Environment, sdk
}

// resourceSDK names the SDK of a resource from its telemetry.sdk.* attributes:
// "opentelemetry go 1.47.0".
func resourceSDK(r *telemetry.Resource) string {
	if r == nil {
		return ""
	}
	var parts []string
	for _, k := range []string{"telemetry.sdk.name", "telemetry.sdk.language", "telemetry.sdk.version"} {
		if v, ok := r.Attributes.Get(k); ok && v.Kind() == telemetry.KindString && v.Str() != "" {
			parts = append(parts, v.Str())
		}
	}
	return strings.Join(parts, " ")
}
