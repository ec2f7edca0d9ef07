package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	duckdbdriver "github.com/duckdb/duckdb-go/v2"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// storageLines are n log lines of one stream, a millisecond apart, each unlike the others,
// each naming a trace, which keeps it a row of the logs table rather than a line of a block.
func storageLines(n int) []telemetry.LogRecord {
	res := &telemetry.Resource{Attributes: telemetry.Attributes{{Key: telemetry.ServiceNameKey, Value: telemetry.StringValue("g")}}}
	start := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC).UnixNano()
	logs := make([]telemetry.LogRecord, n)
	for i := range logs {
		logs[i] = telemetry.LogRecord{ID: uint64(9)<<24 | uint64(i), TimeUnixNano: start + int64(i)*1e6, ObservedTimeUnixNano: start + int64(n)*1e6,
			Body:     telemetry.StringValue(fmt.Sprintf("172.18.0.%d GET /api/activities/home?page=%d 200 OK bytes=%d req=%x", i%250, i%13, 200+i%9000, i*2654435761)),
			Resource: res, Group: "g", Stream: "s", Ingest: telemetry.IngestInfo{Protocol: "cloudwatch"},
			TraceID: telemetry.TraceIDFromParts(9, uint64(i)+1)}
	}
	return logs
}

// storedLines is how many lines bodyCompression writes. DuckDB's compression analysis looks at
// a random sample of a column: over 5,000 lines it kept the bodies of an earlier file
// uncompressed in 3 runs of 80; over 20,000, in none of 120.
const storedLines = 20_000

// bodyCompression writes lines to s, checkpoints, and returns how DuckDB compressed the
// bodies (its names for the methods of their segments).
func bodyCompression(t *testing.T, s *Store) map[string]bool {
	t.Helper()
	ctx := context.Background()
	if err := s.WriteLogs(ctx, storageLines(storedLines)); err != nil {
		t.Fatal(err)
	}
	if err := s.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := s.db.QueryContext(ctx, "SELECT DISTINCT compression FROM pragma_storage_info('logs') WHERE column_name = 'body' AND segment_type = 'VARCHAR'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	methods := map[string]bool{}
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			t.Fatal(err)
		}
		methods[m] = true
	}
	return methods
}

func TestNewFileCompressesBodiesWithZSTD(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(context.Background(), Config{Dir: dir, MemoryLimit: "128MB", Threads: 1, Writers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := bodyCompression(t, s); !got["ZSTD"] || len(got) != 1 {
		t.Errorf("bodies compressed with %v, want ZSTD", got)
	}
}

// An earlier lookout made its file in DuckDB's default storage version, where the logs table
// cannot have ZSTD, and without the logs table's defaults, or the table itself: such a file
// opens, takes lines, keeps them compressed, and opens again with all of them.
func TestEarlierFileOpens(t *testing.T) {
	earlierLogs := strings.ReplaceAll(sqlFile("schema")[slices.IndexFunc(sqlFile("schema"), func(stmt string) bool {
		return strings.Contains(stmt, "CREATE TABLE IF NOT EXISTS logs")
	})], " USING COMPRESSION zstd", "")
	for name, tables := range map[string][]string{
		"without logs": {"CREATE TABLE settings (kind VARCHAR, name VARCHAR, value VARCHAR, PRIMARY KEY (kind, name))"},
		"with logs":    {earlierLogs},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			connector, err := duckdbdriver.NewConnector("", nil)
			if err != nil {
				t.Fatal(err)
			}
			db := sql.OpenDB(connector)
			db.SetMaxOpenConns(1)
			for _, stmt := range append(append([]string{"ATTACH " + sqlString(filepath.Join(dir, "lookout.duckdb")) + " AS earlier", "USE earlier"}, tables...), "USE memory", "DETACH earlier") {
				if _, err := db.Exec(stmt); err != nil {
					t.Fatal(stmt, err)
				}
			}
			db.Close()
			cfg := Config{Dir: dir, MemoryLimit: "128MB", Threads: 1, Writers: 1}
			s, err := Open(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := bodyCompression(t, s); len(got) == 0 || got["Uncompressed"] {
				t.Errorf("bodies compressed with %v, want some compression", got)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if s, err = Open(context.Background(), cfg); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			logs, err := s.Logs(context.Background(), store.LogQuery{Group: "g", Limit: 2 * storedLines})
			if err != nil {
				t.Fatal(err)
			}
			want := storageLines(storedLines)
			if len(logs) != len(want) || logs[len(want)-1].Body.AsString() != want[len(want)-1].Body.AsString() {
				t.Fatalf("read %d lines back, want %d", len(logs), len(want))
			}
		})
	}
}

// Plain records are written without the columns they leave empty: they read back as they
// were written, and beside them a record that fills those columns reads back whole too.
func TestPlainLogsReadBack(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{MemoryLimit: "128MB", Threads: 1, Writers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	plain := storageLines(3)
	plain[1].TraceID = telemetry.TraceIDFromParts(1, 2)
	plain[1].SpanID = telemetry.SpanIDFromUint64(3)
	full := storageLines(4)[3:]
	full[0].Severity, full[0].SeverityText, full[0].Flags = 9, "INFO", 1
	full[0].Attributes = telemetry.Attributes{{Key: "k", Value: telemetry.IntValue(7)}}
	if err := s.WriteLogs(ctx, plain); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteLogs(ctx, full); err != nil {
		t.Fatal(err)
	}
	got, err := s.Logs(ctx, store.LogQuery{Group: "g"})
	if err != nil {
		t.Fatal(err)
	}
	want := append(plain, full...)
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i].Resource.Attributes, want[i].Resource.Attributes) {
			t.Errorf("record %d: resource %v, want %v", i, got[i].Resource, want[i].Resource)
		}
		got[i].Resource = want[i].Resource
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// TestCheckpointKeepsQueryThreads checkpoints a store whose queries have three threads: the
// checkpoint has two, and the queries have their three again afterwards.
func TestCheckpointKeepsQueryThreads(t *testing.T) {
	ctx := context.Background()
	cfg := DefaultConfig(t.TempDir())
	cfg.Threads = 3
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.WriteLogs(ctx, storageLines(100)); err != nil {
		t.Fatal(err)
	}
	if err := s.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	var threads int
	if err := s.db.QueryRowContext(ctx, "SELECT current_setting('threads')").Scan(&threads); err != nil {
		t.Fatal(err)
	}
	if threads != 3 {
		t.Errorf("queries have %d threads after a checkpoint, want 3", threads)
	}
}
