package otlp

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Protocol is the telemetry.IngestInfo.Protocol of everything this package decodes.
const Protocol = "otlp"

// Encoding is the wire encoding of an export request.
type Encoding uint8

const (
	// Protobuf is binary protobuf: OTLP/HTTP with Content-Type application/x-protobuf, and gRPC.
	Protobuf Encoding = iota + 1
	// JSON is OTLP/JSON: Content-Type application/json.
	JSON
)

func (e Encoding) String() string {
	switch e {
	case Protobuf:
		return "protobuf"
	case JSON:
		return "json"
	}
	return "encoding(" + strconv.Itoa(int(e)) + ")"
}

// Result is a decoded export request: the items to store (telemetry.Span or
// telemetry.LogRecord), and how many were rejected and why.
type Result[T any] struct {
	// Items are the valid items, in request order. Each shares its *Resource with the other
	// items of its Resource{Spans,Logs} and its *Scope with those of its Scope{Spans,Logs}.
	Items []T
	// Rejected counts items that failed validation; it becomes partial_success.rejected_spans
	// or rejected_log_records.
	Rejected int64
	// Message is an English summary of why items were rejected ("" when none were); it
	// becomes partial_success.error_message.
	Message string
}

// decode reads an export request of any signal.
func decode[T any](ctx context.Context, body []byte, enc Encoding, sig signal[T]) (Result[T], error) {
	var err error
	b := &batch[T]{d: newDecoder(ctx, len(body)), sig: sig}
	switch enc {
	case Protobuf:
		err = protoRequest(b, body)
	case JSON:
		err = jsonRequest(b, body)
	default:
		return Result[T]{}, fmt.Errorf("unknown OTLP encoding %v", enc)
	}
	if err != nil {
		return Result[T]{}, fmt.Errorf("cannot decode OTLP/%s %s request: %w", enc, sig.names().request, err)
	}
	return b.result(), nil
}

// truncate shortens s to at most n bytes plus an ellipsis, on a rune boundary, and makes it
// valid UTF-8: messages go into protobuf string fields, which receivers reject otherwise.
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
