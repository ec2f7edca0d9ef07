package store

import (
	"errors"
	"time"
)

// LogField is a field every log record has, which log aggregations filter, group and
// aggregate on. Times are in epoch milliseconds (int64), the others are text (string).
type LogField int

const (
	LogTime       LogField = iota + 1 // the record's time
	LogIngestTime                     // when lookout received it (ObservedTimeUnixNano)
	LogStreamName                     // its stream
	// LogMessage is its message, the body as text; conditions may test it, groupings and
	// aggregates may not.
	LogMessage
)

// ErrStructuredBodies is what LogStats answers a condition on LogMessage when a record of
// the groups' range has an array or map body, whose text the store does not hold: such a
// query is to be answered over the records instead.
var ErrStructuredBodies = errors.New("log stats: some messages are structured bodies")

// LogCond is a condition on a record's fields. Op "and" and "or" join Conds, "not" negates
// Conds[0]; the other ops test Field: "=", "!=", "<", "<=", ">", ">=" compare it with
// Values[0] (a float64 for a time, a string compared byte-wise for text), "in" holds when a
// text field equals one of Values (strings), "contains" when it holds Values[0] (a string).
// LogStats returns an error for any other condition.
type LogCond struct {
	Op     string
	Field  LogField
	Values []any
	Conds  []LogCond
}

// LogAggregate is one aggregation: Fn "count" (of records; Field is ignored),
// "count_distinct" (of Field's values), "min" or "max" (of a time field).
type LogAggregate struct {
	Fn    string
	Field LogField
}

// LogGrouping is a grouping key: Field's value, or, when BinMillis > 0, the record's time
// floored to a multiple of BinMillis milliseconds.
type LogGrouping struct {
	Field     LogField
	BinMillis int64
}

// LogStatsQuery aggregates the records of Groups (all groups when empty) in [Start, End)
// (zero: unbounded) that meet Where (nil: every record), in buckets by By.
type LogStatsQuery struct {
	Groups     []string
	Start, End time.Time
	Where      *LogCond
	By         []LogGrouping
	Aggregates []LogAggregate
	// Ordered asks for the buckets ordered by each one's newest record (in LogKey order),
	// newest first; else they come in any order. Ordering costs a good part of the query.
	Ordered bool
}

// LogStatsResult is what LogStats answers.
type LogStatsResult struct {
	Scanned int64 // records of the groups in the time range
	// ScannedBytes is the bytes of their bodies, estimated from the groups' average body
	// (the StoredBytes and Records of their streams), so that no body need be read.
	ScannedBytes int64
	Matched      int64 // those that met Where
	// Buckets holds one bucket for each combination of By's values among the matched
	// records (in the order Ordered asks for); without By, exactly one bucket, even when
	// nothing matched.
	Buckets []LogBucket
}

// LogBucket is one bucket: Key holds By's values (an int64 for a time or bin, else a
// string), Values the aggregates' (an int64 for counts and times; nil when min or max has
// nothing to aggregate).
type LogBucket struct {
	Key    []any
	Values []any
}
