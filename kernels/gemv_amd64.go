//go:build !noasm

package kernels

// gemvKernel returns the named kernel set's four-row matrix-vector kernel and its vector width in
// float32 lanes, or nil for the pure-Go path.
func gemvKernel(name string) (func(m4, k int, a *float32, lda int, x, y *float32), int) {
	switch name {
	case "avx512":
		return gemv4_avx512, 16
	case "avx2":
		return gemv4_avx2, 8
	}
	return nil, 0
}
