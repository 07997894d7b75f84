//go:build openblas && cgo

package kernels

import (
	"testing"

	"github.com/simdnn/simdnn/kernels/internal/openblas"
)

// Debian's libopenblas under the same benchmark names (impl=openblas), so that one benchstat run puts
// it beside ours: make bench-openblas. Run it with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset so
// OpenBLAS picks its own best kernels for this CPU; threads= sets its thread count per sub-benchmark
// (start it with OPENBLAS_NUM_THREADS=2 so its pool has two).
func init() {
	foreignSgemm = append(foreignSgemm, sgemmBenchImpl{name: "openblas",
		setup: func(threads int) (func(m, n, k int, a, b, c []float32), func()) {
			prev := openblas.SetThreads(threads)
			return openblas.Sgemm, func() { openblas.SetThreads(prev) }
		}})
}

func TestOpenBLASCore(t *testing.T) {
	t.Logf("OpenBLAS core: %s", openblas.Core())
}
