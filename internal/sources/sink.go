package sources

import (
	"context"
	"strings"

	"lookout/internal/ingest"
	"lookout/internal/telemetry"
)

// Describe tells the Sources page about the items of one signal. Where is asked of every
// item stored, so it must be cheap: the kind and name of the place it lands ("service",
// "backend-flask"). SDK names the client that made an item; it is asked once a destination
// and batch.
type Describe[T any] struct {
	Where func(*T) (kind, name string)
	SDK   func(*T) string
}

// Destination is where item lands, as the Sources page names it: "service backend-flask".
func (d Describe[T]) Destination(item *T) string {
	kind, name := d.Where(item)
	return kind + " " + name
}

// Sink wraps a receiver's sink so that the items it stores are counted for the sender of
// their request.
func Sink[T any](next ingest.Sink[T], d Describe[T]) ingest.Sink[T] {
	return &sink[T]{next: next, describe: d}
}

type sink[T any] struct {
	next     ingest.Sink[T]
	describe Describe[T]
}

func (s *sink[T]) Write(ctx context.Context, items []T) error {
	if err := s.next.Write(ctx, items); err != nil {
		return err
	}
	q := Observe(ctx)
	if q == nil {
		return nil
	}
	counts := map[[2]string]int{}
	for i := range items {
		kind, name := s.describe.Where(&items[i])
		key := [2]string{kind, name}
		if _, seen := counts[key]; !seen {
			q.SetSDK(s.describe.SDK(&items[i]))
		}
		counts[key]++
	}
	for key, n := range counts {
		q.Landed(key[0]+" "+key[1], n)
	}
	return nil
}

func (s *sink[T]) Rejected(n int) { s.next.Rejected(n) }

// Spans files a span under the dataset its sender named, else its service, and names the SDK
// of its resource.
var Spans = Describe[telemetry.Span]{
	Where: func(sp *telemetry.Span) (string, string) {
		if sp.Ingest.Dataset != "" {
			return "dataset", sp.Ingest.Dataset
		}
		return "service", sp.Service()
	},
	SDK: func(sp *telemetry.Span) string { return resourceSDK(sp.Resource) },
}

// Logs files a log record under its log group.
var Logs = Describe[telemetry.LogRecord]{
	Where: func(r *telemetry.LogRecord) (string, string) { return "log group", r.Group },
	SDK:   func(r *telemetry.LogRecord) string { return resourceSDK(r.Resource) },
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
