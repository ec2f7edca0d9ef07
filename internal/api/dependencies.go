package api

import (
	"cmp"
	"context"
	"slices"
	"time"

	"lookout/internal/ingest/xray"
	"lookout/internal/store"
)

// graphDependencies are the links of X-Ray's service graph over [start, end): one per caller
// and callee name, counting its calls whatever their response time and outcome, inferred
// callees (remote and AWS nodes) included. Calls into entry points, which have no caller,
// and a service's calls to itself are left out, as Jaeger leaves them out.
func (a *API) graphDependencies(ctx context.Context, start, end time.Time) ([]jaegerDependency, error) {
	calls, err := a.segments.ServiceCalls(ctx, store.ServiceCallQuery{Keys: xray.SegmentKeys(), Start: start, End: end})
	if err != nil {
		return nil, err
	}
	type link struct{ parent, child string }
	counts := map[link]int64{}
	for _, c := range calls {
		if c.Caller.Name != "" && c.Caller.Name != c.Callee.Name {
			counts[link{c.Caller.Name, c.Callee.Name}] += c.Total
		}
	}
	out := make([]jaegerDependency, 0, len(counts))
	for l, n := range counts {
		out = append(out, jaegerDependency{Parent: l.parent, Child: l.child, CallCount: n})
	}
	slices.SortFunc(out, func(x, y jaegerDependency) int {
		return cmp.Or(cmp.Compare(x.Parent, y.Parent), cmp.Compare(x.Child, y.Child))
	})
	return out, nil
}
