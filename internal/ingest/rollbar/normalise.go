package rollbar

import (
	"net/netip"
	"slices"
	"strings"
)

// normaliseFrames puts every trace into one shape: frames most recent last, without the
// frames of the Rollbar SDK itself and of the Go runtime that calls main, and without a
// cause's stack when it repeats the exception's own. rollbar-go sends frames most recent
// first, starting with its own, and gives errors that carry no stack of their own the
// caller's stack, so a wrapped error's chain repeats it. It reports whether any trace's
// frames are no longer those sent, in their order.
func normaliseFrames(it *item, traces []*trace) (changed bool) {
	goSDK := it.Notifier.Name == "rollbar/rollbar-go" || it.Language == "go"
	var previous []frame
	for i, tr := range traces {
		frames := tr.Frames
		if frames == nil {
			previous = nil
			continue
		}
		if goSDK {
			frames = slices.DeleteFunc(frames, isGoNoise)
			slices.Reverse(frames)
		}
		if i > 0 && len(frames) > 0 && sameFrames(frames, previous) {
			previous, frames = frames, []frame{}
		} else {
			previous = frames
		}
		changed = changed || !asSent(frames, len(tr.Frames))
		tr.Frames = frames
	}
	return changed
}

// asSent reports whether frames are the n frames sent, in their order.
func asSent(frames []frame, n int) bool {
	if len(frames) != n {
		return false
	}
	for i, f := range frames {
		if f.sent != i {
			return false
		}
	}
	return true
}

// isGoNoise reports a frame of rollbar-go itself or of the runtime around main.
func isGoNoise(f frame) bool {
	return strings.HasPrefix(f.Method, "rollbar-go.") || strings.Contains(f.Filename, "github.com/rollbar/rollbar-go") ||
		f.Method == "runtime.main" || f.Method == "runtime.goexit" || strings.HasSuffix(f.Filename, ".s")
}

func sameFrames(a, b []frame) bool {
	return slices.EqualFunc(a, b, func(x, y frame) bool {
		return x.Filename == y.Filename && x.Method == y.Method && x.Lineno == y.Lineno
	})
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
