package duckdb

import (
	"strconv"
	"unicode/utf8"

	"lookout/internal/telemetry"
)

// Spans reach DuckDB as one JSON document a row, appended to a one-column staging table and
// turned into typed columns by DuckDB's own JSON reader (sql/insert_spans.sql). Appending a
// row of 25 columns and three lists through the Go appender costs a call into C for every
// value; one string a row costs one, and the parsing runs vectorised inside DuckDB.

// appendSpanRow appends the JSON document of a span. Its keys are single letters, a to x, for
// the spans table's columns in order (sql/insert_spans.sql names them): short keys make less
// for DuckDB to parse.
// Attribute values go to the "w" list, or, where layout gives a column, to "c<n>".
func appendSpanRow(b []byte, s *telemetry.Span, resourceID, keysetID int64, layout []int16) []byte {
	b = append(b, `{"a":`...)
	b = strconv.AppendInt(b, int64(s.TraceID.High()), 10)
	b = append(b, `,"b":`...)
	b = strconv.AppendInt(b, int64(s.TraceID.Low()), 10)
	b = append(b, `,"c":`...)
	b = strconv.AppendInt(b, int64(s.SpanID.Uint64()), 10)
	b = append(b, `,"d":`...)
	b = strconv.AppendInt(b, int64(s.ParentSpanID.Uint64()), 10)
	b = append(b, `,"e":`...)
	b = strconv.AppendInt(b, s.StartUnixNano, 10)
	b = append(b, `,"f":`...)
	b = strconv.AppendInt(b, int64(s.Duration()), 10)
	b = append(b, `,"g":`...)
	b = appendJSONString(b, s.Service())
	b = append(b, `,"h":`...)
	b = appendJSONString(b, s.Name)
	b = append(b, `,"i":`...)
	b = strconv.AppendUint(b, uint64(s.Kind), 10)
	b = append(b, `,"j":`...)
	b = strconv.AppendUint(b, uint64(s.Status.Code), 10)
	b = appendOptional(b, `,"k":`, s.Status.Message)
	b = appendOptional(b, `,"l":`, s.TraceState)
	b = append(b, `,"m":`...)
	b = strconv.AppendUint(b, uint64(s.Flags), 10)
	b = append(b, `,"n":`...)
	b = strconv.AppendBool(b, s.InProgress)
	b = append(b, `,"o":`...)
	b = strconv.AppendUint(b, uint64(s.SampleRate), 10)
	b = append(b, `,"p":`...)
	b = strconv.AppendInt(b, resourceID, 10)
	if s.Scope != nil {
		b = append(b, `,"q":`...)
		b = appendJSONString(b, s.Scope.Name)
		b = append(b, `,"r":`...)
		b = appendJSONString(b, s.Scope.Version)
	}
	b = append(b, `,"s":`...)
	b = appendJSONString(b, s.Ingest.Protocol)
	b = appendOptional(b, `,"t":`, s.Ingest.Dataset)
	b = appendOptional(b, `,"u":`, s.Ingest.KeyID)
	b = append(b, `,"v":`...)
	b = strconv.AppendInt(b, keysetID, 10)
	b = append(b, `,"w":[`...)
	first := true
	for i, kv := range s.Attributes {
		if layout[i] >= 0 {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, kv.Value.Encode())
	}
	b = append(b, ']')
	for i, kv := range s.Attributes {
		if layout[i] >= 0 {
			b = append(b, `,"c`...)
			b = strconv.AppendInt(b, int64(layout[i]), 10)
			b = append(b, `":`...)
			b = appendJSONString(b, kv.Value.Encode())
		}
	}
	if extra, ok := encodeExtra(s).(string); ok {
		b = append(b, `,"x":`...)
		b = appendJSONString(b, extra)
	}
	return append(b, '}')
}

func appendOptional(b []byte, key, value string) []byte {
	if value == "" {
		return b
	}
	return appendJSONString(append(b, key...), value)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as DuckDB
// stores only valid UTF-8.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, `\ufffd`...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
