package triage

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// Report is what grouping reads of an occurrence.
type Report struct {
	// Chain is the exception and its causes, outermost first; empty for a message.
	Chain []Exception
	// Message is a message's text, or a crash report's, when Chain is empty.
	Message string
	// Root is the project's code root (Rollbar's server.root): frames under it are the
	// project's own.
	Root string
	// Fingerprint and Title are the client's own, if it sent them.
	Fingerprint, Title string
	// Data is the whole report, decoded JSON, for custom rules to read.
	Data map[string]any
}

// Exception is one exception of a chain.
type Exception struct {
	Class, Message string
	Frames         []Frame // most recent call last
}

// Frame is one stack frame.
type Frame struct {
	Filename, Method string
}

// Grouping is the item an occurrence belongs to and why.
type Grouping struct {
	Fingerprint string
	Title       string
	Explanation string
}

// maxFingerprint is the longest fingerprint kept as it is; longer ones become their SHA-1,
// as Rollbar does.
const maxFingerprint = 40

// maxTitle is the longest title, in bytes.
const maxTitle = 255

// Group returns the grouping of a report: the first of rules that matches it, else the
// client's fingerprint, else Default.
func Group(r Report, rules []Rule) Grouping {
	def := Default(r)
	for i, rule := range rules {
		if !rule.Condition.Match(r.Data) {
			continue
		}
		g := def
		if f := rule.expand(rule.Fingerprint, r.Data, def); f != "" {
			g.Fingerprint = limitFingerprint(f)
		}
		if t := rule.expand(rule.Title, r.Data, def); t != "" {
			g.Title = Truncate(t, maxTitle)
		}
		g.Explanation = fmt.Sprintf("Custom grouping rule %d of the project matched; without it: %s", i+1, def.Explanation)
		return g
	}
	if r.Fingerprint != "" {
		def.Explanation = "The client sent its own fingerprint, " + quote(r.Fingerprint) + ", which wins over the default (" + def.Explanation + ")"
		def.Fingerprint = limitFingerprint(r.Fingerprint)
	}
	return def
}

// Default is Rollbar's default grouping. An exception groups by the classes of its chain and
// the file and function names of the project's own frames (all frames when none is the
// project's) of the innermost exception that has a stack; line numbers are left out, so the
// same error raised from a moved line stays one item. File names lose the code root, dates
// and hashes; function names lose numbers of two digits and more. A message groups by its
// text with what looks like data replaced by placeholders.
func Default(r Report) Grouping {
	g := Grouping{Title: Truncate(r.Title, maxTitle)}
	if len(r.Chain) == 0 {
		msg := Parameterise(r.Message)
		g.Explanation = "Message text with values replaced by placeholders: " + quote(msg)
		if g.Title == "" {
			g.Title = Truncate(firstLine(r.Message), maxTitle)
		}
		g.Fingerprint = digest("message\x00" + msg)
		return g
	}
	// The key and the list of frames shown are written as they are read: this runs for
	// every occurrence, on every frame.
	var key, classes, shown strings.Builder
	key.WriteString("exception\x00")
	for i, e := range r.Chain {
		if i > 0 {
			key.WriteByte(0)
			classes.WriteString(" ← ")
		}
		key.WriteString(e.Class)
		classes.WriteString(e.Class)
	}
	key.WriteString("\x00\x00")
	from := len(r.Chain) - 1
	for from > 0 && len(r.Chain[from].Frames) == 0 {
		from--
	}
	frames, own := projectFrames(r.Chain[from].Frames, r.Root)
	for i, f := range frames {
		file, method := normaliseFile(f.Filename, r.Root), normaliseMethod(f.Method)
		key.WriteString(file)
		key.WriteByte(0)
		key.WriteString(method)
		key.WriteByte(0)
		if i > 0 {
			shown.WriteString(", ")
		}
		shown.WriteString(file)
		shown.WriteByte(' ')
		shown.WriteString(method)
	}
	if shown.Len() == 0 {
		shown.WriteString("none")
	}
	which := "the project's own frames"
	if !own {
		which = "all frames (none is the project's own)"
	}
	g.Explanation = "Exception classes " + classes.String() + "; " + which + " of " + r.Chain[from].Class + ": " + shown.String() +
		". Line numbers and messages are left out."
	if g.Title == "" {
		e := r.Chain[0]
		g.Title = e.Class
		if e.Message != "" {
			g.Title += ": " + firstLine(e.Message)
		}
		g.Title = Truncate(g.Title, maxTitle)
	}
	g.Fingerprint = digest(key.String())
	return g
}

// Frames of installed libraries and runtimes are not the project's own even under its root:
// their files are in one of libraryDirs, or their paths start with one of libraryPrefixes.
// (Plain string tests: grouping runs on every frame of every occurrence.)
var (
	libraryDirs     = []string{"site-packages/", "dist-packages/", "node_modules/", "vendor/", "pkg/mod/", "go/src/runtime/"}
	libraryPrefixes = []string{"/usr/lib/", "/usr/local/lib/", "/usr/go/src/", "/usr/local/go/src/", "node:", "internal/", "<frozen "}
)

func isLibrary(file string) bool {
	for _, p := range libraryPrefixes {
		if strings.HasPrefix(file, p) {
			return true
		}
	}
	for _, d := range libraryDirs {
		if strings.HasPrefix(file, d) {
			return true
		}
	}
	for _, d := range slashedLibraryDirs {
		if strings.Contains(file, d) {
			return true
		}
	}
	return false
}

// slashedLibraryDirs are libraryDirs after a slash, as they are found within a path.
var slashedLibraryDirs = func() []string {
	out := make([]string, len(libraryDirs))
	for i, d := range libraryDirs {
		out[i] = "/" + d
	}
	return out
}()

// projectFrames returns the frames that are the project's own (not a library's, and under
// root when root is a path), or all frames when none is.
func projectFrames(frames []Frame, root string) ([]Frame, bool) {
	var own []Frame
	for _, f := range frames {
		if isLibrary(f.Filename) {
			continue
		}
		if strings.HasPrefix(root, "/") && !strings.HasPrefix(f.Filename, root) {
			continue
		}
		own = append(own, f)
	}
	if len(own) == 0 {
		return frames, false
	}
	return own, true
}

var (
	pathDate = regexp.MustCompile(`\d{4}-?\d{2}-?\d{2}`)
	pathHash = regexp.MustCompile(`(?i)[0-9a-f]{7,40}`)
)

func normaliseFile(name, root string) string {
	if root != "" && strings.HasPrefix(name, root) {
		name = "<root>" + strings.TrimPrefix(name, root)
	}
	if hasRun(name, 4, isDigit) { // what a date needs
		name = pathDate.ReplaceAllString(name, "<date>")
	}
	if !hasRun(name, 7, isHexDigit) {
		return name
	}
	return pathHash.ReplaceAllStringFunc(name, func(m string) string {
		if isHex(m) {
			return "<hash>"
		}
		return m
	})
}

// normaliseMethod leaves out of a method's name every run of two digits or more (a generated
// name's counter: lambda$12, block in <main> 3042), keeping single digits (md5, utf8).
func normaliseMethod(m string) string {
	if !hasRun(m, 2, isDigit) {
		return m
	}
	out := make([]byte, 0, len(m))
	for i := 0; i < len(m); {
		j := i
		for j < len(m) && isDigit(m[j]) {
			j++
		}
		switch {
		case j-i == 1:
			out = append(out, m[i])
		case j == i:
			out = append(out, m[i])
			j++
		}
		i = j
	}
	return string(out)
}

// hasRun reports whether s has n bytes in a row that satisfy ok: a cheap test before a
// regular expression that needs such a run.
func hasRun(s string, n int, ok func(byte) bool) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		if ok(s[i]) {
			if run++; run >= n {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHexDigit(c byte) bool { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f' }

func limitFingerprint(f string) string {
	if len(f) > maxFingerprint {
		return digest(f)
	}
	return f
}

func digest(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// Truncate cuts s to at most n bytes at a character boundary.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

func quote(s string) string { return "“" + s + "”" }
