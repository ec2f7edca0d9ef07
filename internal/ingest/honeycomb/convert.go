package honeycomb

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"time"

	"lookout/internal/telemetry"
)

// Honeycomb's limits on one event.
const (
	maxFields      = 2000
	maxStringBytes = 65535 // longer strings are cut, as Honeycomb's storage does
	maxNesting     = 10    // deeper objects are kept as JSON text
)

//lint:ignore ST1005 Honeycomb's own wording, which its clients show
var errTooManyColumns = errors.New("Event has too many columns.")

// Fields that give an event its place in a trace, as the Beelines send them.
const (
	fieldTraceID  = "trace.trace_id"
	fieldSpanID   = "trace.span_id"
	fieldParentID = "trace.parent_id"
	fieldName     = "name"
	fieldDuration = "duration_ms"
)

// converter turns the events of one request into spans, sharing a resource per service.
type converter struct {
	dataset   string
	info      telemetry.IngestInfo
	now       time.Time
	resources map[string]*telemetry.Resource
}

func newConverter(dataset string, info telemetry.IngestInfo, now time.Time) *converter {
	info.Protocol, info.Dataset = Protocol, dataset
	return &converter{dataset: dataset, info: info, now: now, resources: map[string]*telemetry.Resource{}}
}

// span converts one event. An event without a trace id gets ids derived from its content, so
// a retried event is stored once.
func (c *converter) span(ev Event) (telemetry.Span, error) {
	if len(ev.Fields) == 0 {
		return telemetry.Span{}, errEmpty
	}
	attrs := make(telemetry.Attributes, 0, len(ev.Fields))
	keys := make([]string, 0, len(ev.Fields))
	for k := range ev.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys) // a stable order, for the derived ids and for people
	for _, k := range keys {
		attrs = flatten(attrs, k, ev.Fields[k], 0)
	}
	if len(attrs) > maxFields {
		return telemetry.Span{}, errTooManyColumns
	}

	start := ev.Time
	if start.IsZero() {
		start = c.now
	}
	sp := telemetry.Span{
		Name:          c.dataset,
		StartUnixNano: start.UnixNano(),
		EndUnixNano:   start.UnixNano(),
		SampleRate:    sampleRate(ev.SampleRate),
		Ingest:        c.info,
	}
	service := ""
	kept := attrs[:0]
	for _, kv := range attrs {
		switch kv.Key {
		case fieldTraceID:
			sp.TraceID = traceID(kv.Value.AsString())
		case fieldSpanID:
			sp.SpanID = spanID(kv.Value.AsString())
		case fieldParentID:
			sp.ParentSpanID = spanID(kv.Value.AsString())
		case fieldName:
			sp.Name = kv.Value.AsString()
		case fieldDuration:
			if ms, ok := number(kv.Value); ok && ms > 0 {
				sp.EndUnixNano = sp.StartUnixNano + int64(math.Round(ms*float64(time.Millisecond))) // 0.1 ms is not exact in binary
			}
			kept = append(kept, kv)
		case telemetry.ServiceNameKey, "service_name":
			if service == "" || kv.Key == telemetry.ServiceNameKey {
				service = kv.Value.AsString()
			}
		default:
			if kv.Key == "error" && truthy(kv.Value) {
				sp.Status.Code = telemetry.StatusError
			}
			kept = append(kept, kv)
		}
	}
	sp.Attributes = kept
	if sp.TraceID.IsZero() || sp.SpanID.IsZero() {
		sum := c.contentHash(start, attrs)
		if sp.TraceID.IsZero() {
			copy(sp.TraceID[:], sum[:16])
		}
		if sp.SpanID.IsZero() {
			copy(sp.SpanID[:], sum[16:24])
		}
	}
	sp.Resource = c.resource(service)
	return sp, sp.Validate()
}

// contentHash identifies an event by its dataset, time and fields.
func (c *converter) contentHash(start time.Time, attrs telemetry.Attributes) [32]byte {
	h := sha256.New()
	h.Write([]byte(c.dataset))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(start.UnixNano())))
	for _, kv := range attrs {
		h.Write([]byte{0})
		h.Write([]byte(kv.Key))
		h.Write([]byte{0, byte(kv.Value.Kind())})
		h.Write([]byte(kv.Value.Encode()))
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

func (c *converter) resource(service string) *telemetry.Resource {
	if service == "" {
		service = c.dataset // Honeycomb's own default: a dataset per service
	}
	r, ok := c.resources[service]
	if !ok {
		r = &telemetry.Resource{Attributes: telemetry.Attributes{{Key: telemetry.ServiceNameKey, Value: telemetry.StringValue(service)}}}
		c.resources[service] = r
	}
	return r
}

// flatten appends a field, expanding nested objects into dotted keys as Honeycomb does.
func flatten(attrs telemetry.Attributes, key string, v any, depth int) telemetry.Attributes {
	if m, ok := v.(map[string]any); ok && depth < maxNesting {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			attrs = flatten(attrs, key+"."+k, m[k], depth+1)
		}
		return attrs
	}
	return append(attrs, telemetry.KeyValue{Key: key, Value: value(v)})
}

// value converts a decoded field: strings, booleans and numbers keep their type (integers
// stay integers); anything else is kept as its JSON text, as Honeycomb stores it.
func value(v any) telemetry.Value {
	switch x := v.(type) {
	case string:
		return telemetry.StringValue(cut(x))
	case bool:
		return telemetry.BoolValue(x)
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return telemetry.IntValue(i)
		}
		f, _ := x.Float64()
		return telemetry.DoubleValue(f)
	case float64:
		return telemetry.DoubleValue(x)
	case float32:
		return telemetry.DoubleValue(float64(x))
	case int8, int16, int32, int64, int, uint8, uint16, uint32:
		f, _ := toFloat(x)
		return telemetry.IntValue(int64(f))
	case uint64:
		if x > math.MaxInt64 {
			return telemetry.DoubleValue(float64(x))
		}
		return telemetry.IntValue(int64(x))
	case nil:
		return telemetry.Value{}
	case []byte:
		return telemetry.StringValue(cut(string(x)))
	case time.Time:
		return telemetry.StringValue(x.UTC().Format(time.RFC3339Nano))
	}
	b, err := json.Marshal(v)
	if err != nil {
		return telemetry.StringValue("")
	}
	return telemetry.StringValue(cut(string(b)))
}

func cut(s string) string {
	if len(s) <= maxStringBytes {
		return s
	}
	return strings.ToValidUTF8(s[:maxStringBytes], "")
}

func number(v telemetry.Value) (float64, bool) {
	switch v.Kind() {
	case telemetry.KindInt:
		return float64(v.Int()), true
	case telemetry.KindDouble:
		return v.Double(), true
	}
	return 0, false
}

func truthy(v telemetry.Value) bool {
	switch v.Kind() {
	case telemetry.KindBool:
		return v.Bool()
	case telemetry.KindString:
		return v.Str() != "" && v.Str() != "false"
	}
	return false
}

// traceID reads a Beeline trace id: hex of up to 32 digits as it is, anything else (a UUID
// with dashes, free text) by hash.
func traceID(s string) telemetry.TraceID {
	if id, err := telemetry.ParseTraceID(strings.ReplaceAll(s, "-", "")); err == nil {
		return id
	}
	sum := sha256.Sum256([]byte(s))
	var id telemetry.TraceID
	copy(id[:], sum[:])
	return id
}

func spanID(s string) telemetry.SpanID {
	if id, err := telemetry.ParseSpanID(s); err == nil {
		return id
	}
	sum := sha256.Sum256([]byte(s))
	var id telemetry.SpanID
	copy(id[:], sum[:])
	return id
}

func sampleRate(r int64) uint32 {
	switch {
	case r <= 1:
		return 0
	case r > math.MaxInt32:
		return math.MaxInt32
	}
	return uint32(r)
}
