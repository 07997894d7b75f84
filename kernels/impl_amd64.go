//go:build !noasm

package kernels

func avx512Impl() Impl {
	return Impl{Name: "avx512", MR: genericMR, NR: genericNR, gemm: gemmGeneric, ew: ewGeneric} // TODO(gemm, ew): AVX-512 kernels
}

func avx2Impl() Impl {
	return Impl{Name: "avx2", MR: genericMR, NR: genericNR, gemm: gemmGeneric, ew: ewGeneric} // TODO(gemm, ew): AVX2 kernels
}
