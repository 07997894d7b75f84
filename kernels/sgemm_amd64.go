//go:build !noasm

package kernels

// The generated micro-kernels (sgemm_<isa>_amd64.s) implement the extended entry directly; the plain
// contract entry is the same call accumulating onto C.
var (
	gemmAVX512 = gemmKernels{
		kernel: func(k int, a, b, c *float32, ldc int) {
			sgemmKernel_8x32_avx512(k, a, b, c, ldc, nil, gemmLoadC)
		},
		kernelEx: sgemmKernel_8x32_avx512,
	}
	gemmAVX2 = gemmKernels{
		kernel: func(k int, a, b, c *float32, ldc int) {
			sgemmKernel_6x16_avx2(k, a, b, c, ldc, nil, gemmLoadC)
		},
		kernelEx: sgemmKernel_6x16_avx2,
	}
)
