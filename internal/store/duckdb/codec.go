package duckdb

import (
	"encoding/json"
	"hash/fnv"

	"lookout/internal/telemetry"
)

// attrColumns is the three-list form of an attribute list: key, kind and text of each value,
// as valid UTF-8.
type attrColumns struct {
	keys   []string
	kinds  []uint8
	values []string
}

func encodeAttrs(attrs telemetry.Attributes) attrColumns {
	c := attrColumns{
		keys:   make([]string, len(attrs)),
		kinds:  make([]uint8, len(attrs)),
		values: make([]string, len(attrs)),
	}
	for i, kv := range attrs {
		c.keys[i] = validUTF8(kv.Key)
		c.kinds[i] = uint8(kv.Value.Kind())
		c.values[i] = validUTF8(kv.Value.Encode())
	}
	return c
}

// decodeAttrs rebuilds attributes from parallel lists of keys, kinds and value texts.
func decodeAttrs(keys, kinds, values []any) telemetry.Attributes {
	if len(keys) == 0 {
		return nil
	}
	attrs := make(telemetry.Attributes, 0, len(keys))
	for i := range keys {
		k, _ := keys[i].(string)
		kind, _ := kinds[i].(uint8)
		text, _ := values[i].(string)
		v, err := telemetry.ParseValue(telemetry.ValueKind(kind), text)
		if err != nil {
			v = telemetry.StringValue(text) // stored by an older encoding: keep the text
		}
		attrs = append(attrs, telemetry.KeyValue{Key: k, Value: v})
	}
	return attrs
}

// jsonAttr is an attribute inside the extra JSON column.
type jsonAttr struct {
	K string `json:"k"`
	T uint8  `json:"t"`
	V string `json:"v"`
}

func toJSONAttrs(attrs telemetry.Attributes) []jsonAttr {
	if len(attrs) == 0 {
		return nil
	}
	out := make([]jsonAttr, len(attrs))
	for i, kv := range attrs {
		out[i] = jsonAttr{K: kv.Key, T: uint8(kv.Value.Kind()), V: kv.Value.Encode()}
	}
	return out
}

func fromJSONAttrs(in []jsonAttr) telemetry.Attributes {
	if len(in) == 0 {
		return nil
	}
	out := make(telemetry.Attributes, len(in))
	for i, a := range in {
		v, err := telemetry.ParseValue(telemetry.ValueKind(a.T), a.V)
		if err != nil {
			v = telemetry.StringValue(a.V)
		}
		out[i] = telemetry.KeyValue{Key: a.K, Value: v}
	}
	return out
}

// extra holds the fields most spans leave empty.
type extra struct {
	Events        []jsonEvent `json:"ev,omitempty"`
	Links         []jsonLink  `json:"ln,omitempty"`
	DroppedAttrs  uint32      `json:"da,omitempty"`
	DroppedEvents uint32      `json:"de,omitempty"`
	DroppedLinks  uint32      `json:"dl,omitempty"`
	ScopeAttrs    []jsonAttr  `json:"sa,omitempty"`
	ScopeDropped  uint32      `json:"sd,omitempty"`
}

type jsonEvent struct {
	Time    int64      `json:"t"`
	Name    string     `json:"n"`
	Attrs   []jsonAttr `json:"a,omitempty"`
	Dropped uint32     `json:"d,omitempty"`
}

type jsonLink struct {
	TraceID    string     `json:"tr"`
	SpanID     string     `json:"sp"`
	TraceState string     `json:"ts,omitempty"`
	Flags      uint32     `json:"f,omitempty"`
	Attrs      []jsonAttr `json:"a,omitempty"`
	Dropped    uint32     `json:"d,omitempty"`
}

// encodeExtra returns the extra column of a span: nil when there is nothing to keep.
func encodeExtra(s *telemetry.Span) any {
	e := extra{
		DroppedAttrs:  s.DroppedAttributesCount,
		DroppedEvents: s.DroppedEventsCount,
		DroppedLinks:  s.DroppedLinksCount,
	}
	if s.Scope != nil {
		e.ScopeAttrs = toJSONAttrs(s.Scope.Attributes)
		e.ScopeDropped = s.Scope.DroppedAttributesCount
	}
	for _, ev := range s.Events {
		e.Events = append(e.Events, jsonEvent{Time: ev.TimeUnixNano, Name: ev.Name, Attrs: toJSONAttrs(ev.Attributes), Dropped: ev.DroppedAttributesCount})
	}
	for _, l := range s.Links {
		e.Links = append(e.Links, jsonLink{TraceID: l.TraceID.String(), SpanID: l.SpanID.String(), TraceState: l.TraceState, Flags: l.Flags, Attrs: toJSONAttrs(l.Attributes), Dropped: l.DroppedAttributesCount})
	}
	if e.DroppedAttrs == 0 && e.DroppedEvents == 0 && e.DroppedLinks == 0 && e.ScopeAttrs == nil && e.ScopeDropped == 0 && e.Events == nil && e.Links == nil {
		return nil
	}
	b, _ := json.Marshal(e) // plain structs of strings and numbers: cannot fail
	return string(b)
}

// decodeExtra fills a span's rare fields from the extra column.
func decodeExtra(s *telemetry.Span, text string) error {
	var e extra
	if err := json.Unmarshal([]byte(text), &e); err != nil {
		return err
	}
	s.DroppedAttributesCount = e.DroppedAttrs
	s.DroppedEventsCount = e.DroppedEvents
	s.DroppedLinksCount = e.DroppedLinks
	if s.Scope != nil {
		s.Scope.Attributes = fromJSONAttrs(e.ScopeAttrs)
		s.Scope.DroppedAttributesCount = e.ScopeDropped
	}
	for _, ev := range e.Events {
		s.Events = append(s.Events, telemetry.Event{TimeUnixNano: ev.Time, Name: ev.Name, Attributes: fromJSONAttrs(ev.Attrs), DroppedAttributesCount: ev.Dropped})
	}
	for _, l := range e.Links {
		tid, err := telemetry.ParseTraceID(l.TraceID)
		if err != nil {
			return err
		}
		sid, err := telemetry.ParseSpanID(l.SpanID)
		if err != nil {
			return err
		}
		s.Links = append(s.Links, telemetry.Link{TraceID: tid, SpanID: sid, TraceState: l.TraceState, Flags: l.Flags, Attributes: fromJSONAttrs(l.Attrs), DroppedAttributesCount: l.Dropped})
	}
	return nil
}

// keysetHash identifies the keys and value kinds of an attribute list and where their
// values go (layout: each one's attribute column, or -1).
func keysetHash(attrs telemetry.Attributes, layout []int16) uint64 {
	h := fnv.New64a()
	for i, kv := range attrs {
		h.Write([]byte(kv.Key))
		h.Write([]byte{0, byte(kv.Value.Kind()), byte(layout[i])})
	}
	// Set apart from resource hashes, which share the id space's lookup.
	h.Write([]byte("keyset"))
	return h.Sum64()
}

// resourceHash identifies a resource's content, so equal resources from different batches
// share one row.
func resourceHash(r *telemetry.Resource) uint64 {
	h := fnv.New64a()
	var sep = []byte{0}
	for _, kv := range r.Attributes {
		h.Write([]byte(kv.Key))
		h.Write(sep)
		h.Write([]byte{byte(kv.Value.Kind())})
		h.Write([]byte(kv.Value.Encode()))
		h.Write(sep)
	}
	h.Write([]byte{byte(r.DroppedAttributesCount), byte(r.DroppedAttributesCount >> 8), byte(r.DroppedAttributesCount >> 16), byte(r.DroppedAttributesCount >> 24)})
	return h.Sum64()
}
