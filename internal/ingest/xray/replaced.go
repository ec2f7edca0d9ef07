package xray

import (
	"sync"

	"lookout/internal/telemetry"
)

// endedSegments remembers when recently ended segments began and ended, by trace and id, so
// that a second, different segment with the same id is noticed: an SDK that reused an id, or
// a program that began a segment again before it ended the first. The store keeps the later
// one; people should know the earlier is gone. An in-progress document and the same segment
// sent again are not replacements.
type endedSegments struct {
	mu            sync.Mutex
	cur, previous map[entityKey][2]int64 // two generations of at most knownEntities
}

// replaced records a segment that ended and returns the times of the different segment with
// its id that it replaces, if one was seen.
func (e *endedSegments) replaced(sp *telemetry.Span) (earlier [2]int64, ok bool) {
	if sp.InProgress {
		return earlier, false
	}
	key, times := entityKey{sp.TraceID, sp.SpanID}, [2]int64{sp.StartUnixNano, sp.EndUnixNano}
	e.mu.Lock()
	defer e.mu.Unlock()
	earlier, ok = e.cur[key]
	if !ok {
		earlier, ok = e.previous[key]
	}
	if len(e.cur) >= knownEntities || e.cur == nil {
		e.previous, e.cur = e.cur, make(map[entityKey][2]int64, knownEntities/4)
	}
	e.cur[key] = times
	return earlier, ok && earlier != times
}
