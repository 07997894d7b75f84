package simdnn_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/simdnn/simdnn"
	"github.com/simdnn/simdnn/kernels"
	"github.com/simdnn/simdnn/nn"
)

// The headline benchmarks: `go test -bench .` at the repository root. They need no dataset and no
// trained model (random weights: speed does not depend on the values). KERNELS_ISA=generic runs them
// on the pure-Go kernels, which is how `make benchstat` compares.

func benchModel(b *testing.B, arch string) *simdnn.Model {
	net, err := nn.New(arch, 1)
	if err != nil {
		b.Fatal(err)
	}
	m, err := simdnn.New(net, nn.Meta{Arch: arch, Mean: 0.2860, Std: 0.3530})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func benchPixels(n int) []byte {
	p := make([]byte, n*simdnn.ImageSize)
	s := uint32(1)
	for i := range p {
		s = s*1664525 + 1013904223
		p[i] = byte(s >> 24)
	}
	return p
}

// BenchmarkInfer: prediction (pixels in, classes and probabilities out) at batch 1 and 128, named like
// `bench --format benchfmt` names its lines so the two compare.
func BenchmarkInfer(b *testing.B) {
	threads := runtime.GOMAXPROCS(0)
	for _, arch := range []string{"cnn", "ann", "resnet"} {
		m := benchModel(b, arch)
		for _, batch := range []int{1, 128} {
			b.Run(fmt.Sprintf("model=%s/batch=%d/threads=%d", arch, batch, threads), func(b *testing.B) {
				m.SetThreads(threads)
				pixels := benchPixels(batch)
				dst := make([]simdnn.Prediction, 0, batch)
				dst, _ = m.PredictPixels(dst[:0], pixels)
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					dst, _ = m.PredictPixels(dst[:0], pixels)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/image")
				b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "images/s")
			})
		}
	}
}

// BenchmarkTrainStep: one training step (forward, loss, backward, Adam) at the recipe's batch of 128,
// with nn's matrix products on the kernels (kernels.UseWithGonum, as `train` does).
func BenchmarkTrainStep(b *testing.B) {
	kernels.UseWithGonum()
	for _, arch := range []string{"cnn", "ann", "resnet"} {
		b.Run(fmt.Sprintf("model=%s/batch=128", arch), func(b *testing.B) {
			const n = 128
			net, err := nn.New(arch, 1)
			if err != nil {
				b.Fatal(err)
			}
			x := make([]float32, n*simdnn.ImageSize)
			for i, p := range benchPixels(n) {
				x[i] = (float32(p)/255 - 0.286) / 0.353
			}
			labels := make([]uint8, n)
			for i := range labels {
				labels[i] = uint8(i % simdnn.NumClasses)
			}
			opt := nn.NewAdam(net.Params(), 1e-3)
			d := make([]float32, n*simdnn.NumClasses)
			step := func() {
				opt.ZeroGrad()
				nn.SoftmaxCrossEntropy(net.Forward(x, n, true), labels, n, d)
				net.Backward(d)
				opt.Step()
			}
			step()
			b.ResetTimer()
			for range b.N {
				step()
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}

// BenchmarkSgemm: C = A·B at 1024³ on every thread, the kernels' headline figure.
func BenchmarkSgemm(b *testing.B) {
	const n = 1024
	a, bb, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	for i := range a {
		a[i] = float32(i%7) - 3
		bb[i] = float32(i%5) - 2
	}
	b.Run(fmt.Sprintf("m=%d/n=%d/k=%d/threads=%d", n, n, n, runtime.GOMAXPROCS(0)), func(b *testing.B) {
		for range b.N {
			kernels.Sgemm(false, false, n, n, n, 1, a, n, bb, n, 0, c, n)
		}
		b.ReportMetric(2*n*n*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}
