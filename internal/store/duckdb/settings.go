package duckdb

import (
	"context"
	"fmt"
)

// Settings implements store.SettingsStore.
func (s *Store) Settings(ctx context.Context, kind string) (map[string][]byte, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT name, value FROM settings WHERE kind = $1", kind)
	if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return nil, err
		}
		out[name] = []byte(value)
	}
	return out, rows.Err()
}

// PutSetting implements store.SettingsStore. The store writes its file only at checkpoints,
// so a setting is made durable by one.
func (s *Store) PutSetting(ctx context.Context, kind, name string, value []byte) error {
	if _, err := s.db.ExecContext(ctx, "INSERT OR REPLACE INTO settings VALUES ($1, $2, $3)", kind, validText(name), validText(string(value))); err != nil {
		return fmt.Errorf("put setting: %w", err)
	}
	return s.Checkpoint(ctx)
}

// DeleteSetting implements store.SettingsStore.
func (s *Store) DeleteSetting(ctx context.Context, kind, name string) error {
	if _, err := s.db.ExecContext(ctx, "DELETE FROM settings WHERE kind = $1 AND name = $2", kind, validText(name)); err != nil {
		return fmt.Errorf("delete setting: %w", err)
	}
	return s.Checkpoint(ctx)
}
