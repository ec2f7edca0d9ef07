package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	duckdbdriver "github.com/duckdb/duckdb-go/v2"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// writer is one of the store's write connections, with its own temporary table of trace ids.
// Spans are spread over the writers by trace id, so the spans of one trace always meet the
// same writer and its check for spans already stored.
type writer struct {
	mu   sync.Mutex
	conn *sql.Conn
}

// catalogue is what the writers remember of the resources and operations already stored, so
// that they are not written again.
type catalogue struct {
	mu         sync.Mutex
	resources  map[uint64]int64 // content hash -> id
	keysets    map[uint64]int64 // content hash -> id
	nextID     int64            // for new resources and key sets
	operations map[operationKey]bool
	attrs      attrMeta       // where attribute values are (attrcols.go)
	seen       map[string]int // spans seen per key without a column
	nextSlot   int            // the next attribute column to give out
	columns    int            // attribute columns the spans table has
	sampled    bool           // some span has a sample rate above 1
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
	for _, stmt := range sqlFile("staging") {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			conn.Close()
			return nil, fmt.Errorf("create staging table: %w", err)
		}
	}
	return &writer{conn: conn}, nil
}

func loadCatalogue(ctx context.Context, db *sql.DB) (*catalogue, error) {
	c := &catalogue{resources: map[uint64]int64{}, keysets: map[uint64]int64{}, operations: map[operationKey]bool{}, nextID: 1, seen: map[string]int{}}
	var err error
	if c.attrs, c.nextSlot, err = loadAttrMeta(ctx, db); err != nil {
		return nil, err
	}
	for table, ids := range map[string]map[uint64]int64{"resources": c.resources, "keysets": c.keysets} {
		rows, err := db.QueryContext(ctx, "SELECT hash, id FROM "+table)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var hash, id int64
			if err := rows.Scan(&hash, &id); err != nil {
				rows.Close()
				return nil, err
			}
			ids[uint64(hash)] = id
			c.nextID = max(c.nextID, id+1)
		}
		rows.Close()
	}
	return c, c.loadOperations(ctx, db)
}

func (c *catalogue) loadOperations(ctx context.Context, db *sql.DB) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.operations)
	rows, err := db.QueryContext(ctx, "SELECT service, name, kind FROM operations")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k operationKey
		if err := rows.Scan(&k.service, &k.name, &k.kind); err != nil {
			return err
		}
		c.operations[k] = true
	}
	return rows.Err()
}

// lockWriters locks every writer, for work that needs the store to itself; the returned
// function unlocks them.
func (s *Store) lockWriters() func() {
	for _, w := range s.writers {
		w.mu.Lock()
	}
	return func() {
		for _, w := range s.writers {
			w.mu.Unlock()
		}
	}
}

// catalogued, when a test sets it, runs between a span batch's catalogue and its spans.
var catalogued func()

// WriteSpans implements store.SpanWriter.
//
// The batch is split by trace id over the writers, which write their parts in parallel, each
// in one transaction. Spans of traces the store has never seen cannot be stored already, so
// they go straight in; spans of known traces are checked against what is stored.
func (s *Store) WriteSpans(ctx context.Context, spans []telemetry.Span) error {
	return s.writeSpans(ctx, spans, false)
}

// writeSpans stores spans; with revise, a stored span is replaced by a more complete version
// (store.SpanReviser).
func (s *Store) writeSpans(ctx context.Context, spans []telemetry.Span, revise bool) error {
	if len(spans) == 0 {
		return nil
	}
	// A batch's operations and its spans are committed apart; DeleteBefore, which rebuilds
	// the operations from the stored spans, must not come between.
	s.spanWrites.RLock()
	defer s.spanWrites.RUnlock()
	if revise {
		spans = mostCompleteSpans(spans)
	} else {
		spans = uniqueSpans(spans)
	}
	e := s.cat.newEntries(spans)
	if e.slotsUsed > s.attrColumns() {
		if err := s.addAttrColumns(ctx, e.slotsUsed); err != nil {
			return err
		}
	}
	// New resources, key sets and operations are committed before any span that refers to
	// them, so that a failure part-way never leaves a stored span without its key set.
	if e.hasNew() {
		w := s.writers[0]
		w.mu.Lock()
		err := w.writeCatalogue(ctx, e)
		w.mu.Unlock()
		if err != nil {
			return fmt.Errorf("store catalogue: %w", err)
		}
		s.cat.stored(e)
	}
	if catalogued != nil {
		catalogued()
	}
	parts := split(spans, e, len(s.writers))
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i := range parts {
		if len(parts[i].spans) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := s.writers[i]
			w.mu.Lock()
			defer w.mu.Unlock()
			errs[i] = w.write(ctx, parts[i], e, s.traces, revise)
		}()
	}
	wg.Wait()
	s.graphs.written(spans) // after the commits, so that no count made before them is kept
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if s.unsaved.Add(int64(len(spans))) >= checkpointAfter {
		// The spans are stored whatever becomes of the checkpoint, which the next one retries.
		if err := s.Checkpoint(ctx); err != nil {
			s.log.Warn("checkpoint failed", "err", err)
		}
	}
	return nil
}

// uniqueSpans drops repeats of a (trace id, span id) within one batch; the first stays.
func uniqueSpans(spans []telemetry.Span) []telemetry.Span {
	type key struct {
		trace telemetry.TraceID
		span  telemetry.SpanID
	}
	seen := make(map[key]struct{}, len(spans))
	var out []telemetry.Span // nil until the first repeat
	for i := range spans {
		k := key{spans[i].TraceID, spans[i].SpanID}
		if _, dup := seen[k]; dup {
			if out == nil {
				out = append(make([]telemetry.Span, 0, len(spans)), spans[:i]...)
			}
			continue
		}
		seen[k] = struct{}{}
		if out != nil {
			out = append(out, spans[i])
		}
	}
	if out == nil {
		return spans
	}
	return out
}

// part is the share of a batch one writer stores: spans, and the key set id and attribute
// layout of each.
type part struct {
	spans   []telemetry.Span
	keysets []int64
	layouts [][]int16
}

// split shares a batch out among n writers by trace id, so that one writer stores all of a
// batch's spans of a trace. The shares are ranges of one copy of the batch: a batch is
// megabytes of spans, and growing each share as it fills made most of a write's garbage.
func split(spans []telemetry.Span, e *entries, n int) []part {
	writer := func(s *telemetry.Span) int { return int(s.TraceID.Low() % uint64(n)) }
	bounds := make([]int, n+1) // share w is [bounds[w], bounds[w+1])
	for i := range spans {
		bounds[writer(&spans[i])+1]++
	}
	for w := range n {
		bounds[w+1] += bounds[w]
	}
	all := part{
		spans:   make([]telemetry.Span, len(spans)),
		keysets: make([]int64, len(spans)),
		layouts: make([][]int16, len(spans)),
	}
	next := slices.Clone(bounds[:n])
	for i := range spans {
		w := writer(&spans[i])
		k := next[w]
		next[w]++
		all.spans[k], all.keysets[k], all.layouts[k] = spans[i], e.keysets[i], e.layouts[i]
	}
	parts := make([]part, n)
	for w := range parts {
		lo, hi := bounds[w], bounds[w+1]
		parts[w] = part{all.spans[lo:hi:hi], all.keysets[lo:hi:hi], all.layouts[lo:hi:hi]}
	}
	return parts
}

// entries are what a batch refers to in the catalogue: the id of each resource and each
// span's key set, and the resources, key sets and operations not stored yet.
type entries struct {
	resources    map[*telemetry.Resource]int64
	keysets      []int64   // by span
	layouts      [][]int16 // by span: each attribute's column, or -1 for the list
	slotsUsed    int       // attribute columns given out when the layouts were made
	newResources []newResource
	newKeysets   []newKeyset
	newOps       []operationKey
}

// newResource is a resource to store, with the id it is given.
type newResource struct {
	id       int64
	hash     uint64
	resource *telemetry.Resource
}

// newKeyset is a key set to store: the keys and value kinds of a span's attributes, and
// where their values go.
type newKeyset struct {
	id        int64
	hash      uint64
	keys      []string
	kinds     []uint8
	slots     []int16
	listKeys  []string
	listKinds []uint8
}

// newEntries looks up the catalogue entries of spans. New resources and key sets get ids at
// once, so that concurrent batches never share one.
func (c *catalogue) newEntries(spans []telemetry.Span) *entries {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := &entries{resources: map[*telemetry.Resource]int64{}, keysets: make([]int64, len(spans)), layouts: make([][]int16, len(spans))}
	newIDs := map[uint64]int64{} // by hash, for resources and key sets alike (hashes differ)
	lookup := func(known map[uint64]int64, hash uint64, add func(id int64)) int64 {
		if id, ok := known[hash]; ok {
			return id
		}
		if id, ok := newIDs[hash]; ok {
			return id
		}
		id := c.nextID
		c.nextID++
		newIDs[hash] = id
		add(id)
		return id
	}
	seenOps := map[operationKey]bool{}
	c.promote(spans)
	e.slotsUsed = c.slotsUsed()
	for i := range spans {
		sp := &spans[i]
		c.sampled = c.sampled || sp.SampleRate > 1
		if _, seen := e.resources[sp.Resource]; !seen {
			hash := resourceHash(sp.Resource)
			e.resources[sp.Resource] = lookup(c.resources, hash, func(id int64) {
				e.newResources = append(e.newResources, newResource{id: id, hash: hash, resource: sp.Resource})
			})
		}
		layout := c.layout(sp.Attributes)
		e.layouts[i] = layout
		hash := keysetHash(sp.Attributes, layout)
		e.keysets[i] = lookup(c.keysets, hash, func(id int64) {
			ks := newKeyset{id: id, hash: hash, keys: make([]string, len(sp.Attributes)), kinds: make([]uint8, len(sp.Attributes)), slots: layout}
			for j, kv := range sp.Attributes {
				ks.keys[j], ks.kinds[j] = validUTF8(kv.Key), uint8(kv.Value.Kind())
				if layout[j] < 0 {
					ks.listKeys = append(ks.listKeys, validUTF8(kv.Key))
					ks.listKinds = append(ks.listKinds, uint8(kv.Value.Kind()))
				}
			}
			e.newKeysets = append(e.newKeysets, ks)
		})
		k := operationKey{service: validUTF8(sp.Service()), name: validUTF8(sp.Name), kind: sp.Kind}
		if !c.operations[k] && !seenOps[k] {
			seenOps[k] = true
			e.newOps = append(e.newOps, k)
		}
	}
	return e
}

func (e *entries) hasNew() bool {
	return len(e.newResources) > 0 || len(e.newKeysets) > 0 || len(e.newOps) > 0
}

// stored records a batch's new catalogue entries once they are committed.
func (c *catalogue) stored(e *entries) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range e.newResources {
		c.resources[r.hash] = r.id
		for _, kv := range r.resource.Attributes {
			c.attrs.resource[kv.Key] = true
		}
	}
	for _, ks := range e.newKeysets {
		c.keysets[ks.hash] = ks.id
		for _, k := range ks.listKeys {
			c.attrs.inList[k] = true
		}
	}
	for _, k := range e.newOps {
		c.operations[k] = true
	}
}

// tracedRange is the time a trace's spans cover within one batch.
type tracedRange struct {
	id         telemetry.TraceID
	start, end int64
}

// traceRanges returns the time range of each trace of a batch.
func traceRanges(spans []telemetry.Span) []tracedRange {
	index := map[telemetry.TraceID]int{}
	var ranges []tracedRange
	for i := range spans {
		sp := &spans[i]
		end := sp.StartUnixNano + int64(sp.Duration())
		j, ok := index[sp.TraceID]
		if !ok {
			index[sp.TraceID] = len(ranges)
			ranges = append(ranges, tracedRange{sp.TraceID, sp.StartUnixNano, end})
			continue
		}
		ranges[j].start, ranges[j].end = min(ranges[j].start, sp.StartUnixNano), max(ranges[j].end, end)
	}
	return ranges
}

// writeCatalogue stores a batch's new catalogue entries in one transaction.
func (w *writer) writeCatalogue(ctx context.Context, e *entries) error {
	if _, err := w.conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	err := w.conn.Raw(func(dc any) error { return appendCatalogue(dc.(driver.Conn), e) })
	if err == nil {
		_, err = w.conn.ExecContext(ctx, "COMMIT")
	}
	if err != nil {
		w.conn.ExecContext(context.Background(), "ROLLBACK")
	}
	return err
}

// write stores a share of a batch of unique spans in one transaction, appending them to the
// spans table as typed rows.
func (w *writer) write(ctx context.Context, p part, e *entries, traces *traceFilter, revise bool) (err error) {
	spans := p.spans
	ranges := traceRanges(spans)
	raw := func(fn func(conn driver.Conn) error) error {
		return w.conn.Raw(func(dc any) error { return fn(dc.(driver.Conn)) })
	}

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
	stored, err := w.storedSpans(ctx, traces.mayHold(ranges), spans)
	if err != nil {
		return err
	}
	keep := make([]int, 0, len(spans)) // the spans to store
	var replaced []spanKey             // stored spans that a more complete version replaces
	for i := range spans {
		key := spanKey{spans[i].TraceID, spans[i].SpanID}
		old, ok := stored[key]
		switch {
		case !ok:
			keep = append(keep, i)
		case revise && store.Supersedes(&spans[i], old.inProgress, old.service):
			keep = append(keep, i)
			replaced = append(replaced, key)
		}
	}
	if err := w.deleteSpans(ctx, replaced, spans); err != nil {
		return err
	}
	columns := slices.Clone(storedColumns)
	for i := range e.slotsUsed {
		columns = append(columns, fmt.Sprintf("c%d", i))
	}
	row := make([]driver.Value, len(columns))
	notes := annotationRows(spans, keep, e.resources)
	err = raw(func(conn driver.Conn) error {
		err := appendRows(conn, "", "spans", columns, len(keep), func(app *duckdbdriver.Appender, i int) error {
			k := keep[i]
			spanRow(row, &spans[k], e.resources[spans[k].Resource], p.keysets[k], p.layouts[k])
			return app.AppendRow(row...)
		})
		if err != nil {
			return err
		}
		if err := appendRows(conn, "", "annotations", nil, len(notes), func(app *duckdbdriver.Appender, i int) error {
			return app.AppendRow(notes[i]...)
		}); err != nil {
			return err
		}
		return appendRows(conn, "", "trace_index", nil, len(ranges), func(app *duckdbdriver.Appender, i int) error {
			r := ranges[i]
			return app.AppendRow(int64(r.id.High()), int64(r.id.Low()), r.start, r.end)
		})
	})
	if err != nil {
		return fmt.Errorf("append spans: %w", err)
	}
	if _, err := w.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	traces.stored(ranges)
	return nil
}

// spanKey identifies a span.
type spanKey struct {
	trace telemetry.TraceID
	span  telemetry.SpanID
}

// storedSpan is what a revision needs to know of a stored version of a span.
type storedSpan struct {
	inProgress bool
	service    string
}

// storedSpans returns which of spans the store holds already. Only spans of the traces it may
// know (maybe) can be; a retry repeats its spans' start times, so their range bounds the search.
func (w *writer) storedSpans(ctx context.Context, maybe []tracedRange, spans []telemetry.Span) (map[spanKey]storedSpan, error) {
	if len(maybe) == 0 {
		return nil, nil
	}
	err := w.conn.Raw(func(dc any) error {
		return appendRows(dc.(driver.Conn), "temp", "batch_traces", nil, len(maybe), func(app *duckdbdriver.Appender, i int) error {
			return app.AppendRow(int64(maybe[i].id.High()), int64(maybe[i].id.Low()))
		})
	})
	if err != nil {
		return nil, fmt.Errorf("stage trace ids: %w", err)
	}
	defer w.conn.ExecContext(context.Background(), "DELETE FROM batch_traces")
	known, err := w.knownTraces(ctx)
	if err != nil || len(known) == 0 {
		return nil, err
	}
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for i := range spans {
		if known[spans[i].TraceID] {
			lo, hi = min(lo, spans[i].StartUnixNano), max(hi, spans[i].StartUnixNano)
		}
	}
	rows, err := w.conn.QueryContext(ctx, sqlFile("stored_spans")[0], lo, hi)
	if err != nil {
		return nil, fmt.Errorf("stored spans: %w", err)
	}
	defer rows.Close()
	stored := map[spanKey]storedSpan{}
	for rows.Next() {
		var hi, lo, id int64
		var st storedSpan
		if err := rows.Scan(&hi, &lo, &id, &st.inProgress, &st.service); err != nil {
			return nil, err
		}
		stored[spanKey{telemetry.TraceIDFromParts(uint64(hi), uint64(lo)), telemetry.SpanIDFromUint64(uint64(id))}] = st
	}
	return stored, rows.Err()
}

// Annotation types, as the annotations table numbers them.
const (
	annotationEvent = 1
	annotationLink  = 2
)

// annotationRows returns the annotations table's rows for the span events and links of the
// spans numbered keep, in its column order.
func annotationRows(spans []telemetry.Span, keep []int, resources map[*telemetry.Resource]int64) [][]driver.Value {
	var rows [][]driver.Value
	for _, k := range keep {
		sp := &spans[k]
		if len(sp.Events) == 0 && len(sp.Links) == 0 {
			continue
		}
		row := func(typ uint8, t int64, name any, linkTrace, linkSpan any, attrs telemetry.Attributes) []driver.Value {
			a := encodeAttrs(attrs)
			return []driver.Value{int64(sp.TraceID.High()), int64(sp.TraceID.Low()), int64(sp.SpanID.Uint64()), sp.StartUnixNano, t, typ,
				name, validUTF8(sp.Name), validUTF8(sp.Service()), sp.Status.Code == telemetry.StatusError, sp.SampleRate,
				resources[sp.Resource], optional(sp.Ingest.Dataset), linkTrace, linkSpan, a.keys, a.kinds, a.values}
		}
		for _, ev := range sp.Events {
			rows = append(rows, row(annotationEvent, ev.TimeUnixNano, validUTF8(ev.Name), nil, nil, ev.Attributes))
		}
		for _, l := range sp.Links {
			rows = append(rows, row(annotationLink, sp.StartUnixNano, nil, l.TraceID.String(), l.SpanID.String(), l.Attributes))
		}
	}
	return rows
}

// appendRows appends n rows to a table of the database ("temp" for temporary tables), row(i)
// appending the i-th: values for the given columns, or for all of them when columns is nil.
func appendRows(conn driver.Conn, catalog, table string, columns []string, n int, row func(app *duckdbdriver.Appender, i int) error) error {
	if n == 0 {
		return nil
	}
	var app *duckdbdriver.Appender
	var err error
	if columns == nil {
		app, err = duckdbdriver.NewAppender(conn, catalog, "main", table)
	} else {
		app, err = duckdbdriver.NewAppenderWithColumns(conn, catalog, "main", table, columns)
	}
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		if err := row(app, i); err != nil {
			app.Close()
			return err
		}
	}
	return app.Close()
}

// knownTraces returns which of the batch's traces (in batch_traces) the store holds spans of.
func (w *writer) knownTraces(ctx context.Context) (map[telemetry.TraceID]bool, error) {
	rows, err := w.conn.QueryContext(ctx, sqlFile("known_traces")[0])
	if err != nil {
		return nil, fmt.Errorf("known traces: %w", err)
	}
	known := map[telemetry.TraceID]bool{}
	for rows.Next() {
		var hi, lo int64
		if err := rows.Scan(&hi, &lo); err != nil {
			rows.Close()
			return nil, err
		}
		known[telemetry.TraceIDFromParts(uint64(hi), uint64(lo))] = true
	}
	rows.Close()
	return known, rows.Err()
}

// appendCatalogue appends a batch's new resources, key sets and operations.
func appendCatalogue(conn driver.Conn, e *entries) error {
	err := appendRows(conn, "", "resources", nil, len(e.newResources), func(app *duckdbdriver.Appender, i int) error {
		nr := e.newResources[i]
		a := encodeAttrs(nr.resource.Attributes)
		return app.AppendRow(nr.id, int64(nr.hash), validUTF8(nr.resource.ServiceName()), nr.resource.DroppedAttributesCount, a.keys, a.kinds, a.values)
	})
	if err != nil {
		return err
	}
	err = appendRows(conn, "", "keysets", nil, len(e.newKeysets), func(app *duckdbdriver.Appender, i int) error {
		ks := e.newKeysets[i]
		return app.AppendRow(ks.id, int64(ks.hash), ks.keys, ks.kinds, ks.slots, ks.listKeys, ks.listKinds)
	})
	if err != nil {
		return err
	}
	return appendRows(conn, "", "operations", nil, len(e.newOps), func(app *duckdbdriver.Appender, i int) error {
		return app.AppendRow(e.newOps[i].service, e.newOps[i].name, uint8(e.newOps[i].kind))
	})
}
