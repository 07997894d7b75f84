//go:build !noasm

package kernels

// The generated micro-kernels (sgemm_<isa>_amd64.s) take strides, so the driver runs them on packed
// panels or straight on the caller's matrices; strided[r] computes r rows. The contract entries
// (kernel, kernelEx) are the full-height kernel on packed panels.
var (
	gemmAVX512 = gemmKernels{
		gemv4: gemv4_avx512, gemvLanes: 16,
		kernel: func(k int, a, b, c *float32, ldc int) {
			sgemmKernel_12x32_avx512(k, a, 1, 12, b, 32, c, ldc, nil, gemmLoadC)
		},
		kernelEx: func(k int, a, b, c *float32, ldc int, bias *float32, flags int) {
			sgemmKernel_12x32_avx512(k, a, 1, 12, b, 32, c, ldc, bias, flags)
		},
		strided: []gemmKernelStrided{nil,
			sgemmKernel_1x32_avx512, sgemmKernel_2x32_avx512, sgemmKernel_3x32_avx512,
			sgemmKernel_4x32_avx512, sgemmKernel_5x32_avx512, sgemmKernel_6x32_avx512,
			sgemmKernel_7x32_avx512, sgemmKernel_8x32_avx512, sgemmKernel_9x32_avx512,
			sgemmKernel_10x32_avx512, sgemmKernel_11x32_avx512, sgemmKernel_12x32_avx512},
		stridedMasked: []gemmKernelMasked{nil,
			sgemmKernelMasked_1x32_avx512, sgemmKernelMasked_2x32_avx512, sgemmKernelMasked_3x32_avx512,
			sgemmKernelMasked_4x32_avx512, sgemmKernelMasked_5x32_avx512, sgemmKernelMasked_6x32_avx512,
			sgemmKernelMasked_7x32_avx512, sgemmKernelMasked_8x32_avx512, sgemmKernelMasked_9x32_avx512,
			sgemmKernelMasked_10x32_avx512, sgemmKernelMasked_11x32_avx512, sgemmKernelMasked_12x32_avx512},
		stridedMaskedHalf: []gemmKernelMasked{nil,
			sgemmKernelMasked_1x16_avx512, sgemmKernelMasked_2x16_avx512, sgemmKernelMasked_3x16_avx512,
			sgemmKernelMasked_4x16_avx512, sgemmKernelMasked_5x16_avx512, sgemmKernelMasked_6x16_avx512,
			sgemmKernelMasked_7x16_avx512, sgemmKernelMasked_8x16_avx512, sgemmKernelMasked_9x16_avx512,
			sgemmKernelMasked_10x16_avx512, sgemmKernelMasked_11x16_avx512, sgemmKernelMasked_12x16_avx512},
	}
	gemmAVX2 = gemmKernels{
		gemv4: gemv4_avx2, gemvLanes: 8,
		kernel: func(k int, a, b, c *float32, ldc int) {
			sgemmKernel_6x16_avx2(k, a, 1, 6, b, 16, c, ldc, nil, gemmLoadC)
		},
		kernelEx: func(k int, a, b, c *float32, ldc int, bias *float32, flags int) {
			sgemmKernel_6x16_avx2(k, a, 1, 6, b, 16, c, ldc, bias, flags)
		},
		strided: []gemmKernelStrided{nil,
			sgemmKernel_1x16_avx2, sgemmKernel_2x16_avx2, sgemmKernel_3x16_avx2,
			sgemmKernel_4x16_avx2, sgemmKernel_5x16_avx2, sgemmKernel_6x16_avx2},
	}
)
