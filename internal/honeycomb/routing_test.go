package honeycomb

import (
	"math"
	"testing"

	"lookout/internal/telemetry"
)

func TestServiceDataset(t *testing.T) {
	res := func(attrs ...telemetry.KeyValue) *telemetry.Resource { return &telemetry.Resource{Attributes: attrs} }
	name := func(v telemetry.Value) telemetry.KeyValue { return telemetry.KeyValue{Key: "service.name", Value: v} }
	cases := []struct {
		r    *telemetry.Resource
		want string
	}{
		{res(name(telemetry.StringValue("  cart-api \t"))), "cart-api"},
		{res(name(telemetry.StringValue("unknown_service:java"))), "unknown_service"},
		{res(name(telemetry.StringValue("   "))), "unknown_service"},
		{res(name(telemetry.IntValue(7))), "unknown_service"},
		{res(), "unknown_service"},
	}
	for _, tc := range cases {
		if got := ServiceDataset(tc.r); got != tc.want {
			t.Errorf("ServiceDataset(%v) = %q, want %q", tc.r.Attributes, got, tc.want)
		}
	}
}

func TestSampleRates(t *testing.T) {
	attr := func(k string, v telemetry.Value) telemetry.KeyValue { return telemetry.KeyValue{Key: k, Value: v} }
	other := attr("http.route", telemetry.StringValue("/cart"))
	cases := []struct {
		name       string
		attrs      telemetry.Attributes
		traceState string
		want       uint32
		keep       int // attributes left
	}{
		{"int attribute", telemetry.Attributes{other, attr("sampleRate", telemetry.IntValue(20))}, "", 20, 1},
		{"double rounds", telemetry.Attributes{attr("sampleRate", telemetry.DoubleValue(2.6)), other}, "", 3, 1},
		{"string", telemetry.Attributes{attr("SampleRate", telemetry.StringValue(" 40 "))}, "", 40, 0},
		{"sampleRate wins over SampleRate", telemetry.Attributes{attr("SampleRate", telemetry.IntValue(5)), attr("sampleRate", telemetry.IntValue(9))}, "", 9, 1},
		{"zero and below mean 1", telemetry.Attributes{attr("sampleRate", telemetry.IntValue(-3))}, "", 1, 0},
		{"clamped", telemetry.Attributes{attr("sampleRate", telemetry.DoubleValue(1e12))}, "", math.MaxInt32, 0},
		{"attribute beats tracestate", telemetry.Attributes{attr("sampleRate", telemetry.IntValue(7))}, "ot=th:8", 7, 0},
		// th:8 rejects half of 2^56, so a kept span stands for 2; th:c for 4; th:f for 16.
		{"threshold one half", nil, "ot=th:8", 2, 0},
		{"threshold three quarters", nil, "vendor=x,ot=rv:abc;th:c", 4, 0},
		{"threshold fifteen sixteenths", nil, "ot=th:f", 16, 0},
		{"threshold zero keeps all", nil, "ot=th:0", 1, 0},
		{"legacy th", nil, "th=8", 2, 0},
		{"bad threshold", nil, "ot=th:xyz", 0, 0},
		{"nothing", telemetry.Attributes{other}, "", 0, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spans := []telemetry.Span{{Attributes: tc.attrs, TraceState: tc.traceState}}
			ApplySampleRates(spans)
			if spans[0].SampleRate != tc.want {
				t.Errorf("SampleRate = %d, want %d", spans[0].SampleRate, tc.want)
			}
			if len(spans[0].Attributes) != tc.keep {
				t.Errorf("%d attributes left, want %d: %v", len(spans[0].Attributes), tc.keep, spans[0].Attributes)
			}
		})
	}
}
