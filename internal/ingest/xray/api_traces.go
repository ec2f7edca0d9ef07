package xray

import (
	"context"
	"errors"

	"lookout/internal/aws"
	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// maxBatchTraces is X-Ray's limit of trace ids per BatchGetTraces call.
const maxBatchTraces = 5

// parseAnyTraceID reads a trace id in X-Ray's form, or OpenTelemetry's 32 hex digits.
func parseAnyTraceID(s string) (telemetry.TraceID, bool) {
	if id, err := ParseTraceID(s); err == nil {
		return id, true
	}
	if len(s) == 32 {
		if id, err := telemetry.ParseTraceID(s); err == nil && !id.IsZero() {
			return id, true
		}
	}
	return telemetry.TraceID{}, false
}

// BatchGetTraces returns the segment documents of up to five traces, whichever client sent
// their spans, and the segments X-Ray infers for their calls out.
func (a *API) batchGetTraces(ctx context.Context, body []byte) (any, *aws.Error) {
	var req struct {
		TraceIds []string
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if len(req.TraceIds) > maxBatchTraces {
		return nil, invalid("Exceeding maximum query size: %d", maxBatchTraces)
	}
	type trace struct {
		Id            string
		Duration      float64
		LimitExceeded bool
		Segments      []SegmentDocument
	}
	traces, unprocessed := []trace{}, []string{}
	for _, text := range req.TraceIds {
		id, ok := parseAnyTraceID(text)
		if !ok {
			unprocessed = append(unprocessed, text)
			continue
		}
		spans, err := a.cfg.Traces.Trace(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			unprocessed = append(unprocessed, text)
			continue
		}
		if err != nil {
			return nil, internal(err)
		}
		start, end := spans[0].StartUnixNano, spans[0].EndUnixNano
		for i := range spans {
			start, end = min(start, spans[i].StartUnixNano), max(end, spans[i].EndUnixNano)
		}
		traces = append(traces, trace{Id: FormatTraceID(id), Duration: float64(end-start) / 1e9, Segments: append(Segments(spans), inferredSegments(id, spans)...)})
	}
	return map[string]any{"Traces": traces, "UnprocessedTraceIds": unprocessed}, nil
}
