//go:build unix

package rules

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user + system) the process has used so far. Benchmarks report
// it per operation as cpu-ns/op, which stays meaningful on a machine shared with other work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
