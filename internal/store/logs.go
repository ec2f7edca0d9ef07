package store

import (
	"context"
	"errors"
	"time"
)

// ErrExists is returned (wrapped) when an item to be created exists already.
var ErrExists = errors.New("already exists")

// LogKey is where a log record sits in the order every log read uses: by time, then by ID,
// which the ingest pipeline gives in the order records arrived. Records of the same
// millisecond therefore come back in the order they were sent.
type LogKey struct {
	TimeUnixNano int64
	ID           uint64
}

// LogCatalogue keeps the log groups and streams that file log records, as CloudWatch Logs
// does. A group or stream exists once it is created or once a record names it (records
// sent over OTLP create theirs). Changes are durable when a method returns. Names are
// compared exactly (case-sensitive). Methods are safe for concurrent use.
type LogCatalogue interface {
	// CreateLogGroup creates a group with tags (nil for none), or returns ErrExists.
	CreateLogGroup(ctx context.Context, name string, tags map[string]string) error
	// DeleteLogGroup removes a group, its streams and their records, or returns ErrNotFound.
	DeleteLogGroup(ctx context.Context, name string) error
	// LogGroups lists groups sorted by name (byte order).
	LogGroups(ctx context.Context, q LogGroupQuery) ([]LogGroup, error)
	// SetLogRetention keeps a group's records for days (0: forever), or returns ErrNotFound.
	// Records already older are removed at once.
	SetLogRetention(ctx context.Context, group string, days int) error
	// TagLogGroup sets and then removes tags of a group, or returns ErrNotFound.
	TagLogGroup(ctx context.Context, group string, set map[string]string, remove []string) error
	// CreateLogStream creates a stream in a group; ErrNotFound when the group does not
	// exist, ErrExists when the stream does.
	CreateLogStream(ctx context.Context, group, stream string) error
	// DeleteLogStream removes a stream and its records, or returns ErrNotFound.
	DeleteLogStream(ctx context.Context, group, stream string) error
	// LogStreams lists a group's streams, or returns ErrNotFound for an unknown group.
	LogStreams(ctx context.Context, q LogStreamQuery) ([]LogStream, error)
	// NoteMissingStream records that a write to a stream was refused because the stream
	// did not exist, so that people can see why a group holds nothing yet. Groups that do
	// not exist are ignored.
	NoteMissingStream(ctx context.Context, group, stream string, at time.Time) error
	// ExpireLogs removes the records older than their group's retention at now and
	// reports how many went.
	ExpireLogs(ctx context.Context, now time.Time) (int64, error)
}

// LogGroup is a log group and what it holds.
type LogGroup struct {
	Name          string
	Created       time.Time
	RetentionDays int // 0: records never expire
	Tags          map[string]string
	Streams       int
	Records       int64
	StoredBytes   int64     // the UTF-8 bytes of its records' messages
	LastEvent     time.Time // the newest record's time; zero when it has none
	// MissingStream is the stream named by the latest write refused because the stream did
	// not exist, and MissingAt when that was; empty when none was refused.
	MissingStream string
	MissingAt     time.Time
}

// LogGroupQuery selects log groups. Empty fields match everything.
type LogGroupQuery struct {
	Prefix   string   // names starting with this
	Contains string   // names containing this
	Names    []string // exactly these names
	Offset   int      // skip this many (paging)
	Limit    int      // at most this many; 0 means no limit
}

// LogStream is a log stream and what it holds.
type LogStream struct {
	Group, Name   string
	Created       time.Time
	FirstEvent    time.Time // zero when it has no records
	LastEvent     time.Time
	LastIngestion time.Time
	Records       int64
	StoredBytes   int64
}

// LogStreamQuery selects the streams of a group.
type LogStreamQuery struct {
	Group       string
	Name        string // exactly this name; empty matches every stream
	Prefix      string // names starting with this; empty matches every stream
	ByLastEvent bool   // order by the last record's time (streams without records first), else by name
	Descending  bool
	Offset      int // skip this many (paging)
	Limit       int // at most this many; 0 means no limit
}
