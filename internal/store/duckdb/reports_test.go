package duckdb

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// TestReportsReadBack checks that reports and their grouping explanations come back as
// sent, whether stored compressed or, as a file made before compression holds them, in the
// data and grouping columns; and that such a file gets the report column when opened.
func TestReportsReadBack(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, Config{Dir: dir, MemoryLimit: "128MB", Threads: 2, Writers: 1})
	if err != nil {
		t.Fatal(err)
	}
	frames := strings.Repeat(`{"filename":"/srv/app/orders.py","lineno":12,"method":"find"},`, 40)
	data := func(i int) string {
		return fmt.Sprintf(`{"body":{"trace":{"frames":[%s{"filename":"x.py"}],"exception":{"class":"E%d"}}},"note":"héllo"}`, frames, i)
	}
	grouping := func(i int) string { return fmt.Sprintf("Exception classes E%d; the project's own frames: ✓", i) }
	occ := func(i int) telemetry.Occurrence {
		return telemetry.Occurrence{UUID: fmt.Sprintf("u%d", i), Project: "p", Environment: "e", Level: "error", Fingerprint: "f",
			Grouping: grouping(i), Title: "t", TimeUnixNano: int64(i+1) * 1e9, ReceivedUnixNano: int64(i+1) * 1e9, Data: data(i)}
	}
	if err := s.WriteOccurrences(ctx, []telemetry.Occurrence{occ(0), occ(1)}); err != nil {
		t.Fatal(err)
	}
	var stored, sent int
	if err := s.db.QueryRowContext(ctx, "SELECT sum(octet_length(report)), sum(length(data) + length(grouping)) FROM error_occurrences").Scan(&stored, &sent); err != nil {
		t.Fatal(err)
	}
	if want := len(data(0)) + len(data(1)); sent != 0 || stored*3 > want {
		t.Errorf("reports take %d bytes compressed and %d in data and grouping; sent %d", stored, sent, want)
	}
	// The first occurrence as an earlier lookout stored it, in a file without the column.
	if _, err := s.db.ExecContext(ctx, "UPDATE error_occurrences SET data = ?, grouping = ?, report = NULL WHERE uuid = 'u0'", data(0), grouping(0)); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		occs, err := s.Occurrences(ctx, store.OccurrenceQuery{Project: "p"})
		if err != nil || len(occs) != 2 {
			t.Fatalf("%s: %d occurrences (%v)", when, len(occs), err)
		}
		for _, o := range occs {
			i := int(o.TimeUnixNano/1e9) - 1
			if o.Data != data(i) || o.Grouping != grouping(i) {
				t.Errorf("%s: %s reads back as %.80q… grouped by %q", when, o.UUID, o.Data, o.Grouping)
			}
		}
	}
	check("written")
	s.Close()
	if s, err = Open(ctx, Config{Dir: dir, MemoryLimit: "128MB", Threads: 2, Writers: 1}); err != nil {
		t.Fatal(err)
	}
	check("reopened")
	if _, err := s.db.ExecContext(ctx, "UPDATE error_occurrences SET data = ?, grouping = ? WHERE uuid = 'u1'", data(1), grouping(1)); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{"DROP INDEX error_occurrences_item", "ALTER TABLE error_occurrences DROP COLUMN report"} {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if s, err = Open(ctx, Config{Dir: dir, MemoryLimit: "128MB", Threads: 2, Writers: 1}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check("opened without the column")
	if err := s.WriteOccurrences(ctx, []telemetry.Occurrence{occ(2)}); err != nil {
		t.Fatal(err)
	}
	occs, err := s.Occurrences(ctx, store.OccurrenceQuery{Project: "p", UUID: "u2"})
	if err != nil || len(occs) != 1 || occs[0].Data != data(2) || occs[0].Grouping != grouping(2) {
		t.Fatalf("written after the column was added: %d occurrences (%v)", len(occs), err)
	}
}

// FuzzReport checks that what compressReport packs unpacks as it was, and that damaged
// bytes give an error rather than a panic.
func FuzzReport(f *testing.F) {
	f.Add("Exception classes E", `{"body":{}}`, []byte{})
	f.Add("", "", []byte{0xff, 0x01})
	f.Fuzz(func(t *testing.T, grouping, data string, damaged []byte) {
		g, d, err := decompressReport(compressReport(grouping, data))
		if err != nil || g != grouping || d != data {
			t.Fatalf("%q %q gives %q %q (%v)", grouping, data, g, d, err)
		}
		decompressReport(damaged)
	})
}
