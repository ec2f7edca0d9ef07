package otlp

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

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
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(append(GRPCServerOptions(cfg), opts...)...)
	RegisterGRPC(srv, sink, testLogger(t))
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
	sink := &recordingSink{}
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
	compareSpans(t, sink.spans(), want)
}

// rawExport calls Export with body as the request and returns the response bytes, so tests
// see the wire form, including whether partial_success is present at all.
func rawExport(ctx context.Context, conn *grpc.ClientConn, body []byte, opts ...grpc.CallOption) ([]byte, error) {
	in, out := new(emptypb.Empty), new(emptypb.Empty)
	in.ProtoReflect().SetUnknown(body)
	if err := conn.Invoke(ctx, ExportMethod, in, out, opts...); err != nil {
		return nil, err
	}
	return out.ProtoReflect().GetUnknown(), nil
}

func TestGRPCFullSuccessLeavesPartialSuccessUnset(t *testing.T) {
	sink := &recordingSink{}
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
	if n := len(sink.spans()); n != 6 {
		t.Errorf("sink got %d spans, want 6", n)
	}
}

func TestGRPCPartialSuccess(t *testing.T) {
	sink := &recordingSink{}
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
	if got := names(sink.spans()); len(got) != 2 || got[0] != "valid first" || got[1] != "valid last" {
		t.Errorf("sink got %v, want [valid first valid last]", got)
	}
	for _, s := range sink.spans() {
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
		sink := &recordingSink{err: fmtWrap(&ingest.OverloadedError{RetryAfter: tc.retryAfter})}
		conn := startGRPC(t, sink, Config{})
		_, err := ptraceotlp.NewGRPCClient(conn).Export(testContext(t), exportRequest(t, "traces.json"), grpc.UseCompressor(gzip.Name))
		st := status.Convert(err)
		if st.Code() != codes.Unavailable {
			t.Fatalf("code %v (%v), want Unavailable", st.Code(), err)
		}
		var info *errdetails.RetryInfo
		for _, d := range st.Details() {
			if ri, ok := d.(*errdetails.RetryInfo); ok {
				info = ri
			}
		}
		if info == nil {
			t.Fatalf("no RetryInfo in %v", st.Details())
		}
		if got := info.GetRetryDelay().AsDuration(); got != tc.want {
			t.Errorf("retry_delay = %v, want %v", got, tc.want)
		}
	}
}

func TestGRPCTooLarge(t *testing.T) {
	sink := &recordingSink{}
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
	sink := &recordingSink{}
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
	sink := &recordingSink{err: errors.New("duckdb: database is locked")}
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
	sink := &recordingSink{}
	conn := startGRPC(t, sink, Config{}, grpc.UnaryInterceptor(intercept))
	if _, err := ptraceotlp.NewGRPCClient(conn).Export(testContext(t), exportRequest(t, "traces.json")); err != nil {
		t.Fatal(err)
	}
	if method != ExportMethod {
		t.Errorf("interceptor saw %q, want %q", method, ExportMethod)
	}
	if n := len(sink.spans()); n != 6 {
		t.Errorf("sink got %d spans, want 6", n)
	}
}
