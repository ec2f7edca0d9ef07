// Package otlp receives OpenTelemetry traces and logs over OTLP 1.x: OTLP/HTTP (protobuf and
// JSON, uncompressed, gzip or zstd) at /v1/traces and /v1/logs, and OTLP/gRPC (TraceService
// and LogsService). It follows the server side of the OTLP specification: limits apply after
// decompression, invalid items are rejected alone and reported through partial_success,
// throttling is retryable and carries a retry delay, and errors are google.rpc.Status
// messages.
//
// Decoding is a pure step (DecodeTraces, DecodeLogs) shared by both transports, so that a
// request means the same thing however it arrived. It reads the wire formats straight into
// lookout's model, within a memory budget proportional to the request (a request that would
// take more is refused as too large), stopping when the request's context ends; values nested
// deeper than telemetry.MaxValueDepth reject the item holding them. At most a few requests
// decode at once, across both transports; beyond that senders are asked to retry.
//
// Log records are filed as CloudWatch Logs files events. A record's group is the first
// element of the aws.log.group.names attribute, of the record or else of its resource; else
// the resource's service.name, trimmed (unknown_service when it is missing or blank). Its
// stream is likewise the first element of aws.log.stream.names, else the resource's
// service.instance.id, else its host.name, else "default". Only strings that are not blank
// count, trimmed. A record without trace context whose body is text takes the trace its text
// names (logsearch.TraceRef), as a CloudWatch Logs event does.
package otlp
