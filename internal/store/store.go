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
// DatasetReader, Retainer, LogWriter, LogReader, SegmentReader, ...), which callers find with a type assertion.
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
	SpanWriting       Capability = "span writing"       // SpanWriter
	TraceReading      Capability = "trace reading"      // TraceReader
	EventQueries      Capability = "event queries"      // QueryRunner
	DatasetListing    Capability = "dataset listing"    // DatasetReader
	Retention         Capability = "retention"          // Retainer
	LogWriting        Capability = "log writing"        // LogWriter
	LogReading        Capability = "log reading"        // LogReader
	SpanRevising      Capability = "span revising"      // SpanReviser
	Settings          Capability = "settings"           // SettingsStore
	OccurrenceWriting Capability = "occurrence writing" // OccurrenceWriter
	ItemReading       Capability = "item reading"       // ItemReader
	ItemTriage        Capability = "item triage"        // ItemTriager
	LogCataloguing    Capability = "log catalogue"      // LogCatalogue
	SegmentReading    Capability = "segment reading"    // SegmentReader
)

// Capabilities lists every capability, in the order the conformance suite tests them.
var Capabilities = []Capability{SpanWriting, TraceReading, EventQueries, DatasetListing, Retention, LogWriting, LogReading,
	LogCataloguing, SpanRevising, Settings, OccurrenceWriting, ItemReading, ItemTriage, SegmentReading}

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
	case SpanRevising:
		_, ok = b.(SpanReviser)
	case Settings:
		_, ok = b.(SettingsStore)
	case OccurrenceWriting:
		_, ok = b.(OccurrenceWriter)
	case ItemReading:
		_, ok = b.(ItemReader)
	case ItemTriage:
		_, ok = b.(ItemTriager)
	case LogCataloguing:
		_, ok = b.(LogCatalogue)
	case SegmentReading:
		_, ok = b.(SegmentReader)
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

// SpanReviser stores spans that arrive in versions: X-Ray sends a segment in progress and
// then complete, and a subsegment sent on its own may be stored before its service is known
// and again once it is.
//
// ReviseSpans is WriteSpans (visible on return, durable after Checkpoint, idempotent),
// except that a stored span is replaced by a version of it (same TraceID and SpanID) that
// Supersedes it; within one batch the version that supersedes the others is kept. Versions
// that do not supersede the stored one are skipped, whatever their order, so that replaying
// the ingest log ends where the first writes did.
type SpanReviser interface {
	ReviseSpans(ctx context.Context, spans []telemetry.Span) error
}

// Supersedes reports whether span is a more complete version of a stored one that is
// inProgress and belongs to service: no less complete in its end (not in progress where the
// stored one is not) and its service (known where the stored one's is), and more complete in
// one of them.
func Supersedes(span *telemetry.Span, inProgress bool, service string) bool {
	storedKnown, known := service != telemetry.UnknownService, span.Service() != telemetry.UnknownService
	if span.InProgress && !inProgress || storedKnown && !known {
		return false
	}
	return inProgress && !span.InProgress || !storedKnown && known
}

// SettingsStore keeps small named documents that people and clients configure (X-Ray's
// sampling rules and groups), each under a kind and a name. PutSetting and DeleteSetting are
// durable when they return: settings are not in the ingest log.
type SettingsStore interface {
	// Settings returns every document of a kind, by name.
	Settings(ctx context.Context, kind string) (map[string][]byte, error)
	// PutSetting creates or replaces a document.
	PutSetting(ctx context.Context, kind, name string, value []byte) error
	// DeleteSetting removes a document; removing one that does not exist is not an error.
	DeleteSetting(ctx context.Context, kind, name string) error
}

// LogWriter stores log records, under the same rules as SpanWriter: visible on return,
// durable after Checkpoint, idempotent on LogRecord.ID (which the ingest pipeline gives each
// record, the same whenever the record is written again).
type LogWriter interface {
	WriteLogs(ctx context.Context, logs []telemetry.LogRecord) error
}

// LogReader reads log records back.
type LogReader interface {
	// Logs returns the records matching q in LogKey order (newest first when q.Descending),
	// at most q.Limit.
	Logs(ctx context.Context, q LogQuery) ([]telemetry.LogRecord, error)
	// ScanLogs reads the records matching q as Logs orders them, in one pass, and hands
	// them to fn at most batch at a time; q.Limit bounds them, 0 meaning no bound. fn may
	// keep its batch; an error from fn ends the scan and is returned.
	ScanLogs(ctx context.Context, q LogQuery, batch int, fn func([]telemetry.LogRecord) error) error
	// LogStats aggregates records as q says, in one pass over them in the store.
	LogStats(ctx context.Context, q LogStatsQuery) (*LogStatsResult, error)
}

// LogQuery selects log records. Empty fields match everything.
type LogQuery struct {
	Group, Stream string
	Groups        []string          // any of these groups (with Group, that one too)
	Streams       []string          // any of these streams (with Stream, that one too)
	StreamPrefix  string            // streams whose name starts with this
	TraceID       telemetry.TraceID // zero matches every record
	Start, End    time.Time         // record time within [Start, End); zero means unbounded
	// Contains are texts that every record's message (its body as text) holds. A record
	// whose body is not a string may be returned without holding them: callers that need
	// exactness check the records they get.
	Contains   []string
	After      *LogKey // only records after this key in the query's order (paging)
	Limit      int     // at most this many; 0 means DefaultLimit
	Descending bool    // newest first
}

// OccurrenceWriter stores error occurrences and keeps the items they belong to, under the
// rules of SpanWriter: visible on return, durable after Checkpoint, idempotent on
// (Project, UUID), so that an occurrence stored already, or repeated within the batch, is
// skipped and counted once. Each new occurrence is filed under the item of its (Project,
// Environment, Fingerprint): an item is made at its first occurrence, with the next counter
// of its project and that occurrence's title, level and class, and an ItemEvent "new". Its
// total, first and last seen are kept, and its status moves as triage.Arrive says (an
// ItemEvent "reactivated"), the versions of a project ordered by triage.CompareVersions when
// that can, else by when the store first saw them. Occurrences are written in batch order and
// must have passed telemetry.Occurrence.Validate.
type OccurrenceWriter interface {
	WriteOccurrences(ctx context.Context, occs []telemetry.Occurrence) error
}

// ItemReader reads error items, their occurrences and history, deploys and versions. Reads
// see every write that returned before they began. Lookups of one thing return ErrNotFound
// when it does not exist.
type ItemReader interface {
	// Items returns a page of the items matching q, sorted as q says, and how many match.
	Items(ctx context.Context, q ItemQuery) ([]Item, int, error)
	Item(ctx context.Context, id int64) (Item, error)
	ItemByCounter(ctx context.Context, project string, counter int64) (Item, error)
	// Occurrences returns a page of the occurrences matching q, newest first.
	Occurrences(ctx context.Context, q OccurrenceQuery) ([]StoredOccurrence, error)
	Occurrence(ctx context.Context, id int64) (StoredOccurrence, error)
	// OccurrenceCounts counts occurrences per item and per q.Step from q.Start.
	OccurrenceCounts(ctx context.Context, q CountQuery) (map[int64][]int64, error)
	// Breakdown counts an item's occurrences by a field's values, most frequent first, at
	// most limit of them.
	Breakdown(ctx context.Context, item int64, field BreakdownField, limit int) ([]ValueCount, error)
	// ItemEvents is an item's history, oldest first.
	ItemEvents(ctx context.Context, item int64) ([]ItemEvent, error)
	// Deploys returns a page of a project's deploys, newest first.
	Deploys(ctx context.Context, project string, offset, limit int) ([]Deploy, error)
	Deploy(ctx context.Context, project string, id int64) (Deploy, error)
	// Versions lists the code versions of a project's occurrences, newest first, with the
	// items each made new, reactivated and resolved.
	Versions(ctx context.Context, project string) ([]Version, error)
	// Environments lists the environments of a project's items, sorted.
	Environments(ctx context.Context, project string) ([]string, error)
	// Projects lists the projects that have items or deploys, sorted.
	Projects(ctx context.Context) ([]string, error)
}

// ItemTriager changes items and records deploys. Unlike writes of telemetry, which the
// ingest log keeps until a checkpoint, each change is durable when it returns.
type ItemTriager interface {
	// UpdateItem applies what u sets, moving the status as triage.Set says, and records an
	// ItemEvent for each change. Setting a title or level locks it against later occurrences.
	UpdateItem(ctx context.Context, id int64, u ItemUpdate) (Item, error)
	// RecordDeploy stores a deploy, giving it an id.
	RecordDeploy(ctx context.Context, d Deploy) (Deploy, error)
	// UpdateDeploy sets a deploy's status and, when not empty, its comment; a deploy that
	// leaves "started" finishes at.
	UpdateDeploy(ctx context.Context, project string, id int64, status, comment string, at time.Time) (Deploy, error)
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
	// MissingParents counts, by service, the spans that ended in [start, end), having run
	// for at most lookaround, whose parent is in no span of their trace that started within
	// lookaround of them: a parent never sent, or not ended (an X-Ray segment left open), or
	// lost. Spans are sent as they end, so a window that has just passed holds all that
	// arrived in time however long they ran. The most affected services come first, at most 100.
	MissingParents(ctx context.Context, start, end time.Time, lookaround time.Duration) ([]MissingParents, error)
}

// MissingParents are the spans of one service whose parent never arrived.
type MissingParents struct {
	Service     string // unknown for X-Ray subsegments sent on their own: their segment tells it
	Spans       int64
	ExampleName string            // the name of the earliest of them
	Example     telemetry.TraceID // and its trace
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
