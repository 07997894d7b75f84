package nn

import (
	"fmt"
	"testing"
)

// BenchmarkTrainStep times one training step (forward, loss, backward, Adam) at the recipe's batch.
func BenchmarkTrainStep(b *testing.B) {
	for _, arch := range Archs {
		b.Run(fmt.Sprintf("arch=%s/batch=128", arch), func(b *testing.B) {
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
	}
}

// BenchmarkForwardEval times the training graph in evaluation mode (what validation runs on).
func BenchmarkForwardEval(b *testing.B) {
	for _, arch := range Archs {
		b.Run(fmt.Sprintf("arch=%s/batch=128", arch), func(b *testing.B) {
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
	}
}
