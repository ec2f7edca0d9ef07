package telemetry

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFitToCutsLongValues(t *testing.T) {
	res := &Resource{Attributes: Attributes{{Key: "service.name", Value: StringValue("api")}}}
	long := strings.Repeat("é", 8<<20) // 16 MiB of two-byte characters
	s := Span{Name: "op", Resource: res, Attributes: Attributes{
		{Key: "short", Value: StringValue("kept")},
		{Key: "long", Value: StringValue(long)},
		{Key: "list", Value: ArrayValue(StringValue(long[:200_000]), IntValue(1))},
	}}
	l := DefaultLimits()
	size := s.FitTo(l)
	if got := s.Attributes[1].Value.Str(); len(got) > l.MaxValueBytes || len(got) < l.MaxValueBytes-1 || !utf8.ValidString(got) {
		t.Fatalf("long value cut to %d bytes (valid UTF-8: %v), want at most %d and a whole character", len(got), utf8.ValidString(got), l.MaxValueBytes)
	}
	if got := s.Attributes[2].Value.Array()[0].Str(); len(got) > l.MaxValueBytes {
		t.Fatalf("array element kept %d bytes", len(got))
	}
	if s.Attributes[0].Value.Str() != "kept" {
		t.Fatal("a short value changed")
	}
	marker, ok := s.Attributes.Get(TruncatedKey)
	if !ok || marker.AsString() != `["long","list"]` {
		t.Fatalf("marker = %s, %v; want the cut keys", marker.AsString(), ok)
	}
	if size != s.Size() || size > l.MaxItemBytes {
		t.Fatalf("FitTo returned %d, Size is %d, limit %d", size, s.Size(), l.MaxItemBytes)
	}
}

func TestFitToDropsEventsOfHugeSpans(t *testing.T) {
	res := &Resource{}
	s := Span{Name: "op", Resource: res, Attributes: Attributes{{Key: "a", Value: StringValue("b")}}}
	for range 100 {
		s.Events = append(s.Events, Event{Name: "log", Attributes: Attributes{{Key: "m", Value: StringValue(strings.Repeat("x", 60_000))}}})
	}
	l := DefaultLimits()
	size := s.FitTo(l)
	if size > l.MaxItemBytes || len(s.Events) == 0 || len(s.Events) == 100 {
		t.Fatalf("size %d with %d events; want at most %d, some events kept", size, len(s.Events), l.MaxItemBytes)
	}
	if int(s.DroppedEventsCount) != 100-len(s.Events) {
		t.Fatalf("DroppedEventsCount = %d, want %d", s.DroppedEventsCount, 100-len(s.Events))
	}
	if marker, _ := s.Attributes.Get(TruncatedKey); marker.AsString() != `["events"]` {
		t.Fatalf("marker = %s", marker.AsString())
	}
	if _, ok := s.Attributes.Get("a"); !ok {
		t.Fatal("attributes were dropped while dropping events was enough")
	}
}

func TestFitToCutsLogBodies(t *testing.T) {
	r := LogRecord{Body: StringValue(strings.Repeat("y", 100_000)), Resource: &Resource{}, Group: "g"}
	r.FitTo(DefaultLimits())
	if len(r.Body.Str()) != DefaultLimits().MaxValueBytes {
		t.Fatalf("body kept %d bytes", len(r.Body.Str()))
	}
	if marker, _ := r.Attributes.Get(TruncatedKey); marker.AsString() != `["body"]` {
		t.Fatalf("marker = %s", marker.AsString())
	}
	small := LogRecord{Body: StringValue("fine"), Resource: &Resource{}, Group: "g"}
	small.FitTo(DefaultLimits())
	if len(small.Attributes) != 0 {
		t.Fatal("a record within the limits was marked")
	}
}
