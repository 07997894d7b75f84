//go:build !noasm

package kernels

func init() {
	peakKernels["neon"] = peakKernel{run: peakFMA_neon, flops: 24 * 4 * 2}
}

// peakFMA_neon runs n iterations of 24 independent 4-lane FMAs (192 flops per iteration):
//
//	for it := 0; it < n; it++ {
//		for r := 0; r < 24; r++ {
//			acc[r] += x * y // per lane, fused
//		}
//	}
//
// 24 chains, as many as the 8×12 SGEMM tile keeps, cover an FMA latency of 4 cycles on up to 4 pipes
// (Neoverse V1/V2), so the loop measures throughput, not latency.
//
//go:noescape
func peakFMA_neon(n int)
