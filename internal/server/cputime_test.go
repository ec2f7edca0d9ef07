package server_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time, user and system, that the process (RUSAGE_SELF) or the calling
// thread (RUSAGE_THREAD) has used.
func cpuTime(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
