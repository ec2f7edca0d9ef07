package rollbar

import (
	"net/netip"
	"slices"
	"strings"
)

// normaliseFrames puts every trace of data.body into one shape: frames most recent last,
// without the frames of the Rollbar SDK itself and of the Go runtime that calls main, and
// without a cause's stack when it repeats the exception's own. rollbar-go sends frames most
// recent first, starting with its own, and gives errors that carry no stack of their own the
// caller's stack, so a wrapped error's chain repeats it.
func normaliseFrames(data map[string]any, traces []map[string]any) {
	notifier, _ := data["notifier"].(map[string]any)
	lang, _ := data["language"].(string)
	goSDK := notifier["name"] == "rollbar/rollbar-go" || lang == "go"
	var previous []any
	for i, tr := range traces {
		frames, ok := tr["frames"].([]any)
		if !ok { // none, or not a list, which exceptions refuses
			previous = nil
			continue
		}
		if goSDK {
			frames = slices.DeleteFunc(slices.Clone(frames), isGoNoise)
			slices.Reverse(frames)
		}
		if i > 0 && len(frames) > 0 && sameFrames(frames, previous) {
			previous, frames = frames, []any{}
		} else {
			previous = frames
		}
		tr["frames"] = frames
	}
}

// isGoNoise reports a frame of rollbar-go itself or of the runtime around main.
func isGoNoise(f any) bool {
	frame, _ := f.(map[string]any)
	method, _ := frame["method"].(string)
	file, _ := frame["filename"].(string)
	return strings.HasPrefix(method, "rollbar-go.") || strings.Contains(file, "github.com/rollbar/rollbar-go") ||
		method == "runtime.main" || method == "runtime.goexit" || strings.HasSuffix(file, ".s")
}

func sameFrames(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		fa, _ := a[i].(map[string]any)
		fb, _ := b[i].(map[string]any)
		for _, k := range []string{"filename", "method", "lineno"} {
			if text(fa[k]) != text(fb[k]) {
				return false
			}
		}
	}
	return true
}

// clientIP reads request.user_ip as SDKs send it: one address, a list (X-Forwarded-For as
// pyrollbar passes it on; the first is the client), an IPv4-mapped IPv6 address (Node), or
// "$remote_ip", which stands for the address the request came from.
func clientIP(v string, remote string) string {
	if strings.TrimSpace(v) == "$remote_ip" {
		v = remote
	}
	for part := range strings.SplitSeq(v, ",") {
		if addr, err := netip.ParseAddr(strings.TrimSpace(part)); err == nil {
			return addr.Unmap().String()
		}
	}
	return ""
}

// levels are Rollbar's levels and the other names SDKs use for them.
var levels = map[string]string{
	"critical": "critical", "fatal": "critical", "error": "error", "warning": "warning", "warn": "warning",
	"info": "info", "debug": "debug",
}

// language is the language's name without a version ("python 3.11.7" is python).
func language(s string) string {
	name, _, _ := strings.Cut(strings.TrimSpace(s), " ")
	return strings.ToLower(name)
}
