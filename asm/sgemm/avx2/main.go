// Command avx2 generates kernels/sgemm_avx2_amd64.s and its stubs: the AVX2+FMA SGEMM micro-kernel
// (6×16: 12 ymm accumulators, 2 B vectors, 2 broadcast registers) and its variants for the last 1–5
// rows of C.
package main

import (
	"github.com/simdnn/simdnn/asm/internal/gen"
)

func main() {
	gen.Header()
	for rows := 6; rows >= 1; rows-- {
		gen.SgemmKernel(gen.AVX2, rows, 16, 4)
	}
	gen.Write()
}
