package server

import (
	"context"
	"time"

	"lookout/internal/ingest/xray"
	"lookout/internal/store"
)

// graphAhead is how far back the service graph's minutes are counted ahead of any graph: the
// UI's default range, and a little more.
const graphAhead = 90 * time.Minute

// countServiceGraph counts the service graph's calls of the minutes that settled (every
// minute, in the background), so that the X-Ray service map and Jaeger's dependencies read
// counts kept in the store rather than the spans of their range.
func (s *Server) countServiceGraph(ctx context.Context, r store.SegmentReader) {
	if err := r.CountServiceCalls(ctx, xray.SegmentKeys(), time.Now().Add(-graphAhead)); err != nil && ctx.Err() == nil {
		s.log.Warn("counting the service graph ahead failed", "err", err)
	}
}
