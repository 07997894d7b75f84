//go:build openblas && cgo

package openblas

// #cgo LDFLAGS: -lopenblas
// #include <cblas.h>
import "C"

import "unsafe"

// Sgemm is C = A·B through cblas_sgemm, row-major, tight leading dimensions.
func Sgemm(m, n, k int, a, b, c []float32) {
	C.cblas_sgemm(C.CblasRowMajor, C.CblasNoTrans, C.CblasNoTrans, C.blasint(m), C.blasint(n), C.blasint(k),
		1, (*C.float)(unsafe.Pointer(&a[0])), C.blasint(k), (*C.float)(unsafe.Pointer(&b[0])), C.blasint(n),
		0, (*C.float)(unsafe.Pointer(&c[0])), C.blasint(n))
}

// SetThreads sets OpenBLAS's thread count and returns the previous one.
func SetThreads(n int) int {
	prev := int(C.openblas_get_num_threads())
	C.openblas_set_num_threads(C.int(n))
	return prev
}

// Core names the kernel set OpenBLAS chose for this CPU.
func Core() string { return C.GoString(C.openblas_get_corename()) }
