package otlp

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"lookout/internal/telemetry"
)

// Requests built to make a decoder take far more memory or time than their size. Each of
// these took the pdata decoder hundreds of times its size in memory, or tens of seconds.

// allocated returns the bytes allocated while f runs. Nothing else runs meanwhile: these
// tests are not parallel.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// emptyAttributesRequest is a protobuf request of about size bytes: spans whose attributes
// are all empty KeyValues, two bytes each on the wire. perSpan attributes go to each span.
func emptyAttributesRequest(size, perSpan int) []byte {
	attrs := bytes.Repeat([]byte{0x4a, 0x00}, perSpan) // span field 9, length 0
	var spans [][]byte
	for n := 0; n < size; n += len(attrs) + 40 {
		spans = append(spans, pbMessage(2, pbMessage(1, pbID(16, 1)), pbMessage(2, pbID(8, 1)), pbFixed64(7, 1), attrs))
	}
	return pbMessage(1, pbMessage(2, spans...))
}

func TestDecodeBoundsProtobufMemory(t *testing.T) {
	for _, tc := range []struct {
		name          string
		size, perSpan int
	}{
		{"8 MB in one span", 8 << 20, 4 << 20},
		{"60 MB in one span", 60 << 20, 30 << 20},
		{"8 MB in 2000 spans", 8 << 20, 2000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := emptyAttributesRequest(tc.size, tc.perSpan)
			var err error
			n := allocated(func() { _, err = DecodeTraces(context.Background(), body, Protobuf) })
			if !errors.Is(err, ErrTooLarge) {
				t.Errorf("err = %v, want ErrTooLarge", err)
			}
			budget := uint64(budgetFactor*len(body) + budgetFloor)
			t.Logf("%d-byte body: %d bytes allocated (budget %d)", len(body), n, budget)
			if n > budget {
				t.Errorf("allocated %d bytes decoding %d, over the budget of %d", n, len(body), budget)
			}
		})
	}
}

// hugeJSONArray is a 30 MB OTLP/JSON request whose one attribute is an array of 10 million
// empty values.
func hugeJSONArray() []byte {
	var b strings.Builder
	b.WriteString(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"01000000000000000000000000000000",` +
		`"spanId":"0100000000000000","startTimeUnixNano":"1","attributes":[{"key":"a","value":{"arrayValue":{"values":[{}`)
	b.WriteString(strings.Repeat(`,{}`, 10_000_000-1))
	b.WriteString(`]}}}]}]}]}]}`)
	return []byte(b.String())
}

func TestDecodeBoundsJSONMemoryAndTime(t *testing.T) {
	body := hugeJSONArray()
	var err error
	start := time.Now()
	n := allocated(func() { _, err = DecodeTraces(context.Background(), body, JSON) })
	elapsed := time.Since(start)
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("err = %v, want ErrTooLarge", err)
	}
	budget := uint64(budgetFactor*len(body) + budgetFloor)
	t.Logf("%d-byte body: %d bytes allocated (budget %d) in %v", len(body), n, budget, elapsed)
	if n > budget {
		t.Errorf("allocated %d bytes decoding %d, over the budget of %d", n, len(body), budget)
	}
	if elapsed > 10*time.Second {
		t.Errorf("took %v", elapsed)
	}
}

func TestDecodeStopsWhenRequestEnds(t *testing.T) {
	// A request within its budget that takes a while: a million spans.
	var spans strings.Builder
	for i := range 200_000 {
		if i > 0 {
			spans.WriteByte(',')
		}
		spans.WriteString(`{"traceId":"01000000000000000000000000000000","spanId":"0100000000000000","startTimeUnixNano":"1"}`)
	}
	body := []byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[` + spans.String() + `]}]}]}`)
	start := time.Now()
	if _, err := DecodeTraces(context.Background(), body, JSON); err != nil {
		t.Fatal(err)
	}
	whole := time.Since(start)
	// Ended a twentieth of the way in, decoding stops well before the end. Relative to the
	// whole decode, so that a busy machine slows both alike.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(whole/20, cancel)
	start = time.Now()
	_, err := DecodeTraces(ctx, body, JSON)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > whole/2 {
		t.Errorf("took %v after the request ended a twentieth into a %v decode", elapsed, whole)
	}
	// Done before it starts, protobuf too.
	if _, err := DecodeTraces(ctx, emptyAttributesRequest(1<<20, 2000), Protobuf); !errors.Is(err, context.Canceled) {
		t.Errorf("protobuf: err = %v, want context.Canceled", err)
	}
}

func TestHTTPTooLargeOnceDecoded(t *testing.T) {
	sink := &spanSink{}
	h := NewReceiver(Config{}, testLogger(t)).TracesHandler(sink)
	for _, req := range []request{
		{ct: contentTypeProtobuf, body: emptyAttributesRequest(8<<20, 4<<20)},
		{ct: contentTypeJSON, encoding: "gzip", body: gzipBytes(t, hugeJSONArray())},
	} {
		w := serve(t, h, req)
		if w.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("%s: status %d, want 413; body %q", req.ct, w.Code, w.Body.Bytes())
		}
		if st := errorStatus(t, w, req.ct); codes.Code(st.GetCode()) != codes.ResourceExhausted {
			t.Errorf("%s: code %v, want ResourceExhausted", req.ct, codes.Code(st.GetCode()))
		}
		if w.Header().Get("Retry-After") != "" {
			t.Errorf("%s: Retry-After on a request that must not be retried", req.ct)
		}
	}
	if sink.calls() != 0 {
		t.Error("sink called")
	}
}

func TestGateRefusesWhenBusy(t *testing.T) {
	rcv := NewReceiver(Config{MaxConcurrentDecodes: 2}, testLogger(t))
	sink := &spanSink{}
	h := rcv.TracesHandler(sink)
	conn := serveGRPC(t, rcv.cfg, func(s grpc.ServiceRegistrar) { rcv.RegisterTraceService(s, sink) })
	for range 2 {
		if err := rcv.gate.enter(context.Background()); err != nil {
			t.Fatal(err)
		}
	}

	start := time.Now()
	w := serve(t, h, request{ct: contentTypeJSON, body: readTestdata(t, "traces.json")})
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" {
		t.Errorf("status %d, Retry-After %q; want 503, 1", w.Code, w.Header().Get("Retry-After"))
	}
	if st := errorStatus(t, w, contentTypeJSON); codes.Code(st.GetCode()) != codes.Unavailable {
		t.Errorf("code %v, want Unavailable", codes.Code(st.GetCode()))
	}
	if waited := time.Since(start); waited < gateWait {
		t.Errorf("refused after %v, before waiting %v for a slot", waited, gateWait)
	}
	_, err := rawExport(testContext(t), conn, marshalProto(t, goldenTraces()))
	if d := retryDelay(t, err); d != gateRetry {
		t.Errorf("gRPC retry delay %v, want %v", d, gateRetry)
	}

	// A request that finds a slot within the wait goes through.
	time.AfterFunc(gateWait/4, rcv.gate.leave)
	if w := serve(t, h, request{ct: contentTypeJSON, body: readTestdata(t, "traces.json")}); w.Code != http.StatusOK {
		t.Errorf("status %d once a slot frees", w.Code)
	}
	if len(sink.items()) != 6 {
		t.Errorf("sink got %d spans, want 6", len(sink.items()))
	}
}

// deepRequest is a trace request of three spans whose second has an attribute holding
// arrays nested n deep, the innermost holding an integer: the integer is at depth n+1.
func deepRequest(t testing.TB, n int, enc Encoding) []byte {
	if enc == Protobuf {
		span := func(id byte, more ...[]byte) []byte {
			return pbMessage(2, append([][]byte{pbMessage(1, pbID(16, id)), pbMessage(2, pbID(8, id)), pbFixed64(7, 1)}, more...)...)
		}
		return pbMessage(1, pbMessage(2, span(1), span(2, pbMessage(9, pbKeyValue("deep", nestedArrays(n)))), span(3)))
	}
	value := jsonNestedArrays(n)
	span := func(id, attrs string) string {
		return `{"traceId":"` + strings.Repeat(id, 32) + `","spanId":"` + strings.Repeat(id, 16) + `","startTimeUnixNano":"1","attributes":[` + attrs + `]}`
	}
	return []byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[` + span("1", "") + "," +
		span("2", `{"key":"deep","value":`+value+`}`) + "," + span("3", "") + `]}]}]}`)
}

// jsonNestedArrays is the OTLP/JSON AnyValue of nestedArrays(n).
func jsonNestedArrays(n int) string {
	return strings.Repeat(`{"arrayValue":{"values":[`, n) + `{"intValue":"1"}` + strings.Repeat(`]}}`, n)
}

func TestDecodeDepth(t *testing.T) {
	for _, enc := range []Encoding{Protobuf, JSON} {
		for _, tc := range []struct {
			name     string
			arrays   int
			rejected bool
		}{
			{"at the limit", telemetry.MaxValueDepth - 1, false},
			{"one level over", telemetry.MaxValueDepth, true},
			{"far over", 100_000, true},
		} {
			t.Run(enc.String()+"/"+tc.name, func(t *testing.T) {
				res, err := DecodeTraces(context.Background(), deepRequest(t, tc.arrays, enc), enc)
				if err != nil {
					t.Fatal(err)
				}
				want := "1,2,3"
				if tc.rejected {
					want = "1,3"
				}
				if got := spanIDs(res.Items); got != want {
					t.Errorf("kept spans %s, want %s", got, want)
				}
				const reason = "a value is nested more than 32 levels deep (1 span, first at resourceSpans[0].scopeSpans[0].spans[1])"
				switch {
				case tc.rejected && (res.Rejected != 1 || !strings.HasSuffix(res.Message, reason)):
					t.Errorf("Rejected %d, Message %q; want 1 rejected: %s", res.Rejected, res.Message, reason)
				case !tc.rejected && res.Rejected != 0:
					t.Errorf("Rejected %d, Message %q", res.Rejected, res.Message)
				}
			})
		}
	}
}

func TestHTTPDeepValueRejectedAlone(t *testing.T) {
	sink := &spanSink{}
	w := serve(t, NewReceiver(Config{}, testLogger(t)).TracesHandler(sink),
		request{ct: contentTypeJSON, body: deepRequest(t, 1000, JSON)})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"rejectedSpans":"1"`) {
		t.Errorf("status %d, body %s; want 200 with 1 span rejected", w.Code, w.Body.Bytes())
	}
	if got := spanIDs(sink.items()); got != "1,3" {
		t.Errorf("stored spans %s, want 1,3", got)
	}
	if sink.rejectedCount() != 1 {
		t.Errorf("sink counted %d rejected", sink.rejectedCount())
	}
}

// spanIDs lists the last hex digit of each span's id.
func spanIDs(spans []telemetry.Span) string {
	var out []string
	for _, s := range spans {
		out = append(out, strconv.Itoa(int(s.SpanID[7]&0xf)))
	}
	return strings.Join(out, ",")
}

func TestDecodeLogsDepth(t *testing.T) {
	// A body is at depth 0, an attribute's value at 1; each array adds a level.
	record := func(body, attrs string) string {
		return `{"timeUnixNano":"1","body":` + body + `,"attributes":[` + attrs + `]}`
	}
	attr := func(n int) string { return `{"key":"deep","value":` + jsonNestedArrays(n) + `}` }
	body := `{"resourceLogs":[{"scopeLogs":[{"logRecords":[` + strings.Join([]string{
		record(jsonNestedArrays(telemetry.MaxValueDepth), ""),   // the integer at depth 32: kept
		record(jsonNestedArrays(telemetry.MaxValueDepth+1), ""), // at 33: rejected
		record("{}", attr(telemetry.MaxValueDepth-1)),           // at 32: kept
		record("{}", attr(telemetry.MaxValueDepth)),             // at 33: rejected
	}, ",") + `]}]},{"resource":{"attributes":[` + attr(50) + `]},"scopeLogs":[{"logRecords":[` + record("{}", "") + `]}]}]}`
	for _, enc := range []Encoding{JSON, Protobuf} {
		b := []byte(body)
		if enc == Protobuf {
			b = mustLogsProtoFromJSON(t, b)
		}
		res, err := decodeLogs(context.Background(), b, enc, telemetry.IngestInfo{}, goldenNow)
		if err != nil {
			t.Fatal(err)
		}
		const want = "rejected 3 of 5 log records: a value is nested more than 32 levels deep (3 log records, first at resourceLogs[0].scopeLogs[0].logRecords[1])"
		if len(res.Items) != 2 || res.Rejected != 3 || res.Message != want {
			t.Errorf("%v: kept %d, rejected %d: %q; want 2, 3: %q", enc, len(res.Items), res.Rejected, res.Message, want)
		}
	}
}

// TestBudgetFitsLegitimateRequests decodes the densest shapes legitimate requests take, and
// the loadgen request, and checks that each takes well under its budget: the budget factors
// are chosen from these figures (printed with -v).
func TestBudgetFitsLegitimateRequests(t *testing.T) {
	span := func(id byte, more ...[]byte) []byte {
		return pbMessage(2, append([][]byte{pbMessage(1, pbID(16, id)), pbMessage(2, pbID(8, id)), pbFixed64(7, 1)}, more...)...)
	}
	// An attribute holding an array of n small integers, or of n booleans.
	array := func(n int, element []byte) []byte {
		return pbMessage(9, pbKeyValue("a", pbMessage(5, bytes.Repeat(pbMessage(1, element), n))))
	}
	var minimal, ints, bools [][]byte
	for i := range 20_000 {
		minimal = append(minimal, span(byte(i)|1))
	}
	for i := range 100 {
		ints = append(ints, span(byte(i)|1, array(1000, pbVarint(3, 7))))
		bools = append(bools, span(byte(i)|1, array(1000, pbVarint(2, 1))))
	}
	loadgen := loadgenRequest(t)
	td, err := pdataUnmarshalTraces(loadgen, Protobuf)
	if err != nil {
		t.Fatal(err)
	}
	minimalJSON := `{"traceId":"01010101010101010101010101010101","spanId":"0101010101010101","startTimeUnixNano":"1"}`
	for _, tc := range []struct {
		name string
		body []byte
		enc  Encoding
	}{
		{"loadgen", loadgen, Protobuf},
		{"loadgen as JSON", mustJSON(t, td), JSON},
		{"spans with ids and a start only", pbMessage(1, pbMessage(2, minimal...)), Protobuf},
		{"arrays of small integers", pbMessage(1, pbMessage(2, ints...)), Protobuf},
		{"arrays of booleans", pbMessage(1, pbMessage(2, bools...)), Protobuf},
		{"JSON spans with ids and a start only", []byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[` +
			strings.TrimSuffix(strings.Repeat(minimalJSON+",", 20_000), ",") + `]}]}]}`), JSON},
	} {
		var res Result[telemetry.Span]
		n := allocated(func() { res, err = DecodeTraces(context.Background(), tc.body, tc.enc) })
		if err != nil || res.Rejected != 0 {
			t.Fatalf("%s: %v, %d rejected (%s)", tc.name, err, res.Rejected, res.Message)
		}
		ratio := float64(n) / float64(len(tc.body))
		t.Logf("%s: %d bytes decode to %d allocated, %.1f per byte", tc.name, len(tc.body), n, ratio)
		if ratio > budgetFactor*0.75 {
			t.Errorf("%s: %.1f bytes allocated per body byte leaves too little headroom under %d", tc.name, ratio, budgetFactor)
		}
	}
}
