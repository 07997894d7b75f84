// Command avx2 generates kernels/peak_avx2_amd64.s and its stubs: the AVX2+FMA FMA-peak loop.
package main

import (
	"github.com/simdnn/simdnn/asm/internal/gen"
)

func main() {
	gen.Header()
	gen.PeakFMA(gen.AVX2, 12)
	gen.Write()
}
