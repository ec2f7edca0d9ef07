package otlp

import (
	"context"
	"errors"
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

	"lookout/internal/honeycomb"
	"lookout/internal/ingest"
	"lookout/internal/sources"
	"lookout/internal/telemetry"
)

// The full gRPC method names OTLP exporters call.
const (
	traceExportMethod = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
	logsExportMethod  = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
)

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

// RegisterTraceService registers the OTLP trace service (TraceService/Export) on s, writing
// spans to sink.
//
// The services are registered by hand, with messages that carry the request and response as
// raw protobuf, rather than through generated code, for two reasons: the request is decoded
// exactly as an OTLP/HTTP protobuf body is (including turning decoder panics into
// INVALID_ARGUMENT, which grpc-go would not do for a panic in its codec), and a full success
// can leave partial_success unset, as OTLP requires. Two consequences: interceptors see
// *emptypb.Empty messages, and a body broken at its outermost level fails in grpc-go's codec,
// which answers INTERNAL rather than INVALID_ARGUMENT (both tell the sender not to retry).
func (r *Receiver) RegisterTraceService(s grpc.ServiceRegistrar, sink ingest.Sink[telemetry.Span]) {
	register(s, &grpcService[telemetry.Span]{rcv: r, sink: sink, ep: traceEndpoint, method: traceExportMethod},
		"opentelemetry.proto.collector.trace.v1.TraceService", "opentelemetry/proto/collector/trace/v1/trace_service.proto")
}

// RegisterLogsService registers the OTLP logs service (LogsService/Export) on s, writing log
// records to sink. See RegisterTraceService.
func (r *Receiver) RegisterLogsService(s grpc.ServiceRegistrar, sink ingest.Sink[telemetry.LogRecord]) {
	register(s, &grpcService[telemetry.LogRecord]{rcv: r, sink: sink, ep: logsEndpoint, method: logsExportMethod},
		"opentelemetry.proto.collector.logs.v1.LogsService", "opentelemetry/proto/collector/logs/v1/logs_service.proto")
}

func register[T any](s grpc.ServiceRegistrar, svc *grpcService[T], name, file string) {
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: name,
		HandlerType: (*any)(nil),
		Methods:     []grpc.MethodDesc{{MethodName: "Export", Handler: exportHandler[T]}},
		Metadata:    file,
	}, svc)
}

// grpcService is the OTLP/gRPC service of one signal.
type grpcService[T any] struct {
	rcv    *Receiver
	sink   ingest.Sink[T]
	ep     *endpoint[T]
	method string
}

// exportHandler decodes the request into an empty message. Every field of it is then unknown
// to protobuf, which keeps unknown fields verbatim, so its unknown-field bytes are exactly the
// export request as sent (after gRPC decompression and size checks).
func exportHandler[T any](srv any, ctx context.Context, dec func(any) error,
	interceptor grpc.UnaryServerInterceptor) (any, error) {
	in := new(emptypb.Empty)
	if err := dec(in); err != nil {
		return nil, err
	}
	svc := srv.(*grpcService[T])
	if interceptor == nil {
		return svc.export(ctx, in)
	}
	info := &grpc.UnaryServerInfo{Server: srv, FullMethod: svc.method}
	return interceptor(ctx, in, info, func(ctx context.Context, req any) (any, error) {
		return svc.export(ctx, req.(*emptypb.Empty))
	})
}

func (s *grpcService[T]) export(ctx context.Context, in *emptypb.Empty) (*emptypb.Empty, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	res, err := s.decode(ctx, []byte(in.ProtoReflect().GetUnknown()),
		firstValue(md, honeycomb.HeaderTeam), firstValue(md, honeycomb.HeaderDataset))
	switch {
	case err == nil:
	case errors.Is(err, ErrTooLarge):
		return nil, status.Error(codes.ResourceExhausted, truncate(err.Error(), 1024)) // no RetryInfo: not retryable
	case refused(ctx, err):
		return nil, s.refusal(ctx, err)
	default:
		return nil, status.Error(codes.InvalidArgument, truncate(err.Error(), 1024))
	}
	if res.Rejected > 0 {
		s.sink.Rejected(int(res.Rejected))
		sources.Observe(ctx).Refused("", int(res.Rejected), res.Message)
	}
	if len(res.Items) > 0 {
		if err := s.sink.Write(ctx, res.Items); err != nil {
			return nil, s.refusal(ctx, err)
		}
	}
	out := new(emptypb.Empty)
	if b := marshalExportResponse(res.Rejected, res.Message, Protobuf, s.ep.names); len(b) > 0 {
		out.ProtoReflect().SetUnknown(b)
	}
	return out, nil
}

func (s *grpcService[T]) decode(ctx context.Context, body []byte, key, dataset string) (res Result[T], err error) {
	defer func() {
		if p := recover(); p != nil {
			s.rcv.log.Error("otlp: panic decoding gRPC "+s.ep.names.request+" request", "panic", p, "stack", string(debug.Stack()))
			res, err = Result[T]{}, errors.New("the request could not be decoded")
		}
	}()
	info, err := sender(key, dataset)
	if err != nil {
		return Result[T]{}, err
	}
	return s.ep.decodeGated(ctx, s.rcv.gate, body, Protobuf, info)
}

// refusal renders a refused request (a full gate, a failed write) as ingest.Classify decides
// it: UNAVAILABLE with RetryInfo, the throttling signal OTLP exporters honour, or the
// context's own code for a request that ended.
func (s *grpcService[T]) refusal(ctx context.Context, err error) error {
	ref := ingest.Classify(ctx, err)
	switch ref.Kind {
	case ingest.Canceled:
		return status.FromContextError(ctx.Err()).Err()
	case ingest.Unavailable:
		s.rcv.log.Error("otlp: writing "+s.ep.names.item+"s failed", "err", err)
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
