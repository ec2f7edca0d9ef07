package telemetry

import (
	"math"
	"testing"
)

func TestValueText(t *testing.T) {
	nested := MapValue(
		KeyValue{Key: "n", Value: IntValue(7)},
		KeyValue{Key: "list", Value: ArrayValue(StringValue("a"), DoubleValue(7), BoolValue(true), BytesValue([]byte{1}), Value{})},
	)
	cases := []struct {
		v        Value
		asString string
	}{
		{StringValue("héllo <b>"), "héllo <b>"},
		{BoolValue(true), "true"},
		{IntValue(math.MinInt64), "-9223372036854775808"},
		{DoubleValue(0.1), "0.1"},
		{DoubleValue(1e21), "1e+21"},
		{DoubleValue(math.Inf(-1)), "-Inf"},
		{BytesValue([]byte{0, 255}), "AP8="},
		{ArrayValue(IntValue(1), StringValue("x")), `[1,"x"]`},
		{nested, `{"list":["a",7,true,"AQ==",null],"n":7}`},
		{Value{}, ""},
	}
	for _, tc := range cases {
		if got := tc.v.AsString(); got != tc.asString {
			t.Errorf("AsString() = %q, want %q", got, tc.asString)
		}
		back, err := ParseValue(tc.v.Kind(), tc.v.Encode())
		if err != nil {
			t.Errorf("ParseValue(%v, %q): %v", tc.v.Kind(), tc.v.Encode(), err)
			continue
		}
		if !back.Equal(tc.v) {
			t.Errorf("Encode/ParseValue round trip of %q gave %q", tc.v.Encode(), back.Encode())
		}
	}
	// 7 as a double and 7 as an int must stay apart through Encode.
	if a, b := ArrayValue(DoubleValue(7)).Encode(), ArrayValue(IntValue(7)).Encode(); a == b {
		t.Fatalf("double and int arrays encode alike: %s", a)
	}
}

func TestParseIDs(t *testing.T) {
	id, err := ParseTraceID("00000000000000000000000000000a0b")
	if err != nil || id.Low() != 0xa0b || id.High() != 0 {
		t.Fatalf("ParseTraceID = %v, %v", id, err)
	}
	short, err := ParseTraceID("a0b") // 64-bit and shorter ids are left-padded
	if err != nil || short != id {
		t.Fatalf("short ParseTraceID = %v, %v", short, err)
	}
	for _, bad := range []string{"", "xyz", "000000000000000000000000000000000"} {
		if _, err := ParseTraceID(bad); err == nil {
			t.Errorf("ParseTraceID(%q) succeeded", bad)
		}
	}
	if sid, err := ParseSpanID("00000000000000ff"); err != nil || sid.Uint64() != 255 || SpanIDFromUint64(255) != sid {
		t.Fatalf("ParseSpanID = %v, %v", sid, err)
	}
	if TraceIDFromParts(id.High(), id.Low()) != id {
		t.Fatal("TraceIDFromParts does not invert High/Low")
	}
}
