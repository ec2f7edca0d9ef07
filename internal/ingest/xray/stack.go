package xray

import (
	"regexp"
	"strconv"
	"strings"
)

// maxStackFrames is how many frames an exception of an OpenTelemetry span keeps in its
// segment document; the rest are counted as truncated, as the SDKs count theirs.
const maxStackFrames = 50

// stackFrame is a frame of an exception's stack in a segment document.
type stackFrame struct {
	path, label string
	line        int
}

// The frame lines of the stack traces OpenTelemetry's SDKs record (exception.stacktrace),
// each with the path, line and label it names.
var (
	javaFrame   = regexp.MustCompile(`^\s*at ([^\s(]+)\((.*?)(?::(\d+))?\)\s*$`)        // at label(path:line), as X-Ray's own are rendered too
	pythonFrame = regexp.MustCompile(`^\s*File "(.*)", line (\d+), in (.+?)\s*$`)       // File "path", line N, in label
	nodeFrame   = regexp.MustCompile(`^\s*at (?:(.+?) \()?(.+?):(\d+)(?::\d+)?\)?\s*$`) // at label (path:line:col), at path:line:col
	goFrame     = regexp.MustCompile(`^\t(\S+\.go):(\d+)(?: \+0x[0-9a-f]+)?\s*$`)       // \tpath:line +0x..., after its function's line
	goFunction  = regexp.MustCompile(`^([^\s(][^\s]*?)(?:\(.*\))?\s*$`)                 // pkg.function(args)
)

// parseStack reads the frames of a stack trace in the formats of Java, Python, Node.js and
// Go, innermost first as X-Ray lists them, at most maxStackFrames; truncated counts those
// left out. Lines it does not know (a message, "Traceback", "goroutine 1") are skipped.
func parseStack(text string) (frames []stackFrame, truncated int) {
	lines := strings.Split(text, "\n")
	pythonOrder := false // Python lists the innermost frame last
	for i, l := range lines {
		var f stackFrame
		if m := javaFrame.FindStringSubmatch(l); m != nil { // before Node's: a Java label has no space before "("
			f = stackFrame{label: m[1], path: m[2], line: lineNumber(m[3])}
		} else if m := nodeFrame.FindStringSubmatch(l); m != nil {
			f = stackFrame{label: m[1], path: m[2], line: lineNumber(m[3])}
		} else if m := pythonFrame.FindStringSubmatch(l); m != nil {
			f, pythonOrder = stackFrame{path: m[1], line: lineNumber(m[2]), label: m[3]}, true
		} else if m := goFrame.FindStringSubmatch(l); m != nil && i > 0 {
			f = stackFrame{path: m[1], line: lineNumber(m[2])}
			if fn := goFunction.FindStringSubmatch(lines[i-1]); fn != nil {
				f.label = fn[1]
			}
		} else {
			continue
		}
		frames = append(frames, f)
	}
	if pythonOrder {
		for i, j := 0, len(frames)-1; i < j; i, j = i+1, j-1 {
			frames[i], frames[j] = frames[j], frames[i]
		}
	}
	if len(frames) > maxStackFrames {
		return frames[:maxStackFrames], len(frames) - maxStackFrames
	}
	return frames, 0
}

func lineNumber(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// stackDocument is frames as a segment document's exception stack.
func stackDocument(frames []stackFrame) []any {
	out := make([]any, len(frames))
	for i, f := range frames {
		fr := map[string]any{"path": f.path, "label": f.label}
		if f.line > 0 {
			fr["line"] = f.line
		}
		out[i] = fr
	}
	return out
}
