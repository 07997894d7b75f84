//go:build noasm || !(amd64 || arm64)

package kernels

// archImpls: without assembly only the generic set exists.
func archImpls() []Impl { return nil }
