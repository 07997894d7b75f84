//go:build !noasm

package kernels

// The generated micro-kernels (sgemm_<isa>_amd64.s) implement the extended entry directly; the plain
// contract entry is the same call accumulating onto C.
var (
	gemmAVX512 = gemmKernels{
		kernel: func(k int, a, b, c *float32, ldc int) {
			sgemmKernel_12x32_avx512(k, a, b, c, ldc, nil, gemmLoadC)
		},
		kernelEx: sgemmKernel_12x32_avx512,
		rows: []gemmKernelEx{nil,
			sgemmKernel_1of12x32_avx512, sgemmKernel_2of12x32_avx512, sgemmKernel_3of12x32_avx512,
			sgemmKernel_4of12x32_avx512, sgemmKernel_5of12x32_avx512, sgemmKernel_6of12x32_avx512,
			sgemmKernel_7of12x32_avx512, sgemmKernel_8of12x32_avx512, sgemmKernel_9of12x32_avx512,
			sgemmKernel_10of12x32_avx512, sgemmKernel_11of12x32_avx512},
	}
	gemmAVX2 = gemmKernels{
		kernel: func(k int, a, b, c *float32, ldc int) {
			sgemmKernel_6x16_avx2(k, a, b, c, ldc, nil, gemmLoadC)
		},
		kernelEx: sgemmKernel_6x16_avx2,
		rows: []gemmKernelEx{nil,
			sgemmKernel_1of6x16_avx2, sgemmKernel_2of6x16_avx2, sgemmKernel_3of6x16_avx2,
			sgemmKernel_4of6x16_avx2, sgemmKernel_5of6x16_avx2},
	}
)
