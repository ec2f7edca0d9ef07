package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// Saved queries are shared by everyone using this lookout: a small JSON file in the data
// directory, rewritten whole (to a temporary file, then renamed) on every change.

// Bounds of the file: every save rewrites it whole.
const (
	maxSaved      = 500
	maxSavedBytes = 16 << 10 // one saved query; a spec of 100 clauses of each kind fits
)

type savedQuery struct {
	ID      string          `json:"id"`
	Name    string          `json:"name"`
	Dataset string          `json:"dataset"`
	Query   json.RawMessage `json:"query"` // a query.Spec, kept as sent
	Saved   time.Time       `json:"saved"`
}

type savedQueries struct {
	path  string
	mu    sync.Mutex
	items []savedQuery
}

// SaveQueriesIn keeps saved queries in path, loading those already there.
func (a *API) SaveQueriesIn(path string) error {
	s := &savedQueries{path: path}
	b, err := os.ReadFile(path)
	switch {
	case os.IsNotExist(err):
	case err != nil:
		return err
	default:
		if err := json.Unmarshal(b, &s.items); err != nil {
			return fmt.Errorf("saved queries %s: %w", path, err)
		}
	}
	a.saved = s
	return nil
}

func (s *savedQueries) persist() error {
	b, err := json.MarshalIndent(s.items, "", "  ")
	if err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(s.path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// GET /api/v1/saved-queries: newest first.
func (a *API) listSaved(*http.Request) (any, error) {
	a.saved.mu.Lock()
	defer a.saved.mu.Unlock()
	out := slices.Clone(a.saved.items)
	slices.Reverse(out)
	if out == nil {
		out = []savedQuery{}
	}
	return out, nil
}

// POST /api/v1/saved-queries {name, dataset, query}
func (a *API) saveQuery(r *http.Request) (any, error) {
	var sq savedQuery
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSavedBytes+1))
	if err != nil {
		return nil, badRequest("reading the body: %v", err)
	}
	if len(body) > maxSavedBytes {
		return nil, badRequest("a saved query may hold at most %d KiB", maxSavedBytes>>10)
	}
	if err := json.Unmarshal(body, &sq); err != nil {
		return nil, badRequest("invalid JSON body: %v", err)
	}
	if sq.Name == "" || len(sq.Name) > 200 || len(sq.Query) == 0 {
		return nil, badRequest("a saved query needs a name (at most 200 bytes) and a query")
	}
	sq.ID, sq.Saved = newResultID(), a.now().UTC()
	a.saved.mu.Lock()
	defer a.saved.mu.Unlock()
	if len(a.saved.items) >= maxSaved {
		return nil, badRequest("at most %d queries can be saved", maxSaved)
	}
	a.saved.items = append(a.saved.items, sq)
	if err := a.saved.persist(); err != nil {
		a.saved.items = a.saved.items[:len(a.saved.items)-1]
		return nil, err
	}
	return sq, nil
}

// DELETE /api/v1/saved-queries/{id}
func (a *API) deleteSaved(r *http.Request) (any, error) {
	a.saved.mu.Lock()
	defer a.saved.mu.Unlock()
	i := slices.IndexFunc(a.saved.items, func(s savedQuery) bool { return s.ID == r.PathValue("id") })
	if i < 0 {
		return nil, notFound("saved query not found")
	}
	removed := a.saved.items[i]
	a.saved.items = slices.Delete(a.saved.items, i, i+1)
	if err := a.saved.persist(); err != nil {
		a.saved.items = slices.Insert(a.saved.items, i, removed)
		return nil, err
	}
	return removed, nil
}
