//go:build !noasm

package kernels

// gemv4_neon computes, for i < m4 (a multiple of 4) and k a multiple of 8:
//
//	var acc float32
//	for p := 0; p < k; p++ {
//		acc += a[i*lda+p] * x[p] // fused multiply-add, in a different order
//	}
//	y[i] = acc
//
//go:noescape
func gemv4_neon(m4, k int, a *float32, lda int, x, y *float32)
