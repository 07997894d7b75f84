//go:build !noasm

package kernels

// sgemmKernel_8x12_neon adds the product of one packed A panel and one packed B panel to an 8×12 tile
// of C:
//
//	for p := 0; p < k; p++ {
//		for i := 0; i < 8; i++ {
//			for j := 0; j < 12; j++ {
//				c[i*ldc+j] += a[p*8+i] * b[p*12+j]
//			}
//		}
//	}
//
// a holds 8·k floats, b 12·k, c 8 rows of at least 12 floats, ldc apart.
//
//go:noescape
func sgemmKernel_8x12_neon(k int, a, b, c *float32, ldc int)
