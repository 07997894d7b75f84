// Package openblas binds Debian's libopenblas for the comparison benchmark in kernels
// (sgemm_openblas_bench_test.go, make bench-openblas). Its code is behind the openblas build tag, so
// the default build stays free of cgo; cgo cannot live in a _test.go file, nor in package kernels,
// which has Go assembly.
package openblas
