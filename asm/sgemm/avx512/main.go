// Command avx512 generates kernels/sgemm_avx512_amd64.s and its stubs: the AVX-512 SGEMM micro-kernel
// (12×32: 24 zmm accumulators, 2 B vectors and 12 embedded broadcasts of A per step) and its variants
// for the last 1–11 rows of C, then the same twelve with a column mask for the last, partial column
// panel, and twelve 16-wide masked ones for a last panel of at most 16 columns (the im2col GEMMs'
// widths, images × 49 or 196, leave 2–4 columns), which would spend a 32-wide kernel's FMAs on it.
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
	for rows := 12; rows >= 1; rows-- {
		gen.SgemmKernelMasked(gen.AVX512, rows, 16, 4)
	}
	gen.Write()
}
