package api

import (
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// Query parameters, as Jaeger's query service and UI name them.
const (
	paramService     = "service"
	paramOperation   = "operation"
	paramSpanKind    = "spanKind"
	paramTags        = "tags"
	paramTag         = "tag"
	paramMinDuration = "minDuration"
	paramMaxDuration = "maxDuration"
	paramStart       = "start"
	paramEnd         = "end"
	paramLookback    = "lookback"
	paramLimit       = "limit"
	paramTraceID     = "traceID"
	paramEndTs       = "endTs"
)

// defaultDependencyLookback is the window of /api/dependencies without a lookback, as in Jaeger.
const defaultDependencyLookback = 24 * time.Hour

// maxMicros is the largest unix-microsecond time whose nanosecond form fits an int64 (2262).
const maxMicros = math.MaxInt64 / int64(time.Microsecond)

// traceSearch is a parsed /api/traces request: either a query, or trace ids to fetch as
// they are (Jaeger UI's ?traceID=a&traceID=b, which ignores the other parameters).
type traceSearch struct {
	query    store.TraceQuery
	traceIDs []telemetry.TraceID
}

// parseTraceSearch reads the parameters of /api/traces. Every parameter is checked, even
// when traceID makes the others moot, so a malformed request fails the same way every time.
// Without start, end or lookback the time range is unbounded: the store returns the newest
// matching traces.
func parseTraceSearch(q url.Values, now time.Time) (traceSearch, error) {
	var ts traceSearch
	ts.query.Service = q.Get(paramService)
	ts.query.Operation = q.Get(paramOperation)

	var err error
	if ts.query.Attributes, err = parseTags(q[paramTag], q[paramTags]); err != nil {
		return ts, err
	}
	if ts.query.MinDuration, err = durationParam(q, paramMinDuration); err != nil {
		return ts, err
	}
	if ts.query.MaxDuration, err = durationParam(q, paramMaxDuration); err != nil {
		return ts, err
	}
	if ts.query.MinDuration != 0 && ts.query.MaxDuration != 0 && ts.query.MaxDuration < ts.query.MinDuration {
		return ts, badRequest("%s must not be less than %s", paramMaxDuration, paramMinDuration)
	}
	if ts.query.Start, ts.query.End, err = parseTimeRange(q, now); err != nil {
		return ts, err
	}
	if ts.query.Limit, err = parseLimit(q.Get(paramLimit)); err != nil {
		return ts, err
	}
	if ts.traceIDs, err = parseTraceIDs(q[paramTraceID]); err != nil {
		return ts, err
	}
	return ts, nil
}

// parseTimeRange reads start and end (unix microseconds) and lookback. An explicit start or
// end wins; lookback counts back from end, or from now without one. Jaeger UI sends all three,
// with lookback=custom when the user picked the range by hand.
func parseTimeRange(q url.Values, now time.Time) (start, end time.Time, err error) {
	if start, err = microsParam(q, paramStart); err != nil {
		return
	}
	if end, err = microsParam(q, paramEnd); err != nil {
		return
	}
	if lb := q.Get(paramLookback); lb != "" && lb != "custom" {
		d, perr := parseDuration(lb)
		if perr != nil {
			return time.Time{}, time.Time{}, badRequest("invalid %s %s: %v", paramLookback, quote(lb), perr)
		}
		if d == 0 {
			return time.Time{}, time.Time{}, badRequest("%s must be positive", paramLookback)
		}
		if start.IsZero() {
			from := end
			if from.IsZero() {
				from = now
			}
			start = from.Add(-d)
		}
	}
	if !start.IsZero() && !end.IsZero() && end.Before(start) {
		return time.Time{}, time.Time{}, badRequest("%s must not be before %s", paramEnd, paramStart)
	}
	return start, end, nil
}

// microsParam reads a time given in unix microseconds; absent means the zero time.
func microsParam(q url.Values, name string) (time.Time, error) {
	s := q.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > maxMicros {
		return time.Time{}, badRequest("invalid %s %s: want unix microseconds", name, quote(s))
	}
	return time.UnixMicro(v), nil
}

// millisParam reads a time given in unix milliseconds; absent means def.
func millisParam(q url.Values, name string, def time.Time) (time.Time, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > maxMicros/1000 {
		return time.Time{}, badRequest("invalid %s %s: want unix milliseconds", name, quote(s))
	}
	return time.UnixMilli(v), nil
}

// durationParam reads a duration parameter; absent means 0.
func durationParam(q url.Values, name string) (time.Duration, error) {
	s := q.Get(name)
	if s == "" {
		return 0, nil
	}
	d, err := parseDuration(s)
	if err != nil {
		return 0, badRequest("invalid %s %s: %v", name, quote(s), err)
	}
	return d, nil
}

// durationUnits are the units parseDuration accepts beyond Go's: days and weeks, which
// Jaeger UI's lookback uses ("2d").
var durationUnits = map[string]time.Duration{
	"d": 24 * time.Hour,
	"w": 7 * 24 * time.Hour,
}

var (
	errNegative     = errors.New("must not be negative")
	errBadDuration  = errors.New(`want a duration such as "1.2s", "100ms", "50us", "1h" or "2d"`)
	errLongDuration = errors.New("too long")
)

// parseDuration reads a non-negative duration: Go's syntax ("1h30m", "1.2s", "100ms", "50us",
// "50µs") plus the units d (24h) and w (7d), which may be mixed ("1d12h").
func parseDuration(s string) (time.Duration, error) {
	if strings.HasPrefix(s, "-") {
		return 0, errNegative
	}
	if s == "" || strings.HasPrefix(s, "+") {
		return 0, errBadDuration
	}
	if s == "0" {
		return 0, nil
	}
	var total time.Duration
	for rest := s; rest != ""; {
		// One component: a decimal number then a unit.
		i := 0
		for i < len(rest) && (rest[i] == '.' || rest[i] >= '0' && rest[i] <= '9') {
			i++
		}
		j := i
		for j < len(rest) && rest[j] != '.' && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		num, unit := rest[:i], rest[i:j]
		rest = rest[j:]
		if num == "" || unit == "" {
			return 0, errBadDuration
		}
		var d time.Duration
		if u, ok := durationUnits[unit]; ok {
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, errBadDuration
			}
			fd := f * float64(u)
			if fd >= math.MaxInt64 {
				return 0, errLongDuration
			}
			d = time.Duration(fd)
		} else {
			var err error
			if d, err = time.ParseDuration(num + unit); err != nil {
				return 0, errBadDuration // includes overflow, which Go reports the same way
			}
		}
		if total > math.MaxInt64-d {
			return 0, errLongDuration
		}
		total += d
	}
	return total, nil
}

// parseLimit reads limit: absent or 0 means store.DefaultLimit; above store.MaxLimit it is
// capped, as a client asking for "everything" should get as much as we give.
func parseLimit(s string) (int, error) {
	if s == "" {
		return store.DefaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, badRequest("invalid %s %s: want a non-negative integer", paramLimit, quote(s))
	}
	switch {
	case n == 0:
		return store.DefaultLimit, nil
	case n > store.MaxLimit:
		return store.MaxLimit, nil
	}
	return n, nil
}

// parseTags merges Jaeger UI's repeated tag=key:value parameters and Grafana's tags={JSON
// object of strings}. A key given twice must have one value: a span cannot match both.
func parseTags(simple, jsonMaps []string) (map[string]string, error) {
	tags := map[string]string{}
	add := func(k, v string) error {
		if k == "" {
			return badRequest("tag keys must not be empty")
		}
		if old, ok := tags[k]; ok && old != v {
			return badRequest("tag %s is given twice with different values", quote(k))
		}
		tags[k] = v
		return nil
	}
	for _, kv := range simple {
		k, v, ok := strings.Cut(kv, ":")
		if !ok {
			return nil, badRequest("invalid %s %s: want key:value", paramTag, quote(kv))
		}
		if err := add(k, v); err != nil {
			return nil, err
		}
	}
	for _, js := range jsonMaps {
		if js == "" {
			continue
		}
		var m map[string]string
		if err := json.Unmarshal([]byte(js), &m); err != nil || m == nil {
			return nil, badRequest("invalid %s: want a JSON object of strings, such as {\"http.status_code\":\"500\"}", paramTags)
		}
		for k, v := range m {
			if err := add(k, v); err != nil {
				return nil, err
			}
		}
	}
	if len(tags) == 0 {
		return nil, nil
	}
	return tags, nil
}

// parseTraceIDs reads repeated traceID parameters, dropping duplicates.
func parseTraceIDs(ss []string) ([]telemetry.TraceID, error) {
	if len(ss) > store.MaxLimit {
		return nil, badRequest("at most %d %s parameters are allowed", store.MaxLimit, paramTraceID)
	}
	var ids []telemetry.TraceID
	seen := make(map[telemetry.TraceID]bool, len(ss))
	for _, s := range ss {
		id, err := parseTraceID(s)
		if err != nil {
			return nil, err
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// parseTraceID reads a trace id of up to 32 hex digits; the all-zero id is invalid.
func parseTraceID(s string) (telemetry.TraceID, error) {
	id, err := telemetry.ParseTraceID(s)
	if err != nil || id.IsZero() {
		return telemetry.TraceID{}, badRequest("invalid trace id %s: want 1 to 32 hex digits, not all zero", quote(s))
	}
	return id, nil
}

// parseSpanKind reads Jaeger's spanKind filter; "" means any kind.
func parseSpanKind(s string) (kind telemetry.SpanKind, all bool, err error) {
	if s == "" {
		return 0, true, nil
	}
	for k := telemetry.SpanKindUnspecified; k <= telemetry.SpanKindConsumer; k++ {
		if strings.EqualFold(s, k.String()) {
			return k, false, nil
		}
	}
	return 0, false, badRequest("invalid %s %s: want server, client, producer, consumer, internal or unspecified", paramSpanKind, quote(s))
}

// parseDependencyRange reads /api/dependencies' endTs (unix ms, default now) and lookback (ms,
// or a duration such as "1h"; default 24h) into the range [start, end).
func parseDependencyRange(q url.Values, now time.Time) (start, end time.Time, err error) {
	if end, err = millisParam(q, paramEndTs, now); err != nil {
		return
	}
	lookback := defaultDependencyLookback
	if s := q.Get(paramLookback); s != "" {
		if ms, perr := strconv.ParseInt(s, 10, 64); perr == nil {
			if ms <= 0 || ms > math.MaxInt64/int64(time.Millisecond) {
				return time.Time{}, time.Time{}, badRequest("invalid %s %s: want a positive number of milliseconds", paramLookback, quote(s))
			}
			lookback = time.Duration(ms) * time.Millisecond
		} else if lookback, perr = parseDuration(s); perr != nil || lookback == 0 {
			return time.Time{}, time.Time{}, badRequest("invalid %s %s: want a positive number of milliseconds", paramLookback, quote(s))
		}
	}
	return end.Add(-lookback), end, nil
}

// quote renders client input for an error message: quoted, and cut short if long.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strconv.Quote(s)
}
