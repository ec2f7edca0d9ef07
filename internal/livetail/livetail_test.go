package livetail

import (
	"context"
	"errors"
	"testing"

	"lookout/internal/telemetry"
)

type sink struct{ err error }

func (s sink) Write(context.Context, []telemetry.LogRecord) error { return s.err }
func (sink) Rejected(int)                                         {}

func records(group string, n int) []telemetry.LogRecord {
	rs := make([]telemetry.LogRecord, n)
	for i := range rs {
		rs[i] = telemetry.LogRecord{Group: group, ID: uint64(i)}
	}
	return rs
}

func TestSessionsSeeWhatIsAcknowledged(t *testing.T) {
	var hub Hub
	ctx := context.Background()
	a := hub.Watch(func(r *telemetry.LogRecord) bool { return r.Group == "a" })
	defer a.Close()
	if err := hub.Tee(sink{}).Write(ctx, append(records("a", 2), records("b", 1)...)); err != nil {
		t.Fatal(err)
	}
	if err := hub.Tee(sink{errors.New("full")}).Write(ctx, records("a", 1)); err == nil {
		t.Fatal("the sink's error was lost")
	}
	select {
	case <-a.Ready():
	default:
		t.Fatal("not signalled")
	}
	got, dropped := a.Take()
	if len(got) != 2 || got[0].ID != 0 || got[1].ID != 1 || dropped != 0 {
		t.Errorf("took %+v, dropped %d; want the two acknowledged records of a", got, dropped)
	}

	// A slow reader keeps the newest MaxBuffered records.
	hub.Tee(sink{}).Write(ctx, records("a", MaxBuffered+7))
	got, dropped = a.Take()
	if len(got) != MaxBuffered || dropped != 7 || got[0].ID != 7 {
		t.Errorf("took %d from %d, dropped %d", len(got), got[0].ID, dropped)
	}

	hub.Shutdown(ctx)
	select {
	case <-a.Done():
	default:
		t.Error("session not ended by Shutdown")
	}
	if s := hub.Watch(func(*telemetry.LogRecord) bool { return true }); s.Done() == nil {
		t.Error("nil Done")
	} else {
		<-s.Done() // sessions opened after Shutdown end at once
		s.Close()
	}
}
