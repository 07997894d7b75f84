// Command avx512 generates kernels/elementwise_avx512_amd64.s and its stubs: the element-wise kernels
// (ReLU, bias and scale/shift, batchnorm, Adam, float64 sums) for AVX-512.
package main

import (
	"github.com/simdnn/simdnn/asm/elementwise/internal/ewgen"
	"github.com/simdnn/simdnn/asm/internal/gen"
)

func main() {
	gen.Header()
	ewgen.All(gen.AVX512)
	gen.Write()
}
