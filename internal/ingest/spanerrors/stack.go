package spanerrors

import (
	"regexp"
	"slices"
	"strings"

	"lookout/internal/triage"
)

// The frame lines of the stack traces OpenTelemetry SDKs record, by language.
var (
	pythonFrame = regexp.MustCompile(`^\s*File "([^"]+)", line \d+, in (.+)$`)      // Python: most recent call last
	jsFrame     = regexp.MustCompile(`^\s*at (?:(.+?) \()?(\S+?)(?::\d+){1,2}\)?$`) // JavaScript: most recent first
	javaFrame   = regexp.MustCompile(`^\s*at ([\w$.<>/]+)\(([^:)]*)(?::\d+)?\)$`)   // Java: most recent first
	goFunc      = regexp.MustCompile(`^([\w./*()-]+)\(.*\)$`)                       // Go: a function line, then its file line
	goFile      = regexp.MustCompile(`^\t(\S+?):\d+(?: \+0x[0-9a-f]+)?$`)
)

// ParseStack reads the frames of a stack trace as text, most recent call last, as grouping
// wants them; a trace it cannot read gives none.
func ParseStack(s string) []triage.Frame {
	lines := strings.Split(s, "\n")
	var frames []triage.Frame
	newestFirst := false
	for i, line := range lines {
		line = strings.TrimRight(line, "\r")
		if m := pythonFrame.FindStringSubmatch(line); m != nil {
			frames = append(frames, triage.Frame{Filename: m[1], Method: m[2]})
		} else if m := javaFrame.FindStringSubmatch(line); m != nil {
			frames = append(frames, triage.Frame{Filename: m[2], Method: m[1]})
			newestFirst = true
		} else if m := jsFrame.FindStringSubmatch(line); m != nil {
			frames = append(frames, triage.Frame{Filename: m[2], Method: m[1]})
			newestFirst = true
		} else if m := goFunc.FindStringSubmatch(line); m != nil && i+1 < len(lines) {
			if f := goFile.FindStringSubmatch(strings.TrimRight(lines[i+1], "\r")); f != nil {
				frames = append(frames, triage.Frame{Filename: f[1], Method: m[1]})
				newestFirst = true
			}
		}
	}
	if newestFirst {
		slices.Reverse(frames)
	}
	return frames
}
