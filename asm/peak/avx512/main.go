// Command avx512 generates kernels/peak_avx512_amd64.s and its stubs: the AVX-512 FMA-peak loop.
package main

import (
	"github.com/simdnn/simdnn/asm/internal/gen"
)

func main() {
	gen.Header()
	gen.PeakFMA(gen.AVX512, 24)
	gen.Write()
}
