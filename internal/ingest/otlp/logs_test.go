package otlp

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"lookout/internal/telemetry"
)

// The log golden tests decode testdata/logs.json, and the same request built with pdata and
// encoded as protobuf, and compare every field with goldenLogRecords, written out by hand.

// goldenNow is when the golden records arrive.
const goldenNow = 1700000009000000000

func goldenLogRecords() []telemetry.LogRecord {
	checkout := &telemetry.Resource{
		Attributes: telemetry.Attributes{
			kv("service.name", str("  checkout ")),
			kv("service.instance.id", str("i-0a1b2c")),
			kv("host.name", str("web-1")),
		},
		DroppedAttributesCount: 1,
	}
	scope := &telemetry.Scope{Name: "checkout.logger", Version: "2.0.1", Attributes: telemetry.Attributes{kv("logger.kind", str("slog"))}}
	payments := &telemetry.Resource{Attributes: telemetry.Attributes{
		kv("aws.log.group.names", arr(str("/aws/lambda/payments"))),
		kv("host.name", str("lambda-host")),
	}}
	blank := &telemetry.Resource{Attributes: telemetry.Attributes{kv("service.name", str("   "))}}
	info := telemetry.IngestInfo{Protocol: "otlp"}
	return []telemetry.LogRecord{
		{
			TimeUnixNano:           1700000000000000000,
			ObservedTimeUnixNano:   1700000000000000500,
			Severity:               9,
			SeverityText:           "INFO",
			EventName:              "cart.loaded",
			Body:                   str("cart loaded"),
			Attributes:             telemetry.Attributes{kv("cart.items", i64(3)), kv("cart.total", f64(129.95))},
			DroppedAttributesCount: 2,
			TraceID:                tid("5b8efff798038103d269b633813fc60c"),
			SpanID:                 sid("eee19b7ec3c1b174"),
			Flags:                  1,
			Resource:               checkout,
			Scope:                  scope,
			Group:                  "checkout",
			Stream:                 "i-0a1b2c",
			Ingest:                 info,
		},
		{
			// No times: observed on arrival, and happened then.
			TimeUnixNano:         goldenNow,
			ObservedTimeUnixNano: goldenNow,
			Severity:             19,
			Body: mapv(kv("error", str("timeout")),
				kv("retries", arr(i64(1), bln(true), telemetry.BytesValue([]byte{0, 255})))),
			Attributes: telemetry.Attributes{
				kv("aws.log.group.names", arr(str(" /custom/errors "), str("/ignored"))),
				kv("aws.log.stream.names", str("errors-1")),
			},
			Resource: checkout,
			Scope:    scope,
			Group:    "/custom/errors",
			Stream:   "errors-1",
			Ingest:   info,
		},
		{
			// Only an observed time, and a severity beyond FATAL4.
			TimeUnixNano:         1700000001000000000,
			ObservedTimeUnixNano: 1700000001000000000,
			Resource:             checkout,
			Scope:                scope,
			Group:                "checkout",
			Stream:               "i-0a1b2c",
			Ingest:               info,
		},
		{
			TimeUnixNano:         1700000002000000000,
			ObservedTimeUnixNano: goldenNow,
			Severity:             13,
			Body:                 str("charged"),
			Resource:             payments,
			Scope:                &telemetry.Scope{},
			Group:                "/aws/lambda/payments",
			Stream:               "lambda-host",
			Ingest:               info,
		},
		{
			TimeUnixNano:         1700000003000000000,
			ObservedTimeUnixNano: goldenNow,
			Body:                 f64(math.Inf(1)),
			Resource:             blank,
			Scope:                &telemetry.Scope{},
			Group:                "unknown_service",
			Stream:               "default",
			Ingest:               info,
		},
	}
}

// goldenLogs builds the request of testdata/logs.json with pdata, for the protobuf side.
func goldenLogs() plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	ra := rl.Resource().Attributes()
	ra.PutStr("service.name", "  checkout ")
	ra.PutStr("service.instance.id", "i-0a1b2c")
	ra.PutStr("host.name", "web-1")
	rl.Resource().SetDroppedAttributesCount(1)
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("checkout.logger")
	sl.Scope().SetVersion("2.0.1")
	sl.Scope().Attributes().PutStr("logger.kind", "slog")

	r := sl.LogRecords().AppendEmpty()
	r.SetTimestamp(1700000000000000000)
	r.SetObservedTimestamp(1700000000000000500)
	r.SetSeverityNumber(plog.SeverityNumberInfo)
	r.SetSeverityText("INFO")
	r.Body().SetStr("cart loaded")
	r.Attributes().PutInt("cart.items", 3)
	r.Attributes().PutDouble("cart.total", 129.95)
	r.SetDroppedAttributesCount(2)
	r.SetFlags(1)
	r.SetTraceID(pcommon.TraceID(tid("5b8efff798038103d269b633813fc60c")))
	r.SetSpanID(pcommon.SpanID(sid("eee19b7ec3c1b174")))
	r.SetEventName("cart.loaded")

	r = sl.LogRecords().AppendEmpty()
	r.SetSeverityNumber(plog.SeverityNumberError3)
	body := r.Body().SetEmptyMap()
	body.PutStr("error", "timeout")
	retries := body.PutEmptySlice("retries")
	retries.AppendEmpty().SetInt(1)
	retries.AppendEmpty().SetBool(true)
	retries.AppendEmpty().SetEmptyBytes().FromRaw([]byte{0, 255})
	groups := r.Attributes().PutEmptySlice("aws.log.group.names")
	groups.AppendEmpty().SetStr(" /custom/errors ")
	groups.AppendEmpty().SetStr("/ignored")
	r.Attributes().PutStr("aws.log.stream.names", "errors-1")

	r = sl.LogRecords().AppendEmpty()
	r.SetObservedTimestamp(1700000001000000000)
	r.SetSeverityNumber(30)

	rl = ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutEmptySlice("aws.log.group.names").AppendEmpty().SetStr("/aws/lambda/payments")
	rl.Resource().Attributes().PutStr("host.name", "lambda-host")
	r = rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	r.SetTimestamp(1700000002000000000)
	r.Body().SetStr("charged")
	r.SetSeverityNumber(plog.SeverityNumberWarn)

	rl = ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "   ")
	r = rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	r.SetTimestamp(1700000003000000000)
	r.Body().SetDouble(math.Inf(1))
	return ld
}

func marshalLogsProto(t testing.TB, ld plog.Logs) []byte {
	t.Helper()
	b, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func marshalLogsJSON(t testing.TB, ld plog.Logs) []byte {
	t.Helper()
	b, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustLogsProtoFromJSON(t testing.TB, b []byte) []byte {
	t.Helper()
	req := plogotlp.NewExportRequest()
	if err := req.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	return marshalLogsProto(t, req.Logs())
}

func TestDecodeLogsGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
		enc  Encoding
	}{
		{"json", readTestdata(t, "logs.json"), JSON},
		{"protobuf", marshalLogsProto(t, goldenLogs()), Protobuf},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := decodeLogs(context.Background(), tc.body, tc.enc, telemetry.IngestInfo{}, goldenNow)
			if err != nil {
				t.Fatal(err)
			}
			if res.Rejected != 0 || res.Message != "" {
				t.Errorf("Rejected, Message = %d, %q; want 0, \"\"", res.Rejected, res.Message)
			}
			compareLogs(t, res.Items, goldenLogRecords())
			if r := res.Items; len(r) == 5 && (r[0].Resource != r[2].Resource || r[0].Scope != r[1].Scope || r[2].Resource == r[3].Resource) {
				t.Error("records do not share their resource and scope as sent")
			}
		})
	}
}

func TestDecodeLogsNow(t *testing.T) {
	before := time.Now().UnixNano()
	res, err := DecodeLogs(context.Background(), []byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{}]}]}]}`), JSON)
	after := time.Now().UnixNano()
	if err != nil || len(res.Items) != 1 {
		t.Fatalf("%d records, %v", len(res.Items), err)
	}
	if r := res.Items[0]; r.ObservedTimeUnixNano < before || r.ObservedTimeUnixNano > after || r.TimeUnixNano != r.ObservedTimeUnixNano {
		t.Errorf("times %d, %d; want both between %d and %d", r.TimeUnixNano, r.ObservedTimeUnixNano, before, after)
	}
}

func TestLogGroupAndStream(t *testing.T) {
	cases := []struct {
		name          string
		record, res   telemetry.Attributes
		group, stream string
	}{
		{"nothing", nil, nil, "unknown_service", "default"},
		{"service, trimmed", nil, telemetry.Attributes{kv("service.name", str(" cart "))}, "cart", "default"},
		{"blank service", nil, telemetry.Attributes{kv("service.name", str(" \t"))}, "unknown_service", "default"},
		{"service not a string", nil, telemetry.Attributes{kv("service.name", i64(7))}, "unknown_service", "default"},
		{"unknown_service kept as named", nil, telemetry.Attributes{kv("service.name", str("unknown_service:java"))}, "unknown_service:java", "default"},
		{"resource group names", nil, telemetry.Attributes{kv("service.name", str("cart")), kv("aws.log.group.names", arr(str("/g1"), str("/g2")))}, "/g1", "default"},
		{"record group beats resource", telemetry.Attributes{kv("aws.log.group.names", arr(str("/mine")))}, telemetry.Attributes{kv("aws.log.group.names", arr(str("/res")))}, "/mine", "default"},
		{"blank record group falls back", telemetry.Attributes{kv("aws.log.group.names", arr(str(" ")))}, telemetry.Attributes{kv("service.name", str("cart"))}, "cart", "default"},
		{"empty group array falls back", telemetry.Attributes{kv("aws.log.group.names", arr())}, nil, "unknown_service", "default"},
		{"instance id", nil, telemetry.Attributes{kv("host.name", str("h")), kv("service.instance.id", str("i-1"))}, "unknown_service", "i-1"},
		{"host name", nil, telemetry.Attributes{kv("host.name", str("h"))}, "unknown_service", "h"},
		{"stream names beat instance", nil, telemetry.Attributes{kv("service.instance.id", str("i-1")), kv("aws.log.stream.names", arr(str("s1")))}, "unknown_service", "s1"},
		{"record stream", telemetry.Attributes{kv("aws.log.stream.names", str(" s2 "))}, telemetry.Attributes{kv("aws.log.stream.names", arr(str("s1")))}, "unknown_service", "s2"},
		{"stream element not a string", nil, telemetry.Attributes{kv("aws.log.stream.names", arr(i64(1))), kv("host.name", str("h"))}, "unknown_service", "h"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := &logs{now: goldenNow}
			r := telemetry.LogRecord{Attributes: tc.record}
			if err := l.finish(&r, &telemetry.Resource{Attributes: tc.res}, nil); err != nil {
				t.Fatal(err)
			}
			if r.Group != tc.group || r.Stream != tc.stream {
				t.Errorf("group, stream = %q, %q; want %q, %q", r.Group, r.Stream, tc.group, tc.stream)
			}
		})
	}
}

func TestLogTraceFromMessage(t *testing.T) {
	const trace, span, other = "5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8", "0af7651916cd43dd8448eb211c80319c"
	body := func(msg, traceID string) string {
		ids := ""
		if traceID != "" {
			ids = `,"traceId":"` + traceID + `","spanId":"b7ad6b7169203331"`
		}
		return `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"` + msg + `"}` + ids + `}]}]}]}`
	}
	cases := []struct {
		name, body, trace, span string
	}{
		{"trace_id in the text", body("GET /api 500 trace_id="+trace+" span_id="+span, ""), trace, span},
		{"traceparent in the text", body("call 00-"+trace+"-"+span+"-01 failed", ""), trace, span},
		{"own context wins", body("trace_id="+trace, other), other, "b7ad6b7169203331"},
		{"no trace", body("plain line", ""), "00000000000000000000000000000000", "0000000000000000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := DecodeLogs(context.Background(), []byte(tc.body), JSON)
			if err != nil || len(res.Items) != 1 {
				t.Fatalf("%d records, %v", len(res.Items), err)
			}
			if r := res.Items[0]; r.TraceID.String() != tc.trace || r.SpanID.String() != tc.span {
				t.Errorf("trace, span = %s, %s; want %s, %s", r.TraceID, r.SpanID, tc.trace, tc.span)
			}
		})
	}
}

func TestSeverityNames(t *testing.T) {
	want := map[string]int32{"SEVERITY_NUMBER_UNSPECIFIED": 0, "SEVERITY_NUMBER_TRACE": 1, "SEVERITY_NUMBER_TRACE4": 4,
		"SEVERITY_NUMBER_DEBUG": 5, "SEVERITY_NUMBER_INFO2": 10, "SEVERITY_NUMBER_WARN3": 15, "SEVERITY_NUMBER_ERROR": 17,
		"SEVERITY_NUMBER_FATAL4": 24}
	for name, n := range want {
		if got, ok := severityNumber(name); !ok || got != n {
			t.Errorf("severityNumber(%q) = %d, %v; want %d", name, got, ok, n)
		}
	}
	for _, bad := range []string{"", "INFO", "SEVERITY_NUMBER_INFO1", "SEVERITY_NUMBER_INFO5", "SEVERITY_NUMBER_INFO02", "SEVERITY_NUMBER_info", "SEVERITY_NUMBER_NOTICE"} {
		if _, ok := severityNumber(bad); ok {
			t.Errorf("severityNumber(%q) accepted", bad)
		}
	}
}

// compareLogs reports every field where got differs from want.
func compareLogs(t *testing.T, got, want []telemetry.LogRecord) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d log records, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := &got[i], &want[i]
		p := fmt.Sprintf("record %d", i)
		eq(t, p+".TimeUnixNano", g.TimeUnixNano, w.TimeUnixNano)
		eq(t, p+".ObservedTimeUnixNano", g.ObservedTimeUnixNano, w.ObservedTimeUnixNano)
		eq(t, p+".Severity", g.Severity, w.Severity)
		eq(t, p+".SeverityText", g.SeverityText, w.SeverityText)
		eq(t, p+".EventName", g.EventName, w.EventName)
		if !g.Body.Equal(w.Body) {
			t.Errorf("%s.Body = %s %s, want %s %s", p, g.Body.Kind(), g.Body.Encode(), w.Body.Kind(), w.Body.Encode())
		}
		compareAttrs(t, p+".Attributes", g.Attributes, w.Attributes)
		eq(t, p+".DroppedAttributesCount", g.DroppedAttributesCount, w.DroppedAttributesCount)
		eq(t, p+".TraceID", g.TraceID, w.TraceID)
		eq(t, p+".SpanID", g.SpanID, w.SpanID)
		eq(t, p+".Flags", g.Flags, w.Flags)
		eq(t, p+".Group", g.Group, w.Group)
		eq(t, p+".Stream", g.Stream, w.Stream)
		eq(t, p+".Ingest", g.Ingest, w.Ingest)
		compareResource(t, p, g.Resource, w.Resource)
		compareScope(t, p, g.Scope, w.Scope)
	}
}
