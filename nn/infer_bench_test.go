package nn

import (
	"fmt"
	"testing"

	"github.com/simdnn/simdnn/kernels"
)

// BenchmarkInference measures the compiled graph on random weights; kthreads is the kernels' own
// thread cap (the batch split and the GEMM's threading compete for the same cores).
func BenchmarkInference(b *testing.B) {
	for _, arch := range []string{"cnn", "ann"} {
		g, err := CompileInference(arch, inferTestTensors(arch, 1))
		if err != nil {
			b.Fatal(err)
		}
		for _, batch := range []int{1, 128} {
			x := inferTestImages(batch, 2)
			out := make([]float32, batch*10)
			for _, threads := range []int{1, 2} {
				for _, kt := range []int{1, 2} {
					b.Run(fmt.Sprintf("model=%s/batch=%d/threads=%d/kthreads=%d", arch, batch, threads, kt), func(b *testing.B) {
						prev := kernels.SetMaxThreads(kt)
						defer kernels.SetMaxThreads(prev)
						g.SetThreads(threads)
						g.Forward(x, batch, out)
						b.ResetTimer()
						for i := 0; i < b.N; i++ {
							g.Forward(x, batch, out)
						}
						b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "images/s")
					})
				}
			}
		}
	}
}
