package telemetry

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxValueDepth is how deeply arrays and maps may nest inside an attribute value or a log
// body. Receivers refuse deeper values before acknowledging them, so that everything the
// write-ahead log holds can be read back.
const MaxValueDepth = 32

// validateDepth reports a value nested deeper than MaxValueDepth; depth is the value's own.
func validateDepth(v Value, depth int) error {
	if depth > MaxValueDepth {
		return errInvalid("a value is nested more than " + strconv.Itoa(MaxValueDepth) + " levels deep")
	}
	for _, e := range v.Array() {
		if err := validateDepth(e, depth+1); err != nil {
			return err
		}
	}
	for _, kv := range v.Map() {
		if err := validateDepth(kv.Value, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// validateAttrDepth checks every value of an attribute list.
func validateAttrDepth(attrs Attributes) error {
	for _, kv := range attrs {
		if kv.Value.Kind() < KindArray {
			continue
		}
		if err := validateDepth(kv.Value, 1); err != nil {
			return err
		}
	}
	return nil
}

// Limits bound what one item may hold. The pipeline fits every item to them before it is
// acknowledged, so that no single item can exhaust the store's memory or block the items
// behind it.
type Limits struct {
	// MaxValueBytes is the longest string or bytes value (attribute values, log bodies);
	// longer ones are cut at a character boundary.
	MaxValueBytes int
	// MaxItemBytes is the largest item, by its Size; a larger one loses span events, then
	// links, then attributes from its end until it fits.
	MaxItemBytes int
}

// DefaultLimits are Honeycomb's: 64 KiB a field, 1 MB an event.
func DefaultLimits() Limits { return Limits{MaxValueBytes: 64 << 10, MaxItemBytes: 1 << 20} }

// TruncatedKey is the attribute added to an item that was cut to fit the limits; its value
// lists what was cut.
const TruncatedKey = "lookout.truncated"

// Approximate memory costs, in bytes, of the parts of an item: enough to bound what the
// pipeline holds, not an exact accounting.
const (
	spanCost  = 320
	logCost   = 256
	attrCost  = 56
	eventCost = 64
	linkCost  = 96
)

// Size is about how much memory the span holds, its shared resource and scope left out.
func (s *Span) Size() int {
	n := spanCost + len(s.Name) + len(s.TraceState) + len(s.Status.Message) + attrsSize(s.Attributes)
	for i := range s.Events {
		n += eventCost + len(s.Events[i].Name) + attrsSize(s.Events[i].Attributes)
	}
	for i := range s.Links {
		n += linkCost + len(s.Links[i].TraceState) + attrsSize(s.Links[i].Attributes)
	}
	return n
}

// Size is about how much memory the log record holds, its shared resource and scope left out.
func (r *LogRecord) Size() int {
	return logCost + len(r.SeverityText) + len(r.EventName) + len(r.Group) + len(r.Stream) +
		valueSize(r.Body) + attrsSize(r.Attributes)
}

func attrsSize(attrs Attributes) int {
	n := 0
	for _, kv := range attrs {
		n += attrCost + len(kv.Key) + valueSize(kv.Value)
	}
	return n
}

func valueSize(v Value) int {
	n := len(v.str)
	for _, e := range v.Array() {
		n += attrCost + valueSize(e)
	}
	for _, kv := range v.Map() {
		n += attrCost + len(kv.Key) + valueSize(kv.Value)
	}
	return n
}

// FitTo cuts the span to the limits and returns its size. A span that was cut gets
// TruncatedKey, listing the attributes whose values were shortened and the parts dropped.
func (s *Span) FitTo(l Limits) int {
	var cut []Value
	note := func(what string) { cut = append(cut, StringValue(what)) }
	shorten(s.Attributes, l.MaxValueBytes, "", note)
	shorten(s.Resource.Attributes, l.MaxValueBytes, "resource.", note)
	for i := range s.Events {
		shorten(s.Events[i].Attributes, l.MaxValueBytes, "event."+s.Events[i].Name+".", note)
	}
	for i := range s.Links {
		shorten(s.Links[i].Attributes, l.MaxValueBytes, "link.", note)
	}
	size := s.Size()
	for size > l.MaxItemBytes && len(s.Events) > 0 {
		last := len(s.Events) - 1
		size -= eventCost + len(s.Events[last].Name) + attrsSize(s.Events[last].Attributes)
		s.Events = s.Events[:last]
		s.DroppedEventsCount++
		if len(s.Events) == 0 || size <= l.MaxItemBytes {
			note("events")
		}
	}
	for size > l.MaxItemBytes && len(s.Links) > 0 {
		last := len(s.Links) - 1
		size -= linkCost + len(s.Links[last].TraceState) + attrsSize(s.Links[last].Attributes)
		s.Links = s.Links[:last]
		s.DroppedLinksCount++
		if len(s.Links) == 0 || size <= l.MaxItemBytes {
			note("links")
		}
	}
	s.Attributes, s.DroppedAttributesCount, size = dropAttrs(s.Attributes, s.DroppedAttributesCount, size, l.MaxItemBytes, note)
	if cut == nil {
		return size
	}
	s.Attributes = append(s.Attributes, KeyValue{Key: TruncatedKey, Value: ArrayValue(cut...)})
	return s.Size()
}

// FitTo cuts the log record to the limits and returns its size, as Span.FitTo does.
func (r *LogRecord) FitTo(l Limits) int {
	var cut []Value
	note := func(what string) { cut = append(cut, StringValue(what)) }
	if v, ok := shortened(r.Body, l.MaxValueBytes); ok {
		r.Body = v
		note("body")
	}
	shorten(r.Attributes, l.MaxValueBytes, "", note)
	shorten(r.Resource.Attributes, l.MaxValueBytes, "resource.", note)
	size := r.Size()
	r.Attributes, r.DroppedAttributesCount, size = dropAttrs(r.Attributes, r.DroppedAttributesCount, size, l.MaxItemBytes, note)
	if cut == nil {
		return size
	}
	r.Attributes = append(r.Attributes, KeyValue{Key: TruncatedKey, Value: ArrayValue(cut...)})
	return r.Size()
}

// dropAttrs drops attributes from the end of a list while size exceeds limit.
func dropAttrs(attrs Attributes, dropped uint32, size, limit int, note func(string)) (Attributes, uint32, int) {
	n := len(attrs)
	for size > limit && n > 0 {
		n--
		size -= attrCost + len(attrs[n].Key) + valueSize(attrs[n].Value)
		dropped++
	}
	if n < len(attrs) {
		note("attributes")
	}
	return attrs[:n], dropped, size
}

// shorten cuts every value of attrs longer than max, noting each key (with prefix).
func shorten(attrs Attributes, max int, prefix string, note func(string)) {
	for i := range attrs {
		if v, ok := shortened(attrs[i].Value, max); ok {
			attrs[i].Value = v
			note(prefix + attrs[i].Key)
		}
	}
}

// shortened returns v cut to max bytes, if it is longer: strings at a character boundary,
// arrays and maps element by element.
func shortened(v Value, max int) (Value, bool) {
	switch v.kind {
	case KindString, KindBytes:
		if len(v.str) <= max {
			return v, false
		}
		n := max
		for v.kind == KindString && n > 0 && !utf8.RuneStart(v.str[n]) {
			n--
		}
		v.str = strings.Clone(v.str[:n]) // not a slice of the long value, which can then be freed
		return v, true
	case KindArray, KindMap:
		if valueSize(v) <= max {
			return v, false
		}
		changed := false
		if v.kind == KindArray {
			out := make([]Value, len(v.Array()))
			for i, e := range v.Array() {
				var c bool
				out[i], c = shortened(e, max)
				changed = changed || c
			}
			return ArrayValue(out...), changed
		}
		out := make([]KeyValue, len(v.Map()))
		for i, kv := range v.Map() {
			var c bool
			out[i] = kv
			out[i].Value, c = shortened(kv.Value, max)
			changed = changed || c
		}
		return MapValue(out...), changed
	}
	return v, false
}
