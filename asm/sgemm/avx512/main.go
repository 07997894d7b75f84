// Command avx512 generates kernels/sgemm_avx512_amd64.s and its stubs: the AVX-512 SGEMM micro-kernel
// (12×32: 24 zmm accumulators, 2 B vectors and 12 embedded broadcasts of A per step) and its variants
// for the last 1–11 rows of C, then the same twelve with a column mask for the last, partial column
// panel.
package main

import (
	"github.com/simdnn/simdnn/asm/internal/gen"
)

func main() {
	gen.Header()
	for rows := 12; rows >= 1; rows-- {
		gen.SgemmKernel(gen.AVX512, rows, 32, 4)
	}
	for rows := 12; rows >= 1; rows-- {
		gen.SgemmKernelMasked(gen.AVX512, rows, 32, 4)
	}
	gen.Write()
}
