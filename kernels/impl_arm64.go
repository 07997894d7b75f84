//go:build !noasm

package kernels

// neonImpl is the arm64 set. The 8×12 SGEMM tile keeps 24 of the 32 vector registers as accumulators
// (see sgemm_neon_arm64.s); SgemvBiasReLU's kernel is in gemv_neon_arm64.s, the element-wise
// ones in elementwise_neon_arm64.s, pool_neon_arm64.s and conv_neon_arm64.s.
func neonImpl() Impl {
	return Impl{Name: "neon", MR: 8, NR: 12, gemm: gemmKernels{
		kernel:    sgemmKernel_8x12_neon,
		kernelEx:  sgemmKernelEx_8x12_neon,
		gemv4:     gemv4_neon,
		gemvLanes: 8,
	}, ew: ewNeon()}
}
