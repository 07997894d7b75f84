// Package kernels holds the kit's compute kernels: a pure-Go reference for each, assembly versions for
// amd64 (AVX2+FMA, AVX-512; generated with avo from ../asm) and arm64 (NEON, hand-written), and one
// dispatch table, filled once at start-up from the CPU's features, that every call goes through.
//
// Nothing outside this file and the dispatch_<arch>.go files checks a CPU feature.
package kernels

import (
	"fmt"
	"os"
	"strings"
	"sync/atomic"
)

// Impl is one complete set of kernels: every kernel family for one instruction set.
type Impl struct {
	Name   string // "avx512", "avx2", "neon" or "generic"
	MR, NR int    // SGEMM register tile: MR rows of A by NR columns of B

	gemm gemmKernels // sgemm.go
	ew   ewKernels   // elementwise.go: batchnorm, ReLU, pooling, bias, Adam, im2col
}

// EnvISA is the environment variable that forces a kernel set at start-up, e.g. KERNELS_ISA=generic.
const EnvISA = "KERNELS_ISA"

var (
	available []Impl // best first; the generic set is always last
	current   atomic.Pointer[Impl]
)

func init() {
	available = append(archImpls(), genericImpl())
	best := available[0]
	current.Store(&best)
	if name := os.Getenv(EnvISA); name != "" {
		if err := Use(name); err != nil {
			// A forced set this CPU cannot run would crash with SIGILL later; stop here instead.
			fmt.Fprintf(os.Stderr, "kernels: %s=%s: %v\n", EnvISA, name, err)
			os.Exit(2)
		}
	}
}

// Available returns every kernel set this CPU can run, best first.
func Available() []Impl { return append([]Impl(nil), available...) }

// Current returns the kernel set in use.
func Current() Impl { return *current.Load() }

// Use forces the named kernel set for every later call. Tests and `bench --isa` use it.
// It is safe to call concurrently with kernels, which load the table once per call.
func Use(name string) error {
	for i := range available {
		if available[i].Name == name {
			impl := available[i]
			current.Store(&impl)
			return nil
		}
	}
	names := make([]string, len(available))
	for i, impl := range available {
		names[i] = impl.Name
	}
	return fmt.Errorf("kernel set %q is not available on this CPU (available: %s)", name, strings.Join(names, ", "))
}
