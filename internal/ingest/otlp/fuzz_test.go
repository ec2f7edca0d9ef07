package otlp

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"lookout/internal/telemetry"
)

// Differential fuzzing. On every input the decoders must not panic and must return items that
// are valid. Where pdata, the reference decoder, accepts an input, the decoder must read it as
// pdata does (compared after converting pdata's result to the model, see oracle_test.go).
// Where the decoder is stricter than pdata (trailing data, deprecated protobuf groups, quirks
// of pdata's JSON parser), it must still read pdata's own encoding of what pdata read.

func FuzzProtoTraces(f *testing.F) {
	f.Add(marshalProto(f, goldenTraces()))
	f.Add(marshalProto(f, benchTraces(3)))
	f.Add(mustProtoFromJSON(f, readTestdata(f, "partial.json")))
	for _, b := range protoTraceEdgeCases(f) {
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x09, 0x12, 0x07, 0x12, 0x05, 0x0a, 0x03, 0x01, 0x02, 0x03})
	f.Fuzz(func(t *testing.T, body []byte) { diffTraces(t, body, Protobuf) })
}

func FuzzJSONTraces(f *testing.F) {
	f.Add(readTestdata(f, "traces.json"))
	f.Add(readTestdata(f, "partial.json"))
	f.Add(mustJSON(f, benchTraces(3)))
	for _, b := range jsonTraceEdgeCases {
		f.Add([]byte(b))
	}
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) { diffTraces(t, body, JSON) })
}

func FuzzProtoLogs(f *testing.F) {
	f.Add(marshalLogsProto(f, goldenLogs()))
	f.Add(mustLogsProtoFromJSON(f, readTestdata(f, "logs.json")))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) { diffLogs(t, body, Protobuf) })
}

func FuzzJSONLogs(f *testing.F) {
	f.Add(readTestdata(f, "logs.json"))
	f.Add(marshalLogsJSON(f, goldenLogs()))
	f.Add([]byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"kvlistValue":{"values":[{"key":"a","value":{"arrayValue":{"values":[{"intValue":"1"}]}}}]}},"severityNumber":"SEVERITY_NUMBER_WARN2"}]}]}]}`))
	// A span id without a trace id, and a trace named only in the text.
	f.Add([]byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"spanId":"eee19b7ec3c1b174","body":{"stringValue":"x"}}]}]}]}`))
	f.Add([]byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"traceparent 00-5b8efff798038103d269b633813fc60c-eee19b7ec3c1b174-01"}}]}]}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) { diffLogs(t, body, JSON) })
}

func diffTraces(t *testing.T, body []byte, enc Encoding) {
	got, err := DecodeTraces(context.Background(), body, enc)
	if err == nil {
		checkSpans(t, got)
	}
	td, perr := pdataUnmarshalTraces(body, enc)
	if perr != nil || errors.Is(err, ErrTooLarge) {
		return
	}
	if enc == JSON && pdataJSONQuirk(body) {
		return
	}
	if err != nil {
		canonical := marshalTraces(t, td, enc)
		if got, err = DecodeTraces(context.Background(), canonical, enc); err != nil {
			t.Fatalf("cannot decode pdata's encoding %q of a request pdata reads: %v", canonical, err)
		}
	}
	want := pdataTracesResult(td, telemetry.IngestInfo{})
	compareSpans(t, got.Items, want.Items)
	eq(t, "Rejected", got.Rejected, want.Rejected)
	eq(t, "Message", got.Message, want.Message)
}

// fuzzNow is the time of arrival fuzzed log records get.
const fuzzNow = 1700000000123456789

func diffLogs(t *testing.T, body []byte, enc Encoding) {
	got, err := decodeLogs(context.Background(), body, enc, telemetry.IngestInfo{}, fuzzNow)
	if err == nil {
		checkLogs(t, got)
	}
	ld, perr := pdataUnmarshalLogs(body, enc)
	if perr != nil || errors.Is(err, ErrTooLarge) {
		return
	}
	if enc == JSON && pdataJSONQuirk(body) {
		return
	}
	if err != nil {
		canonical := marshalLogs(t, ld, enc)
		if got, err = decodeLogs(context.Background(), canonical, enc, telemetry.IngestInfo{}, fuzzNow); err != nil {
			t.Fatalf("cannot decode pdata's encoding %q of a request pdata reads: %v", canonical, err)
		}
	}
	want := pdataLogsResult(ld, telemetry.IngestInfo{}, fuzzNow)
	compareLogs(t, got.Items, want.Items)
	eq(t, "Rejected", got.Rejected, want.Rejected)
	eq(t, "Message", got.Message, want.Message)
}

// pdataJSONQuirk matches JSON that pdata reads differently from JSON's definition, where
// comparing with it would be meaningless: its parser takes an empty key for the end of the
// object, and it reads a deprecatedScope{Spans,Logs} field of its own invention.
var pdataJSONQuirk = regexp.MustCompile(`""\s*:|deprecated`).Match

func marshalTraces(t *testing.T, td ptrace.Traces, enc Encoding) []byte {
	t.Helper()
	var b []byte
	var err error
	if enc == JSON {
		b, err = (&ptrace.JSONMarshaler{}).MarshalTraces(td)
	} else {
		b, err = ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func marshalLogs(t *testing.T, ld plog.Logs, enc Encoding) []byte {
	t.Helper()
	var b []byte
	var err error
	if enc == JSON {
		b, err = (&plog.JSONMarshaler{}).MarshalLogs(ld)
	} else {
		b, err = plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkSpans checks what must hold of any decoded request.
func checkSpans(t *testing.T, res Result[telemetry.Span]) {
	t.Helper()
	if (res.Rejected > 0) != (res.Message != "") {
		t.Fatalf("Rejected %d with message %q", res.Rejected, res.Message)
	}
	for i := range res.Items {
		s := &res.Items[i]
		if err := s.Validate(); err != nil {
			t.Fatalf("span %d kept although invalid: %v", i, err)
		}
		if s.Ingest.Protocol != Protocol {
			t.Fatalf("span %d has protocol %q", i, s.Ingest.Protocol)
		}
		if s.Kind > telemetry.SpanKindConsumer || s.Status.Code > telemetry.StatusError {
			t.Fatalf("span %d has kind %d, status %d", i, s.Kind, s.Status.Code)
		}
		for _, attrs := range spanAttrLists(s) {
			checkAttrs(t, attrs)
		}
	}
}

func spanAttrLists(s *telemetry.Span) []telemetry.Attributes {
	lists := []telemetry.Attributes{s.Attributes, s.Resource.Attributes}
	if s.Scope != nil {
		lists = append(lists, s.Scope.Attributes)
	}
	for _, e := range s.Events {
		lists = append(lists, e.Attributes)
	}
	for _, l := range s.Links {
		lists = append(lists, l.Attributes)
	}
	return lists
}

func checkLogs(t *testing.T, res Result[telemetry.LogRecord]) {
	t.Helper()
	if (res.Rejected > 0) != (res.Message != "") {
		t.Fatalf("Rejected %d with message %q", res.Rejected, res.Message)
	}
	for i := range res.Items {
		r := &res.Items[i]
		if err := r.Validate(); err != nil {
			t.Fatalf("log record %d kept although invalid: %v", i, err)
		}
		if r.Stream == "" || r.Ingest.Protocol != Protocol || r.Severity > 24 {
			t.Fatalf("log record %d has stream %q, protocol %q, severity %d", i, r.Stream, r.Ingest.Protocol, r.Severity)
		}
		checkValue(t, r.Body, 0)
		checkAttrs(t, r.Attributes)
		checkAttrs(t, r.Resource.Attributes)
		checkAttrs(t, r.Scope.Attributes)
	}
}

func checkAttrs(t *testing.T, attrs telemetry.Attributes) {
	t.Helper()
	for _, kv := range attrs {
		checkValue(t, kv.Value, 1)
	}
}

// checkValue checks that v is of a known kind and nests no deeper than the model allows.
func checkValue(t *testing.T, v telemetry.Value, depth int) {
	t.Helper()
	if depth > telemetry.MaxValueDepth {
		t.Fatalf("value at depth %d kept", depth)
	}
	switch v.Kind() {
	case telemetry.KindArray:
		for _, e := range v.Array() {
			checkValue(t, e, depth+1)
		}
	case telemetry.KindMap:
		for _, kv := range v.Map() {
			checkValue(t, kv.Value, depth+1)
		}
	case telemetry.KindEmpty, telemetry.KindString, telemetry.KindBool, telemetry.KindInt,
		telemetry.KindDouble, telemetry.KindBytes:
	default:
		t.Fatalf("value of unknown kind %v", v.Kind())
	}
}

// FuzzHTTPHandler drives the whole OTLP/HTTP path of both signals: arbitrary bytes, as either
// content type, as plain, gzip or zstd bodies. The handler must answer every input with 200,
// 400 or 413, and with a body the sender can decode.
func FuzzHTTPHandler(f *testing.F) {
	traces := readTestdata(f, "traces.json")
	proto := marshalProto(f, goldenTraces())
	logs := readTestdata(f, "logs.json")
	f.Add(traces, false, uint8(0), false)
	f.Add(gzipBytes(f, traces), false, uint8(1), false)
	f.Add(zstdBytes(f, traces), false, uint8(2), false)
	f.Add(proto, true, uint8(0), false)
	f.Add(gzipBytes(f, proto), true, uint8(1), false)
	f.Add(zstdBytes(f, proto), true, uint8(2), false)
	f.Add(logs, false, uint8(0), true)
	f.Add(marshalLogsProto(f, goldenLogs()), true, uint8(0), true)
	rcv := NewReceiver(Config{MaxRequestBytes: 1 << 20}, nil)
	traceHandler := rcv.TracesHandler(discardSink[telemetry.Span]{})
	logsHandler := rcv.LogsHandler(discardSink[telemetry.LogRecord]{})
	f.Fuzz(func(t *testing.T, body []byte, isProto bool, coding uint8, isLogs bool) {
		req := request{ct: contentTypeJSON, body: body}
		if isProto {
			req.ct = contentTypeProtobuf
		}
		req.encoding = [...]string{"", "gzip", "zstd"}[coding%3]
		h := traceHandler
		if isLogs {
			h = logsHandler
		}
		w := serve(t, h, req)
		switch w.Code {
		case http.StatusOK:
			var err error
			if isLogs {
				resp := plogotlp.NewExportResponse()
				if isProto {
					err = resp.UnmarshalProto(w.Body.Bytes())
				} else {
					err = resp.UnmarshalJSON(w.Body.Bytes())
				}
			} else {
				resp := ptraceotlp.NewExportResponse()
				if isProto {
					err = resp.UnmarshalProto(w.Body.Bytes())
				} else {
					err = resp.UnmarshalJSON(w.Body.Bytes())
				}
			}
			if err != nil {
				t.Fatalf("200 with undecodable body %q: %v", w.Body.Bytes(), err)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			errorStatus(t, w, req.ct)
		default:
			t.Fatalf("status %d, body %q", w.Code, w.Body.Bytes())
		}
	})
}

type discardSink[T any] struct{}

func (discardSink[T]) Write(context.Context, []T) error { return nil }
func (discardSink[T]) Rejected(int)                     {}

// jsonTraceEdgeCases are requests that exercise the corners of OTLP/JSON.
var jsonTraceEdgeCases = []string{
	// Enum names, proto field names, null fields, a field sent twice, escapes.
	`{"resource_spans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"a\u00e9\ud83d\ude00"}}]},"scope_spans":[{"spans":[{"trace_id":"01000000000000000000000000000000","span_id":"0100000000000000","start_time_unix_nano":1,"kind":"SPAN_KIND_SERVER","name":null,"status":{"code":"STATUS_CODE_ERROR"},"attributes":[{"key":"a","value":{"intValue":"-9223372036854775808"}}],"attributes":[{"key":"b","value":{"doubleValue":"NaN"}}]}]}]}]}`,
	// Values of every kind, nested.
	`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"01000000000000000000000000000000","spanId":"0100000000000000","startTimeUnixNano":"1","attributes":[{"key":"v","value":{"kvlistValue":{"values":[{"key":"x","value":{"arrayValue":{"values":[{"bytesValue":"AAE="},{"boolValue":true},{},{"doubleValue":1.5e3}]}}}]}}}]}]}]}]}`,
	// Unknown fields of every shape.
	`{"x":[1,{"y":null},"z"],"resourceSpans":[{"unknown":{"a":[[[]]]},"scopeSpans":[{"spans":[{"traceId":"01000000000000000000000000000000","spanId":"0100000000000000","startTimeUnixNano":"1","other":-1.5e-3}]}]}]}`,
}

// protoTraceEdgeCases are requests that exercise the corners of reading protobuf: a resource
// that follows its spans, fields sent twice, spans in the deprecated field, deep values.
func protoTraceEdgeCases(t testing.TB) [][]byte {
	t.Helper()
	span := func(id byte, more ...[]byte) []byte {
		return pbMessage(2, append([][]byte{pbMessage(1, pbID(16, id)), pbMessage(2, pbID(8, id)), pbFixed64(7, 1)}, more...)...)
	}
	service := pbMessage(1, pbMessage(1, pbKeyValue("service.name", pbMessage(1, []byte("late")))))
	return [][]byte{
		pbMessage(1, pbMessage(2, span(1)), service),
		pbMessage(1, pbMessage(1000, span(1))),
		pbMessage(1, pbMessage(2, span(1)), pbMessage(1000, span(2))),
		pbMessage(1, service, pbMessage(2, span(1,
			pbMessage(15, pbVarint(3, 2)), pbMessage(15, pbMessage(2, []byte("second status field"))),
			pbMessage(9, pbMessage(1, []byte("k")), pbMessage(2, pbMessage(1, []byte("v"))), pbMessage(2))),
			span(2, pbMessage(9, pbMessage(1, []byte("deep")), pbMessage(2, nestedArrays(40)))),
			span(3)), service),
	}
}
