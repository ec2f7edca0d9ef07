package rollbar

import (
	"bytes"
	"encoding/json"
	"errors"

	"lookout/internal/telemetry"
)

// edits are the changes normalising makes to a report as sent; most reports need none and
// are stored as they came.
type edits struct {
	frames bool // some trace's frames (see normaliseFrames)
	uuid   bool // lookout made the uuid
	userIP bool // request.user_ip was resolved (see clientIP)
}

func (e edits) any() bool { return e.frames || e.uuid || e.userIP }

// apply returns the report as sent with the edits made. A uuid or user_ip is put in place in
// the JSON; new frames need the report decoded and encoded again.
func (e edits) apply(sent []byte, traces []*trace, o telemetry.Occurrence) ([]byte, error) {
	if !e.frames {
		if out, err := e.splice(sent, o); err == nil {
			return out, nil
		}
	}
	data, err := decodeMap(sent)
	if err != nil {
		return nil, err
	}
	if e.uuid {
		data["uuid"] = o.UUID
	}
	if request, ok := data["request"].(map[string]any); ok && e.userIP {
		request["user_ip"] = o.UserIP
	}
	if e.frames {
		setFrames(data, traces)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(data); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// splice puts the uuid and the user_ip in place in the report.
func (e edits) splice(report []byte, o telemetry.Occurrence) ([]byte, error) {
	var err error
	if e.uuid {
		value, _ := json.Marshal(o.UUID)
		if report, err = setValue(report, []string{"uuid"}, value); err != nil {
			return nil, err
		}
	}
	if e.userIP {
		value, _ := json.Marshal(o.UserIP)
		report, err = setValue(report, []string{"request", "user_ip"}, value)
	}
	return report, err
}

// decodeMap decodes a report for custom grouping rules to read, numbers as json.Number.
func decodeMap(report []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(report))
	dec.UseNumber()
	var data map[string]any
	err := dec.Decode(&data)
	return data, err
}

// setFrames replaces the frames of data's traces by the normalised ones, each of which knows
// its place in the list sent.
func setFrames(data map[string]any, traces []*trace) {
	body, _ := data["body"].(map[string]any)
	sent, ok := body["trace_chain"].([]any)
	if !ok {
		sent = []any{body["trace"]}
	}
	for i, tr := range traces {
		if i >= len(sent) || tr.Frames == nil {
			continue
		}
		m, ok := sent[i].(map[string]any)
		if !ok {
			continue
		}
		frames, _ := m["frames"].([]any)
		kept := make([]any, 0, len(tr.Frames))
		for _, f := range tr.Frames {
			if f.sent < len(frames) {
				kept = append(kept, frames[f.sent])
			}
		}
		m["frames"] = kept
	}
}

var errNoObject = errors.New("no object at the path")

// setValue returns the JSON object doc with value (JSON) at path: in place of the value there
// (the last, which decoders keep, if a key is repeated), else added as the first member of
// the innermost object.
func setValue(doc []byte, path []string, value []byte) ([]byte, error) {
	at := 0
	for depth, key := range path {
		open, ms, ok := members(doc, at)
		if !ok {
			return nil, errNoObject
		}
		m, found := lastMember(ms, key)
		switch {
		case found && depth < len(path)-1:
			at = m.from
		case found:
			return splice(doc, m.from, m.to, value), nil
		case depth < len(path)-1:
			return nil, errNoObject
		default:
			add, _ := json.Marshal(key)
			add = append(append(add, ':'), value...)
			if len(ms) > 0 {
				add = append(add, ',')
			}
			return splice(doc, open, open, add), nil
		}
	}
	return nil, errNoObject
}

func splice(doc []byte, from, to int, with []byte) []byte {
	out := make([]byte, 0, len(doc)-(to-from)+len(with))
	return append(append(append(out, doc[:from]...), with...), doc[to:]...)
}
