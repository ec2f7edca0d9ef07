package ingest

import (
	"reflect"
	"testing"

	"github.com/klauspost/compress/s2"

	"lookout/internal/telemetry"
)

func occurrenceFixture() []telemetry.Occurrence {
	return []telemetry.Occurrence{{
		UUID: "74d34b08-d76a-41b6-b685-928ef2338a86", Project: "cruddur", Environment: "production", Level: "error",
		TimeUnixNano: 1_795_543_327_000_000_000, ReceivedUnixNano: 1_795_543_327_250_000_000,
		Fingerprint: "5f1c", Grouping: "class and frames", Title: "RuntimeError: checkout failed",
		Class: "RuntimeError", CodeVersion: "abc123", Framework: "flask", Platform: "linux", Language: "python",
		Context: "/orders/<int:order_id>", Host: "vm", PersonID: "u1", UserIP: "203.0.113.9",
		Browser: "Firefox 120", OS: "Linux",
		TraceID: telemetry.TraceID{1, 2, 3}, SpanID: telemetry.SpanID{4, 5},
		Data:   `{"body":{"message":{"body":"ünïcode"}}}`,
		Ingest: telemetry.IngestInfo{Protocol: "rollbar", KeyID: "tok1"},
	}, {
		UUID: "u2", Project: "p", Environment: "e", Fingerprint: "f", TimeUnixNano: 5, ReceivedUnixNano: 4, Data: "{}",
	}}
}

func TestOccurrenceCodecRoundTrip(t *testing.T) {
	want := occurrenceFixture()
	got, err := decodeOccurrences(encodeOccurrences(want))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, want)
	}
	if _, err := decodeOccurrences(encodeLogs(logFixture())); err == nil {
		t.Fatal("a log record decoded as occurrences")
	}
	record := encodeOccurrences(want)
	if RecordType(record[0]) != RecordOccurrencesS2 {
		t.Fatalf("record type %d, want %d", record[0], RecordOccurrencesS2)
	}
	raw, err := s2.Decode(nil, record[1:])
	if err != nil {
		t.Fatal(err)
	}
	for cut := 0; cut < len(raw); cut += 5 {
		if _, err := decodeOccurrences(append([]byte{byte(RecordOccurrencesS2)}, s2.Encode(nil, raw[:cut])...)); err == nil {
			t.Fatalf("a record cut at %d of %d bytes decoded without error", cut, len(raw))
		}
	}
}

// Records that earlier versions wrote, the same batch compressed with zstd, stay readable.
func TestOccurrenceCodecReadsEarlierRecords(t *testing.T) {
	want := occurrenceFixture()
	raw, err := s2.Decode(nil, encodeOccurrences(want)[1:])
	if err != nil {
		t.Fatal(err)
	}
	earlier := zstdEncoder.EncodeAll(raw, []byte{byte(RecordOccurrences)})
	got, err := decodeOccurrences(earlier)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("earlier record differs:\n got %+v\nwant %+v", got, want)
	}
	if _, err := decodeOccurrences(append([]byte{byte(RecordOccurrences)}, encodeOccurrences(want)[1:]...)); err == nil {
		t.Fatal("an S2 batch decoded as zstd")
	}
}

func FuzzDecodeOccurrences(f *testing.F) {
	f.Add(encodeOccurrences(occurrenceFixture()))
	f.Add([]byte{byte(RecordOccurrencesS2)})
	f.Add(seal(RecordOccurrences, []byte{1}))
	f.Fuzz(func(t *testing.T, record []byte) {
		occs, err := decodeOccurrences(record)
		if err != nil {
			return
		}
		again, err := decodeOccurrences(encodeOccurrences(occs))
		if err != nil || !reflect.DeepEqual(again, occs) {
			t.Fatalf("re-encoding a decoded record failed: %v", err)
		}
	})
}
