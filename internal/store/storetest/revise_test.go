package storetest

import (
	"testing"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

func TestSupersedes(t *testing.T) {
	inProgress, complete, unknown := versions()
	unknownInProgress := inProgress
	unknownInProgress.Resource = &telemetry.Resource{}
	cases := []struct {
		span, stored telemetry.Span
		want         bool
	}{
		{complete, inProgress, true},
		{inProgress, complete, false},
		{complete, complete, false},
		{complete, unknown, true},
		{unknown, complete, false},
		{complete, unknownInProgress, true},
		{unknown, inProgress, false}, // less complete in its service
		{inProgress, unknown, false}, // less complete in its end
		{inProgress, unknownInProgress, true},
	}
	for i, c := range cases {
		if got := store.Supersedes(&c.span, c.stored.InProgress, c.stored.Service()); got != c.want {
			t.Errorf("case %d: Supersedes = %v, want %v", i, got, c.want)
		}
	}
}
