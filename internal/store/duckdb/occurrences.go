package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	duckdbdriver "github.com/duckdb/duckdb-go/v2"

	"lookout/internal/store"
	"lookout/internal/telemetry"
	"lookout/internal/triage"
)

// errorCatalogue is what the occurrence writer keeps in memory: every item, by id and by
// key, the next ids, each project's last counter, when each of its versions was first seen,
// and a filter of the stored uuids. It is read from the database at the first write and
// changed only after commits, by the writer holding writers[0].
type errorCatalogue struct {
	loaded         bool
	items          map[itemKey]int64
	rows           map[int64]store.Item // as stored, People aside
	counters       map[string]int64
	versions       map[string]map[string]int64 // project -> version -> first seen
	uuids          idFilter
	lastItem       int64
	lastOccurrence int64
	lastDeploy     int64
}

type itemKey struct{ project, environment, fingerprint string }

// uuidHash is the stored hash of a project's uuid; it must never change.
func uuidHash(project, uuid string) int64 {
	h := fnv.New64a()
	h.Write([]byte(project))
	h.Write([]byte{0})
	h.Write([]byte(uuid))
	return int64(h.Sum64())
}

// nsTime and timeNS convert between the tables' unix nanoseconds, where 0 is never, and times.
func nsTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func timeNS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// loadErrorCatalogue reads the catalogue and creates the writer's staging table (w held).
func (s *Store) loadErrorCatalogue(ctx context.Context, w *writer) error {
	c := &s.errs
	if c.loaded {
		return nil
	}
	stmts := sqlFile("error_catalogue")
	*c = errorCatalogue{items: map[itemKey]int64{}, rows: map[int64]store.Item{}, counters: map[string]int64{}, versions: map[string]map[string]int64{}}
	items, err := queryItems(ctx, w.conn, "")
	if err != nil {
		return err
	}
	for _, it := range items {
		c.items[itemKey{it.Project, it.Environment, it.Fingerprint}] = it.ID
		c.rows[it.ID] = it
		c.lastItem = max(c.lastItem, it.ID)
		c.counters[it.Project] = max(c.counters[it.Project], it.Counter)
	}
	if err := c.loadUUIDs(ctx, w); err != nil {
		return err
	}
	if err := w.conn.QueryRowContext(ctx, stmts[1]).Scan(&c.lastOccurrence); err != nil {
		return err
	}
	rows, err := w.conn.QueryContext(ctx, stmts[2])
	if err != nil {
		return err
	}
	for rows.Next() {
		var project, version string
		var first int64
		if err := rows.Scan(&project, &version, &first); err != nil {
			rows.Close()
			return err
		}
		c.version(project)[version] = first
	}
	rows.Close()
	if err := w.conn.QueryRowContext(ctx, stmts[3]).Scan(&c.lastDeploy); err != nil {
		return err
	}
	for _, stmt := range sqlFile("error_staging") {
		if _, err := w.conn.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	c.loaded = true
	return nil
}

// loadUUIDs fills the uuid filter from the stored occurrences, with room for as many again.
func (c *errorCatalogue) loadUUIDs(ctx context.Context, w *writer) (err error) {
	c.uuids, err = readIDFilter(ctx, w.conn, "SELECT count(*) FROM error_occurrences", sqlFile("error_catalogue")[0], func(rows *sql.Rows) (h int64, err error) {
		return h, rows.Scan(&h)
	})
	return err
}

func (c *errorCatalogue) version(project string) map[string]int64 {
	m := c.versions[project]
	if m == nil {
		m = map[string]int64{}
		c.versions[project] = m
	}
	return m
}

// atLeast orders a project's versions: by triage.CompareVersions when it can, else by when
// they were first seen (a version never seen is the newest).
func atLeast(seen map[string]int64) triage.AtLeast {
	return func(v, than string) bool {
		if c, ok := triage.CompareVersions(v, than); ok {
			return c >= 0
		}
		fv, okv := seen[v]
		ft, okt := seen[than]
		return !okv || !okt || fv >= ft
	}
}

// WriteOccurrences implements store.OccurrenceWriter, in one transaction on the first writer.
func (s *Store) WriteOccurrences(ctx context.Context, occs []telemetry.Occurrence) error {
	if len(occs) == 0 {
		return nil
	}
	w := s.writers[0]
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := s.loadErrorCatalogue(ctx, w); err != nil {
		return fmt.Errorf("error catalogue: %w", err)
	}
	fresh, err := s.freshOccurrences(ctx, w, occs)
	if err != nil || len(fresh) == 0 {
		return err
	}
	if _, err := w.conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	b, err := s.fileOccurrences(fresh)
	if err == nil {
		err = w.storeOccurrences(ctx, b)
	}
	if err == nil {
		_, err = w.conn.ExecContext(ctx, "COMMIT")
	}
	if err != nil {
		w.conn.ExecContext(context.Background(), "ROLLBACK")
		return fmt.Errorf("store occurrences: %w", err)
	}
	s.errs.apply(b)
	return nil
}

// freshOccurrences returns the occurrences whose (project, uuid) is neither stored nor
// repeated earlier in occs. Only the uuids the filter may hold are looked up.
func (s *Store) freshOccurrences(ctx context.Context, w *writer, occs []telemetry.Occurrence) ([]*telemetry.Occurrence, error) {
	type key struct{ project, uuid string }
	c := &s.errs
	if c.uuids.full() {
		if err := c.loadUUIDs(ctx, w); err != nil {
			return nil, fmt.Errorf("uuid filter: %w", err)
		}
	}
	var maybe []int64
	for i := range occs {
		if h := uuidHash(occs[i].Project, occs[i].UUID); c.uuids.mayHold(h) {
			maybe = append(maybe, h)
		}
	}
	seen := map[key]bool{}
	if len(maybe) > 0 {
		stored, err := w.storedUUIDs(ctx, maybe)
		if err != nil {
			return nil, err
		}
		for _, k := range stored {
			seen[key{k[0], k[1]}] = true
		}
	}
	fresh := make([]*telemetry.Occurrence, 0, len(occs))
	for i := range occs {
		k := key{occs[i].Project, occs[i].UUID}
		if !seen[k] {
			seen[k] = true
			fresh = append(fresh, &occs[i])
		}
	}
	return fresh, nil
}

// storedUUIDs returns the (project, uuid) of the stored occurrences with these uuid hashes.
func (w *writer) storedUUIDs(ctx context.Context, hashes []int64) ([][2]string, error) {
	err := w.conn.Raw(func(dc any) error {
		return appendRows(dc.(driver.Conn), "temp", "batch_uuids", nil, len(hashes), func(app *duckdbdriver.Appender, i int) error {
			return app.AppendRow(hashes[i])
		})
	})
	if err != nil {
		return nil, fmt.Errorf("stage uuids: %w", err)
	}
	defer w.conn.ExecContext(context.Background(), "DELETE FROM batch_uuids")
	rows, err := w.conn.QueryContext(ctx, sqlFile("stored_uuids")[0])
	if err != nil {
		return nil, fmt.Errorf("stored uuids: %w", err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var k [2]string
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// occurrenceBatch is what one write adds: occurrences with their ids, the items it made or
// changed, their events, and the versions first seen; the catalogue takes the new ids and
// versions once it is committed.
type occurrenceBatch struct {
	occs     []*telemetry.Occurrence
	ids      []int64 // occurrence ids, by occs
	itemIDs  []int64 // by occs
	items    map[int64]*store.Item
	changed  []int64 // ids of stored items that change
	created  []int64 // ids of new items, in order
	newKeys  map[itemKey]int64
	counters map[string]int64
	versions []versionSeen
	events   []store.ItemEvent
	lastItem int64
	lastOcc  int64
}

type versionSeen struct {
	project, version string
	first            int64
}

// fileOccurrences files each occurrence under its item, moving the items' states.
func (s *Store) fileOccurrences(occs []*telemetry.Occurrence) (*occurrenceBatch, error) {
	c := &s.errs
	b := &occurrenceBatch{occs: occs, items: map[int64]*store.Item{}, newKeys: map[itemKey]int64{}, counters: map[string]int64{},
		lastItem: c.lastItem, lastOcc: c.lastOccurrence}
	seenNew := map[string]map[string]int64{}
	for _, o := range occs {
		b.lastOcc++
		b.ids = append(b.ids, b.lastOcc)
		if o.CodeVersion != "" {
			if _, ok := c.versions[o.Project][o.CodeVersion]; !ok {
				if seenNew[o.Project] == nil {
					seenNew[o.Project] = map[string]int64{}
				}
				if _, ok := seenNew[o.Project][o.CodeVersion]; !ok {
					seenNew[o.Project][o.CodeVersion] = o.TimeUnixNano
					b.versions = append(b.versions, versionSeen{o.Project, o.CodeVersion, o.TimeUnixNano})
				}
			}
		}
		key := itemKey{o.Project, o.Environment, o.Fingerprint}
		id, ok := c.items[key]
		if !ok {
			id, ok = b.newKeys[key]
		}
		if !ok {
			b.lastItem++
			id = b.lastItem
			b.newKeys[key] = id
			if _, ok := b.counters[o.Project]; !ok {
				b.counters[o.Project] = c.counters[o.Project]
			}
			b.counters[o.Project]++
			b.items[id] = &store.Item{ID: id, Project: o.Project, Counter: b.counters[o.Project], Environment: o.Environment,
				Fingerprint: o.Fingerprint, Grouping: o.Grouping, Title: o.Title, Level: o.Level, Class: o.Class,
				Framework: o.Framework, Platform: o.Platform, Language: o.Language, State: triage.State{Status: triage.Active},
				FirstOccurrence: b.lastOcc, LastOccurrence: b.lastOcc, FirstSeen: nsTime(o.TimeUnixNano), LastSeen: nsTime(o.TimeUnixNano)}
			b.created = append(b.created, id)
			b.events = append(b.events, store.ItemEvent{ItemID: id, Time: nsTime(o.TimeUnixNano), Kind: triage.New, Version: o.CodeVersion})
		} else {
			it := b.items[id]
			if it == nil {
				stored, ok := c.rows[id]
				if !ok {
					return nil, fmt.Errorf("item %d is in the catalogue but not stored", id)
				}
				it = &stored
				b.items[id] = it
				b.changed = append(b.changed, id)
			}
			versions := mergedVersions(c.versions[o.Project], seenNew[o.Project])
			if next, reactivated := triage.Arrive(it.State, o.CodeVersion, atLeast(versions)); reactivated {
				it.State, it.LastActivated = next, nsTime(o.TimeUnixNano)
				if !it.TitleLocked {
					it.Title = o.Title
				}
				b.events = append(b.events, store.ItemEvent{ItemID: id, Time: nsTime(o.TimeUnixNano), Kind: triage.Reactivated, Version: o.CodeVersion})
			}
			t := nsTime(o.TimeUnixNano)
			if t.Before(it.FirstSeen) {
				it.FirstSeen, it.FirstOccurrence = t, b.lastOcc
			}
			if !t.Before(it.LastSeen) {
				it.LastSeen, it.LastOccurrence = t, b.lastOcc
			}
		}
		b.items[id].Total++
		b.itemIDs = append(b.itemIDs, id)
	}
	return b, nil
}

// mergedVersions is a project's versions with those first seen in the batch so far.
func mergedVersions(stored, batch map[string]int64) map[string]int64 {
	if len(batch) == 0 {
		return stored
	}
	m := make(map[string]int64, len(stored)+len(batch))
	for k, v := range stored {
		m[k] = v
	}
	for k, v := range batch {
		m[k] = v
	}
	return m
}

// storeOccurrences writes a filed batch within the open transaction.
func (w *writer) storeOccurrences(ctx context.Context, b *occurrenceBatch) error {
	if len(b.changed) > 0 {
		if _, err := w.conn.ExecContext(ctx, "DELETE FROM error_items WHERE id IN ("+placeholders(len(b.changed))+")", int64Args(b.changed)...); err != nil {
			return err
		}
	}
	rewritten := append(append([]int64(nil), b.changed...), b.created...)
	return w.conn.Raw(func(dc any) error {
		conn := dc.(driver.Conn)
		err := appendRows(conn, "", "error_occurrences", nil, len(b.occs), func(app *duckdbdriver.Appender, i int) error {
			return app.AppendRow(occurrenceRow(b.occs[i], b.ids[i], b.itemIDs[i])...)
		})
		if err == nil {
			err = appendItems(conn, rewritten, b.items)
		}
		if err == nil {
			err = appendEvents(conn, b.events)
		}
		if err == nil {
			err = appendRows(conn, "", "error_versions", nil, len(b.versions), func(app *duckdbdriver.Appender, i int) error {
				v := b.versions[i]
				return app.AppendRow(validUTF8(v.project), validUTF8(v.version), v.first)
			})
		}
		return err
	})
}

// apply takes a committed batch's ids, keys, counters, versions, items and uuids.
func (c *errorCatalogue) apply(b *occurrenceBatch) {
	c.lastItem, c.lastOccurrence = b.lastItem, b.lastOcc
	for k, id := range b.newKeys {
		c.items[k] = id
	}
	for p, n := range b.counters {
		c.counters[p] = n
	}
	for _, v := range b.versions {
		c.version(v.project)[v.version] = v.first
	}
	for id, it := range b.items {
		c.rows[id] = *it
	}
	for _, o := range b.occs {
		c.uuids.add(uuidHash(o.Project, o.UUID))
	}
}

func occurrenceRow(o *telemetry.Occurrence, id, itemID int64) []driver.Value {
	return []driver.Value{id, itemID, validUTF8(o.Project), validUTF8(o.UUID), uuidHash(o.Project, o.UUID), o.TimeUnixNano, o.ReceivedUnixNano,
		validUTF8(o.Environment), validUTF8(o.Level), validUTF8(o.Fingerprint), "", validUTF8(o.Title),
		validUTF8(o.Class), validUTF8(o.CodeVersion), validUTF8(o.Framework), validUTF8(o.Platform), validUTF8(o.Language),
		validUTF8(o.Context), validUTF8(o.Host), validUTF8(o.PersonID), validUTF8(o.UserIP), validUTF8(o.Browser), validUTF8(o.OS),
		int64(o.TraceID.High()), int64(o.TraceID.Low()), int64(o.SpanID.Uint64()),
		validUTF8(o.Ingest.Protocol), validUTF8(o.Ingest.KeyID), "", compressReport(validUTF8(o.Grouping), validUTF8(o.Data))}
}

// appendItems appends the rows of the items ids.
func appendItems(conn driver.Conn, ids []int64, items map[int64]*store.Item) error {
	return appendRows(conn, "", "error_items", nil, len(ids), func(app *duckdbdriver.Appender, i int) error {
		it := items[ids[i]]
		return app.AppendRow(it.ID, validUTF8(it.Project), it.Counter, validUTF8(it.Environment), validUTF8(it.Fingerprint),
			validUTF8(it.Grouping), validUTF8(it.Title), validUTF8(it.Level), validUTF8(it.Class), validUTF8(it.Framework),
			validUTF8(it.Platform), validUTF8(it.Language), string(it.Status), validUTF8(it.ResolvedInVersion),
			validUTF8(it.AssignedTo), it.TitleLocked, it.LevelLocked, it.Total, timeNS(it.FirstSeen), timeNS(it.LastSeen),
			it.FirstOccurrence, it.LastOccurrence, timeNS(it.LastActivated), timeNS(it.LastResolved))
	})
}

func appendEvents(conn driver.Conn, events []store.ItemEvent) error {
	return appendRows(conn, "", "error_events", nil, len(events), func(app *duckdbdriver.Appender, i int) error {
		e := events[i]
		return app.AppendRow(e.ItemID, timeNS(e.Time), string(e.Kind), validUTF8(e.Version), validUTF8(e.By), validUTF8(e.Detail))
	})
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func int64Args(ids []int64) []any {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return args
}
