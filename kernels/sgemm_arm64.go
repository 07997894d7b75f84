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

// sgemmKernelEx_8x12_neon is sgemmKernel_8x12_neon with the driver's store modes fused (gemmKernels
// kernelEx): for each i < 8, j < 12,
//
//	v := 0
//	if flags&gemmLoadC != 0 { v = c[i*ldc+j] }
//	for p := 0; p < k; p++ { v += a[p*8+i] * b[p*12+j] }
//	if flags&gemmBias != 0 { v += bias[i] }
//	if flags&gemmReLU != 0 && v < 0 { v = 0 }
//	c[i*ldc+j] = v
//
// bias is read only when gemmBias is set; c is read only when gemmLoadC is set.
//
//go:noescape
func sgemmKernelEx_8x12_neon(k int, a, b, c *float32, ldc int, bias *float32, flags int)
