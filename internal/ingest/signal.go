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
	// Record is the type of the ingest log's records that hold this signal; Earlier, if not
	// 0, the type of those an earlier version wrote, which Decode reads too.
	Record, Earlier RecordType
	// Fit cuts an item to the limits and returns about how much memory it holds.
	Fit func(item *T, l telemetry.Limits) int
	// Encode returns the ingest log record of a batch; Decode reads one back.
	Encode func(items []T) []byte
	Decode func(record []byte) ([]T, error)
	// Number, if set, gives the items of a batch the ids first, first+1, … as its record
	// is logged, and writes them into the record, for Decode to read back. The pipeline
	// hands out ids in the order of the log, never twice (numbering.go).
	Number func(items []T, record []byte, first uint64)
	// Stamp, if set, gives each item of a record of the Earlier type its id from the
	// record's position in the ingest log.
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
	Name:    "logs",
	Record:  RecordNumbered,
	Earlier: RecordLogs,
	Fit:     (*telemetry.LogRecord).FitTo,
	Encode:  encodeLogs,
	Decode:  decodeLogs,
	Number:  numberLogs,
	Stamp:   stampLogs,
}

// Occurrences is the signal of error occurrences. Stores keep them once per project and
// UUID, so they need no stamp.
var Occurrences = Signal[telemetry.Occurrence]{
	Name:    "occurrences",
	Record:  RecordOccurrencesS2,
	Earlier: RecordOccurrences,
	Fit:     (*telemetry.Occurrence).FitTo,
	Encode:  encodeOccurrences,
	Decode:  decodeOccurrences,
}

// stampLogs numbers the log records of an earlier version's record as that version did, by
// the record's log position and their index in it, so that stores recognise the records
// they already hold. A record holds far fewer than 2^positionShift items.
func stampLogs(logs []telemetry.LogRecord, pos wal.Position) {
	for i := range logs {
		logs[i].ID = uint64(pos)<<positionShift | uint64(i)
	}
}

// StoreFunc writes a batch of one signal into the store. It must be idempotent: after a crash
// the pipeline writes again every batch since the last checkpoint.
type StoreFunc[T any] func(ctx context.Context, items []T) error
