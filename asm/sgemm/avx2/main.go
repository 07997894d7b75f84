// Command avx2 generates kernels/sgemm_avx2_amd64.s and its stubs: the AVX2+FMA SGEMM micro-kernel.
package main

import (
	"github.com/simdnn/simdnn/asm/internal/gen"
)

func main() {
	gen.Header()
	gen.SgemmKernel(gen.AVX2, 6, 16, 4)
	gen.Write()
}
