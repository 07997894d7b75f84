//go:build !noasm

package kernels

func init() {
	peakKernels["avx512"] = peakKernel{run: peakFMA_avx512, flops: 24 * 16 * 2}
	peakKernels["avx2"] = peakKernel{run: peakFMA_avx2, flops: 12 * 8 * 2}
}
