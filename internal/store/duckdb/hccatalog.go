package duckdb

import (
	"context"
	"fmt"

	"lookout/internal/query"
	"lookout/internal/telemetry"
)

// catalog answers a plan's questions about attribute names (query.Catalog): from the
// attribute catalogue in memory where it can, else from the key sets, resources and
// annotations tables.
type catalog struct {
	s        *Store
	meta     *attrMeta
	datasets []string
}

func (s *Store) catalog(meta *attrMeta, datasets []string) catalog {
	return catalog{s: s, meta: meta, datasets: datasets}
}

func (c catalog) SpanAttribute(name string) bool { return c.meta.known(name) }

func (c catalog) MapAttribute(ctx context.Context, name string) (bool, error) {
	if s, ok := c.meta.slots[name]; ok && s.kind == telemetry.KindMap {
		return true, nil
	}
	return c.exists(ctx, "map_attribute", name, int(telemetry.KindMap))
}

func (c catalog) AnnotationAttribute(ctx context.Context, name string) (bool, error) {
	return c.exists(ctx, "annotation_attribute", name)
}

// exists runs a statement that answers yes or no.
func (c catalog) exists(ctx context.Context, file string, args ...any) (bool, error) {
	var ok bool
	for i := range args {
		args[i] = bindable(args[i])
	}
	if err := c.s.db.QueryRowContext(ctx, sqlFile(file)[0], args...).Scan(&ok); err != nil {
		return false, fmt.Errorf("%s: %w", file, err)
	}
	return ok, nil
}

// Names lists the attribute keys of the datasets' spans and resources (every dataset's when
// none are named).
func (c catalog) Names(ctx context.Context) ([]string, error) {
	if c.datasets == nil {
		return c.meta.names(), nil
	}
	var names []string
	for _, d := range c.datasets {
		cols, err := c.s.Columns(ctx, validText(d))
		if err != nil {
			return nil, err
		}
		for _, col := range cols {
			names = append(names, col.Name)
		}
	}
	return names, nil
}

var _ query.Catalog = catalog{}

// known reports whether some span or resource has the key.
func (m *attrMeta) known(key string) bool {
	_, slot := m.slots[key]
	return slot || m.inList[key] || m.resource[key]
}

// names lists the keys of spans and resources.
func (m *attrMeta) names() []string {
	var out []string
	for k := range m.slots {
		out = append(out, k)
	}
	for _, keys := range []map[string]bool{m.inList, m.resource} {
		for k := range keys {
			out = append(out, k)
		}
	}
	return out
}

// columnKind is the kind of every value of a span attribute read from its column alone.
func (m *attrMeta) columnKind(key string) (telemetry.ValueKind, bool) {
	s, ok := m.slots[key]
	return s.kind, ok && !m.inList[key] && !m.resource[key]
}
