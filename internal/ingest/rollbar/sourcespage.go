package rollbar

import (
	"encoding/json"
	"strings"

	"lookout/internal/sources"
	"lookout/internal/telemetry"
)

// Sources tells the Sources page where the Item API's occurrences land, their project and
// environment, and which notifier sent them ("rollbar-go 1.4.5").
var Sources = sources.Describe[telemetry.Occurrence]{
	Where: func(o *telemetry.Occurrence) (string, string) { return "project", o.Project + " / " + o.Environment },
	SDK:   notifier,
}

// notifier names the SDK that sent a report from its notifier object, which alone is decoded:
// a report is some kilobytes, its notifier a few words.
func notifier(o *telemetry.Occurrence) string {
	report := []byte(o.Data)
	_, ms, _ := members(report, 0)
	m, ok := lastMember(ms, "notifier")
	if !ok {
		return ""
	}
	var n struct{ Name, Version string }
	json.Unmarshal(report[m.from:m.to], &n) // a notifier is optional, its fields too
	return strings.TrimSpace(strings.TrimPrefix(n.Name, "rollbar/") + " " + n.Version)
}
