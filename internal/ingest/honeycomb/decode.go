// Package honeycomb receives Honeycomb's Events API: single events (POST /1/events/{dataset})
// and batches (POST /1/batch/{dataset}) in JSON or msgpack, as libhoney and the Beelines send
// them, plus GET /1/auth. Each event becomes a span of lookout's model, so events and OTLP spans
// of one trace sit in one waterfall.
package honeycomb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// Event is one decoded event: its fields, and what its envelope said.
type Event struct {
	Fields     map[string]any
	Time       time.Time // zero when the sender gave none
	SampleRate int64     // 0 when the sender gave none
	Err        error     // why this event of a batch cannot be taken; nil if it can
}

// Format is a body's encoding.
type Format uint8

const (
	JSON Format = iota
	Msgpack
)

// Errors in Honeycomb's own wording, which its clients show.
var (
	//lint:ignore ST1005 Honeycomb's wording
	errEmpty = errors.New("Request body should not be empty.")
	//lint:ignore ST1005 Honeycomb's wording
	errMalformed = errors.New("Request body is malformed and cannot be read.")
	//lint:ignore ST1005 Honeycomb's wording
	errTooMany = fmt.Errorf("A batch may hold at most %d events; send more batches.", MaxBatchEvents)
)

// MaxBatchEvents bounds the events of one batch, and so the answer, which has a status per
// event: without it, a 4 MB batch of empty elements would be answered with hundreds of MB.
// libhoney sends 50 a batch by default.
const MaxBatchEvents = 10_000

// DecodeEvent decodes the body of a single event: an object of fields.
func DecodeEvent(body []byte, f Format) (map[string]any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errEmpty
	}
	var v any
	if err := unmarshal(body, f, &v); err != nil {
		return nil, errMalformed
	}
	fields, ok := v.(map[string]any)
	if !ok {
		return nil, errMalformed
	}
	return fields, nil
}

// DecodeBatch decodes a batch body: an array of {"data", "time", "samplerate"} envelopes. A body
// that is not an array fails whole; an element that is not a proper envelope fails alone.
func DecodeBatch(body []byte, f Format) ([]Event, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errEmpty
	}
	if f == Msgpack && msgpackArrayLen(body) > MaxBatchEvents {
		return nil, errTooMany // before building millions of elements
	}
	var v any
	if err := unmarshal(body, f, &v); err != nil {
		return nil, errMalformed
	}
	list, ok := v.([]any)
	if !ok {
		return nil, errMalformed
	}
	if len(list) > MaxBatchEvents {
		return nil, errTooMany
	}
	events := make([]Event, len(list))
	for i, item := range list {
		events[i] = envelope(item)
	}
	return events, nil
}

func envelope(item any) Event {
	env, ok := item.(map[string]any)
	if !ok {
		return Event{Err: errMalformed}
	}
	var ev Event
	switch data := env["data"].(type) {
	case map[string]any:
		ev.Fields = data
	case nil:
		return Event{Err: errEmpty}
	default:
		return Event{Err: errMalformed}
	}
	if t, ok := env["time"]; ok && t != nil {
		parsed, err := eventTime(t)
		if err != nil {
			return Event{Err: err}
		}
		ev.Time = parsed
	}
	if r, ok := env["samplerate"]; ok && r != nil {
		n, ok := toFloat(r)
		if !ok {
			return Event{Err: errMalformed}
		}
		ev.SampleRate = int64(math.Round(n))
	}
	return ev
}

// unmarshal decodes JSON keeping numbers exact (json.Number), or msgpack.
func unmarshal(body []byte, f Format, v *any) error {
	if f == Msgpack {
		if err := checkMsgpack(body); err != nil {
			return err
		}
		return msgpack.Unmarshal(body, v)
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data")
	}
	return nil
}

// eventTime reads an event time as the SDKs send it: RFC 3339 text, epoch seconds (as a number,
// or as digits with the fraction run on after the tenth digit), or a msgpack timestamp.
func eventTime(v any) (time.Time, error) {
	switch t := v.(type) {
	case time.Time:
		return t, nil
	case string:
		return ParseTime(t)
	case json.Number:
		return ParseTime(t.String())
	}
	if f, ok := toFloat(v); ok {
		return epoch(f), nil
	}
	return time.Time{}, errMalformed
}

// ParseTime reads the X-Honeycomb-Event-Time header or a batch envelope's time.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if s != "" && strings.Trim(s, "0123456789") == "" && len(s) <= 19 {
		secs, _ := strconv.ParseInt(s[:min(len(s), 10)], 10, 64)
		t := time.Unix(secs, 0)
		if frac := s[min(len(s), 10):]; frac != "" {
			n, _ := strconv.ParseInt(frac, 10, 64)
			t = t.Add(time.Duration(float64(n) * math.Pow10(9-len(frac))))
		}
		return t, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		return epoch(f), nil
	}
	return time.Time{}, fmt.Errorf("cannot read the event time %q", truncate(s, 64))
}

func epoch(secs float64) time.Time {
	whole, frac := math.Modf(secs)
	return time.Unix(int64(whole), int64(frac*1e9))
}

// toFloat reads any numeric value a decoder produces.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int8:
		return float64(n), true
	case int16:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint8:
		return float64(n), true
	case uint16:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	}
	return 0, false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
