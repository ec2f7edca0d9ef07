package query

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"lookout/internal/telemetry"
)

// SpanEvent returns a span as the Honeycomb event its fields describe: resource attributes,
// then span attributes (maps flattened into dotted fields), with the first exception event's
// attributes copied on when the span lacks them, then the standard fields the span has, and
// its start as "timestamp".
func SpanEvent(sp *telemetry.Span) map[string]any {
	ev := map[string]any{}
	if sp.Resource != nil {
		for _, kv := range sp.Resource.Attributes {
			setField(ev, kv.Key, kv.Value, 1)
		}
	}
	for _, kv := range sp.Attributes {
		setField(ev, kv.Key, kv.Value, 1)
	}
	for _, e := range sp.Events {
		if e.Name != "exception" {
			continue
		}
		for _, kv := range e.Attributes {
			if strings.HasPrefix(kv.Key, "exception.") {
				if _, ok := ev[kv.Key]; !ok {
					ev[kv.Key] = fieldValue(kv.Value)
				}
			}
		}
		break
	}
	ev["timestamp"] = sp.Start().UTC()
	for _, f := range standardFields {
		if f.span == nil {
			continue
		}
		if v, ok := f.span(sp); ok {
			ev[f.Name] = v
		}
	}
	return ev
}

// maxFlattenDepth is how deep Honeycomb flattens maps into dotted fields; deeper maps become
// JSON text.
const maxFlattenDepth = 5

// setField sets an attribute as event fields: a map as one dotted field per value.
func setField(ev map[string]any, key string, v telemetry.Value, depth int) {
	if v.Kind() != telemetry.KindMap || depth > maxFlattenDepth {
		ev[key] = fieldValue(v)
		return
	}
	for _, kv := range v.Map() {
		setField(ev, key+"."+kv.Key, kv.Value, depth+1)
	}
}

// fieldValue is an attribute as an event field: scalars as they are, bytes, arrays and maps
// as JSON text.
func fieldValue(v telemetry.Value) any {
	switch v.Kind() {
	case telemetry.KindString:
		return v.Str()
	case telemetry.KindBool:
		return v.Bool()
	case telemetry.KindInt:
		return v.Int()
	case telemetry.KindDouble:
		return v.Double()
	case telemetry.KindBytes:
		b, _ := json.Marshal(base64.StdEncoding.EncodeToString(v.Bytes()))
		return string(b)
	}
	return v.AsString()
}
