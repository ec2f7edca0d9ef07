package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"lookout/internal/telemetry"
)

// Attribute columns. Honeycomb-style queries filter and group by any attribute; reading one
// key out of every span's list of values costs as much as reading all of them. So the keys
// that many spans have get a column each, c0 to c47, given out in the order keys reach
// promoteAfter spans (counting each batch before writing it). A column is added to the table
// when its key is promoted, not before: every column, even an empty one, costs each insert.
// A span without the key has '' in its column rather than NULL: DuckDB groups by a column
// without NULLs twice as fast. (A value that is itself empty stays in the list.) A key set records, per key, whether its value is in a column (which)
// or in the list, so spans written before a key got its column stay readable, and queries
// read a key from its column, from the list only where some key set keeps it there, and from
// resources only where some resource has it.

const (
	attrColumnCount = 48
	promoteAfter    = 64
)

// attrColumnList is ", c0, c1, ..." for the first n attribute columns.
func attrColumnList(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, ", c%d", i)
	}
	return b.String()
}

// withAttrColumns fills the {{ATTR_COLUMNS}} marker of a statement with the first n
// attribute columns.
func withAttrColumns(text string, n int) string {
	return strings.ReplaceAll(text, "{{ATTR_COLUMNS}}", attrColumnList(n))
}

// migrateAttrColumns adds the key sets' layout to a database made before attribute columns
// existed (every value stays in the list) and reports how many attribute columns the spans
// table has.
func migrateAttrColumns(ctx context.Context, db *sql.DB) (int, error) {
	for _, stmt := range []string{
		"ALTER TABLE keysets ADD COLUMN IF NOT EXISTS slots SMALLINT[]",
		"ALTER TABLE keysets ADD COLUMN IF NOT EXISTS list_keys VARCHAR[]",
		"ALTER TABLE keysets ADD COLUMN IF NOT EXISTS list_kinds UTINYINT[]",
		"UPDATE keysets SET slots = list_transform(keys, lambda k: -1), list_keys = keys, list_kinds = kinds WHERE slots IS NULL",
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return 0, fmt.Errorf("add attribute layout: %w", err)
		}
	}
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_columns() WHERE table_name = 'spans' AND regexp_matches(column_name, '^c[0-9]+$')`).Scan(&n)
	return n, err
}

// addAttrColumns adds attribute columns to the spans table until it has n. It runs with
// every writer locked; queries only read a column once its key is in attrSnapshot, which
// happens after.
func (s *Store) addAttrColumns(ctx context.Context, n int) error {
	unlock := s.lockWriters()
	defer unlock()
	s.cat.mu.Lock()
	have := s.cat.columns
	s.cat.mu.Unlock()
	for i := have; i < n; i++ {
		if _, err := s.writers[0].conn.ExecContext(ctx, fmt.Sprintf("ALTER TABLE spans ADD COLUMN IF NOT EXISTS c%d VARCHAR DEFAULT ''", i)); err != nil {
			return fmt.Errorf("add attribute column: %w", err)
		}
		s.cat.mu.Lock()
		s.cat.columns = i + 1
		s.cat.mu.Unlock()
	}
	return nil
}

// attrSlot is the column of a promoted key and the kind of value it first had.
type attrSlot struct {
	slot int
	kind telemetry.ValueKind
}

// attrMeta is what queries need to know of where attribute values are. Writers only ever add
// to it; a query takes a snapshot.
type attrMeta struct {
	slots    map[string]attrSlot // keys with a column
	inList   map[string]bool     // keys some key set keeps in attr_values
	resource map[string]bool     // keys some resource has
}

func newAttrMeta() attrMeta {
	return attrMeta{slots: map[string]attrSlot{}, inList: map[string]bool{}, resource: map[string]bool{}}
}

func (m attrMeta) clone() attrMeta {
	c := newAttrMeta()
	for k, v := range m.slots {
		c.slots[k] = v
	}
	for k := range m.inList {
		c.inList[k] = true
	}
	for k := range m.resource {
		c.resource[k] = true
	}
	return c
}

// loadAttrMeta reads where attribute values are from the stored key sets and resources.
func loadAttrMeta(ctx context.Context, db *sql.DB) (attrMeta, int, error) {
	m := newAttrMeta()
	next := 0
	rows, err := db.QueryContext(ctx, "SELECT keys, kinds, slots FROM keysets")
	if err != nil {
		return m, 0, err
	}
	for rows.Next() {
		var keys, kinds, slots []any
		if err := rows.Scan(&keys, &kinds, &slots); err != nil {
			rows.Close()
			return m, 0, err
		}
		for i, k := range keys {
			key, _ := k.(string)
			slot := int(asInt64(slots[i]))
			if slot < 0 {
				m.inList[key] = true
				continue
			}
			if _, ok := m.slots[key]; !ok {
				m.slots[key] = attrSlot{slot: slot, kind: telemetry.ValueKind(asInt64(kinds[i]))}
			}
			next = max(next, slot+1)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return m, 0, err
	}
	rows, err = db.QueryContext(ctx, "SELECT DISTINCT unnest(attr_keys) FROM resources")
	if err != nil {
		return m, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return m, 0, err
		}
		m.resource[k] = true
	}
	return m, next, rows.Err()
}

// asInt64 reads an integer the driver returned, of any width; -1 when it is none.
func asInt64(v any) int64 {
	if n, ok := plainValue(v).(int64); ok {
		return n
	}
	return -1
}

// slotsUsed is how many attribute columns are given out.
func (c *catalogue) slotsUsed() int { return c.nextSlot }

// promote gives columns to the keys that reach promoteAfter spans, counting those seen
// before and this batch's, while columns remain. Counting the whole batch first keeps a
// frequent key's first spans out of the list, so queries need not look there. The caller
// holds the catalogue's lock.
func (c *catalogue) promote(spans []telemetry.Span) {
	if c.nextSlot >= attrColumnCount {
		return
	}
	for i := range spans {
		for _, kv := range spans[i].Attributes {
			if _, ok := c.attrs.slots[kv.Key]; ok || c.nextSlot >= attrColumnCount {
				continue
			}
			c.seen[kv.Key]++
			if c.seen[kv.Key] >= promoteAfter {
				c.attrs.slots[kv.Key] = attrSlot{slot: c.nextSlot, kind: kv.Value.Kind()}
				c.nextSlot++
				delete(c.seen, kv.Key)
			}
		}
	}
	if len(c.seen) > 100_000 {
		clear(c.seen) // a flood of distinct keys: start counting again
	}
}

// layout returns where each attribute of a span goes: its column, or -1 for the list (keys
// without a column, and empty values, which a column could not tell from absence).
func (c *catalogue) layout(attrs telemetry.Attributes) []int16 {
	out := make([]int16, len(attrs))
	for i, kv := range attrs {
		out[i] = -1
		if s, ok := c.attrs.slots[kv.Key]; ok && !encodesEmpty(kv.Value) {
			out[i] = int16(s.slot)
		}
	}
	return out
}

// encodesEmpty reports whether a value's stored text is empty.
func encodesEmpty(v telemetry.Value) bool {
	switch v.Kind() {
	case telemetry.KindString, telemetry.KindBytes:
		return v.Str() == ""
	case telemetry.KindEmpty:
		return true
	}
	return false
}

// attrSnapshot returns a copy of what queries need to know of attribute columns: the keys
// whose column exists.
func (s *Store) attrSnapshot() attrMeta {
	s.cat.mu.Lock()
	defer s.cat.mu.Unlock()
	m := s.cat.attrs.clone()
	for k, a := range m.slots {
		if a.slot >= s.cat.columns {
			delete(m.slots, k)
		}
	}
	return m
}

// sampled reports whether some span has a sample rate above 1, so that percentiles must be
// weighted.
func (s *Store) sampled() bool {
	s.cat.mu.Lock()
	defer s.cat.mu.Unlock()
	return s.cat.sampled
}

// attrColumns is how many attribute columns the spans table has.
func (s *Store) attrColumns() int {
	s.cat.mu.Lock()
	defer s.cat.mu.Unlock()
	return s.cat.columns
}
