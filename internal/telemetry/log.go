package telemetry

// Severity follows OpenTelemetry's severity numbers (1-24; 0 unspecified).
type Severity uint8

// LogRecord is one log line or structured log event: a CloudWatch Logs event or an OTLP log
// record. Group and Stream file it as CloudWatch Logs does; OTLP records take theirs from
// their resource (see the OTLP receiver).
type LogRecord struct {
	// ID identifies the record within lookout. The ingest pipeline gives it from where the
	// record was logged, so it is the same whenever the record is written again.
	ID                     uint64
	TimeUnixNano           int64
	ObservedTimeUnixNano   int64 // when lookout (or a collector before it) received it
	Severity               Severity
	SeverityText           string
	EventName              string
	Body                   Value
	Attributes             Attributes
	DroppedAttributesCount uint32
	TraceID                TraceID // zero when not correlated with a trace
	SpanID                 SpanID
	Flags                  uint32
	Resource               *Resource // shared; never nil once decoded
	Scope                  *Scope    // shared; may be nil
	Group, Stream          string
	Ingest                 IngestInfo
}

// Validate reports why a log record cannot be stored, or nil.
func (r *LogRecord) Validate() error {
	switch {
	case r.TimeUnixNano <= 0 && r.ObservedTimeUnixNano <= 0:
		return errInvalid("timestamp is missing")
	case r.Resource == nil:
		return errInvalid("resource is missing")
	case r.Group == "":
		return errInvalid("log group is missing")
	}
	err := validateDepth(r.Body, 0) // a body is at depth 0, an attribute value at 1
	if err == nil {
		err = validateAttrDepth(r.Attributes)
	}
	if err == nil {
		err = validateAttrDepth(r.Resource.Attributes)
	}
	if err == nil && r.Scope != nil {
		err = validateAttrDepth(r.Scope.Attributes)
	}
	return err
}
