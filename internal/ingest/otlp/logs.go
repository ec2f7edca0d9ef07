package otlp

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/VictoriaMetrics/easyproto"

	"lookout/internal/logsearch"
	"lookout/internal/telemetry"
)

// DecodeLogs decodes an OTLP ExportLogsServiceRequest, as DecodeTraces decodes traces. Records
// without an observed time were observed now; records without a time happened when observed.
// Their Group and Stream are set as the package documentation describes.
func DecodeLogs(ctx context.Context, body []byte, enc Encoding) (Result[telemetry.LogRecord], error) {
	return decodeLogs(ctx, body, enc, telemetry.IngestInfo{}, time.Now().UnixNano())
}

func decodeLogs(ctx context.Context, body []byte, enc Encoding, info telemetry.IngestInfo, now int64) (Result[telemetry.LogRecord], error) {
	info.Protocol = Protocol
	return decode(ctx, body, enc, signal[telemetry.LogRecord](&logs{info: info, now: now}))
}

// logs is the log signal.
type logs struct {
	info telemetry.IngestInfo
	now  int64

	// What was found of the last resource and scope seen: the group and stream of records
	// that name none, and whether they hold values nested too deeply.
	res           *telemetry.Resource
	group, stream string
	resDeep       bool
	scope         *telemetry.Scope
	scopeDeep     bool
}

var logNames = signalNames{
	request: "logs", item: "log record",
	resources:     [2]string{"resourceLogs", "resource_logs"},
	scopes:        [2]string{"scopeLogs", "scope_logs"},
	items:         [2]string{"logRecords", "log_records"},
	resourcesPath: "resourceLogs", scopesPath: "scopeLogs", itemsPath: "logRecords",
	rejected: "rejectedLogRecords",
}

func (*logs) names() *signalNames { return &logNames }

// Attributes that file log records as CloudWatch Logs does (OpenTelemetry's semantic
// conventions for AWS), and the fallbacks.
const (
	logGroupNamesKey  = "aws.log.group.names"
	logStreamNamesKey = "aws.log.stream.names"
	defaultLogStream  = "default"
)

func (l *logs) finish(r *telemetry.LogRecord, res *telemetry.Resource, scope *telemetry.Scope) error {
	r.Resource, r.Scope, r.Ingest = res, scope, l.info
	if r.ObservedTimeUnixNano == 0 {
		r.ObservedTimeUnixNano = l.now
	}
	if r.TimeUnixNano == 0 {
		r.TimeUnixNano = r.ObservedTimeUnixNano
	}
	if res != l.res {
		l.res = res
		l.group, l.stream = resourceLogGroup(res), resourceLogStream(res)
		l.resDeep = attrsTooDeep(res.Attributes)
	}
	if scope != l.scope {
		l.scope = scope
		l.scopeDeep = scope != nil && attrsTooDeep(scope.Attributes)
	}
	r.Group, r.Stream = l.group, l.stream
	if g, ok := firstName(r.Attributes, logGroupNamesKey); ok {
		r.Group = g
	}
	if s, ok := firstName(r.Attributes, logStreamNamesKey); ok {
		r.Stream = s
	}
	if r.TraceID.IsZero() && r.Body.Kind() == telemetry.KindString {
		// A record without trace context still links to the trace its text names, as a
		// CloudWatch Logs line does. Without one named, the record keeps what it has.
		if trace, span, ok := logsearch.TraceRef(r.Body.Str()); ok {
			r.TraceID, r.SpanID = trace, span
		}
	}
	if err := r.Validate(); err != nil {
		return err
	}
	if l.resDeep || l.scopeDeep || attrsTooDeep(r.Attributes) {
		return errTooDeep
	}
	return nil
}

// errTooDeep rejects a log record holding an attribute nested deeper than
// telemetry.MaxValueDepth, with the reason telemetry gives for spans and bodies.
var errTooDeep = &telemetry.InvalidError{Reason: fmt.Sprintf("a value is nested more than %d levels deep", telemetry.MaxValueDepth)}

// attrsTooDeep reports an attribute value nested deeper than telemetry.MaxValueDepth (an
// attribute's value is at depth 1). telemetry checks the attributes of spans and the bodies of
// log records itself, but not the attributes of log records. Values are never deeper than one
// level past the limit: the decoders do not read further.
func attrsTooDeep(attrs telemetry.Attributes) bool {
	for _, kv := range attrs {
		if kv.Value.Kind() >= telemetry.KindArray && valueTooDeep(kv.Value, 1) {
			return true
		}
	}
	return false
}

func valueTooDeep(v telemetry.Value, depth int) bool {
	if depth > telemetry.MaxValueDepth {
		return true
	}
	for _, e := range v.Array() {
		if valueTooDeep(e, depth+1) {
			return true
		}
	}
	for _, kv := range v.Map() {
		if valueTooDeep(kv.Value, depth+1) {
			return true
		}
	}
	return false
}

// resourceLogGroup is the group of a resource's records that name none themselves.
func resourceLogGroup(res *telemetry.Resource) string {
	if g, ok := firstName(res.Attributes, logGroupNamesKey); ok {
		return g
	}
	if s, ok := firstName(res.Attributes, telemetry.ServiceNameKey); ok {
		return s
	}
	return telemetry.UnknownService
}

// resourceLogStream is the stream of a resource's records that name none themselves.
func resourceLogStream(res *telemetry.Resource) string {
	for _, key := range [...]string{logStreamNamesKey, "service.instance.id", "host.name"} {
		if s, ok := firstName(res.Attributes, key); ok {
			return s
		}
	}
	return defaultLogStream
}

// firstName returns the attribute key, trimmed, if it is a string that is not blank, or an
// array whose first element is one.
func firstName(attrs telemetry.Attributes, key string) (string, bool) {
	v, ok := attrs.Get(key)
	if !ok {
		return "", false
	}
	if v.Kind() == telemetry.KindArray && len(v.Array()) > 0 {
		v = v.Array()[0]
	}
	if v.Kind() != telemetry.KindString {
		return "", false
	}
	s := strings.TrimSpace(v.Str())
	return s, s != ""
}

const fieldLogAttributes = 6

func (*logs) protoItem(d *decoder, r *telemetry.LogRecord, msg []byte) error {
	n, err := countFields(msg, fieldLogAttributes)
	if err != nil {
		return err
	}
	attrs, err := d.kvs.take(d, n)
	if err != nil {
		return err
	}
	r.Attributes = attrs
	var fc easyproto.FieldContext
	for src := msg; len(src) > 0; {
		src, _ = fc.NextField(src) // read without error by countFields
		switch fc.FieldNum {
		case 1:
			r.TimeUnixNano, err = protoTime(&fc, "log_record", "time_unix_nano")
		case 2:
			s, ok := fc.Uint64()
			if !ok {
				return wrongType("log_record", "severity_number")
			}
			r.Severity = severity(int32(s))
		case 3:
			r.SeverityText, err = d.protoString(&fc, "log_record", "severity_text")
		case 5:
			data, ok := fc.MessageData()
			if !ok {
				return wrongType("log_record", "body")
			}
			err = d.protoValue(&r.Body, data, 0)
		case fieldLogAttributes:
			err = d.protoKeyValue(&attrs[0], &fc, 1)
			attrs = attrs[1:]
		case 7:
			r.DroppedAttributesCount, err = protoCount(&fc, "log_record", "dropped_attributes_count")
		case 8:
			f, ok := fc.Fixed32()
			if !ok {
				return wrongType("log_record", "flags")
			}
			r.Flags = f
		case 9:
			err = protoID(r.TraceID[:], &fc, "log_record", "trace_id")
		case 10:
			err = protoID(r.SpanID[:], &fc, "log_record", "span_id")
		case 11:
			r.ObservedTimeUnixNano, err = protoTime(&fc, "log_record", "observed_time_unix_nano")
		case 12:
			r.EventName, err = d.protoString(&fc, "log_record", "event_name")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (*logs) jsonItem(j *jsonDecoder, r *telemetry.LogRecord) {
	if !j.object() {
		return
	}
	for n := 0; ; {
		key, ok := j.member(&n)
		if !ok {
			return
		}
		switch string(key) {
		case "timeUnixNano", "time_unix_nano":
			r.TimeUnixNano = unixNano(j.unsigned(64))
		case "observedTimeUnixNano", "observed_time_unix_nano":
			r.ObservedTimeUnixNano = unixNano(j.unsigned(64))
		case "severityNumber", "severity_number":
			r.Severity = severity(j.enum(severityNumber))
		case "severityText", "severity_text":
			r.SeverityText = j.text()
		case "body":
			j.value(&r.Body, 0)
		case "attributes":
			r.Attributes = j.attrs(r.Attributes, 1)
		case "droppedAttributesCount", "dropped_attributes_count":
			r.DroppedAttributesCount = uint32(j.unsigned(32))
		case "flags":
			r.Flags = uint32(j.unsigned(32))
		case "traceId", "trace_id":
			j.id(r.TraceID[:])
		case "spanId", "span_id":
			j.id(r.SpanID[:])
		case "eventName", "event_name":
			r.EventName = j.text()
		default:
			j.skip()
		}
	}
}

// maxSeverity is FATAL4, the highest OpenTelemetry severity number.
const maxSeverity = 24

// severity maps OTLP's severity number; numbers beyond FATAL4 become unspecified.
func severity(n int32) telemetry.Severity {
	if n < 0 || n > maxSeverity {
		return 0
	}
	return telemetry.Severity(n)
}

// severityLevels are the names of OpenTelemetry's severity ranges, each four numbers wide:
// SEVERITY_NUMBER_INFO is 9, SEVERITY_NUMBER_INFO2 10, up to INFO4.
var severityLevels = [...]string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}

func severityNumber(name string) (int32, bool) {
	name, ok := strings.CutPrefix(name, "SEVERITY_NUMBER_")
	if !ok {
		return 0, false
	}
	if name == "UNSPECIFIED" {
		return 0, true
	}
	for i, level := range severityLevels {
		rest, ok := strings.CutPrefix(name, level)
		if !ok {
			continue
		}
		step := 1
		if rest != "" {
			n, err := strconv.Atoi(rest)
			if err != nil || n < 2 || n > 4 || rest != strconv.Itoa(n) {
				return 0, false
			}
			step = n
		}
		return int32(4*i + step), true
	}
	return 0, false
}
