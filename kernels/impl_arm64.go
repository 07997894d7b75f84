//go:build !noasm

package kernels

func neonImpl() Impl {
	return Impl{Name: "neon", MR: 4, NR: 4, gemm: gemmGeneric, ew: ewGeneric} // TODO(neon): NEON kernels
}
