package server

import (
	"context"
	"fmt"
	"time"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// lookaround is how far from a span its parent is looked for.
const lookaround = 10 * time.Minute

// missingParentsAudit returns the task that looks, every cfg.AuditEvery, for spans whose
// parent never arrived among those that ended before cfg.ParentWait ago (a parent may
// arrive that much after its child, as a parent span ends and is sent after its children),
// and notes them on the sources page. Each run looks from where the last one that succeeded
// stopped, so a span stored more than cfg.ParentWait after it ended is never looked at.
func (s *Server) missingParentsAudit(r store.TraceReader) func(ctx context.Context) {
	from := time.Now().Add(-s.cfg.ParentWait - s.cfg.AuditEvery)
	return func(ctx context.Context) {
		to := time.Now().Add(-s.cfg.ParentWait)
		found, err := r.MissingParents(ctx, from, to, lookaround)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("looking for spans without parents failed", "err", err)
			}
			return
		}
		from = to
		for _, m := range found {
			s.sources.Note("missing-parents", m.Service, missingParentsMessage(m), m.Example.String())
		}
	}
}

func missingParentsMessage(m store.MissingParents) string {
	if m.Service == "" || m.Service == telemetry.UnknownService {
		return fmt.Sprintf("%d X-Ray %s (such as %q) arrived, but never the segment %s: a segment begun and "+
			"never ended (an X-Ray SDK sends a segment only when it ends). Look for a begin_segment or BeginSegment "+
			"without its end, or a second one that replaced the first.",
			m.Spans, plural(m.Spans, "subsegment", "subsegments"), m.ExampleName, plural(m.Spans, "it belongs to", "they belong to"))
	}
	return fmt.Sprintf("%d %s of service %s (such as %q) arrived, but never the parent span %s: a parent "+
		"left open (an X-Ray segment begun and never ended), never sent, or sent elsewhere. Traces show such spans at their top level.",
		m.Spans, plural(m.Spans, "span", "spans"), m.Service, m.ExampleName, plural(m.Spans, "it names", "they name"))
}

// plural is one for a count of 1, else many: words that agree with the count.
func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
