//go:build noasm || !amd64

package kernels

// gemvKernel: no assembly matrix-vector kernel on this build; SgemvBiasReLU runs in Go.
func gemvKernel(string) (func(m4, k int, a *float32, lda int, x, y *float32), int) { return nil, 0 }
