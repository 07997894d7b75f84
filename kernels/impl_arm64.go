//go:build !noasm

package kernels

func neonImpl() Impl {
	return Impl{Name: "neon", MR: genericMR, NR: genericNR, gemm: gemmGeneric, ew: ewGeneric} // TODO(neon): NEON kernels
}
