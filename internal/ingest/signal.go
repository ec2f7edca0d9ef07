package ingest

import (
	"context"

	"lookout/internal/ingest/wal"
	"lookout/internal/telemetry"
)

// Signal describes one kind of item the pipeline carries: how its items are fitted to the
// limits, written to the ingest log and read back. Adding a signal is a model type, a Signal
// value and a store writer; the pipeline itself does not change.
type Signal[T any] struct {
	// Name labels the signal in metrics and logs: "spans", "logs".
	Name string
	// Record is the type of the ingest log's records that hold this signal.
	Record RecordType
	// Fit cuts an item to the limits and returns about how much memory it holds.
	Fit func(item *T, l telemetry.Limits) int
	// Encode returns the ingest log record of a batch; Decode reads one back.
	Encode func(items []T) []byte
	Decode func(record []byte) ([]T, error)
	// Stamp, if set, gives each item of a logged batch what it takes from the batch's
	// position in the ingest log; it is called again with the same position on replay.
	Stamp func(items []T, pos wal.Position)
}

// Spans is the signal of trace spans.
var Spans = Signal[telemetry.Span]{
	Name:   "spans",
	Record: RecordSpans,
	Fit:    (*telemetry.Span).FitTo,
	Encode: encodeSpans,
	Decode: decodeSpans,
}

// Logs is the signal of log records.
var Logs = Signal[telemetry.LogRecord]{
	Name:   "logs",
	Record: RecordLogs,
	Fit:    (*telemetry.LogRecord).FitTo,
	Encode: encodeLogs,
	Decode: decodeLogs,
	Stamp:  stampLogs,
}

// Occurrences is the signal of error occurrences. Stores keep them once per project and
// UUID, so they need no stamp.
var Occurrences = Signal[telemetry.Occurrence]{
	Name:   "occurrences",
	Record: RecordOccurrences,
	Fit:    (*telemetry.Occurrence).FitTo,
	Encode: encodeOccurrences,
	Decode: decodeOccurrences,
}

// stampLogs gives each log record an ID from its batch's log position and its index in the
// batch: unique, and the same when the batch is replayed, so stores can skip records they
// already hold. A batch holds far fewer than 2^24 records (requests are bounded in bytes).
func stampLogs(logs []telemetry.LogRecord, pos wal.Position) {
	for i := range logs {
		logs[i].ID = uint64(pos)<<24 | uint64(i)
	}
}

// StoreFunc writes a batch of one signal into the store. It must be idempotent: after a crash
// the pipeline writes again every batch since the last checkpoint.
type StoreFunc[T any] func(ctx context.Context, items []T) error
