package triage

import (
	"regexp"
	"strings"
)

// placeholders replace the parts of a message that look like data, in this order, so that
// one message template makes one item whatever values it was formatted with. Short integers
// are kept: they are often error or status codes.
var placeholders = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`), "<email>"},
	{regexp.MustCompile(`[a-z][a-z0-9+.-]*://[^\s"'<>]+`), "<url>"},
	{regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`), "<uuid>"},
	{regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?`), "<date>"},
	{regexp.MustCompile(`\b\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\b`), "<time>"},
	{regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`), "<ip>"},
	{regexp.MustCompile(`(?i)\b(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{0,4}\b`), "<ip>"},
	{regexp.MustCompile(`(?i)\b0x[0-9a-f]+\b`), "<hex>"},
	{regexp.MustCompile(`(?i)\b[0-9a-f]{4,}\b`), "<hex>"}, // with a digit and a letter (isHex)
	{regexp.MustCompile(`[-+]?\b\d+\.\d+\b`), "<float>"},
}

// integers of two digits and more become <int>, except codes (statusCode).
var integers = regexp.MustCompile(`\b\d{2,}\b`)

// statusCode is the text that announces an error or HTTP status code, which stays.
var statusCode = regexp.MustCompile(`(?i)\b(?:status|code|http|returned|error|errno)[ :=#]*$`)

// Parameterise replaces what looks like data in a message (e-mail addresses, URLs, UUIDs,
// dates, times, IP addresses, hexadecimal numbers of 4 digits and more, decimals, integers
// of 2 digits and more but status and error codes) with placeholders.
func Parameterise(msg string) string {
	for _, p := range placeholders {
		msg = p.re.ReplaceAllStringFunc(msg, func(m string) string {
			if p.with == "<hex>" && !isHex(m) {
				return m
			}
			return p.with
		})
	}
	var b strings.Builder
	last := 0
	for _, m := range integers.FindAllStringIndex(msg, -1) {
		b.WriteString(msg[last:m[0]])
		if statusCode.MatchString(msg[max(0, m[0]-12):m[0]]) {
			b.WriteString(msg[m[0]:m[1]])
		} else {
			b.WriteString("<int>")
		}
		last = m[1]
	}
	b.WriteString(msg[last:])
	return b.String()
}

// isHex tells a hexadecimal number from a word or an integer: it has a digit and a letter.
func isHex(s string) bool {
	return strings.ContainsAny(s, "0123456789") && strings.ContainsAny(s, "abcdefABCDEF")
}
