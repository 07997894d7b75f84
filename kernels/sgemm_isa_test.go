//go:build !noasm && amd64

package kernels

import (
	"os"
	"testing"

	"github.com/klauspost/cpuid/v2"
)

// TestHostISAsCovered fails under CI=true when this CPU supports an instruction set whose kernels are
// not among the sets the tests above iterate (Available), so a broken dispatch cannot go unnoticed by
// silently testing only the generic code.
func TestHostISAsCovered(t *testing.T) {
	want := map[string]bool{}
	if cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512DQ, cpuid.AVX512VL, cpuid.FMA3) {
		want["avx512"] = true
	}
	if cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3) {
		want["avx2"] = true
	}
	for _, impl := range Available() {
		delete(want, impl.Name)
	}
	for name := range want {
		if os.Getenv("CI") == "true" {
			t.Errorf("host supports %s but no test ran its kernels", name)
		} else {
			t.Logf("host supports %s but its kernels are not available", name)
		}
	}
}
