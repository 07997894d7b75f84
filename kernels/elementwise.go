package kernels

// ewKernels is the element-wise family's entry in the dispatch table. Placeholder: the ew helper fills it.
type ewKernels struct{}

var ewGeneric ewKernels
