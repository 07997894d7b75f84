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

// BenchmarkConvPooled measures one core's half of the CNN's conv3 and pool3 for one image, as the
// one-image plan runs it: path=gemm-pool is the convolution over its whole 7×7 (im2col + W·col) into
// scratch and the pool after it, path=pooled is runPooled (Cᵀ = col·Wt over the 6×6 region, the pool
// fused); stage=… times runPooled's parts alone.
func BenchmarkConvPooled(b *testing.B) {
	const cin, cout, h, w = 64, 128, 7, 7
	ps := inferTestTensors("cnn", 1)
	g, err := CompileInference("cnn", ps)
	if err != nil {
		b.Fatal(err)
	}
	var c *infConvOp
	for _, l := range g.layers {
		if l.conv != nil && l.cin == cin {
			c = l.conv
		}
	}
	if c == nil || c.wt == nil {
		b.Fatal("no pooled conv3 in the compiled CNN")
	}
	prev := kernels.SetMaxThreads(1)
	defer kernels.SetMaxThreads(prev)
	src := inferTestImages(4, 3)[:cin*h*w]
	lo, hi := 0, cout/2
	dst := make([]float32, cout*(h/2)*(w/2))
	conv := make([]float32, (hi-lo)*h*w)
	idx := make([]uint8, len(dst))
	scratch := make([]float32, c.scratchSize(1)+c.pooledScratch())
	b.Run("path=gemm-pool", func(b *testing.B) {
		for b.Loop() {
			k := cin * 9
			kernels.Conv3x3BiasReLU(conv, src, c.weight[lo*k:hi*k], c.bias[lo:hi], 1, cin, hi-lo, h, w, c.relu, scratch)
			infMaxPool2x2(dst[:(hi-lo)*9], idx, conv, hi-lo, h, w)
		}
	})
	b.Run("path=pooled", func(b *testing.B) {
		for b.Loop() {
			c.runPooled(dst, src, lo, hi, scratch)
		}
	})
}
