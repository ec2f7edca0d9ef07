package otlp

import (
	"context"
	"time"

	"lookout/internal/ingest"
)

// gate bounds how many requests decode at once, over both transports. Decoding is CPU work
// that holds memory proportional to the request; more requests decoding than there are cores
// to decode them would only hold more memory for longer.
type gate struct {
	slots chan struct{}
	wait  time.Duration // how long a request may wait for a slot
}

// gateWait rides out a burst: decoding a typical request takes well under a millisecond.
const gateWait = 100 * time.Millisecond

// gateRetry is how long a sender turned away at the gate is asked to wait.
const gateRetry = time.Second

func newGate(n int) *gate {
	return &gate{slots: make(chan struct{}, n), wait: gateWait}
}

// enter takes a slot, waiting a little for one. Without one it returns an
// *ingest.OverloadedError, or ctx's error if the request ends first.
func (g *gate) enter(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err // nobody is waiting for the answer
	}
	select {
	case g.slots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return &ingest.OverloadedError{RetryAfter: gateRetry}
	}
}

func (g *gate) leave() { <-g.slots }
