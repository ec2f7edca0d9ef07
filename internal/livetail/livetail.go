// Package livetail hands log records, as soon as they are acknowledged, to the sessions
// watching for them (CloudWatch Logs' StartLiveTail and the UI's live view). A session that
// reads too slowly loses its oldest records, never slows ingest down: it learns how many it
// lost.
package livetail

import (
	"context"
	"sync"

	"lookout/internal/ingest"
	"lookout/internal/telemetry"
)

// MaxBuffered is how many records a session holds for a slow reader, as CloudWatch Logs
// buffers at most 5,000 events.
const MaxBuffered = 5000

// Hub fans acknowledged records out to sessions. The zero Hub is ready to use. As a server
// component it ends every session at Shutdown, so that streaming answers do not hold the
// listeners open.
type Hub struct {
	mu       sync.Mutex
	sessions map[*Session]struct{}
	closed   bool
}

// Start does nothing: a Hub is ready at once.
func (h *Hub) Start(context.Context) error { return nil }

// Shutdown ends every session (their Done channels close) and every later one at once.
func (h *Hub) Shutdown(context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.sessions {
		close(s.done)
		delete(h.sessions, s)
	}
	return nil
}

// Tee returns a sink that writes to s and, once s has acknowledged the records, hands them
// to the sessions whose filter they pass.
func (h *Hub) Tee(s ingest.Sink[telemetry.LogRecord]) ingest.Sink[telemetry.LogRecord] {
	return tee{s, h}
}

type tee struct {
	ingest.Sink[telemetry.LogRecord]
	hub *Hub
}

func (t tee) Write(ctx context.Context, records []telemetry.LogRecord) error {
	if err := t.Sink.Write(ctx, records); err != nil {
		return err
	}
	t.hub.publish(records)
	return nil
}

func (h *Hub) publish(records []telemetry.LogRecord) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.sessions {
		s.offer(records)
	}
}

// Watch opens a session that receives the records for which match returns true (it is
// called on the ingest path: it must be quick). Close the session when done.
func (h *Hub) Watch(match func(*telemetry.LogRecord) bool) *Session {
	s := &Session{hub: h, match: match, ready: make(chan struct{}, 1), done: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(s.done)
		return s
	}
	if h.sessions == nil {
		h.sessions = map[*Session]struct{}{}
	}
	h.sessions[s] = struct{}{}
	return s
}

// Session is one watcher's buffer of records.
type Session struct {
	hub   *Hub
	match func(*telemetry.LogRecord) bool
	ready chan struct{}
	done  chan struct{}

	mu      sync.Mutex
	pending []telemetry.LogRecord
	dropped int
}

func (s *Session) offer(records []telemetry.LogRecord) {
	s.mu.Lock()
	added := false
	for i := range records {
		if s.match(&records[i]) {
			s.pending = append(s.pending, records[i])
			added = true
		}
	}
	if over := len(s.pending) - MaxBuffered; over > 0 {
		s.pending = append(s.pending[:0], s.pending[over:]...)
		s.dropped += over
	}
	s.mu.Unlock()
	if added {
		select {
		case s.ready <- struct{}{}:
		default:
		}
	}
}

// Ready is signalled when records arrive after the last Take.
func (s *Session) Ready() <-chan struct{} { return s.ready }

// Take returns the records that arrived since the last Take, in arrival order, and how many
// were dropped because the buffer was full.
func (s *Session) Take() (records []telemetry.LogRecord, dropped int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	records, dropped = s.pending, s.dropped
	s.pending, s.dropped = nil, 0
	return records, dropped
}

// Done is closed when the hub shuts down.
func (s *Session) Done() <-chan struct{} { return s.done }

// Close ends the session.
func (s *Session) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	if _, ok := s.hub.sessions[s]; ok {
		delete(s.hub.sessions, s)
		close(s.done)
	}
}
