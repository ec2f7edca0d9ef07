// Package store is the storage contract shared by ingest (which writes) and the query APIs
// (which read). Backends live in subpackages; storetest holds the conformance suite every
// backend must pass.
package store

import (
	"context"
	"errors"
	"time"

	"lookout/internal/query"
	"lookout/internal/telemetry"
)

// ErrNotFound is returned (wrapped) when a looked-up item does not exist.
var ErrNotFound = errors.New("not found")

// ErrUnsupported is returned (wrapped) for a query a backend cannot answer exactly. Backends
// refuse rather than approximate.
var ErrUnsupported = errors.ErrUnsupported

// Backend is a storage backend: DuckDB embedded, ClickHouse for scale-out. A backend offers
// capabilities, each an interface of this package (SpanWriter, TraceReader, QueryRunner,
// DatasetReader, Retainer, LogWriter, LogReader), which callers find with a type assertion.
// A backend may be brought up capability by capability: the conformance suite (storetest)
// tests each capability a backend has, and a backend declares the ones it lacks.
type Backend interface {
	Checkpointer
	// Close releases everything. Data written before the last Checkpoint is durable; the
	// ingest log holds the rest.
	Close() error
}

// Capability names a capability, for the conformance suite and for people.
type Capability string

const (
	SpanWriting    Capability = "span writing"    // SpanWriter
	TraceReading   Capability = "trace reading"   // TraceReader
	EventQueries   Capability = "event queries"   // QueryRunner
	DatasetListing Capability = "dataset listing" // DatasetReader
	Retention      Capability = "retention"       // Retainer
	LogWriting     Capability = "log writing"     // LogWriter
	LogReading     Capability = "log reading"     // LogReader
)

// Capabilities lists every capability, in the order the conformance suite tests them.
var Capabilities = []Capability{SpanWriting, TraceReading, EventQueries, DatasetListing, Retention, LogWriting, LogReading}

// Has reports whether b offers capability c.
func Has(b Backend, c Capability) bool {
	var ok bool
	switch c {
	case SpanWriting:
		_, ok = b.(SpanWriter)
	case TraceReading:
		_, ok = b.(TraceReader)
	case EventQueries:
		_, ok = b.(QueryRunner)
	case DatasetListing:
		_, ok = b.(DatasetReader)
	case Retention:
		_, ok = b.(Retainer)
	case LogWriting:
		_, ok = b.(LogWriter)
	case LogReading:
		_, ok = b.(LogReader)
	}
	return ok
}

// SpanWriter stores spans.
//
// WriteSpans returns nil once every span in the batch is stored and visible to reads. It is
// durable (it survives a kill -9 of the process and a restart) once a Checkpoint that began
// after it returned has returned; until then a crash may lose it, so the caller keeps every
// batch since the last checkpoint and writes them again after a crash (the ingest log does).
// Writing a batch again is always safe: WriteSpans is idempotent on (TraceID, SpanID), so a
// span already stored, whether from an earlier batch or earlier in the same one, is skipped,
// and retried deliveries count once. On error, part of the batch may have been stored.
// Spans must have passed telemetry.Span.Validate. The store does not retain the slice.
// WriteSpans is safe for concurrent use, though callers get the best throughput from one
// writer sending large batches, and honours ctx: when it ends, WriteSpans returns soon.
type SpanWriter interface {
	WriteSpans(ctx context.Context, spans []telemetry.Span) error
}

// LogWriter stores log records, under the same rules as SpanWriter: visible on return,
// durable after Checkpoint, idempotent on LogRecord.ID (which the ingest pipeline gives each
// record, the same whenever the record is written again).
type LogWriter interface {
	WriteLogs(ctx context.Context, logs []telemetry.LogRecord) error
}

// LogReader reads log records back.
type LogReader interface {
	// Logs returns the records matching q, ordered by time (then ID), at most q.Limit.
	Logs(ctx context.Context, q LogQuery) ([]telemetry.LogRecord, error)
}

// LogQuery selects log records. Empty fields match everything.
type LogQuery struct {
	Group, Stream string
	TraceID       telemetry.TraceID // zero matches every record
	Start, End    time.Time         // record time within [Start, End); zero means unbounded
	Limit         int               // at most this many; 0 means DefaultLimit
	Descending    bool              // newest first
}

// TraceReader answers trace queries. All methods are safe for concurrent use with each other
// and with writes; a read sees every batch whose WriteSpans returned before the read began.
type TraceReader interface {
	// Trace returns every span of a trace, ordered by start time, or ErrNotFound. It needs no
	// time range.
	Trace(ctx context.Context, id telemetry.TraceID) ([]telemetry.Span, error)
	// FindTraceIDs returns the ids of traces with at least one span matching every condition
	// of q, newest first (by the latest matching span's start), at most q.Limit of them.
	FindTraceIDs(ctx context.Context, q TraceQuery) ([]telemetry.TraceID, error)
	// Services lists the names of services that sent spans, sorted.
	Services(ctx context.Context) ([]string, error)
	// Operations lists the distinct span names and kinds of a service, sorted by name.
	Operations(ctx context.Context, service string) ([]Operation, error)
	// Dependencies counts calls between services (a parent span in one service, its child in
	// another) among spans that started in [start, end).
	Dependencies(ctx context.Context, start, end time.Time) ([]Dependency, error)
	// MissingParents counts, by service, the spans that started in [start, end) whose parent
	// is in no span of their trace that started within lookaround of that window: a parent
	// never sent, or not ended (an X-Ray segment left open), or lost. The most affected
	// services come first, at most 100.
	MissingParents(ctx context.Context, start, end time.Time, lookaround time.Duration) ([]MissingParents, error)
}

// MissingParents are the spans of one service whose parent never arrived.
type MissingParents struct {
	Service string
	Spans   int64
	Example telemetry.TraceID // the trace of the earliest of them
}

// DatasetReader describes Honeycomb datasets: the spans filed under each name
// (telemetry.IngestInfo.Dataset) and the fields their events have.
type DatasetReader interface {
	// Datasets lists the datasets that hold spans, sorted by name.
	Datasets(ctx context.Context) ([]Dataset, error)
	// Columns lists the attribute keys of a dataset's spans and of their resources, sorted,
	// each with the type its values have (the first seen where they differ). An unknown
	// dataset has none.
	Columns(ctx context.Context, dataset string) ([]Column, error)
}

// Dataset is a Honeycomb dataset.
type Dataset struct {
	Name        string
	LastWritten time.Time // start of its latest span
}

// Column is a field of a dataset's events.
type Column struct {
	Name string
	Kind telemetry.ValueKind
}

// QueryRunner answers Honeycomb queries over stored events: every span, and every span event
// and link as an event of its own, with the fields of Honeycomb's OTLP mapping (standard
// span fields, then span attributes, then resource attributes). Datasets restrict the events
// to those filed under these names; nil means every dataset. Backends plan each query with
// query.NewPlan (or SpanPlan, BubbleUpPlan) and only translate the plan: a query naming a
// field no event has is refused with the plan's *query.Error. A query a backend cannot
// answer exactly is refused with an error wrapping ErrUnsupported.
type QueryRunner interface {
	// RunQuery computes a query's calculations over [q.Start, q.End), weighted by sample
	// rates unless q.UsageMode, per group and per q.Granularity bucket.
	RunQuery(ctx context.Context, q *query.Query, datasets []string) (*query.Result, error)
	// BubbleUp compares the spans of sel with the query's other spans, every field.
	BubbleUp(ctx context.Context, q *query.Query, datasets []string, sel query.Selection) (*query.BubbleUp, error)
	// Events returns up to limit of the query's events, slowest first, each as its fields.
	Events(ctx context.Context, q *query.Query, datasets []string, limit int) ([]map[string]any, error)
}

// Retainer enforces retention.
type Retainer interface {
	// DeleteBefore removes telemetry of every signal older than cutoff (spans that started
	// before it, log records from before it) and reports how many items went. Space is
	// reclaimed by the backend in its own time.
	DeleteBefore(ctx context.Context, cutoff time.Time) (int64, error)
}

// Checkpointer lets ingest trim its write-ahead log.
type Checkpointer interface {
	// Checkpoint returns once every batch whose write returned before it began is durable
	// in the backend's own files, so that the ingest log may be trimmed up to there. After a
	// crash the store holds at least what its last completed checkpoint covered. Backends
	// whose writes are final when they return return nil at once.
	Checkpoint(ctx context.Context) error
}

// TraceQuery selects traces by the properties of one of their spans.
type TraceQuery struct {
	Service   string // exact; empty means any
	Operation string // span name, exact; empty means any
	// Attributes must all match the same span, by the text form of the value
	// (telemetry.Value.AsString; arrays and maps do not match). A key matches span attributes first, then resource
	// attributes. The pseudo-keys "error" ("true" for spans with error status),
	// "span.kind" and "otel.status_code" match the span's own fields.
	Attributes  map[string]string
	MinDuration time.Duration // zero means no bound
	MaxDuration time.Duration // zero means no bound
	Start, End  time.Time     // span start within [Start, End]; zero means unbounded
	Limit       int           // at most this many traces; 0 means DefaultLimit
}

// DefaultLimit and MaxLimit bound FindTraceIDs.
const (
	DefaultLimit = 20
	MaxLimit     = 1500
)

// Operation is a distinct span name within a service.
type Operation struct {
	Name     string
	SpanKind telemetry.SpanKind
}

// Dependency is an edge of the service graph.
type Dependency struct {
	Parent, Child string
	CallCount     int64
}
