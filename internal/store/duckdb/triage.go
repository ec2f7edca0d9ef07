package duckdb

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"

	"lookout/internal/store"
	"lookout/internal/triage"
)

// UpdateItem implements store.ItemTriager: the item's row is rewritten with its events in
// one transaction, and the store checkpointed, so that the change is durable on return.
func (s *Store) UpdateItem(ctx context.Context, id int64, u store.ItemUpdate) (store.Item, error) {
	it, err := s.updateItem(ctx, id, u)
	if err != nil {
		return it, err
	}
	if err := s.Checkpoint(ctx); err != nil {
		return it, fmt.Errorf("make the change durable: %w", err)
	}
	return s.Item(ctx, id)
}

func (s *Store) updateItem(ctx context.Context, id int64, u store.ItemUpdate) (store.Item, error) {
	w := s.writers[0]
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := s.loadErrorCatalogue(ctx, w); err != nil {
		return store.Item{}, err
	}
	it, ok := s.errs.rows[id]
	if !ok {
		return store.Item{}, fmt.Errorf("item %d: %w", id, store.ErrNotFound)
	}
	event := func(kind triage.EventKind, version, detail string) store.ItemEvent {
		return store.ItemEvent{ItemID: id, Time: u.Time, Kind: kind, Version: version, By: u.By, Detail: detail}
	}
	var events []store.ItemEvent
	if u.Status != nil {
		next, kind, err := triage.Set(it.State, *u.Status, u.ResolvedInVersion)
		if err != nil {
			return it, err
		}
		switch kind {
		case triage.ResolvedBy:
			it.LastResolved = u.Time
		case triage.Reopened, triage.Unmuted:
			it.LastActivated = u.Time
		}
		if kind != "" {
			it.State = next
			events = append(events, event(kind, next.ResolvedInVersion, ""))
		}
	}
	if u.Title != nil && *u.Title != it.Title {
		it.Title, it.TitleLocked = *u.Title, true
		events = append(events, event(triage.Retitled, "", it.Title))
	}
	if u.Level != nil && *u.Level != it.Level {
		it.Level, it.LevelLocked = *u.Level, true
		events = append(events, event(triage.Releveled, "", it.Level))
	}
	if u.AssignedTo != nil && *u.AssignedTo != it.AssignedTo {
		it.AssignedTo = *u.AssignedTo
		events = append(events, event(triage.Assigned, "", it.AssignedTo))
	}
	if len(events) == 0 {
		return it, nil
	}
	if _, err := w.conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return it, err
	}
	_, err := w.conn.ExecContext(ctx, "DELETE FROM error_items WHERE id = ?", id)
	if err == nil {
		err = w.conn.Raw(func(dc any) error {
			if err := appendItems(dc.(driver.Conn), []int64{id}, map[int64]*store.Item{id: &it}); err != nil {
				return err
			}
			return appendEvents(dc.(driver.Conn), events)
		})
	}
	if err == nil {
		_, err = w.conn.ExecContext(ctx, "COMMIT")
	}
	if err != nil {
		w.conn.ExecContext(context.Background(), "ROLLBACK")
		return it, fmt.Errorf("update item %d: %w", id, err)
	}
	s.errs.rows[id] = it
	return it, nil
}

const deployColumns = "id, project, environment, revision, local_username, rollbar_user, comment, status, start_ns, finish_ns"

// RecordDeploy implements store.ItemTriager.
func (s *Store) RecordDeploy(ctx context.Context, d store.Deploy) (store.Deploy, error) {
	w := s.writers[0]
	w.mu.Lock()
	if err := s.loadErrorCatalogue(ctx, w); err != nil {
		w.mu.Unlock()
		return d, err
	}
	d.ID = s.errs.lastDeploy + 1
	_, err := w.conn.ExecContext(ctx, "INSERT INTO deploys ("+deployColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		d.ID, validUTF8(d.Project), validUTF8(d.Environment), validUTF8(d.Revision), validUTF8(d.LocalUsername),
		validUTF8(d.RollbarUser), validUTF8(d.Comment), validUTF8(d.Status), timeNS(d.StartTime), timeNS(d.FinishTime))
	if err == nil {
		s.errs.lastDeploy = d.ID
	}
	w.mu.Unlock()
	if err != nil {
		return d, fmt.Errorf("record deploy: %w", err)
	}
	return d, s.Checkpoint(ctx)
}

// UpdateDeploy implements store.ItemTriager.
func (s *Store) UpdateDeploy(ctx context.Context, project string, id int64, status, comment string, at time.Time) (store.Deploy, error) {
	d, err := s.Deploy(ctx, project, id)
	if err != nil {
		return d, err
	}
	d.Status = status
	if comment != "" {
		d.Comment = comment
	}
	if status != "started" && d.FinishTime.IsZero() {
		d.FinishTime = at
	}
	w := s.writers[0]
	w.mu.Lock()
	_, err = w.conn.ExecContext(ctx, "UPDATE deploys SET status = ?, comment = ?, finish_ns = ? WHERE project = ? AND id = ?",
		validUTF8(d.Status), validUTF8(d.Comment), timeNS(d.FinishTime), project, id)
	w.mu.Unlock()
	if err != nil {
		return d, fmt.Errorf("update deploy: %w", err)
	}
	return d, s.Checkpoint(ctx)
}

// Deploys implements store.ItemReader.
func (s *Store) Deploys(ctx context.Context, project string, offset, n int) ([]store.Deploy, error) {
	return s.queryDeploys(ctx, "WHERE project = ? ORDER BY start_ns DESC, id DESC LIMIT ? OFFSET ?", project, limit(n), max(offset, 0))
}

// Deploy implements store.ItemReader.
func (s *Store) Deploy(ctx context.Context, project string, id int64) (store.Deploy, error) {
	ds, err := s.queryDeploys(ctx, "WHERE project = ? AND id = ?", project, id)
	if err != nil {
		return store.Deploy{}, err
	}
	if len(ds) == 0 {
		return store.Deploy{}, fmt.Errorf("deploy %d: %w", id, store.ErrNotFound)
	}
	return ds[0], nil
}

func (s *Store) queryDeploys(ctx context.Context, rest string, args ...any) ([]store.Deploy, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+deployColumns+" FROM deploys "+rest, args...)
	if err != nil {
		return nil, fmt.Errorf("deploys: %w", err)
	}
	defer rows.Close()
	var out []store.Deploy
	for rows.Next() {
		var d store.Deploy
		var start, finish int64
		if err := rows.Scan(&d.ID, &d.Project, &d.Environment, &d.Revision, &d.LocalUsername, &d.RollbarUser, &d.Comment, &d.Status, &start, &finish); err != nil {
			return nil, err
		}
		d.StartTime, d.FinishTime = nsTime(start), nsTime(finish)
		out = append(out, d)
	}
	return out, rows.Err()
}
