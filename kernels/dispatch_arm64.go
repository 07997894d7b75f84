//go:build !noasm

package kernels

import "github.com/klauspost/cpuid/v2"

// archImpls lists the arm64 sets this CPU can run. ASIMD (NEON) is part of ARMv8-A, but ask anyway so
// an odd emulator or kernel that hides it falls back to generic instead of faulting.
func archImpls() []Impl {
	if cpuid.CPU.Supports(cpuid.ASIMD) {
		return []Impl{neonImpl()}
	}
	return nil
}
