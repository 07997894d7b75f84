package kernels

// genericImpl is the pure-Go set: the reference every other set is tested against, and the fallback.
func genericImpl() Impl {
	return Impl{Name: "generic", MR: genericMR, NR: genericNR, gemm: gemmGeneric, ew: ewGeneric}
}
