//go:build !noasm

package kernels

import "github.com/klauspost/cpuid/v2"

// archImpls lists the amd64 sets this CPU can run, best first.
func archImpls() []Impl {
	var impls []Impl
	if cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512DQ, cpuid.AVX512VL, cpuid.FMA3) {
		impls = append(impls, avx512Impl())
	}
	if cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3) {
		impls = append(impls, avx2Impl())
	}
	return impls
}
