package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"lookout/internal/query"
	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// Honeycomb serves the parts of Honeycomb's REST API that let its tools discover what exists:
// datasets and their columns. It is mounted on the --http port, where Honeycomb's clients send.
// Responses and errors take Honeycomb's shapes ({"error": "..."}), not Jaeger's envelope.
type Honeycomb struct {
	reader  HoneycombReader
	log     *slog.Logger
	uiURL   func(r *http.Request) string
	queries kept[hcQuery]
	results kept[hcQueryResult]
}

// HoneycombReader is what the Honeycomb API reads: datasets and their events.
type HoneycombReader interface {
	store.DatasetReader
	store.QueryRunner
}

// NewHoneycomb returns the Honeycomb API reading from reader.
// uiURL gives the web UI's base URL (no trailing slash) as the client of a request reaches
// it, for the links results carry.
func NewHoneycomb(reader HoneycombReader, logger *slog.Logger, uiURL func(r *http.Request) string) *Honeycomb {
	if logger == nil {
		logger = slog.Default()
	}
	return &Honeycomb{reader: reader, log: logger, uiURL: uiURL}
}

// Register adds the routes to mux, each wrapped in guard (the server's checks for what a
// browser may ask).
func (h *Honeycomb) Register(mux *http.ServeMux, guard func(http.Handler) http.Handler) {
	for pattern, fn := range map[string]http.HandlerFunc{
		"GET /1/datasets":                     h.datasets,
		"GET /1/datasets/{dataset}":           h.dataset,
		"GET /1/columns/{dataset}":            h.columns,
		"POST /1/queries/{dataset}":           h.createQuery,
		"GET /1/queries/{dataset}/{id}":       h.getQuery,
		"POST /1/query_results/{dataset}":     h.createQueryResult,
		"GET /1/query_results/{dataset}/{id}": h.getQueryResult,
	} {
		mux.Handle(pattern, guard(fn))
	}
}

// hcDataset is a dataset as Honeycomb's API describes it.
type hcDataset struct {
	Name            string `json:"name"`
	Slug            string `json:"slug"`
	Description     string `json:"description"`
	ExpandJSONDepth int    `json:"expand_json_depth"`
	CreatedAt       string `json:"created_at"`
	LastWrittenAt   string `json:"last_written_at"`
}

// hcColumn is a column as Honeycomb's API describes it.
type hcColumn struct {
	ID          string `json:"id"`
	KeyName     string `json:"key_name"`
	Type        string `json:"type"`
	Description string `json:"description"`
	Hidden      bool   `json:"hidden"`
	LastWritten string `json:"last_written"`
	CreatedAt   string `json:"created_at"`
	UpdatedAt   string `json:"updated_at"`
}

// standardColumns are the standard fields of Honeycomb's events (query.StandardFields), which
// every dataset lists before its attributes.
var standardColumns = func() []store.Column {
	var cols []store.Column
	for _, f := range query.StandardFields() {
		cols = append(cols, store.Column{Name: f.Name, Kind: f.Type})
	}
	return cols
}()

// Slug is the URL form Honeycomb gives a dataset name: lower case, every character other than
// a letter or digit replaced by "-".
func Slug(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

func (h *Honeycomb) authorized(w http.ResponseWriter, r *http.Request) bool {
	if strings.TrimSpace(r.Header.Get("X-Honeycomb-Team")) == "" {
		hcError(w, http.StatusUnauthorized, "unknown API key - check your credentials")
		return false
	}
	return true
}

func (h *Honeycomb) datasets(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(w, r) {
		return
	}
	all, err := h.reader.Datasets(r.Context())
	if err != nil {
		h.internal(w, err)
		return
	}
	out := make([]hcDataset, len(all))
	for i, d := range all {
		out[i] = toHCDataset(d)
	}
	hcJSON(w, out)
}

func (h *Honeycomb) dataset(w http.ResponseWriter, r *http.Request) {
	if d, ok := h.lookup(w, r); ok {
		hcJSON(w, toHCDataset(d))
	}
}

func (h *Honeycomb) columns(w http.ResponseWriter, r *http.Request) {
	d, ok := h.lookup(w, r)
	if !ok {
		return
	}
	stored, err := h.reader.Columns(r.Context(), d.Name)
	if err != nil {
		h.internal(w, err)
		return
	}
	seen := map[string]bool{}
	var out []hcColumn
	for _, c := range append(append([]store.Column{}, standardColumns...), stored...) {
		if seen[c.Name] {
			continue
		}
		seen[c.Name] = true
		sum := sha256.Sum256([]byte(d.Name + "\x00" + c.Name))
		written := d.LastWritten.UTC().Format(time.RFC3339)
		out = append(out, hcColumn{ID: hex.EncodeToString(sum[:6]), KeyName: c.Name, Type: columnType(c.Kind),
			LastWritten: written, CreatedAt: written, UpdatedAt: written})
	}
	hcJSON(w, out)
}

// lookup checks the key and resolves the {dataset} of a path by name or slug, ignoring case
// as Honeycomb does. When it reports false it has answered the request.
func (h *Honeycomb) lookup(w http.ResponseWriter, r *http.Request) (store.Dataset, bool) {
	if !h.authorized(w, r) {
		return store.Dataset{}, false
	}
	want := r.PathValue("dataset")
	all, err := h.reader.Datasets(r.Context())
	if err != nil {
		h.internal(w, err)
		return store.Dataset{}, false
	}
	for _, d := range all {
		if strings.EqualFold(d.Name, want) || Slug(d.Name) == strings.ToLower(want) {
			return d, true
		}
	}
	hcError(w, http.StatusNotFound, "dataset not found")
	return store.Dataset{}, false
}

func toHCDataset(d store.Dataset) hcDataset {
	written := d.LastWritten.UTC().Format(time.RFC3339)
	return hcDataset{Name: d.Name, Slug: Slug(d.Name), CreatedAt: written, LastWrittenAt: written}
}

// columnType is Honeycomb's name for the type of a column's values.
func columnType(k telemetry.ValueKind) string {
	switch k {
	case telemetry.KindInt:
		return "integer"
	case telemetry.KindDouble:
		return "float"
	case telemetry.KindBool:
		return "boolean"
	}
	return "string"
}

func (h *Honeycomb) internal(w http.ResponseWriter, err error) {
	h.log.Error("honeycomb api: store failed", "err", err)
	hcError(w, http.StatusInternalServerError, "internal error")
}

func hcError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func hcJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
