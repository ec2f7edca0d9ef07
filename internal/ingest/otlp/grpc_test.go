package otlp

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"lookout/internal/ingest"
	"lookout/internal/telemetry"
)

// startGRPC serves the trace service on a real loopback listener and returns a client
// connection to it.
func startGRPC(t *testing.T, sink ingest.Sink[telemetry.Span], cfg Config, opts ...grpc.ServerOption) *grpc.ClientConn {
	t.Helper()
	rcv := NewReceiver(cfg, testLogger(t))
	return serveGRPC(t, cfg, func(s grpc.ServiceRegistrar) { rcv.RegisterTraceService(s, sink) }, opts...)
}

// serveGRPC serves what register registers on a real loopback listener and returns a client
// connection to it.
func serveGRPC(t *testing.T, cfg Config, register func(grpc.ServiceRegistrar), opts ...grpc.ServerOption) *grpc.ClientConn {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(append(GRPCServerOptions(cfg), opts...)...)
	register(srv)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	conn, err := grpc.NewClient(lis.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(256<<20)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func exportRequest(t *testing.T, name string) ptraceotlp.ExportRequest {
	t.Helper()
	req := ptraceotlp.NewExportRequest()
	if err := req.UnmarshalJSON(readTestdata(t, name)); err != nil {
		t.Fatal(err)
	}
	return req
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestGRPCExport(t *testing.T) {
	sink := &spanSink{}
	conn := startGRPC(t, sink, Config{})
	ctx := metadata.AppendToOutgoingContext(testContext(t),
		"x-honeycomb-team", "0123456789abcdef0123456789abcdef", "x-honeycomb-dataset", " prod-traces ")

	resp, err := ptraceotlp.NewGRPCClient(conn).Export(ctx, exportRequest(t, "traces.json"), grpc.UseCompressor(gzip.Name))
	if err != nil {
		t.Fatal(err)
	}
	if ps := resp.PartialSuccess(); ps.RejectedSpans() != 0 || ps.ErrorMessage() != "" {
		t.Errorf("partial success %d %q on a full success", ps.RejectedSpans(), ps.ErrorMessage())
	}
	want := goldenSpans()
	for i := range want {
		want[i].Ingest = telemetry.IngestInfo{Protocol: "otlp", Dataset: "prod-traces", KeyID: "3eb1bd439947"} // a classic key
	}
	compareSpans(t, sink.items(), want)
}

// rawExport calls Export with body as the request and returns the response bytes, so tests
// see the wire form, including whether partial_success is present at all.
func rawExport(ctx context.Context, conn *grpc.ClientConn, body []byte, opts ...grpc.CallOption) ([]byte, error) {
	in, out := new(emptypb.Empty), new(emptypb.Empty)
	in.ProtoReflect().SetUnknown(body)
	if err := conn.Invoke(ctx, traceExportMethod, in, out, opts...); err != nil {
		return nil, err
	}
	return out.ProtoReflect().GetUnknown(), nil
}

func TestGRPCFullSuccessLeavesPartialSuccessUnset(t *testing.T) {
	sink := &spanSink{}
	conn := startGRPC(t, sink, Config{})
	for _, body := range [][]byte{marshalProto(t, goldenTraces()), nil} {
		got, err := rawExport(testContext(t), conn, body, grpc.UseCompressor(gzip.Name))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Errorf("response is % x, want an empty message (partial_success unset)", got)
		}
	}
	if n := len(sink.items()); n != 6 {
		t.Errorf("sink got %d spans, want 6", n)
	}
}

func TestGRPCPartialSuccess(t *testing.T) {
	sink := &spanSink{}
	conn := startGRPC(t, sink, Config{})
	resp, err := ptraceotlp.NewGRPCClient(conn).Export(testContext(t), exportRequest(t, "partial.json"), grpc.UseCompressor(gzip.Name))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.PartialSuccess().RejectedSpans(); got != 1 {
		t.Errorf("rejected_spans = %d, want 1", got)
	}
	if msg := resp.PartialSuccess().ErrorMessage(); !strings.Contains(msg, "trace id is all zero") {
		t.Errorf("error_message = %q", msg)
	}
	if got := names(sink.items()); len(got) != 2 || got[0] != "valid first" || got[1] != "valid last" {
		t.Errorf("sink got %v, want [valid first valid last]", got)
	}
	for _, s := range sink.items() {
		if s.Ingest != (telemetry.IngestInfo{Protocol: "otlp", Dataset: "checkout"}) {
			t.Errorf("Ingest = %+v without Honeycomb headers, want the service's dataset", s.Ingest)
		}
	}
}

func TestGRPCOverloaded(t *testing.T) {
	for _, tc := range []struct{ retryAfter, want time.Duration }{
		{1500 * time.Millisecond, 1500 * time.Millisecond},
		{0, time.Second},
	} {
		sink := &spanSink{err: fmtWrap(&ingest.OverloadedError{RetryAfter: tc.retryAfter})}
		conn := startGRPC(t, sink, Config{})
		_, err := ptraceotlp.NewGRPCClient(conn).Export(testContext(t), exportRequest(t, "traces.json"), grpc.UseCompressor(gzip.Name))
		if got := retryDelay(t, err); got != tc.want {
			t.Errorf("retry_delay = %v, want %v", got, tc.want)
		}
	}
}

func TestGRPCTooLarge(t *testing.T) {
	sink := &spanSink{}
	conn := startGRPC(t, sink, Config{MaxRequestBytes: 64 << 10})
	req := exportRequest(t, "traces.json")
	req.Traces().ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().PutStr("big", strings.Repeat("0", 1<<20))
	// gzip makes it a couple of kilobytes on the wire; the limit applies after decompression.
	_, err := ptraceotlp.NewGRPCClient(conn).Export(testContext(t), req, grpc.UseCompressor(gzip.Name))
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted {
		t.Fatalf("code %v (%v), want ResourceExhausted", st.Code(), err)
	}
	if len(st.Details()) != 0 {
		t.Errorf("details %v: an oversize request must not carry RetryInfo", st.Details())
	}
	if sink.calls() != 0 {
		t.Error("sink called")
	}
}

func TestGRPCInvalidArgument(t *testing.T) {
	sink := &spanSink{}
	conn := startGRPC(t, sink, Config{})
	// Well-formed at the top level, broken inside: resource_spans { scope_spans { spans {
	// trace_id: 3 bytes } } }.
	body := []byte{0x0a, 0x09, 0x12, 0x07, 0x12, 0x05, 0x0a, 0x03, 0x01, 0x02, 0x03}
	_, err := rawExport(testContext(t), conn, body)
	if code := status.Code(err); code != codes.InvalidArgument {
		t.Errorf("code %v (%v), want InvalidArgument", code, err)
	}
	if sink.calls() != 0 {
		t.Error("sink called")
	}
}

func TestGRPCSinkFailure(t *testing.T) {
	sink := &spanSink{err: errors.New("duckdb: database is locked")}
	conn := startGRPC(t, sink, Config{})
	_, err := ptraceotlp.NewGRPCClient(conn).Export(testContext(t), exportRequest(t, "traces.json"))
	st := status.Convert(err)
	if st.Code() != codes.Unavailable {
		t.Errorf("code %v, want Unavailable (retryable)", st.Code())
	}
	if strings.Contains(st.Message(), "duckdb") {
		t.Errorf("message %q leaks the internal error", st.Message())
	}
}

func TestGRPCServerOptions(t *testing.T) {
	if n := len(GRPCServerOptions(Config{})); n != 1 {
		t.Errorf("%d options, want 1", n)
	}
	if n := len(GRPCServerOptions(Config{MaxRequestBytes: 1 << 40})); n != 1 {
		t.Errorf("%d options, want 1", n)
	}
}

func TestGRPCInterceptor(t *testing.T) {
	// The hand-written service descriptor must run the server's interceptors.
	var method string
	intercept := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
		method = info.FullMethod
		return next(ctx, req)
	}
	sink := &spanSink{}
	conn := startGRPC(t, sink, Config{}, grpc.UnaryInterceptor(intercept))
	if _, err := ptraceotlp.NewGRPCClient(conn).Export(testContext(t), exportRequest(t, "traces.json")); err != nil {
		t.Fatal(err)
	}
	if method != traceExportMethod {
		t.Errorf("interceptor saw %q, want %q", method, traceExportMethod)
	}
	if n := len(sink.items()); n != 6 {
		t.Errorf("sink got %d spans, want 6", n)
	}
}

// retryDelay returns the RetryInfo of a retryable UNAVAILABLE error.
func retryDelay(t *testing.T, err error) time.Duration {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != codes.Unavailable {
		t.Fatalf("code %v (%v), want Unavailable", st.Code(), err)
	}
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri.GetRetryDelay().AsDuration()
		}
	}
	t.Fatalf("no RetryInfo in %v", st.Details())
	return 0
}

func TestGRPCLogs(t *testing.T) {
	sink := &recordingSink[telemetry.LogRecord]{}
	rcv := NewReceiver(Config{}, testLogger(t))
	var method string
	intercept := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
		method = info.FullMethod
		return next(ctx, req)
	}
	conn := serveGRPC(t, Config{}, func(s grpc.ServiceRegistrar) { rcv.RegisterLogsService(s, sink) }, grpc.UnaryInterceptor(intercept))
	client := plogotlp.NewGRPCClient(conn)

	before := time.Now().UnixNano()
	resp, err := client.Export(testContext(t), plogotlp.NewExportRequestFromLogs(goldenLogs()), grpc.UseCompressor(gzip.Name))
	after := time.Now().UnixNano()
	if err != nil {
		t.Fatal(err)
	}
	if ps := resp.PartialSuccess(); ps.RejectedLogRecords() != 0 || ps.ErrorMessage() != "" {
		t.Errorf("partial success %d %q on a full success", ps.RejectedLogRecords(), ps.ErrorMessage())
	}
	compareLogs(t, atArrival(sink.items(), before, after), goldenLogRecords())
	if method != logsExportMethod {
		t.Errorf("interceptor saw %q, want %q", method, logsExportMethod)
	}

	req := plogotlp.NewExportRequest()
	deep := `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":` + jsonNestedArrays(40) + `}]}]}]}`
	if err := req.UnmarshalJSON([]byte(deep)); err != nil {
		t.Fatal(err)
	}
	if resp, err = client.Export(testContext(t), req); err != nil {
		t.Fatal(err)
	}
	if got := resp.PartialSuccess().RejectedLogRecords(); got != 1 {
		t.Errorf("rejected_log_records = %d, want 1", got)
	}
}
