package sources

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Kinds of warnings the registry finds by comparing senders; receivers add their own with Warn.
const (
	KindRefused  = "refused"
	KindTwoKeys  = "two-keys"
	KindNewToken = "new-token"
)

// crossSenderWarnings finds what no single request shows: refusals, a destination reached with
// more than one API key, a Rollbar token not seen before.
func crossSenderWarnings(senders []SenderReport, now time.Time) []Warning {
	var out []Warning
	for i := range senders {
		s := &senders[i]
		if s.Refused > 0 && now.Sub(s.LastRefused) < Recent {
			out = append(out, Warning{Kind: KindRefused, At: s.LastRefused, Sender: &s.Sender,
				Message: fmt.Sprintf("%d refused (of %d received): %s", s.Refused, s.Refused+s.Items, topReason(s.Refusals))})
		}
	}
	out = append(out, twoKeys(senders)...)
	out = append(out, newTokens(senders, now)...)
	return out
}

func topReason(reasons map[string]int64) string {
	keys := slices.Collect(maps.Keys(reasons))
	slices.SortFunc(keys, func(a, b string) int {
		if reasons[a] != reasons[b] {
			return int(reasons[b] - reasons[a])
		}
		return strings.Compare(a, b)
	})
	if len(keys) == 0 {
		return "no reason given"
	}
	return keys[0]
}

// twoKeys warns when a service or dataset receives Honeycomb-keyed data under more than one
// key: Honeycomb files each key's data in the key's own environment, so part of it lands where
// nobody looks. The key seen last is the suspect.
func twoKeys(senders []SenderReport) []Warning {
	byDest := map[string][]*SenderReport{}
	for i := range senders {
		s := &senders[i]
		if s.ActiveRecent && s.Credential != "" && s.Destination != "" && (s.Protocol == "otlp" || s.Protocol == "honeycomb") {
			byDest[s.Destination] = append(byDest[s.Destination], s)
		}
	}
	var out []Warning
	for dest, list := range byDest {
		keys := map[string]*SenderReport{}
		for _, s := range list {
			if k, ok := keys[s.Credential]; !ok || s.FirstSeen.Before(k.FirstSeen) {
				keys[s.Credential] = s
			}
		}
		if len(keys) < 2 {
			continue
		}
		newest := slices.MaxFunc(slices.Collect(maps.Values(keys)), func(a, b *SenderReport) int {
			if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
				return c
			}
			return strings.Compare(a.Credential, b.Credential)
		})
		others := []string{}
		for k := range keys {
			if k != newest.Credential {
				others = append(others, k)
			}
		}
		slices.Sort(others)
		out = append(out, Warning{Kind: KindTwoKeys, At: newest.LastSeen, Sender: &newest.Sender,
			Message: fmt.Sprintf("%s receives data under %d API keys: %s (first seen %s) besides %s. Honeycomb files each key's data in that key's environment, so part of it lands where you are not looking; lookout keeps it all here. Check OTEL_EXPORTER_OTLP_HEADERS / x-honeycomb-team on each process.",
				dest, len(keys), newest.Credential, newest.FirstSeen.UTC().Format("15:04:05"), strings.Join(others, ", "))})
	}
	return out
}

// newTokens warns of a Rollbar token first seen recently when another token was seen before
// it: a token rotated, mistyped or from another project.
func newTokens(senders []SenderReport, now time.Time) []Warning {
	first := map[string]*SenderReport{} // credential → its earliest sender
	for i := range senders {
		s := &senders[i]
		if s.Protocol != "rollbar" || s.Credential == "" {
			continue
		}
		if f, ok := first[s.Credential]; !ok || s.FirstSeen.Before(f.FirstSeen) {
			first[s.Credential] = s
		}
	}
	if len(first) < 2 {
		return nil
	}
	oldest := slices.MinFunc(slices.Collect(maps.Values(first)), func(a, b *SenderReport) int { return a.FirstSeen.Compare(b.FirstSeen) })
	var out []Warning
	for token, s := range first {
		if token != oldest.Credential && now.Sub(s.FirstSeen) < Recent {
			out = append(out, Warning{Kind: KindNewToken, At: s.FirstSeen, Sender: &s.Sender,
				Message: fmt.Sprintf("Rollbar token %s was seen for the first time at %s; until then %s reported. If this is not a token you meant to add, its errors go to the wrong project.",
					token, s.FirstSeen.UTC().Format("15:04:05"), oldest.Credential)})
		}
	}
	return out
}
