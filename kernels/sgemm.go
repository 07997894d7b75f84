package kernels

// gemmKernels is the SGEMM family's entry in the dispatch table. Placeholder: the gemm helper fills it.
type gemmKernels struct{}

var gemmGeneric gemmKernels
