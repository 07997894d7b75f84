package kernels

// peakKernel is one instruction set's FMA-throughput loop: run(n) does n iterations of flops each.
// Only the benchmarks use it, to state SGEMM speed as a fraction of what this CPU can do.
type peakKernel struct {
	run   func(n int)
	flops int
}

// peakKernels maps an Impl name to its peak loop; the arch files add theirs.
var peakKernels = map[string]peakKernel{"generic": {run: peakGeneric, flops: 16}}

var peakSink float32

// peakGeneric is the scalar ceiling of pure Go: 8 independent multiply-add chains.
func peakGeneric(n int) {
	x, y := float32(0.999), float32(1e-3)
	var a0, a1, a2, a3, a4, a5, a6, a7 float32
	for i := 0; i < n; i++ {
		a0 = a0*x + y
		a1 = a1*x + y
		a2 = a2*x + y
		a3 = a3*x + y
		a4 = a4*x + y
		a5 = a5*x + y
		a6 = a6*x + y
		a7 = a7*x + y
	}
	peakSink = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7
}
