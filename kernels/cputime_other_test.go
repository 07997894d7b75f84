//go:build !unix

package kernels

import "time"

// processCPU is not measured here; the CPU-time metrics are then left out.
func processCPU() time.Duration { return 0 }
