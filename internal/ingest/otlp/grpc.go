package otlp

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"runtime/debug"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // OTLP servers must accept gzip
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"

	"lookout/internal/ingest"
	"lookout/internal/telemetry"
)

// ExportMethod is the full gRPC method name OTLP trace exporters call.
const ExportMethod = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"

// GRPCServerOptions returns the options that make a gRPC server enforce cfg's size limit.
// grpc-go checks the limit after decompression and answers RESOURCE_EXHAUSTED without
// RetryInfo, which is what OTLP asks for an oversize request. Without these options the
// grpc-go default of 4 MiB applies.
func GRPCServerOptions(cfg Config) []grpc.ServerOption {
	limit := cfg.maxRequestBytes()
	if limit > math.MaxInt32 {
		limit = math.MaxInt32 // gRPC messages cannot be larger
	}
	return []grpc.ServerOption{grpc.MaxRecvMsgSize(int(limit))}
}

// RegisterGRPC registers the OTLP trace service (TraceService/Export) on s. Spans go to sink;
// failures the sender is not told about go to logger.
//
// The service is registered by hand, with messages that carry the request and response as
// raw protobuf, rather than through pdata's ptraceotlp.RegisterGRPCServer, for two reasons:
// the request is decoded by DecodeTraces exactly as an OTLP/HTTP protobuf body is (including
// turning decoder panics into INVALID_ARGUMENT, which grpc-go would not do for a panic in its
// codec), and a full success can leave partial_success unset, as OTLP requires and pdata's
// response type cannot express. Two consequences: interceptors see *emptypb.Empty messages,
// and a body broken at its outermost level fails in grpc-go's codec, which answers INTERNAL
// rather than INVALID_ARGUMENT (both tell the sender not to retry).
func RegisterGRPC(s grpc.ServiceRegistrar, sink ingest.Sink[telemetry.Span], logger *slog.Logger) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s.RegisterService(&traceServiceDesc, &grpcService{sink: sink, log: logger})
}

var traceServiceDesc = grpc.ServiceDesc{
	ServiceName: "opentelemetry.proto.collector.trace.v1.TraceService",
	HandlerType: (*any)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "Export", Handler: exportHandler}},
	Metadata:    "opentelemetry/proto/collector/trace/v1/trace_service.proto",
}

type grpcService struct {
	sink ingest.Sink[telemetry.Span]
	log  *slog.Logger
}

// exportHandler decodes the request into an empty message. Every field of it is then unknown
// to protobuf, which keeps unknown fields verbatim, so its unknown-field bytes are exactly the
// ExportTraceServiceRequest as sent (after gRPC decompression and size checks).
func exportHandler(srv any, ctx context.Context, dec func(any) error,
	interceptor grpc.UnaryServerInterceptor) (any, error) {
	in := new(emptypb.Empty)
	if err := dec(in); err != nil {
		return nil, err
	}
	svc := srv.(*grpcService)
	if interceptor == nil {
		return svc.export(ctx, in)
	}
	info := &grpc.UnaryServerInfo{Server: srv, FullMethod: ExportMethod}
	return interceptor(ctx, in, info, func(ctx context.Context, req any) (any, error) {
		return svc.export(ctx, req.(*emptypb.Empty))
	})
}

func (s *grpcService) export(ctx context.Context, in *emptypb.Empty) (*emptypb.Empty, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	res, err := s.decode([]byte(in.ProtoReflect().GetUnknown()),
		firstValue(md, HeaderHoneycombTeam), firstValue(md, HeaderHoneycombDataset))
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, truncate(err.Error(), 1024))
	}
	if res.Rejected > 0 {
		s.sink.Rejected(int(res.Rejected))
	}
	if len(res.Spans) > 0 {
		if err := s.sink.Write(ctx, res.Spans); err != nil {
			return nil, s.sinkError(ctx, err)
		}
	}
	out := new(emptypb.Empty)
	if res.Rejected > 0 || res.Message != "" {
		b, err := marshalExportResponse(res, Protobuf)
		if err != nil {
			s.log.Error("otlp: cannot encode export response", "err", err)
			return nil, status.Error(codes.Internal, "internal error")
		}
		out.ProtoReflect().SetUnknown(b)
	}
	return out, nil
}

func (s *grpcService) decode(body []byte, key, dataset string) (res Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("otlp: panic decoding gRPC trace request", "panic", p, "stack", string(debug.Stack()))
			res, err = Result{}, errors.New("the request could not be decoded")
		}
	}()
	return decodeTraces(body, Protobuf, senderInfo(key, dataset))
}

// sinkError renders a sink failure as ingest.Classify decides it: UNAVAILABLE with RetryInfo,
// the throttling signal OTLP exporters honour, or the context's own code for a request that
// ended.
func (s *grpcService) sinkError(ctx context.Context, err error) error {
	ref := ingest.Classify(ctx, err)
	switch ref.Kind {
	case ingest.Canceled:
		return status.FromContextError(ctx.Err()).Err()
	case ingest.Unavailable:
		s.log.Error("otlp: writing spans failed", "err", err)
	}
	st := status.New(codes.Unavailable, ref.Message)
	if ds, derr := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(ref.RetryAfter)}); derr == nil {
		st = ds
	}
	return st.Err()
}

func firstValue(md metadata.MD, key string) string {
	if vs := md.Get(key); len(vs) > 0 {
		return vs[0]
	}
	return ""
}
