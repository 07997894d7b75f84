// Command avx2 generates kernels/gemv_avx2_amd64.s and its stubs: the AVX2 matrix-vector kernel
// (four rows of A against one vector x, no packing) that a batch of one runs its linear layers on.
package main

import (
	"github.com/simdnn/simdnn/asm/internal/gen"
)

func main() {
	gen.Header()
	gen.GemvKernel(gen.AVX2)
	gen.Write()
}
