//go:build unix

package kernels

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) this process has used. The benchmarks divide their flops
// by it as well as by wall time: on a shared, busy machine the wall clock counts time the scheduler
// gave to others, the CPU time does not.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
