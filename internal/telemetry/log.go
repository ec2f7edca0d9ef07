package telemetry

// Severity follows OpenTelemetry's severity numbers (1-24; 0 unspecified).
type Severity uint8

// LogRecord is one log line or structured log event. CloudWatch Logs events, OTLP log records
// and Rollbar error occurrences all become LogRecords; error tracking groups the ones that carry
// an exception.
type LogRecord struct {
	TimeUnixNano         int64
	ObservedTimeUnixNano int64
	Severity             Severity
	SeverityText         string
	Body                 Value
	Attributes           Attributes
	TraceID              TraceID // zero when not correlated with a trace
	SpanID               SpanID
	Flags                uint32
	Resource             *Resource
	Scope                *Scope
	Ingest               IngestInfo
}
