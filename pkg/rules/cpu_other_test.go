//go:build !unix

package rules

import "time"

// cpuTime is not measured on this platform; benchmarks then report cpu-ns/op as 0.
func cpuTime() time.Duration { return 0 }
