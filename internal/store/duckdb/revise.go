package duckdb

import (
	"context"
	"database/sql/driver"
	"fmt"
	"math"

	duckdbdriver "github.com/duckdb/duckdb-go/v2"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// ReviseSpans implements store.SpanReviser: WriteSpans that deletes a stored version a
// span supersedes, in the transaction that stores the new one.
func (s *Store) ReviseSpans(ctx context.Context, spans []telemetry.Span) error {
	return s.writeSpans(ctx, spans, true)
}

// mostCompleteSpans keeps one version of each (trace id, span id) of a batch: the first that
// no later one supersedes. A batch without repeats, the usual one, is returned as it is.
func mostCompleteSpans(spans []telemetry.Span) []telemetry.Span {
	index := make(map[spanKey]int, len(spans))
	var out []telemetry.Span // nil until the first repeat, while every span so far is kept
	for i := range spans {
		key := spanKey{spans[i].TraceID, spans[i].SpanID}
		j, seen := index[key]
		switch {
		case !seen && out == nil:
			index[key] = i
		case !seen:
			index[key] = len(out)
			out = append(out, spans[i])
		default:
			if out == nil {
				out = append(make([]telemetry.Span, 0, len(spans)), spans[:i]...)
			}
			if store.Supersedes(&spans[i], out[j].InProgress, out[j].Service()) {
				out[j] = spans[i]
			}
		}
	}
	if out == nil {
		return spans
	}
	return out
}

// deleteSpans deletes the stored versions of spans (with their events and links) within the
// writer's open transaction. Their start times, which versions share, bound the search.
func (w *writer) deleteSpans(ctx context.Context, keys []spanKey, spans []telemetry.Span) error {
	if len(keys) == 0 {
		return nil
	}
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for i := range spans {
		lo, hi = min(lo, spans[i].StartUnixNano), max(hi, spans[i].StartUnixNano)
	}
	err := w.conn.Raw(func(dc any) error {
		return appendRows(dc.(driver.Conn), "temp", "batch_spans", nil, len(keys), func(app *duckdbdriver.Appender, i int) error {
			return app.AppendRow(int64(keys[i].trace.High()), int64(keys[i].trace.Low()), int64(keys[i].span.Uint64()))
		})
	})
	if err != nil {
		return fmt.Errorf("stage replaced spans: %w", err)
	}
	for _, stmt := range sqlFile("delete_spans") {
		if _, err := w.conn.ExecContext(ctx, stmt, lo, hi); err != nil {
			return fmt.Errorf("delete replaced spans: %w", err)
		}
	}
	_, err = w.conn.ExecContext(ctx, "DELETE FROM batch_spans")
	return err
}
