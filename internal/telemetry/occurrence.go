package telemetry

import (
	"encoding/json"
	"slices"
)

// Occurrence is one reported error or message: a Rollbar item payload, or an exception an
// OpenTelemetry span recorded. Data is the report itself, Rollbar's "data" object as JSON
// (normalised: frames most recent last, the notifier's own frames dropped); the other
// fields are what lookout groups, indexes and lists it by, taken from Data at ingest.
type Occurrence struct {
	// UUID identifies the occurrence within its project: the client's, or one lookout made.
	// A second occurrence with the same UUID is the same report sent again.
	UUID        string
	Project     string
	Environment string
	Level       string // critical, error, warning, info or debug
	// TimeUnixNano is when it happened, ReceivedUnixNano when lookout received it.
	TimeUnixNano     int64
	ReceivedUnixNano int64
	// Fingerprint names the item the occurrence belongs to, within its project and
	// environment; Grouping says, for people, why it has this fingerprint.
	Fingerprint string
	Grouping    string
	Title       string
	Class       string // the outermost exception's class; empty for a message
	CodeVersion string
	Framework   string
	Platform    string
	Language    string // without its version: "python", not "python 3.11.7"
	Context     string // the route or controller, as the SDK names it
	Host        string
	PersonID    string
	UserIP      string
	Browser, OS string
	TraceID     TraceID // zero when not correlated with a trace
	SpanID      SpanID
	Data        string
	Ingest      IngestInfo // Protocol "rollbar" or "otlp"; KeyID names the access token
}

// Validate reports why an occurrence cannot be stored, or nil.
func (o *Occurrence) Validate() error {
	switch {
	case o.UUID == "":
		return errInvalid("uuid is missing")
	case o.Project == "":
		return errInvalid("project is missing")
	case o.Environment == "":
		return errInvalid("environment is missing")
	case o.Fingerprint == "":
		return errInvalid("fingerprint is missing")
	case o.TimeUnixNano <= 0:
		return errInvalid("timestamp is missing")
	case !json.Valid([]byte(o.Data)):
		return errInvalid("data is not JSON")
	}
	return nil
}

const occurrenceCost = 384

// Size is about how much memory the occurrence holds.
func (o *Occurrence) Size() int {
	return occurrenceCost + len(o.UUID) + len(o.Project) + len(o.Environment) + len(o.Fingerprint) +
		len(o.Grouping) + len(o.Title) + len(o.Class) + len(o.CodeVersion) + len(o.Framework) +
		len(o.Platform) + len(o.Language) + len(o.Context) + len(o.Host) + len(o.PersonID) +
		len(o.UserIP) + len(o.Browser) + len(o.OS) + len(o.Data)
}

// FitTo cuts the occurrence to the limits and returns its size. Its indexed fields are
// short already; Data, when larger than an item may be, loses its largest top-level fields
// other than body, then body's largest parts, until it fits, and names what it lost in a
// TruncatedKey field.
func (o *Occurrence) FitTo(l Limits) int {
	if o.Size() <= l.MaxItemBytes {
		return o.Size()
	}
	var data, body map[string]json.RawMessage
	if json.Unmarshal([]byte(o.Data), &data) != nil {
		data = map[string]json.RawMessage{}
	}
	if json.Unmarshal(data["body"], &body) != nil {
		body = map[string]json.RawMessage{}
	}
	delete(data, "body")
	budget := l.MaxItemBytes - (o.Size() - len(o.Data)) - 1024 // room for the note
	var cut []string
	drop := func(m map[string]json.RawMessage, prefix string) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int { return len(m[b]) - len(m[a]) })
		for _, k := range keys {
			if jsonSize(data)+jsonSize(body) <= budget {
				return
			}
			delete(m, k)
			cut = append(cut, prefix+k)
		}
	}
	drop(data, "")
	drop(body, "body.")
	if len(body) == 0 {
		body["message"], _ = json.Marshal(map[string]string{"body": o.Title})
	}
	data["body"], _ = json.Marshal(body)
	data[TruncatedKey], _ = json.Marshal(cut)
	b, _ := json.Marshal(data) // raw messages that were valid JSON: cannot fail
	o.Data = string(b)
	return o.Size()
}

// jsonSize is about the length of an object of these fields as JSON.
func jsonSize(m map[string]json.RawMessage) int {
	n := 2
	for k, v := range m {
		n += len(k) + len(v) + 4
	}
	return n
}
