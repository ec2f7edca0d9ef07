package telemetry

import (
	"encoding/binary"
	"time"
)

// SpanKind follows OpenTelemetry's numbering, so OTLP values map one to one.
type SpanKind uint8

const (
	SpanKindUnspecified SpanKind = iota
	SpanKindInternal
	SpanKindServer
	SpanKindClient
	SpanKindProducer
	SpanKindConsumer
)

var spanKindNames = [...]string{"unspecified", "internal", "server", "client", "producer", "consumer"}

// String returns the lowercase name Jaeger and Honeycomb show ("server", "client", ...).
func (k SpanKind) String() string {
	if int(k) < len(spanKindNames) {
		return spanKindNames[k]
	}
	return "unspecified"
}

// StatusCode follows OpenTelemetry: unset, ok, error.
type StatusCode uint8

const (
	StatusUnset StatusCode = iota
	StatusOK
	StatusError
)

var statusNames = [...]string{"unset", "ok", "error"}

func (c StatusCode) String() string {
	if int(c) < len(statusNames) {
		return statusNames[c]
	}
	return "unset"
}

// Status is a span's outcome.
type Status struct {
	Code    StatusCode
	Message string
}

// Resource describes the entity that produced telemetry: a service instance, a host, a
// function. Spans of one export batch share one *Resource.
type Resource struct {
	Attributes             Attributes
	DroppedAttributesCount uint32
}

// ResourceSet hands out one *Resource for resources alike, the first it was given: a batch
// gathered from many documents, each decoded with a resource of its own, then holds, logs and
// stores each resource once, as an export batch's spans share theirs. Resources with array or
// map values are handed back as they are. The zero value is empty and ready.
type ResourceSet struct {
	seen map[string]*Resource
	key  []byte
}

// Share returns the resource of the set alike r, adding r when there is none.
func (s *ResourceSet) Share(r *Resource) *Resource {
	var ok bool
	if s.key, ok = appendResourceKey(s.key[:0], r); !ok {
		return r
	}
	if first, seen := s.seen[string(s.key)]; seen {
		return first
	}
	if s.seen == nil {
		s.seen = map[string]*Resource{}
	}
	s.seen[string(s.key)] = r
	return r
}

// appendResourceKey appends what tells r from other resources; ok is false for a nil
// resource or one with an array or map value.
func appendResourceKey(dst []byte, r *Resource) (_ []byte, ok bool) {
	if r == nil {
		return dst, false
	}
	dst = binary.AppendUvarint(dst, uint64(r.DroppedAttributesCount))
	for _, kv := range r.Attributes {
		if kv.Value.nested != nil {
			return dst, false
		}
		dst = binary.AppendUvarint(dst, uint64(len(kv.Key)))
		dst = append(dst, kv.Key...)
		dst = append(dst, byte(kv.Value.kind))
		dst = binary.AppendUvarint(dst, kv.Value.num)
		dst = binary.AppendUvarint(dst, uint64(len(kv.Value.str)))
		dst = append(dst, kv.Value.str...)
	}
	return dst, true
}

// ServiceNameKey is the resource attribute that names a service.
const ServiceNameKey = "service.name"

// UnknownService is what OpenTelemetry SDKs report when no service name was configured.
const UnknownService = "unknown_service"

// ServiceName returns the resource's service.name, or UnknownService when it has none.
func (r *Resource) ServiceName() string {
	if r != nil {
		if v, ok := r.Attributes.Get(ServiceNameKey); ok && v.Kind() == KindString && v.Str() != "" {
			return v.Str()
		}
	}
	return UnknownService
}

// Scope is the instrumentation library that made a span or log record.
type Scope struct {
	Name                   string
	Version                string
	Attributes             Attributes
	DroppedAttributesCount uint32
}

// Event is a timestamped annotation on a span, such as an exception.
type Event struct {
	TimeUnixNano           int64
	Name                   string
	Attributes             Attributes
	DroppedAttributesCount uint32
}

// Link points from a span to a span of the same or another trace.
type Link struct {
	TraceID                TraceID
	SpanID                 SpanID
	TraceState             string
	Flags                  uint32
	Attributes             Attributes
	DroppedAttributesCount uint32
}

// Span is one timed operation of a trace. It is the unit every tracing wire format decodes
// into: OpenTelemetry spans map field for field; X-Ray segments and subsegments put their
// annotations and metadata in Attributes and their error, fault and throttle flags in Status
// and Attributes; Honeycomb events carry their fields in Attributes and their SampleRate.
type Span struct {
	TraceID      TraceID
	SpanID       SpanID
	ParentSpanID SpanID // zero for a root span
	TraceState   string
	Flags        uint32

	Name          string
	Kind          SpanKind
	StartUnixNano int64
	EndUnixNano   int64
	// InProgress marks a span whose end is not known yet (an X-Ray in-progress segment);
	// EndUnixNano then holds the latest time it was seen.
	InProgress bool

	Attributes             Attributes
	DroppedAttributesCount uint32
	Events                 []Event
	DroppedEventsCount     uint32
	Links                  []Link
	DroppedLinksCount      uint32
	Status                 Status

	Resource *Resource // shared; never nil once decoded
	Scope    *Scope    // shared; may be nil

	// SampleRate is how many spans this one stands for (1 in N sampling); 0 means 1.
	SampleRate uint32
	// Ingest records how the span arrived, for routing and auditing.
	Ingest IngestInfo
}

// IngestInfo is what lookout knows of a span's delivery, apart from its content.
type IngestInfo struct {
	// Protocol is the wire format it arrived in: "otlp", "xray", "honeycomb".
	Protocol string
	// Dataset is the Honeycomb dataset named by the sender (x-honeycomb-dataset), if any.
	Dataset string
	// KeyID identifies the API key the sender used (x-honeycomb-team) without keeping the key.
	KeyID string
}

// Service returns the name of the service that produced the span.
func (s *Span) Service() string { return s.Resource.ServiceName() }

// Start returns the span's start time.
func (s *Span) Start() time.Time { return time.Unix(0, s.StartUnixNano) }

// Duration returns how long the span took; never negative.
func (s *Span) Duration() time.Duration {
	if s.EndUnixNano < s.StartUnixNano {
		return 0
	}
	return time.Duration(s.EndUnixNano - s.StartUnixNano)
}

// Validate reports why a span cannot be stored, or nil. Receivers reject invalid spans alone
// and keep the rest of their batch.
func (s *Span) Validate() error {
	switch {
	case s.TraceID.IsZero():
		return errInvalid("trace id is all zero")
	case s.SpanID.IsZero():
		return errInvalid("span id is all zero")
	case s.StartUnixNano <= 0:
		return errInvalid("start time is missing")
	case s.Resource == nil:
		return errInvalid("resource is missing")
	}
	return s.validateDepth()
}

// validateDepth checks every attribute value the span holds or shares against MaxValueDepth.
func (s *Span) validateDepth() error {
	err := validateAttrDepth(s.Attributes)
	if err == nil {
		err = validateAttrDepth(s.Resource.Attributes)
	}
	if err == nil && s.Scope != nil {
		err = validateAttrDepth(s.Scope.Attributes)
	}
	for i := 0; err == nil && i < len(s.Events); i++ {
		err = validateAttrDepth(s.Events[i].Attributes)
	}
	for i := 0; err == nil && i < len(s.Links); i++ {
		err = validateAttrDepth(s.Links[i].Attributes)
	}
	return err
}

// InvalidError explains why an item was rejected.
type InvalidError struct{ Reason string }

func (e *InvalidError) Error() string { return "invalid: " + e.Reason }

func errInvalid(reason string) error { return &InvalidError{Reason: reason} }
