package server

import (
	"os"
	"runtime/debug"
)

// Go's collector as lookout serves with, unless GOMEMLIMIT or GOGC say otherwise: a soft limit
// makes the heap collect harder before the process grows, beside the store's own buffer
// limit, and below it the collector runs at a fifth of its default frequency, which ingest's
// short-lived request buffers would otherwise keep busy (10–15 % of the CPU an occurrence or
// a log line).
const (
	memoryLimit = 160 << 20
	gcPercent   = 400
)

// TuneRuntime sets Go's collector as lookout serves with and returns what undoes it.
func TuneRuntime() (undo func()) {
	limit, percent := debug.SetMemoryLimit(-1), -2 // -2: GOGC left as it is
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	if os.Getenv("GOGC") == "" {
		percent = debug.SetGCPercent(gcPercent)
	}
	return func() {
		debug.SetMemoryLimit(limit)
		if percent != -2 {
			debug.SetGCPercent(percent)
		}
	}
}
