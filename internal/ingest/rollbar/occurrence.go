package rollbar

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"lookout/internal/telemetry"
	"lookout/internal/triage"
)

// Protocol names occurrences posted to the Item API in telemetry.IngestInfo.
const Protocol = "rollbar"

// Source is what the receiver knows of an item besides its payload.
type Source struct {
	Project  string
	KeyID    string // names the access token, not the token itself
	RemoteIP string // the address the request came from, for "$remote_ip"
	Received time.Time
	Rules    []triage.Rule // the project's custom grouping rules
}

// Limits on the fields lookout indexes, from Rollbar's own.
const (
	maxField    = 255
	maxUUID     = 36
	maxPersonID = 40
)

// Occurrence turns an item's data into an occurrence: it normalises data in place (see
// normaliseFrames), checks the parts lookout reads and refuses with 422 what it cannot use,
// and groups it.
func Occurrence(data map[string]any, src Source) (telemetry.Occurrence, error) {
	body, ok := data["body"].(map[string]any)
	if !ok {
		return telemetry.Occurrence{}, invalid("data.body is required and must be an object")
	}
	var report triage.Report
	var traces []map[string]any
	var err error
	switch {
	case body["trace_chain"] != nil:
		list, ok := body["trace_chain"].([]any)
		if !ok || len(list) == 0 {
			return telemetry.Occurrence{}, invalid("data.body.trace_chain must be a list of at least one trace")
		}
		for i, el := range list {
			tr, ok := el.(map[string]any)
			if !ok {
				return telemetry.Occurrence{}, invalid("data.body.trace_chain.%d must be an object", i)
			}
			traces = append(traces, tr)
		}
	case body["trace"] != nil:
		tr, ok := body["trace"].(map[string]any)
		if !ok {
			return telemetry.Occurrence{}, invalid("data.body.trace must be an object")
		}
		traces = []map[string]any{tr}
	case body["crash_report"] != nil:
		cr, _ := body["crash_report"].(map[string]any)
		if report.Message, ok = cr["raw"].(string); !ok {
			return telemetry.Occurrence{}, invalid("data.body.crash_report.raw is required and must be a string")
		}
	case body["message"] != nil:
		msg, _ := body["message"].(map[string]any)
		if report.Message, ok = msg["body"].(string); !ok {
			return telemetry.Occurrence{}, invalid("data.body.message.body is required and must be a string")
		}
	default:
		return telemetry.Occurrence{}, invalid("data.body must hold one of trace, trace_chain, message or crash_report")
	}
	normaliseFrames(data, traces)
	if report.Chain, err = exceptions(traces, body["trace"] != nil && body["trace_chain"] == nil); err != nil {
		return telemetry.Occurrence{}, err
	}

	o := telemetry.Occurrence{
		Project: src.Project, ReceivedUnixNano: src.Received.UnixNano(),
		Ingest: telemetry.IngestInfo{Protocol: Protocol, KeyID: src.KeyID},
	}
	if o.UUID, err = uuid(data); err != nil {
		return o, err
	}
	o.Environment = field(data, "environment")
	if o.Environment == "" {
		o.Environment = "unknown"
	}
	o.Level = levels[strings.ToLower(field(data, "level"))]
	if o.Level == "" {
		o.Level = "error"
		if len(report.Chain) == 0 {
			o.Level = "info"
		}
	}
	o.TimeUnixNano = timestamp(data["timestamp"], src.Received)
	server, _ := data["server"].(map[string]any)
	client, _ := data["client"].(map[string]any)
	js, _ := client["javascript"].(map[string]any)
	o.CodeVersion = first(field(data, "code_version"), field(js, "code_version"), field(server, "code_version"))
	o.Platform, o.Framework, o.Context = field(data, "platform"), field(data, "framework"), field(data, "context")
	o.Language = language(field(data, "language"))
	o.Host = field(server, "host")
	if person, ok := data["person"].(map[string]any); ok {
		o.PersonID = triage.Truncate(text(person["id"]), maxPersonID)
	}
	request, _ := data["request"].(map[string]any)
	if request != nil {
		if ip, ok := request["user_ip"].(string); ok {
			o.UserIP = clientIP(ip, src.RemoteIP)
			request["user_ip"] = o.UserIP
		}
	}
	headers, _ := request["headers"].(map[string]any)
	o.Browser, o.OS = userAgent(first(field(js, "browser"), header(headers, "user-agent")))
	o.TraceID, o.SpanID = traceContext(data)

	report.Root = field(server, "root")
	report.Fingerprint = field(data, "fingerprint")
	report.Title = field(data, "title")
	report.Data = data
	g := triage.Group(report, src.Rules)
	o.Fingerprint, o.Title, o.Grouping = g.Fingerprint, g.Title, g.Explanation
	if len(report.Chain) > 0 {
		o.Class = triage.Truncate(report.Chain[0].Class, maxField)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(data); err != nil {
		return o, invalid("data cannot be stored: %v", err)
	}
	o.Data = strings.TrimSuffix(buf.String(), "\n")
	return o, nil
}

// exceptions reads the traces' exceptions and frames, refusing wrong types by their path.
func exceptions(traces []map[string]any, single bool) ([]triage.Exception, error) {
	out := make([]triage.Exception, len(traces))
	for i, tr := range traces {
		path := fmt.Sprintf("data.body.trace_chain.%d", i)
		if single {
			path = "data.body.trace"
		}
		exc, ok := tr["exception"].(map[string]any)
		if !ok {
			return nil, invalid("%s.exception is required and must be an object", path)
		}
		class, ok := exc["class"].(string)
		if !ok || class == "" {
			return nil, invalid("%s.exception.class is required and must be a string", path)
		}
		out[i] = triage.Exception{Class: class, Message: first(field(exc, "message"), field(exc, "description"))}
		frames, ok := tr["frames"].([]any)
		if !ok && tr["frames"] != nil {
			return nil, invalid("%s.frames must be a list", path)
		}
		for j, f := range frames {
			frame, ok := f.(map[string]any)
			if !ok {
				return nil, invalid("%s.frames.%d must be an object", path, j)
			}
			file, okf := frame["filename"].(string)
			method, okm := frame["method"].(string)
			if (!okf && frame["filename"] != nil) || (!okm && frame["method"] != nil) {
				return nil, invalid("%s.frames.%d: filename and method must be strings", path, j)
			}
			out[i].Frames = append(out[i].Frames, triage.Frame{Filename: file, Method: method})
		}
	}
	return out, nil
}

// uuid returns data.uuid, or gives data one: rollbar-go sends none.
func uuid(data map[string]any) (string, error) {
	switch v := data["uuid"].(type) {
	case string:
		if v != "" {
			if len(v) > maxUUID {
				return "", invalid("data.uuid is longer than %d characters", maxUUID)
			}
			return v, nil
		}
	case nil:
	default:
		return "", invalid("data.uuid must be a string")
	}
	var b [16]byte
	rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80 // version 4, RFC 4122 variant
	h := hex.EncodeToString(b[:])
	id := h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	data["uuid"] = id
	return id, nil
}

// timestamp reads data.timestamp, Unix seconds (milliseconds when it is too large to be
// seconds), or returns when it was received.
func timestamp(v any, received time.Time) int64 {
	n, ok := v.(json.Number)
	if !ok {
		return received.UnixNano()
	}
	f, err := n.Float64()
	if err != nil || f <= 0 || math.IsInf(f, 0) {
		return received.UnixNano()
	}
	if f > 1e11 {
		f /= 1000
	}
	if f > 1e10 { // beyond year 2286: not a time
		return received.UnixNano()
	}
	return int64(f * 1e9)
}

// field returns m[key] as text of at most maxField bytes, "" when it is absent or not a
// string or number.
func field(m map[string]any, key string) string {
	switch v := m[key].(type) {
	case string:
		return triage.Truncate(strings.TrimSpace(v), maxField)
	case json.Number:
		return v.String()
	}
	return ""
}

// text is a JSON value as text: strings as they are, numbers in their JSON form.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

func first(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
