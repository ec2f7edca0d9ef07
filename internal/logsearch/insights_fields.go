package logsearch

import (
	"encoding/json"
	"strconv"

	"lookout/internal/telemetry"
)

// RecordRow is a log record as Insights sees it: @timestamp, @ingestionTime, @message,
// @logStream, @log (its group), @traceId when it has one, and the fields of its JSON.
func RecordRow(r *telemetry.LogRecord) Row {
	msg := r.Body.AsString()
	row := Row{"@timestamp": Time(r.TimeUnixNano / 1e6), "@ingestionTime": Time(r.ObservedTimeUnixNano / 1e6),
		"@message": msg, "@logStream": r.Stream, "@log": r.Group}
	if !r.TraceID.IsZero() {
		row["@traceId"] = r.TraceID.String()
	}
	DiscoverJSON(msg, row)
	return row
}

// maxDiscovered bounds the fields taken from one message, as Insights extracts at most 1000.
const maxDiscovered = 1000

// DiscoverJSON adds the fields of a JSON message to row, as Insights discovers them: every
// leaf by its dotted path, array elements by their index (a.items.0.id). A field whose name
// starts with @ gets another @, so that it cannot hide a system field. Messages that are not
// JSON objects add nothing.
func DiscoverJSON(msg string, row Row) {
	doc, ok := decodeJSON(msg)
	if obj, isObj := doc.(map[string]any); ok && isObj {
		n := 0
		flatten("", obj, row, &n)
	}
}

func flatten(prefix string, v any, row Row, n *int) {
	if *n >= maxDiscovered {
		return
	}
	join := func(k string) string {
		if prefix == "" {
			if len(k) > 0 && k[0] == '@' {
				return "@" + k
			}
			return k
		}
		return prefix + "." + k
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			flatten(join(k), e, row, n)
		}
		return
	case []any:
		for i, e := range x {
			flatten(join(strconv.Itoa(i)), e, row, n)
		}
		return
	case json.Number:
		if f, err := x.Float64(); err == nil {
			row[prefix] = f
		} else {
			row[prefix] = x.String()
		}
	case string:
		row[prefix] = x
	case bool:
		row[prefix] = x
	default: // null
		return
	}
	*n++
}
