package kernels

// genericImpl is the pure-Go set: the reference every other set is tested against, and the fallback.
func genericImpl() Impl {
	return Impl{Name: "generic", MR: 4, NR: 4, gemm: gemmGeneric, ew: ewGeneric}
}
