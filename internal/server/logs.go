package server

import (
	"context"
	"time"

	"lookout/internal/store"
)

// expireLogs removes the log records older than their group's retention, at start and then
// every RetentionEvery, as CloudWatch Logs deletes expired events. (PutLogEvents refuses
// expired events, but OTLP records and time passing still make some.)
func (s *Server) expireLogs(ctx context.Context, c store.LogCatalogue) {
	if n, err := c.ExpireLogs(ctx, time.Now()); err != nil {
		if ctx.Err() == nil {
			s.log.Error("log group retention failed", "err", err)
		}
	} else if n > 0 {
		s.log.Info("log group retention removed expired records", "records", n)
	}
}
