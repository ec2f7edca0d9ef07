package rollbar

import (
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

// Occurrence turns a decoded item into an occurrence: it checks the parts lookout reads and
// refuses with 422 what it cannot use, normalises the frames (see normaliseFrames), and
// groups it. The report is stored as it was sent unless normalising changed it. What it
// returns without an error is valid (telemetry.Occurrence.Validate; FuzzItem holds it to
// that), so the receiver need not check the report's JSON again.
func Occurrence(p Payload, src Source) (telemetry.Occurrence, error) {
	it := &p.Item
	if src.Project == "" {
		return telemetry.Occurrence{}, invalid("the access token names no project")
	}
	if it.Body == nil {
		return telemetry.Occurrence{}, invalid("data.body is required and must be an object")
	}
	var report triage.Report
	traces := it.traces()
	switch b := it.Body; {
	case b.TraceChain != nil:
		if len(b.TraceChain) == 0 {
			return telemetry.Occurrence{}, invalid("data.body.trace_chain must be a list of at least one trace")
		}
	case b.Trace != nil:
	case b.CrashReport != nil:
		if b.CrashReport.Raw == nil {
			return telemetry.Occurrence{}, invalid("data.body.crash_report.raw is required and must be a string")
		}
		report.Message = *b.CrashReport.Raw
	case b.Message != nil:
		if b.Message.Body == nil {
			return telemetry.Occurrence{}, invalid("data.body.message.body is required and must be a string")
		}
		report.Message = *b.Message.Body
	default:
		return telemetry.Occurrence{}, invalid("data.body must hold one of trace, trace_chain, message or crash_report")
	}
	var edits edits
	edits.frames = normaliseFrames(it, traces)
	var err error
	if report.Chain, err = exceptions(traces, it.Body.TraceChain != nil); err != nil {
		return telemetry.Occurrence{}, err
	}

	o := telemetry.Occurrence{
		Project: src.Project, ReceivedUnixNano: src.Received.UnixNano(),
		Ingest: telemetry.IngestInfo{Protocol: Protocol, KeyID: src.KeyID},
	}
	if o.UUID, edits.uuid, err = uuid(it.UUID); err != nil {
		return o, err
	}
	o.Environment = it.Environment.field()
	if o.Environment == "" {
		o.Environment = "unknown"
	}
	o.Level = levels[strings.ToLower(it.Level.field())]
	if o.Level == "" {
		o.Level = "error"
		if len(report.Chain) == 0 {
			o.Level = "info"
		}
	}
	o.TimeUnixNano = timestamp(it.Timestamp, src.Received)
	js := it.Client.JavaScript
	o.CodeVersion = first(it.CodeVersion.field(), js.CodeVersion.field(), it.Server.CodeVersion.field())
	o.Platform, o.Framework, o.Context = it.Platform.field(), it.Framework.field(), it.Context.field()
	o.Language = language(it.Language.field())
	o.Host = it.Server.Host.field()
	o.PersonID = triage.Truncate(string(it.Person.ID), maxPersonID)
	if sent := it.Request.UserIP; sent != nil {
		o.UserIP = clientIP(*sent, src.RemoteIP)
		edits.userIP = o.UserIP != *sent
	}
	o.Browser, o.OS = userAgent(first(js.Browser.field(), header(it.Request.Headers, "user-agent")))
	o.TraceID, o.SpanID = traceContext(it)

	report.Root = it.Server.Root.field()
	report.Fingerprint = it.Fingerprint.field()
	report.Title = it.Title.field()
	stored := p.Data
	if edits.any() {
		if stored, err = edits.apply(p.Data, traces, o); err != nil {
			return o, invalid("data cannot be stored: %v", err)
		}
	}
	if len(src.Rules) > 0 {
		if report.Data, err = decodeMap(stored); err != nil {
			return o, invalid("data cannot be read: %v", err)
		}
	}
	g := triage.Group(report, src.Rules)
	o.Fingerprint, o.Title, o.Grouping = g.Fingerprint, g.Title, g.Explanation
	if len(report.Chain) > 0 {
		o.Class = triage.Truncate(report.Chain[0].Class, maxField)
	}
	o.Data = string(stored)
	return o, nil
}

// exceptions reads the traces' exceptions and frames, refusing what is missing by its path.
func exceptions(traces []*trace, chain bool) ([]triage.Exception, error) {
	out := make([]triage.Exception, len(traces))
	for i, tr := range traces {
		path := func() string { // named only in a refusal
			if chain {
				return fmt.Sprintf("data.body.trace_chain.%d", i)
			}
			return "data.body.trace"
		}
		exc := tr.Exception
		if exc == nil {
			return nil, invalid("%s.exception is required and must be an object", path())
		}
		if exc.Class == nil || *exc.Class == "" {
			return nil, invalid("%s.exception.class is required and must be a string", path())
		}
		out[i] = triage.Exception{Class: *exc.Class, Message: first(exc.Message.field(), exc.Description.field())}
		out[i].Frames = make([]triage.Frame, len(tr.Frames))
		for j, f := range tr.Frames {
			out[i].Frames[j] = triage.Frame{Filename: f.Filename, Method: f.Method}
		}
	}
	return out, nil
}

// uuid returns the item's uuid, or makes one (rollbar-go sends none), saying so.
func uuid(sent *string) (id string, made bool, err error) {
	if sent != nil && *sent != "" {
		if len(*sent) > maxUUID {
			return "", false, invalid("data.uuid is longer than %d characters", maxUUID)
		}
		return *sent, false, nil
	}
	var b [16]byte
	rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80 // version 4, RFC 4122 variant
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], true, nil
}

// timestamp reads data.timestamp, Unix seconds (milliseconds when it is too large to be
// seconds), or returns when it was received.
func timestamp(v json.RawMessage, received time.Time) int64 {
	if len(v) == 0 || v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		return received.UnixNano()
	}
	f, err := strconv.ParseFloat(string(v), 64)
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

func first(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
