// Package ingest is what every receiver writes to: a Pipeline that logs the items of concurrent
// requests durably, loads them into the store in large batches, bounds what it holds in memory,
// and tells receivers when to push back. It carries every signal (spans, log records, and
// whatever comes later) through one write-ahead log and one memory bound.
package ingest

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Sink is what a receiver writes the decoded items of one signal to.
type Sink[T any] interface {
	// Write returns nil once the items are durable (they survive kill -9 and a restart), so
	// the receiver may acknowledge its request. On failure the receiver answers as Classify
	// says; nothing of the items was acknowledged.
	Write(ctx context.Context, items []T) error
	// Rejected records n items the receiver refused itself (invalid, over a limit), so that
	// /metrics shows them beside the ones written.
	Rejected(n int)
}

// OverloadedError asks the sender to retry later.
type OverloadedError struct {
	RetryAfter time.Duration
}

func (e *OverloadedError) Error() string {
	return "lookout is busy writing earlier data; retry after " + e.RetryAfter.String()
}

// ErrClosed is returned by a sink that is shutting down.
var ErrClosed = errors.New("lookout is shutting down")

// RefusalKind says why a write failed, which decides the receiver's answer.
type RefusalKind uint8

const (
	// Overloaded: the pipeline is full; the sender should retry after RetryAfter.
	Overloaded RefusalKind = iota + 1
	// Canceled: the request ended (the client went away or its deadline passed) before its
	// items were durable. Nothing was acknowledged.
	Canceled
	// Unavailable: lookout could not store the items (a failing disk) or is shutting down;
	// the failure may pass, so the sender should keep its data and retry.
	Unavailable
)

// Refusal is the answer to a failed write, whatever the protocol: receivers render it in their
// own error shape (HTTP status and Retry-After, gRPC status and RetryInfo).
type Refusal struct {
	Kind       RefusalKind
	RetryAfter time.Duration // > 0 for Overloaded and Unavailable
	Message    string        // for the sender; never holds internal detail
}

// unavailableRetry is what senders are told to wait after their items could not be stored.
const unavailableRetry = 5 * time.Second

// Classify turns a Sink's error into the answer for the sender. ctx is the request's context.
// It is the one place that decides retry policy, so every receiver answers alike.
func Classify(ctx context.Context, err error) Refusal {
	var o *OverloadedError
	switch {
	case errors.As(err, &o):
		d := max(o.RetryAfter, time.Second) // a zero delay would invite an immediate retry
		return Refusal{Kind: Overloaded, RetryAfter: d,
			Message: "lookout is overloaded; retry after " + strconv.Itoa(RetryAfterSeconds(d)) + "s"}
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		return Refusal{Kind: Canceled, Message: "the request ended before its data was stored"}
	case errors.Is(err, ErrClosed):
		return Refusal{Kind: Unavailable, RetryAfter: time.Second, Message: "lookout is shutting down; retry later"}
	}
	return Refusal{Kind: Unavailable, RetryAfter: unavailableRetry, Message: "the data could not be stored; retry later"}
}

// HTTPStatus is the status an HTTP receiver answers a refusal with: 503, which every
// OpenTelemetry, Honeycomb and AWS client retries, honouring Retry-After.
func (r Refusal) HTTPStatus() int { return http.StatusServiceUnavailable }

// RetryAfterHeader is the Retry-After value in whole seconds, or "" for none.
func (r Refusal) RetryAfterHeader() string {
	if r.RetryAfter <= 0 {
		return ""
	}
	return strconv.Itoa(RetryAfterSeconds(r.RetryAfter))
}

// RetryAfterSeconds rounds a retry delay up to whole seconds, at least 1: Retry-After takes
// whole seconds, and 0 would invite an immediate retry storm.
func RetryAfterSeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}
