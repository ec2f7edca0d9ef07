package duckdb

import (
	"context"
	"errors"
	"testing"
	"time"

	"lookout/internal/query"
	"lookout/internal/telemetry"
)

// FuzzQuery plans and translates queries with arbitrary field names and values, and every
// operator, and runs them: each must either be refused as the user's mistake (an unknown
// field, say) or run without a SQL error.
func FuzzQuery(f *testing.F) {
	ctx := context.Background()
	s, err := Open(ctx, Config{MemoryLimit: "256MB", Threads: 1, Writers: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	now := time.Now()
	var spans []telemetry.Span
	for i := range 100 { // enough for the first keys to get attribute columns
		sp := telemetry.Span{
			TraceID: telemetry.TraceIDFromParts(1, uint64(i/4+1)), SpanID: telemetry.SpanIDFromUint64(uint64(i + 1)),
			Name: "op", StartUnixNano: now.Add(-time.Duration(i) * time.Second).UnixNano(),
			Resource: &telemetry.Resource{Attributes: telemetry.Attributes{{Key: "service.name", Value: telemetry.StringValue("svc")}, {Key: "zone", Value: telemetry.StringValue("z1")}}},
			Attributes: telemetry.Attributes{{Key: "http.route", Value: telemetry.StringValue("/x")}, {Key: "n", Value: telemetry.IntValue(int64(i))},
				{Key: "user", Value: telemetry.MapValue(telemetry.KeyValue{Key: "geo", Value: telemetry.MapValue(telemetry.KeyValue{Key: "lat", Value: telemetry.DoubleValue(float64(i))})})}},
			Events: []telemetry.Event{{TimeUnixNano: now.Add(-time.Duration(i) * time.Second).UnixNano(), Name: "exception", Attributes: telemetry.Attributes{{Key: "exception.message", Value: telemetry.StringValue("boom")}}}},
		}
		if i%2 == 1 {
			sp.ParentSpanID = telemetry.SpanIDFromUint64(uint64(i))
		}
		sp.EndUnixNano = sp.StartUnixNano + int64(i)*1e6
		spans = append(spans, sp)
	}
	if err := s.WriteSpans(ctx, spans); err != nil {
		f.Fatal(err)
	}
	ops := []string{"=", "!=", ">", ">=", "<", "<=", "starts-with", "does-not-start-with", "ends-with", "does-not-end-with",
		"exists", "does-not-exist", "contains", "does-not-contain", "in", "not-in"}
	calcs := []string{"COUNT", "COUNT_DISTINCT", "SUM", "AVG", "MIN", "MAX", "P50", "P999", "HEATMAP", "CONCURRENCY", "RATE_AVG", "RATE_SUM", "RATE_MAX"}
	f.Add("http.route", "/x", uint8(0), uint8(0), 1.5, false)
	f.Add("n", "3", uint8(2), uint8(6), 3.0, true)
	f.Add("root.http.route", "'; DROP TABLE spans; --", uint8(14), uint8(3), 0.0, false)
	f.Add("exception.message", "boom", uint8(0), uint8(8), -1e308, true)
	f.Add("any.zone", "z1", uint8(6), uint8(9), 2.0, false)
	f.Add("user.geo.lat", "1", uint8(3), uint8(4), 1.5, true)
	f.Add("duration", "", uint8(0), uint8(7), 0.0, false)
	f.Fuzz(func(t *testing.T, field, value string, op, calc uint8, num float64, numeric bool) {
		var v any = value
		if numeric {
			v = num
		}
		filter := func(column string) query.Filter {
			fl := query.Filter{Column: column, Op: ops[int(op)%len(ops)], Value: v}
			switch fl.Op {
			case "exists", "does-not-exist":
				fl.Value = nil
			case "in", "not-in":
				fl.Value = []any{v, "other"}
			}
			return fl
		}
		fl := filter(field)
		c := query.Calculation{Op: calcs[int(calc)%len(calcs)]}
		if c.Op != "COUNT" && c.Op != "CONCURRENCY" {
			c.Column = field
		}
		// Arbitrary names are mostly unknown and refused before any SQL: a known field of
		// each kind takes the operator and value too.
		spec := query.Spec{Calculations: []query.Calculation{c, {Op: "COUNT", Filters: []query.Filter{{Column: "n", Op: ">", Value: 5.0}}}},
			Filters: []query.Filter{fl}, Breakdowns: []string{field}, TimeRange: 600, Granularity: 60}
		known := query.Spec{Calculations: []query.Calculation{{Op: "COUNT"}}, Filters: []query.Filter{filter(knownFields[int(calc)%len(knownFields)])},
			Breakdowns: []string{knownFields[int(op)%len(knownFields)]}, TimeRange: 600, Granularity: 60}
		if kq, err := known.Resolve(now); err == nil {
			if _, err := s.RunQuery(ctx, kq, nil); err != nil {
				t.Fatalf("%+v: %v", known, err)
			}
		}
		q, err := spec.Resolve(now)
		var qe *query.Error
		if err != nil {
			if !errors.As(err, &qe) {
				t.Fatalf("resolve: %T %v", err, err)
			}
			return
		}
		// The user's mistakes are *query.Error; anything else is lookout's.
		refused := func(err error) bool { return errors.As(err, &qe) }
		if _, err := s.RunQuery(ctx, q, nil); err != nil && !refused(err) {
			t.Fatalf("%+v: %v", spec, err)
		}
		if _, err := s.RunQuery(ctx, q, []string{value}); err != nil && !refused(err) {
			t.Fatalf("dataset %q: %v", value, err)
		}
		if _, err := s.Events(ctx, q, nil, 3); err != nil && !refused(err) {
			t.Fatalf("events: %v", err)
		}
		if p, _ := query.Relation(field); p == "" {
			_, err := s.BubbleUp(ctx, &query.Query{Spec: query.Spec{}, Start: q.Start, End: q.End, Granularity: q.Granularity, Limit: 10}, nil, query.Selection{Filters: []query.Filter{fl}})
			if err != nil && !refused(err) {
				t.Fatalf("bubbleup: %v", err)
			}
		}
	})
}

// knownFields are fields of each kind that FuzzQuery's spans have.
var knownFields = []string{"http.route", "n", "zone", "root.http.route", "any.zone", "exception.message", "user.geo.lat",
	"duration_ms", "error", "status_message", "meta.annotation_type", "trace.trace_id", "meta.time_since_span_start_ms", "service_name"}

// A breakdown with more groups than query.MaxGroups is refused as the user's to narrow,
// rather than held in memory.
func TestTooManyGroups(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{MemoryLimit: "256MB", Writers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	spans := make([]telemetry.Span, query.MaxGroups+1)
	res := &telemetry.Resource{Attributes: telemetry.Attributes{{Key: "service.name", Value: telemetry.StringValue("svc")}}}
	for i := range spans {
		spans[i] = telemetry.Span{TraceID: telemetry.TraceIDFromParts(1, uint64(i/10+1)), SpanID: telemetry.SpanIDFromUint64(uint64(i + 1)),
			Name: "op", StartUnixNano: now.Add(-time.Minute).UnixNano(), EndUnixNano: now.Add(-time.Minute).UnixNano() + 1000, Resource: res}
	}
	if err := s.WriteSpans(ctx, spans); err != nil {
		t.Fatal(err)
	}
	for by, refused := range map[string]bool{"trace.span_id": true, "trace.trace_id": false} {
		q, err := query.Spec{Breakdowns: []string{by}, TimeRange: 600}.Resolve(now)
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.RunQuery(ctx, q, nil)
		var qe *query.Error
		if refused != errors.As(err, &qe) {
			t.Fatalf("by %s: %v", by, err)
		}
		if !refused && (len(res.Results) != query.DefaultLimit || len(res.Series) != query.DefaultLimit) {
			t.Errorf("by %s: %d results, %d series rows; want the top %d of each", by, len(res.Results), len(res.Series), query.DefaultLimit)
		}
	}
}
