// Command avx2 generates kernels/elementwise_avx2_amd64.s and its stubs: the element-wise kernels
// (ReLU, bias and scale/shift, batchnorm, Adam, float64 sums) for AVX2+FMA.
package main

import (
	"github.com/simdnn/simdnn/asm/elementwise/internal/ewgen"
	"github.com/simdnn/simdnn/asm/internal/gen"
)

func main() {
	gen.Header()
	ewgen.All(gen.AVX2)
	gen.Write()
}
