package duckdb

import (
	"database/sql/driver"
	"unicode/utf8"

	"lookout/internal/telemetry"
)

// storedColumns are the spans table's columns before the attribute columns, in the order
// spanRow gives their values.
var storedColumns = []string{"trace_hi", "trace_lo", "span_id", "parent_id", "start_ns", "duration_ns", "service", "name",
	"kind", "status_code", "status_message", "trace_state", "flags", "in_progress", "sample_rate", "resource_id",
	"scope_name", "scope_version", "protocol", "dataset", "key_id", "keyset_id", "attr_values", "extra"}

// spanRow fills row with the values of a span for the spans table: the columns of
// storedColumns, then the attribute columns c0, c1, ... to the end of row. Attribute values go
// to the column layout gives them, or to the attr_values list; a column the span has no
// value for holds an empty string.
func spanRow(row []driver.Value, s *telemetry.Span, resourceID, keysetID int64, layout []int16) {
	var list []any
	for i, kv := range s.Attributes {
		if layout[i] < 0 {
			list = append(list, validUTF8(kv.Value.Encode()))
		}
	}
	var scopeName, scopeVersion any
	if s.Scope != nil {
		scopeName, scopeVersion = validUTF8(s.Scope.Name), validUTF8(s.Scope.Version)
	}
	copy(row, []driver.Value{int64(s.TraceID.High()), int64(s.TraceID.Low()), int64(s.SpanID.Uint64()),
		int64(s.ParentSpanID.Uint64()), s.StartUnixNano, int64(s.Duration()), validUTF8(s.Service()), validUTF8(s.Name),
		uint8(s.Kind), uint8(s.Status.Code), optional(s.Status.Message), optional(s.TraceState), s.Flags, s.InProgress,
		s.SampleRate, resourceID, scopeName, scopeVersion, validUTF8(s.Ingest.Protocol), optional(s.Ingest.Dataset),
		optional(s.Ingest.KeyID), keysetID, list, encodeExtra(s)})
	attrs := row[len(storedColumns):]
	for i := range attrs {
		attrs[i] = ""
	}
	for i, kv := range s.Attributes {
		if layout[i] >= 0 {
			attrs[layout[i]] = validUTF8(kv.Value.Encode())
		}
	}
}

// optional is a text column's value: NULL for an empty string.
func optional(s string) any {
	if s == "" {
		return nil
	}
	return validUTF8(s)
}

// validUTF8 returns s with each byte that is not part of valid UTF-8 replaced by U+FFFD:
// DuckDB stores only valid UTF-8, and would store NULL instead.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}
