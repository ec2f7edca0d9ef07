package storetest

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"lookout/internal/query"
	"lookout/internal/telemetry"
)

// The query tests generate spans and, independently of any store, the Honeycomb events those
// spans stand for (each span, each span event, each link), written out field by field as
// Honeycomb's OTLP mapping describes them. Expected results are computed from these events
// by the plain Go below, never by a store.

// qbase is the start of the query fixture: its spans start within 20 minutes of it.
var qbase = time.Now().Truncate(time.Minute).Add(-40 * time.Minute)

// xevent is an expected event.
type xevent struct {
	ts     time.Time
	w      float64
	trace  string // trace id as Honeycomb shows it
	fields map[string]any
}

type queryFixture struct {
	spans  []telemetry.Span
	events []xevent
	roots  map[string]map[string]any   // trace id → its root span's fields
	traces map[string][]map[string]any // trace id → its spans' fields
}

var (
	fxRoutes   = []string{"/api/activities/home", "/api/messages", "/api/profile/update", "/api/users/{handle}"}
	fxServices = []string{"backend-flask", "db", "cache"}
	// An attribute key of cache spans and its values.
	hostileKey    = `' OR '1'='1`
	hostileValues = []string{`"); DROP TABLE spans; --`, `x\'; SELECT 1; --`, "$1"}
)

// newQueryFixture makes 400 traces in dataset "cruddur" with sample rates 0 (meaning 1), 1,
// 2, 5 and 10,
// and 100 traces in dataset "uniform" whose spans all have sample rate 1.
func newQueryFixture() *queryFixture {
	rng := rand.New(rand.NewPCG(7, 11))
	fx := &queryFixture{roots: map[string]map[string]any{}, traces: map[string][]map[string]any{}}
	resources := map[string]*telemetry.Resource{}
	res := func(service, env string) *telemetry.Resource {
		k := service + "/" + env
		if r := resources[k]; r != nil {
			return r
		}
		r := &telemetry.Resource{Attributes: telemetry.Attributes{
			{Key: "service.name", Value: telemetry.StringValue(service)},
			{Key: "deployment.environment", Value: telemetry.StringValue(env)},
			{Key: "host.cores", Value: telemetry.IntValue(int64(len(service)))},
		}}
		resources[k] = r
		return r
	}
	for t := range 500 {
		dataset, rate := "cruddur", []uint32{0, 1, 2, 5, 10}[rng.IntN(5)] // 0 means 1
		if t >= 400 {
			dataset, rate = "uniform", 1
		}
		var tid telemetry.TraceID
		if t%50 != 7 { // a few trace ids with a zero high half, shown as 16 digits
			tid[0] = byte(1 + t%200)
		}
		tid[8], tid[14], tid[15] = 0xaa, byte(t>>8), byte(t)
		env := []string{"prod", "prod", "staging"}[rng.IntN(3)]
		start := qbase.Add(time.Duration(rng.IntN(20*60*1000)) * time.Millisecond)
		route := fxRoutes[rng.IntN(len(fxRoutes))]
		nspans := 1 + rng.IntN(4)
		for n := range nspans {
			sp := telemetry.Span{
				TraceID:    tid,
				SpanID:     telemetry.SpanIDFromUint64(uint64(t)<<8 | uint64(n+1)),
				SampleRate: rate,
				Ingest:     telemetry.IngestInfo{Protocol: "otlp", Dataset: dataset},
			}
			service := fxServices[0]
			if n > 0 {
				sp.ParentSpanID = telemetry.SpanIDFromUint64(uint64(t)<<8 | 1)
				service = fxServices[1+rng.IntN(2)]
			}
			sp.Resource = res(service, env)
			ms := 1 + rng.ExpFloat64()*40
			if route == "/api/messages" {
				ms *= 3
			}
			sp.StartUnixNano = start.Add(time.Duration(n) * time.Millisecond).UnixNano()
			sp.EndUnixNano = sp.StartUnixNano + int64(ms*1e6)
			if n == 0 {
				sp.Name, sp.Kind = "GET "+route, telemetry.SpanKindServer
				code := []int64{200, 200, 200, 201, 404, 500}[rng.IntN(6)]
				sp.Attributes = telemetry.Attributes{
					{Key: "http.route", Value: telemetry.StringValue(route)},
					{Key: "http.status_code", Value: telemetry.IntValue(code)},
					{Key: "user.handle", Value: telemetry.StringValue(fmt.Sprintf("user%d", rng.IntN(30)))},
					{Key: "app.cache_hit", Value: telemetry.BoolValue(rng.IntN(2) == 0)},
					{Key: "user", Value: telemetry.MapValue( // queried as user.id, user.tier, user.geo.lat
						telemetry.KeyValue{Key: "id", Value: telemetry.StringValue(fmt.Sprintf("u%d", rng.IntN(50)))},
						telemetry.KeyValue{Key: "tier", Value: telemetry.StringValue([]string{"gold", "free", "free"}[rng.IntN(3)])},
						telemetry.KeyValue{Key: "geo", Value: telemetry.MapValue(telemetry.KeyValue{Key: "lat", Value: telemetry.DoubleValue(float64(rng.IntN(180)) - 90.5)})},
					)},
				}
				if code == 500 {
					sp.Status = telemetry.Status{Code: telemetry.StatusError, Message: "internal error"}
					sp.Events = []telemetry.Event{
						{TimeUnixNano: sp.StartUnixNano + 500_000, Name: "log", Attributes: telemetry.Attributes{{Key: "message", Value: telemetry.StringValue("retrying")}}},
						{TimeUnixNano: sp.StartUnixNano + 900_000, Name: "exception", Attributes: telemetry.Attributes{
							{Key: "exception.type", Value: telemetry.StringValue("psycopg.OperationalError")},
							{Key: "exception.message", Value: telemetry.StringValue("connection refused")},
						}},
					}
				}
				if rng.IntN(10) == 0 {
					var other telemetry.TraceID
					other[0], other[15] = 0xcc, byte(t)
					sp.Links = []telemetry.Link{{TraceID: other, SpanID: telemetry.SpanIDFromUint64(99), Attributes: telemetry.Attributes{{Key: "link.reason", Value: telemetry.StringValue("batch")}}}}
				}
			} else {
				sp.Kind = telemetry.SpanKindClient
				if service == "db" {
					sp.Name = "SELECT"
					sp.Attributes = telemetry.Attributes{
						{Key: "db.system", Value: telemetry.StringValue("postgresql")},
						{Key: "db.rows", Value: telemetry.IntValue(int64(rng.IntN(100)))},
						{Key: "app.ratio", Value: telemetry.DoubleValue(float64(rng.IntN(1000)) / 8)},
					}
				} else {
					sp.Name = "GET"
					sp.Attributes = telemetry.Attributes{{Key: "cache.key", Value: telemetry.StringValue("k" + strconv.Itoa(rng.IntN(5)))},
						// Keys and values that would change the SQL if they were ever part of it.
						{Key: hostileKey, Value: telemetry.StringValue(hostileValues[t%len(hostileValues)])}}
				}
			}
			sp.Scope = &telemetry.Scope{Name: "cruddur", Version: "1.0"}
			fx.spans = append(fx.spans, sp)
			fx.addEvents(&sp, dataset)
		}
	}
	return fx
}

func hcTraceID(id telemetry.TraceID) string {
	s := hex.EncodeToString(id[:])
	if strings.HasPrefix(s, "0000000000000000") {
		return s[16:]
	}
	return s
}

func plain(v telemetry.Value) any {
	switch v.Kind() {
	case telemetry.KindString:
		return v.Str()
	case telemetry.KindBool:
		return v.Bool()
	case telemetry.KindInt:
		return v.Int()
	case telemetry.KindDouble:
		return v.Double()
	}
	return v.AsString()
}

// flatten sets a field, maps as one dotted field per value, as Honeycomb does.
func flatten(f map[string]any, key string, v telemetry.Value) {
	if v.Kind() != telemetry.KindMap {
		f[key] = plain(v)
		return
	}
	for _, kv := range v.Map() {
		flatten(f, key+"."+kv.Key, kv.Value)
	}
}

// addEvents writes out the Honeycomb events of one span.
func (fx *queryFixture) addEvents(sp *telemetry.Span, dataset string) {
	trace := hcTraceID(sp.TraceID)
	common := func() map[string]any {
		f := map[string]any{"meta.signal_type": "trace", "trace.trace_id": trace, "meta.dataset": dataset}
		if sp.SampleRate > 1 {
			f["meta.sample_rate"] = int64(sp.SampleRate)
		}
		for _, kv := range sp.Resource.Attributes {
			f[kv.Key] = plain(kv.Value)
		}
		return f
	}
	f := common()
	for _, kv := range sp.Attributes {
		flatten(f, kv.Key, kv.Value)
	}
	f["name"] = sp.Name
	f["trace.span_id"] = sp.SpanID.String()
	if !sp.ParentSpanID.IsZero() {
		f["trace.parent_id"] = sp.ParentSpanID.String()
	}
	f["duration_ms"] = float64(sp.EndUnixNano-sp.StartUnixNano) / 1e6
	f["span.kind"] = sp.Kind.String()
	f["type"] = sp.Kind.String()
	f["status_code"] = int64(sp.Status.Code)
	if sp.Status.Message != "" {
		f["status_message"] = sp.Status.Message
	}
	if sp.Status.Code == telemetry.StatusError {
		f["error"] = true
	}
	f["library.name"] = sp.Scope.Name
	f["library.version"] = sp.Scope.Version
	f["span.num_events"] = int64(len(sp.Events))
	f["span.num_links"] = int64(len(sp.Links))
	for _, e := range sp.Events {
		if e.Name == "exception" {
			for _, kv := range e.Attributes {
				if _, ok := f[kv.Key]; !ok {
					f[kv.Key] = plain(kv.Value)
				}
			}
			break
		}
	}
	w := float64(max(sp.SampleRate, 1))
	fx.events = append(fx.events, xevent{ts: sp.Start(), w: w, trace: trace, fields: f})
	if sp.ParentSpanID.IsZero() {
		fx.roots[trace] = f
	}
	fx.traces[trace] = append(fx.traces[trace], f)
	for _, e := range sp.Events {
		ef := common()
		for _, kv := range e.Attributes {
			ef[kv.Key] = plain(kv.Value)
		}
		ef["name"] = e.Name
		ef["meta.annotation_type"] = "span_event"
		ef["trace.parent_id"] = sp.SpanID.String()
		ef["parent_name"] = sp.Name
		ef["meta.time_since_span_start_ms"] = float64(e.TimeUnixNano-sp.StartUnixNano) / 1e6
		if sp.Status.Code == telemetry.StatusError {
			ef["error"] = true
		}
		fx.events = append(fx.events, xevent{ts: time.Unix(0, e.TimeUnixNano), w: w, trace: trace, fields: ef})
	}
	for _, l := range sp.Links {
		lf := common()
		for _, kv := range l.Attributes {
			lf[kv.Key] = plain(kv.Value)
		}
		lf["meta.annotation_type"] = "link"
		lf["trace.parent_id"] = sp.SpanID.String()
		lf["parent_name"] = sp.Name
		lf["trace.link.trace_id"] = l.TraceID.String()
		lf["trace.link.span_id"] = l.SpanID.String()
		fx.events = append(fx.events, xevent{ts: sp.Start(), w: w, trace: trace, fields: lf})
	}
}

// The expected semantics of filters, as the query tests state them.

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// field is a field of an event; for a relational field (root., any.) the trace's root's, or
// the smallest (by text) of its spans' values.
func (fx *queryFixture) field(e xevent, name string) any {
	if rest, ok := strings.CutPrefix(name, "root."); ok {
		if r := fx.roots[e.trace]; r != nil {
			return r[rest]
		}
		return nil
	}
	if rest, ok := strings.CutPrefix(name, "any."); ok {
		var least any
		for _, sp := range fx.traces[e.trace] {
			if v, ok := sp[rest]; ok && (least == nil || text(v) < text(least)) {
				least = v
			}
		}
		return least
	}
	return e.fields[name]
}

func (fx *queryFixture) matches(e xevent, f query.Filter) bool {
	// A relational filter matches when the trace's root, or any of its spans, matches.
	if rest, ok := strings.CutPrefix(f.Column, "root."); ok {
		f.Column = rest
		root := fx.roots[e.trace]
		return root != nil && fx.matches(xevent{fields: root}, f)
	}
	if rest, ok := strings.CutPrefix(f.Column, "any."); ok {
		f.Column = rest
		for _, sp := range fx.traces[e.trace] {
			if fx.matches(xevent{fields: sp}, f) {
				return true
			}
		}
		return false
	}
	v := e.fields[f.Column]
	equal := func(want any) bool {
		if v == nil {
			return false
		}
		if wn, ok := want.(float64); ok {
			n, ok := number(v)
			return ok && n == wn
		}
		return text(v) == text(want)
	}
	switch f.Op {
	case "exists":
		return v != nil
	case "does-not-exist":
		return v == nil
	case "=":
		return equal(f.Value)
	case "!=":
		return !equal(f.Value)
	case ">", ">=", "<", "<=":
		if v == nil {
			return false
		}
		want, ok := number(f.Value)
		var c int
		if ok {
			n, ok := number(v)
			if !ok {
				return false
			}
			c = cmpFloat(n, want)
		} else {
			c = strings.Compare(text(v), text(f.Value))
		}
		return map[string]bool{">": c > 0, ">=": c >= 0, "<": c < 0, "<=": c <= 0}[f.Op]
	case "starts-with", "does-not-start-with", "ends-with", "does-not-end-with", "contains", "does-not-contain":
		fn := map[string]func(string, string) bool{"start": strings.HasPrefix, "end": strings.HasSuffix, "contain": strings.Contains}
		var ok bool
		for k, g := range fn {
			if strings.Contains(f.Op, k) {
				ok = v != nil && g(text(v), text(f.Value))
			}
		}
		if strings.HasPrefix(f.Op, "does-not") {
			return !ok
		}
		return ok
	case "in", "not-in":
		in := false
		for _, want := range f.Value.([]any) {
			in = in || equal(want)
		}
		return in == (f.Op == "in")
	}
	panic("unknown op " + f.Op)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// selected returns the events of a query's datasets and time range matching its filters.
func (fx *queryFixture) selected(q *query.Query, datasets []string) []xevent {
	var out []xevent
	for _, e := range fx.events {
		if e.ts.Before(q.Start) || !e.ts.Before(q.End) {
			continue
		}
		if datasets != nil && !slices.Contains(datasets, e.fields["meta.dataset"].(string)) {
			continue
		}
		if fx.matchesAll(e, q.Filters, q.Or) {
			out = append(out, e)
		}
	}
	return out
}

// matchesAll reports whether an event matches filters combined with AND, or OR.
func (fx *queryFixture) matchesAll(e xevent, filters []query.Filter, or bool) bool {
	ok := !or || len(filters) == 0
	for _, f := range filters {
		m := fx.matches(e, f)
		if or {
			ok = ok || m
		} else {
			ok = ok && m
		}
	}
	return ok
}

// weightedQuantile is quantile_cont over the values each repeated by its weight.
func weightedQuantile(vals, weights []float64, p float64) float64 {
	var expanded []float64
	for i, v := range vals {
		for range int(weights[i]) {
			expanded = append(expanded, v)
		}
	}
	slices.Sort(expanded)
	h := p * float64(len(expanded)-1)
	lo, hi := expanded[int(math.Floor(h))], expanded[int(math.Ceil(h))]
	return lo + (hi-lo)*(h-math.Floor(h))
}
