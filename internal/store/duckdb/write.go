package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"sync"

	duckdbdriver "github.com/duckdb/duckdb-go/v2"

	"lookout/internal/telemetry"
)

// writer owns the one connection all writes go through, and what it remembers of the
// catalogue so that known resources and operations are not written again.
type writer struct {
	mu         sync.Mutex
	conn       *sql.Conn
	resources  map[uint64]int64 // content hash -> id
	nextResID  int64
	operations map[operationKey]bool
}

type operationKey struct {
	service, name string
	kind          telemetry.SpanKind
}

func newWriter(ctx context.Context, db *sql.DB) (*writer, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	w := &writer{conn: conn, resources: map[uint64]int64{}, operations: map[operationKey]bool{}, nextResID: 1}
	for _, stmt := range query("staging") {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			conn.Close()
			return nil, fmt.Errorf("create staging table: %w", err)
		}
	}
	if err := w.loadCatalogue(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return w, nil
}

func (w *writer) loadCatalogue(ctx context.Context) error {
	rows, err := w.conn.QueryContext(ctx, "SELECT hash, id FROM resources")
	if err != nil {
		return err
	}
	for rows.Next() {
		var hash, id int64
		if err := rows.Scan(&hash, &id); err != nil {
			rows.Close()
			return err
		}
		w.resources[uint64(hash)] = id
		w.nextResID = max(w.nextResID, id+1)
	}
	rows.Close()
	return w.loadOperations(ctx)
}

func (w *writer) loadOperations(ctx context.Context) error {
	clear(w.operations)
	rows, err := w.conn.QueryContext(ctx, "SELECT service, name, kind FROM operations")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k operationKey
		if err := rows.Scan(&k.service, &k.name, &k.kind); err != nil {
			return err
		}
		w.operations[k] = true
	}
	return rows.Err()
}

func (w *writer) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.conn.Close()
}

// WriteSpans implements store.SpanWriter.
func (s *Store) WriteSpans(ctx context.Context, spans []telemetry.Span) error {
	if len(spans) == 0 {
		return nil
	}
	w := s.writer
	w.mu.Lock()
	defer w.mu.Unlock()

	resIDs, newRes, newOps := w.newCatalogueEntries(spans)
	if err := w.inTx(ctx, func(conn driver.Conn) error {
		return w.stage(conn, spans, resIDs, newRes, newOps)
	}, spans); err != nil {
		return err
	}
	for hash, r := range newRes {
		w.resources[hash] = r.id
		w.nextResID = max(w.nextResID, r.id+1)
	}
	for _, k := range newOps {
		w.operations[k] = true
	}
	return nil
}

// newResource is a resource to store, with the id it is given.
type newResource struct {
	id       int64
	resource *telemetry.Resource
}

// newCatalogueEntries returns the id of each resource of spans, and the resources (by content
// hash) and operations not yet stored.
func (w *writer) newCatalogueEntries(spans []telemetry.Span) (map[*telemetry.Resource]int64, map[uint64]newResource, []operationKey) {
	resIDs := map[*telemetry.Resource]int64{}
	newRes := map[uint64]newResource{}
	var newOps []operationKey
	seenOps := map[operationKey]bool{}
	for i := range spans {
		sp := &spans[i]
		if _, seen := resIDs[sp.Resource]; !seen {
			hash := resourceHash(sp.Resource)
			id, stored := w.resources[hash]
			if !stored {
				nr, ok := newRes[hash]
				if !ok {
					nr = newResource{id: w.nextResID + int64(len(newRes)), resource: sp.Resource}
					newRes[hash] = nr
				}
				id = nr.id
			}
			resIDs[sp.Resource] = id
		}
		k := operationKey{service: sp.Service(), name: sp.Name, kind: sp.Kind}
		if !w.operations[k] && !seenOps[k] {
			seenOps[k] = true
			newOps = append(newOps, k)
		}
	}
	return resIDs, newRes, newOps
}

// inTx runs stage and the statements that publish the staged batch in one transaction.
func (w *writer) inTx(ctx context.Context, stage func(driver.Conn) error, spans []telemetry.Span) (err error) {
	if _, err := w.conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			if _, rerr := w.conn.ExecContext(context.Background(), "ROLLBACK"); rerr != nil {
				err = fmt.Errorf("%w (and rollback: %v)", err, rerr)
			}
		}
	}()
	if err := w.conn.Raw(func(dc any) error { return stage(dc.(driver.Conn)) }); err != nil {
		return fmt.Errorf("stage spans: %w", err)
	}
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for i := range spans {
		lo, hi = min(lo, spans[i].StartUnixNano), max(hi, spans[i].StartUnixNano)
	}
	for _, stmt := range query("insert_new_spans") {
		if _, err := w.conn.ExecContext(ctx, stmt, lo, hi); err != nil {
			return fmt.Errorf("insert spans: %w", err)
		}
	}
	for _, stmt := range append(query("index_traces"), "DELETE FROM staging_spans") {
		if _, err := w.conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("index traces: %w", err)
		}
	}
	if _, err := w.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// stage appends spans to the staging table and new catalogue entries to their tables.
func (w *writer) stage(conn driver.Conn, spans []telemetry.Span, resIDs map[*telemetry.Resource]int64, newRes map[uint64]newResource, newOps []operationKey) error {
	app, err := duckdbdriver.NewAppender(conn, "temp", "main", "staging_spans")
	if err != nil {
		return err
	}
	for i := range spans {
		if err := appendSpan(app, &spans[i], resIDs[spans[i].Resource]); err != nil {
			app.Close()
			return err
		}
	}
	if err := app.Close(); err != nil {
		return err
	}
	if len(newRes) > 0 {
		if app, err = duckdbdriver.NewAppenderFromConn(conn, "main", "resources"); err != nil {
			return err
		}
		for hash, nr := range newRes {
			r := nr.resource
			a := encodeAttrs(r.Attributes)
			if err := app.AppendRow(nr.id, int64(hash), r.ServiceName(), r.DroppedAttributesCount, a.keys, a.kinds, a.values); err != nil {
				app.Close()
				return err
			}
		}
		if err := app.Close(); err != nil {
			return err
		}
	}
	if len(newOps) > 0 {
		if app, err = duckdbdriver.NewAppenderFromConn(conn, "main", "operations"); err != nil {
			return err
		}
		for _, k := range newOps {
			if err := app.AppendRow(k.service, k.name, uint8(k.kind)); err != nil {
				app.Close()
				return err
			}
		}
		return app.Close()
	}
	return nil
}

func appendSpan(app *duckdbdriver.Appender, s *telemetry.Span, resourceID int64) error {
	a := encodeAttrs(s.Attributes)
	var scopeName, scopeVersion any
	if s.Scope != nil {
		scopeName, scopeVersion = s.Scope.Name, s.Scope.Version
	}
	return app.AppendRow(
		int64(s.TraceID.High()), int64(s.TraceID.Low()), int64(s.SpanID.Uint64()), int64(s.ParentSpanID.Uint64()),
		s.StartUnixNano, int64(s.Duration()),
		s.Service(), s.Name, uint8(s.Kind), uint8(s.Status.Code), nullIfEmpty(s.Status.Message),
		nullIfEmpty(s.TraceState), s.Flags, s.InProgress, s.SampleRate, resourceID,
		scopeName, scopeVersion, s.Ingest.Protocol, nullIfEmpty(s.Ingest.Dataset), nullIfEmpty(s.Ingest.KeyID),
		a.keys, a.kinds, a.values, encodeExtra(s),
	)
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
