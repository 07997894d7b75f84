//go:build !noasm

package kernels

func avx512Impl() Impl {
	return Impl{Name: "avx512", MR: 12, NR: 32, gemm: gemmAVX512, ew: ewAVX512}
}

func avx2Impl() Impl {
	return Impl{Name: "avx2", MR: 6, NR: 16, gemm: gemmAVX2, ew: ewAVX2}
}
