// Command avx512 generates kernels/gemv_avx512_amd64.s and its stubs: the AVX512 matrix-vector kernel
// (four rows of A against one vector x, no packing) that a batch of one runs its linear layers on.
package main

import (
	"github.com/simdnn/simdnn/asm/internal/gen"
)

func main() {
	gen.Header()
	gen.GemvKernel(gen.AVX512)
	gen.Write()
}
