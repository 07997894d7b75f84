// Command avx512 generates kernels/sgemm_avx512_amd64.s and its stubs: the AVX-512 SGEMM micro-kernel.
package main

import (
	"github.com/simdnn/simdnn/asm/internal/gen"
)

func main() {
	gen.Header()
	gen.SgemmKernel(gen.AVX512, 8, 32, 4)
	gen.Write()
}
