package xray

import (
	"encoding/hex"
	"errors"
	"strings"

	"lookout/internal/telemetry"
)

var errTraceID = errors.New("not an X-Ray trace id (1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx)")

// ParseTraceID reads an X-Ray trace id, "1-" then 8 hex digits of epoch seconds, "-" and 24
// hex digits, into the 128-bit id OpenTelemetry uses for the same trace: the epoch digits
// followed by the random ones. The epoch is not checked (X-Ray accepts random W3C ids), and a
// shorter epoch part is left-padded, as some tracers send one.
func ParseTraceID(s string) (telemetry.TraceID, error) {
	version, rest, ok := strings.Cut(s, "-")
	epoch, random, ok2 := strings.Cut(rest, "-")
	if !ok || !ok2 || version == "" || strings.Trim(version, "0123456789") != "" ||
		len(epoch) == 0 || len(epoch) > 8 || len(random) != 24 {
		return telemetry.TraceID{}, errTraceID
	}
	var id telemetry.TraceID
	text := strings.Repeat("0", 8-len(epoch)) + epoch + random
	if _, err := hex.Decode(id[:], []byte(text)); err != nil || id.IsZero() {
		return telemetry.TraceID{}, errTraceID
	}
	return id, nil
}

// FormatTraceID is the X-Ray form of a trace id: the inverse of ParseTraceID.
func FormatTraceID(id telemetry.TraceID) string {
	h := id.String()
	return "1-" + h[:8] + "-" + h[8:]
}

// parseEntityID reads a segment or subsegment id: 16 hex digits, not all zero.
func parseEntityID(s string) (telemetry.SpanID, bool) {
	var id telemetry.SpanID
	if len(s) != 16 {
		return id, false
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil || id.IsZero() {
		return id, false
	}
	return id, true
}
