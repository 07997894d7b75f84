package nn

import (
	"fmt"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
	gonumblas "gonum.org/v1/gonum/blas/gonum"

	"github.com/simdnn/simdnn/kernels"
)

// withBLAS runs fn once on gonum's pure-Go BLAS and once on the kit's kernels (blas=gonum|kernels),
// so one benchmark run shows what the kernels buy nn without nn changing.
func withBLAS(b *testing.B, fn func(b *testing.B)) {
	defer blas32.Use(blas32.Implementation())
	b.Run("blas=gonum", func(b *testing.B) {
		blas32.Use(gonumblas.Implementation{})
		fn(b)
	})
	b.Run("blas=kernels", func(b *testing.B) {
		kernels.UseWithGonum()
		fn(b)
	})
}

// BenchmarkTrainStep times one training step (forward, loss, backward, Adam) at the recipe's batch.
func BenchmarkTrainStep(b *testing.B) {
	for _, arch := range Archs {
		b.Run(fmt.Sprintf("arch=%s/batch=128", arch), func(b *testing.B) {
			withBLAS(b, func(b *testing.B) {
				const n = 128
				net, _ := New(arch, 1)
				x := randImages(n, 2)
				labels := make([]uint8, n)
				for i := range labels {
					labels[i] = uint8(i % NumClasses)
				}
				opt := NewAdam(net.Params(), 1e-3)
				d := make([]float32, n*NumClasses)
				step := func() {
					opt.ZeroGrad()
					SoftmaxCrossEntropy(net.Forward(x, n, true), labels, n, d)
					net.Backward(d)
					opt.Step()
				}
				step() // allocate the buffers outside the timing
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					step()
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
			})
		})
	}
}

// BenchmarkForwardEval times the training graph in evaluation mode (what validation runs on).
func BenchmarkForwardEval(b *testing.B) {
	for _, arch := range Archs {
		b.Run(fmt.Sprintf("arch=%s/batch=128", arch), func(b *testing.B) {
			withBLAS(b, func(b *testing.B) {
				const n = 128
				net, _ := New(arch, 1)
				x := randImages(n, 2)
				net.Forward(x, n, false)
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					net.Forward(x, n, false)
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
			})
		})
	}
}
