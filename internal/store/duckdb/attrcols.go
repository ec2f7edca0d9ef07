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
// promoteAfter spans (counting each batch before writing it). A key set records, per key, whether its value is in a column (which)
// or in the list, so spans written before a key got its column stay readable, and queries
// read a key from its column, from the list only where some key set keeps it there, and from
// resources only where some resource has it.

const (
	attrColumnCount = 48
	promoteAfter    = 64
)

// attrColumnNames is "c0, c1, ..., c47".
var attrColumnNames = func() string {
	names := make([]string, attrColumnCount)
	for i := range names {
		names[i] = fmt.Sprintf("c%d", i)
	}
	return strings.Join(names, ", ")
}()

// expandSQL fills the attribute column markers of the embedded SQL: {{ATTR_COLUMNS}} (the
// column list), {{ATTR_JSON_TYPES}} (their json_transform types) and {{ATTR_JSON_SELECT}}
// (the staged document's fields, as columns).
func expandSQL(text string) string {
	if !strings.Contains(text, "{{") {
		return text
	}
	var types, sel []string
	for i := range attrColumnCount {
		types = append(types, fmt.Sprintf(`"c%d": "VARCHAR"`, i))
		sel = append(sel, fmt.Sprintf("j.c%d AS c%d", i, i))
	}
	return strings.NewReplacer(
		"{{ATTR_COLUMNS}}", attrColumnNames,
		"{{ATTR_JSON_TYPES}}", strings.Join(types, ", "),
		"{{ATTR_JSON_SELECT}}", strings.Join(sel, ",\n        "),
	).Replace(text)
}

// migrateAttrColumns adds attribute columns to a database made before they existed; its key
// sets keep every value in the list.
func migrateAttrColumns(ctx context.Context, db *sql.DB) error {
	stmts := []string{
		"ALTER TABLE keysets ADD COLUMN IF NOT EXISTS slots SMALLINT[]",
		"ALTER TABLE keysets ADD COLUMN IF NOT EXISTS list_keys VARCHAR[]",
		"ALTER TABLE keysets ADD COLUMN IF NOT EXISTS list_kinds UTINYINT[]",
		"UPDATE keysets SET slots = list_transform(keys, lambda k: -1), list_keys = keys, list_kinds = kinds WHERE slots IS NULL",
	}
	for i := range attrColumnCount {
		stmts = append(stmts, fmt.Sprintf("ALTER TABLE spans ADD COLUMN IF NOT EXISTS c%d VARCHAR", i))
	}
	for _, stmt := range stmts {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("add attribute columns: %w", err)
		}
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

func asInt64(v any) int64 {
	switch x := v.(type) {
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return x
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	}
	return -1
}

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

// layout returns where each attribute of a span goes: its column, or -1 for the list.
func (c *catalogue) layout(attrs telemetry.Attributes) []int16 {
	out := make([]int16, len(attrs))
	for i, kv := range attrs {
		out[i] = -1
		if s, ok := c.attrs.slots[kv.Key]; ok {
			out[i] = int16(s.slot)
		}
	}
	return out
}

// attrSnapshot returns a copy of what queries need to know of attribute columns.
func (s *Store) attrSnapshot() attrMeta {
	s.cat.mu.Lock()
	defer s.cat.mu.Unlock()
	return s.cat.attrs.clone()
}
