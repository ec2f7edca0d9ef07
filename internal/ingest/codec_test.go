package ingest

import (
	"math"
	"reflect"
	"testing"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"

	"lookout/internal/telemetry"
)

func codecFixture() []telemetry.Span {
	res := &telemetry.Resource{Attributes: telemetry.Attributes{{Key: "service.name", Value: telemetry.StringValue("api")}}, DroppedAttributesCount: 2}
	other := &telemetry.Resource{Attributes: telemetry.Attributes{{Key: "service.name", Value: telemetry.StringValue("db")}}}
	scope := &telemetry.Scope{Name: "lib", Version: "1.0", Attributes: telemetry.Attributes{{Key: "s", Value: telemetry.BoolValue(true)}}, DroppedAttributesCount: 1}
	return []telemetry.Span{{
		TraceID: telemetry.TraceID{1, 2, 3}, SpanID: telemetry.SpanID{4}, ParentSpanID: telemetry.SpanID{5},
		TraceState: "a=b", Flags: 257, Name: "GET /", Kind: telemetry.SpanKindServer,
		StartUnixNano: 1_700_000_000_123_456_789, EndUnixNano: 1_700_000_000_223_456_789, InProgress: true,
		Attributes: telemetry.Attributes{
			{Key: "s", Value: telemetry.StringValue("x")}, {Key: "b", Value: telemetry.BoolValue(true)},
			{Key: "i", Value: telemetry.IntValue(math.MinInt64)}, {Key: "d", Value: telemetry.DoubleValue(-0.5)},
			{Key: "by", Value: telemetry.BytesValue([]byte{0, 255})}, {Key: "e", Value: telemetry.Value{}},
			{Key: "a", Value: telemetry.ArrayValue(telemetry.IntValue(1), telemetry.MapValue(telemetry.KeyValue{Key: "k", Value: telemetry.StringValue("v")}))},
		},
		DroppedAttributesCount: 1,
		Events:                 []telemetry.Event{{TimeUnixNano: 5, Name: "ev", Attributes: telemetry.Attributes{{Key: "x", Value: telemetry.IntValue(1)}}, DroppedAttributesCount: 3}},
		DroppedEventsCount:     2,
		Links:                  []telemetry.Link{{TraceID: telemetry.TraceID{9}, SpanID: telemetry.SpanID{8}, TraceState: "t", Flags: 1, Attributes: telemetry.Attributes{{Key: "l", Value: telemetry.StringValue("y")}}, DroppedAttributesCount: 4}},
		DroppedLinksCount:      3,
		Status:                 telemetry.Status{Code: telemetry.StatusError, Message: "boom"},
		Resource:               res, Scope: scope, SampleRate: 20,
		Ingest: telemetry.IngestInfo{Protocol: "otlp", Dataset: "ds", KeyID: "k1"},
	}, {
		TraceID: telemetry.TraceID{1, 2, 3}, SpanID: telemetry.SpanID{6}, Name: "q", StartUnixNano: 10, EndUnixNano: 5,
		Resource: other, Ingest: telemetry.IngestInfo{Protocol: "otlp"},
	}, {
		TraceID: telemetry.TraceID{7}, SpanID: telemetry.SpanID{7}, Name: "again", StartUnixNano: 1, EndUnixNano: 2,
		Resource: res, Scope: scope,
	}}
}

func TestCodecRoundTrip(t *testing.T) {
	want := codecFixture()
	got, err := decodeSpans(encodeSpans(want))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, want)
	}
	if got[0].Resource != got[2].Resource {
		t.Error("spans of one resource should share it after decoding")
	}
}

func TestCodecRejectsDamage(t *testing.T) {
	rec := encodeSpans(codecFixture())
	raw, _ := zstdDecoder.DecodeAll(rec[1:], nil)
	for cut := 0; cut < len(raw); cut += 7 {
		if _, err := decodeSpans(zstdEncoder.EncodeAll(raw[:cut], []byte{byte(RecordSpans)})); err == nil {
			t.Fatalf("a record cut at %d of %d bytes decoded without error", cut, len(raw))
		}
	}
	if _, err := decodeSpans([]byte{99}); err == nil {
		t.Fatal("unknown version decoded")
	}
}

// Records written before the log left out zstd's checksum still read.
func TestCodecReadsChecksummedRecords(t *testing.T) {
	withCRC, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(true))
	if err != nil {
		t.Fatal(err)
	}
	rec := encodeSpans(codecFixture())
	raw, err := zstdDecoder.DecodeAll(rec[1:], nil)
	if err != nil {
		t.Fatal(err)
	}
	old := withCRC.EncodeAll(raw, []byte{byte(RecordSpans)})
	if len(old) != len(rec)+4 {
		t.Fatalf("a record with a checksum has %d bytes, without %d: want 4 more", len(old), len(rec))
	}
	spans, err := decodeSpans(old)
	if err != nil || len(spans) != len(codecFixture()) {
		t.Fatalf("decoded %d spans (%v), want %d", len(spans), err, len(codecFixture()))
	}
}

func FuzzDecodeSpans(f *testing.F) {
	f.Add(encodeSpans(codecFixture()))
	f.Add([]byte{byte(RecordSpans)})
	f.Fuzz(func(t *testing.T, record []byte) {
		spans, err := decodeSpans(record)
		if err != nil {
			return
		}
		again, err := decodeSpans(encodeSpans(spans))
		if err != nil || len(again) != len(spans) {
			t.Fatalf("re-encoding a decoded record failed: %v", err)
		}
	})
}

func logFixture() []telemetry.LogRecord {
	spans := codecFixture()
	return []telemetry.LogRecord{{
		TimeUnixNano: 1_700_000_000_123_456_789, ObservedTimeUnixNano: 1_700_000_000_223_456_789,
		Severity: 17, SeverityText: "ERROR", EventName: "app.crash",
		Body:       telemetry.MapValue(telemetry.KeyValue{Key: "msg", Value: telemetry.StringValue("boom")}, telemetry.KeyValue{Key: "n", Value: telemetry.IntValue(3)}),
		Attributes: telemetry.Attributes{{Key: "http.route", Value: telemetry.StringValue("/x")}}, DroppedAttributesCount: 2,
		TraceID: spans[0].TraceID, SpanID: spans[0].SpanID, Flags: 1,
		Resource: spans[0].Resource, Scope: spans[0].Scope, Group: "cruddur", Stream: "host/app/1",
		Ingest: telemetry.IngestInfo{Protocol: "cloudwatch", KeyID: "AKID"},
	}, {
		TimeUnixNano: 5, ObservedTimeUnixNano: 5, Body: telemetry.StringValue("plain"), Resource: spans[1].Resource, Group: "g",
	}}
}

func TestLogCodecRoundTrip(t *testing.T) {
	want := logFixture()
	record := encodeLogs(want)
	numberLogs(want, record, 5<<24+7)
	if want[0].ID != 5<<24+7 || want[1].ID != 5<<24+8 {
		t.Fatalf("numbered %d, %d; want %d, %d", want[0].ID, want[1].ID, 5<<24+7, 5<<24+8)
	}
	got, err := decodeLogs(record)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, want)
	}
	if _, err := decodeLogs(encodeSpans(codecFixture())); err == nil {
		t.Fatal("a span record decoded as log records")
	}
	if _, err := decodeLogs(encodeLogs(want)); err == nil {
		t.Fatal("a record never numbered decoded")
	}
}

// An earlier version's record is the same batch without the first id: it reads back with
// its items unnumbered, for the pipeline to number by position.
func TestLogCodecReadsEarlierRecords(t *testing.T) {
	want := logFixture()
	got, err := decodeLogs(earlierLogRecord(t, want))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("earlier record differs:\n got %+v\nwant %+v", got, want)
	}
}

// earlierLogRecord is logs as an earlier version logged them: the same batch, compressed
// with zstd, without ids.
func earlierLogRecord(t testing.TB, logs []telemetry.LogRecord) []byte {
	raw, err := s2.Decode(nil, encodeLogs(logs)[1+firstIDBytes:])
	if err != nil {
		t.Fatal(err)
	}
	return seal(RecordLogs, raw)
}

func FuzzDecodeLogs(f *testing.F) {
	record := encodeLogs(logFixture())
	numberLogs(logFixture(), record, 1<<24)
	f.Add(record)
	f.Add(earlierLogRecord(f, logFixture()))
	f.Add([]byte{byte(RecordLogs)})
	f.Add([]byte{byte(RecordNumbered)})
	f.Fuzz(func(t *testing.T, record []byte) {
		logs, err := decodeLogs(record)
		if err != nil || len(logs) == 0 {
			return
		}
		again := encodeLogs(logs)
		numberLogs(logs, again, max(logs[0].ID, 1))
		if again, err := decodeLogs(again); err != nil || len(again) != len(logs) {
			t.Fatalf("re-encoding a decoded record failed: %v", err)
		}
	})
}

// TestCodecReadsEveryValidDepth checks that the log can read back every value receivers may
// acknowledge: the deepest value telemetry.Validate accepts round-trips, and one level more
// is refused before it could be logged.
func TestCodecReadsEveryValidDepth(t *testing.T) {
	nest := func(depth int) telemetry.Value {
		v := telemetry.StringValue("leaf")
		for range depth - 1 {
			v = telemetry.ArrayValue(v)
		}
		return v
	}
	span := batch(0, 1)
	span[0].Attributes = telemetry.Attributes{{Key: "deep", Value: nest(telemetry.MaxValueDepth)}}
	if err := span[0].Validate(); err != nil {
		t.Fatalf("a value %d levels deep is refused: %v", telemetry.MaxValueDepth, err)
	}
	got, err := decodeSpans(encodeSpans(span))
	if err != nil || !got[0].Attributes[0].Value.Equal(span[0].Attributes[0].Value) {
		t.Fatalf("the deepest valid value did not round-trip: %v", err)
	}
	span[0].Attributes[0].Value = nest(telemetry.MaxValueDepth + 1)
	if span[0].Validate() == nil {
		t.Fatal("a value deeper than MaxValueDepth passed Validate")
	}
}
