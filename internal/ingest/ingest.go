// Package ingest is what every receiver writes to: a Pipeline that batches spans from
// concurrent requests into large durable writes, bounds what it holds in memory, and tells
// receivers when to push back.
package ingest

import (
	"context"
	"errors"
	"time"

	"lookout/internal/telemetry"
)

// Sink accepts decoded spans from receivers.
//
// WriteSpans returns nil once the spans are durable (see store.SpanWriter), so a receiver may
// acknowledge its request. It returns an *OverloadedError when the sink cannot take the spans
// now; the receiver answers with its protocol's retryable throttling status (HTTP 429/503
// with Retry-After, gRPC UNAVAILABLE with RetryInfo). Any other error is an internal failure.
type Sink interface {
	WriteSpans(ctx context.Context, spans []telemetry.Span) error
}

// OverloadedError asks the sender to retry later.
type OverloadedError struct {
	RetryAfter time.Duration
}

func (e *OverloadedError) Error() string {
	return "lookout is busy writing earlier data; retry after " + e.RetryAfter.String()
}

// IsOverloaded reports whether err asks for a retry, and after how long.
func IsOverloaded(err error) (time.Duration, bool) {
	var o *OverloadedError
	if errors.As(err, &o) {
		return o.RetryAfter, true
	}
	return 0, false
}

// RetryAfterSeconds rounds a retry delay up to whole seconds, at least 1: Retry-After takes
// whole seconds, and 0 would invite an immediate retry storm.
func RetryAfterSeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}
