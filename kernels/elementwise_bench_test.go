package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// The element-wise kernels are memory-bound, so they report GB/s (bytes read plus written); the
// convolution reports GFLOP/s (2·cout·cin·9·n·h·w per call). Sizes are the CNN's at batch 128:
// conv1's activations are 32 × 128·28·28 floats, conv2's 64 × 128·14·14, conv3's 128 × 128·7·7.

// ewBenchImpls runs f as sub-benchmark impl=<name> for every kernel set, with that set in force.
func ewBenchImpls(b *testing.B, f func(b *testing.B)) {
	for _, impl := range Available() {
		b.Run("impl="+impl.Name, func(b *testing.B) {
			prev := Current().Name
			if err := Use(impl.Name); err != nil {
				b.Fatal(err)
			}
			defer Use(prev)
			f(b)
		})
	}
}

// reportGBs reports bytes moved per wall second and per CPU-second since cpu0: on a shared, busy
// machine the wall clock also counts time the scheduler gave to others.
func reportGBs(b *testing.B, bytesPerOp int, cpu0 time.Duration) {
	gb := float64(bytesPerOp) * float64(b.N) / 1e9
	b.ReportMetric(gb/b.Elapsed().Seconds(), "GB/s")
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(gb/cpu.Seconds(), "GB/cpu-s")
	}
}

// reportGFLOPs is reportGBs for flops; with several threads the CPU figure is per core.
func reportGFLOPs(b *testing.B, flopsPerOp int, cpu0 time.Duration) {
	g := float64(flopsPerOp) * float64(b.N) / 1e9
	b.ReportMetric(g/b.Elapsed().Seconds(), "GFLOP/s")
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(g/cpu.Seconds(), "GFLOP/cpu-s")
	}
}

var ewBenchShapes = []struct {
	name       string
	rows, cols int
}{
	{"conv1", 32, 128 * 28 * 28},
	{"conv2", 64, 128 * 14 * 14},
	{"conv3", 128, 128 * 7 * 7},
	{"fc1", 256, 128},
}

func BenchmarkReLU(b *testing.B) {
	ewBenchImpls(b, func(b *testing.B) {
		for _, n := range []int{4096, 1 << 16, 32 * 128 * 28 * 28} {
			r := rand.New(rand.NewPCG(1, 1))
			x, y := ewRand(r, n, 1, false), make([]float32, n)
			b.Run(fmt.Sprintf("op=forward/n=%d", n), func(b *testing.B) {
				cpu0 := processCPU()
				for b.Loop() {
					ReLU(y, x)
				}
				reportGBs(b, 8*n, cpu0)
			})
			dx := make([]float32, n)
			b.Run(fmt.Sprintf("op=backward/n=%d", n), func(b *testing.B) {
				cpu0 := processCPU()
				for b.Loop() {
					ReLUBackward(dx, x, y)
				}
				reportGBs(b, 12*n, cpu0)
			})
		}
	})
}

func BenchmarkBiasRows(b *testing.B) {
	ewBenchImpls(b, func(b *testing.B) {
		for _, s := range ewBenchShapes {
			r := rand.New(rand.NewPCG(1, 2))
			x, bias := ewRand(r, s.rows*s.cols, 1, false), ewRand(r, s.rows, 1, false)
			b.Run("op=add/shape="+s.name, func(b *testing.B) {
				cpu0 := processCPU()
				for b.Loop() {
					AddBiasRows(x, bias, s.rows, s.cols)
				}
				reportGBs(b, 8*s.rows*s.cols, cpu0)
			})
			b.Run("op=grad/shape="+s.name, func(b *testing.B) {
				cpu0 := processCPU()
				for b.Loop() {
					BiasGradRows(bias, x, s.rows, s.cols)
				}
				reportGBs(b, 4*s.rows*s.cols, cpu0)
			})
		}
	})
}

func BenchmarkBatchNorm(b *testing.B) {
	ewBenchImpls(b, func(b *testing.B) {
		for _, s := range ewBenchShapes {
			n := s.rows * s.cols
			r := rand.New(rand.NewPCG(1, 3))
			x, dy := ewRand(r, n, 1, false), ewRand(r, n, 1, false)
			y, xhat, dx := make([]float32, n), make([]float32, n), make([]float32, n)
			mean, variance := make([]float32, s.rows), make([]float32, s.rows)
			gamma, beta := ewRand(r, s.rows, 1, false), ewRand(r, s.rows, 1, false)
			dg, db := make([]float32, s.rows), make([]float32, s.rows)
			b.Run("op=stats/shape="+s.name, func(b *testing.B) {
				cpu0 := processCPU()
				for b.Loop() {
					BatchNormStats(mean, variance, x, s.rows, s.cols)
				}
				reportGBs(b, 8*n, cpu0)
			})
			b.Run("op=forward/shape="+s.name, func(b *testing.B) {
				cpu0 := processCPU()
				for b.Loop() {
					BatchNormForward(y, xhat, x, mean, variance, gamma, beta, s.rows, s.cols, 1e-5)
				}
				reportGBs(b, 12*n, cpu0)
			})
			b.Run("op=backward/shape="+s.name, func(b *testing.B) {
				cpu0 := processCPU()
				for b.Loop() {
					BatchNormBackward(dx, dg, db, dy, xhat, variance, gamma, s.rows, s.cols, 1e-5)
				}
				reportGBs(b, 20*n, cpu0) // dy and xhat read twice, dx written
			})
			b.Run("op=inference-relu/shape="+s.name, func(b *testing.B) {
				cpu0 := processCPU()
				for b.Loop() {
					ScaleShiftRows(y, x, gamma, beta, s.rows, s.cols, true)
				}
				reportGBs(b, 8*n, cpu0)
			})
		}
	})
}

func BenchmarkMaxPool(b *testing.B) {
	ewBenchImpls(b, func(b *testing.B) {
		for _, s := range []struct {
			name         string
			planes, h, w int
		}{{"conv1", 32 * 128, 28, 28}, {"conv2", 64 * 128, 14, 14}, {"conv3", 128 * 128, 7, 7}} {
			r := rand.New(rand.NewPCG(1, 4))
			in := s.planes * s.h * s.w
			out := s.planes * (s.h / 2) * (s.w / 2)
			x, y, idx := ewRand(r, in, 1, false), make([]float32, out), make([]uint8, out)
			dx := make([]float32, in)
			b.Run("op=forward/shape="+s.name, func(b *testing.B) {
				cpu0 := processCPU()
				for b.Loop() {
					MaxPool2x2(y, idx, x, s.planes, s.h, s.w)
				}
				reportGBs(b, 4*in+5*out, cpu0)
			})
			b.Run("op=backward/shape="+s.name, func(b *testing.B) {
				cpu0 := processCPU()
				for b.Loop() {
					MaxPool2x2Backward(dx, y, idx, s.planes, s.h, s.w)
				}
				reportGBs(b, 4*in+5*out, cpu0)
			})
		}
	})
}

func BenchmarkAdam(b *testing.B) {
	ewBenchImpls(b, func(b *testing.B) {
		for _, s := range []struct {
			name string
			n    int
		}{{"cnn", 390858}, {"ann", 569226}} {
			r := rand.New(rand.NewPCG(1, 5))
			p, g := ewRand(r, s.n, 1, false), ewRand(r, s.n, 1, false)
			m, v := make([]float32, s.n), make([]float32, s.n)
			b.Run("params="+s.name, func(b *testing.B) {
				cpu0 := processCPU()
				for b.Loop() {
					Adam(p, g, m, v, 1e-3, 0.9, 0.999, 1e-8, 0.1, 0.001)
				}
				reportGBs(b, 28*s.n, cpu0) // p, g, m, v read; p, m, v written
			})
		}
	})
}

var convBenchLayers = []struct {
	name            string
	cin, cout, h, w int
}{{"conv1", 1, 32, 28, 28}, {"conv2", 32, 64, 14, 14}, {"conv3", 64, 128, 7, 7}}

func BenchmarkConv3x3(b *testing.B) {
	ewBenchImpls(b, func(b *testing.B) {
		for _, l := range convBenchLayers {
			for _, batch := range []int{1, 128} {
				r := rand.New(rand.NewPCG(1, 6))
				src := ewRand(r, l.cin*batch*l.h*l.w, 1, false)
				weight, bias := ewRand(r, l.cout*l.cin*9, 1, false), ewRand(r, l.cout, 1, false)
				dst := make([]float32, l.cout*batch*l.h*l.w)
				scratch := make([]float32, Conv3x3ScratchSize(batch, l.cin, l.h, l.w))
				b.Run(fmt.Sprintf("layer=%s/batch=%d", l.name, batch), func(b *testing.B) {
					cpu0 := processCPU()
					for b.Loop() {
						Conv3x3BiasReLU(dst, src, weight, bias, batch, l.cin, l.cout, l.h, l.w, true, scratch)
					}
					flops := 2 * l.cout * l.cin * 9 * batch * l.h * l.w
					reportGFLOPs(b, flops, cpu0)
				})
			}
		}
	})
}

func BenchmarkIm2col(b *testing.B) {
	ewBenchImpls(b, func(b *testing.B) {
		for _, l := range convBenchLayers {
			const batch = 128
			m := batch * l.h * l.w
			r := rand.New(rand.NewPCG(1, 7))
			src, col := ewRand(r, l.cin*m, 1, false), make([]float32, l.cin*9*m)
			b.Run("op=im2col/layer="+l.name, func(b *testing.B) {
				cpu0 := processCPU()
				for b.Loop() {
					Im2col3x3(col, src, batch, l.cin, l.h, l.w)
				}
				reportGBs(b, 4*l.cin*m+36*l.cin*m, cpu0)
			})
			b.Run("op=col2im/layer="+l.name, func(b *testing.B) {
				cpu0 := processCPU()
				for b.Loop() {
					Col2im3x3(src, col, batch, l.cin, l.h, l.w)
				}
				reportGBs(b, 8*l.cin*m+36*l.cin*m, cpu0)
			})
		}
	})
}

// BenchmarkIm2colChunk unfolds and folds back one chunk of a batch as a training convolution does
// (nn's conv3x3: as many images as keep the chunk's columns within 512 KiB, images 1… of a batch of
// 128 so the chunk sits inside the tensor): the layers of the CNN and the residual CNN.
func BenchmarkIm2colChunk(b *testing.B) {
	layers := []struct {
		name    string
		cin, hw int
	}{{"cin=32/hw=14", 32, 14}, {"cin=64/hw=14", 64, 14}, {"cin=64/hw=7", 64, 7}, {"cin=128/hw=7", 128, 7}}
	ewBenchImpls(b, func(b *testing.B) {
		for _, l := range layers {
			const batch = 128
			hw := l.hw * l.hw
			chunk := max(1, (1<<19)/(l.cin*9*hw*4))
			r := rand.New(rand.NewPCG(1, 8))
			src := ewRand(r, l.cin*batch*hw, 1, false)
			col := ewRand(r, l.cin*9*chunk*hw, 1, false)
			name := fmt.Sprintf("%s/images=%d", l.name, chunk)
			b.Run("op=im2col/"+name, func(b *testing.B) {
				cpu0 := processCPU()
				for b.Loop() {
					Im2col3x3Images(col, src, batch, l.cin, l.hw, l.hw, 1, 1+chunk)
				}
				reportGBs(b, 40*l.cin*chunk*hw, cpu0)
			})
			b.Run("op=col2im/"+name, func(b *testing.B) {
				cpu0 := processCPU()
				for b.Loop() {
					Col2im3x3Images(src, col, batch, l.cin, l.hw, l.hw, 1, 1+chunk)
				}
				reportGBs(b, 44*l.cin*chunk*hw, cpu0)
			})
		}
	})
}

// BenchmarkConv3x3In1Paths compares the two ways to run the first layer (cin = 1, K = 9): the ISA's
// direct kernel and im2col + GEMM, on one thread and on all.
func BenchmarkConv3x3In1Paths(b *testing.B) {
	l := convBenchLayers[0]
	ewBenchImpls(b, func(b *testing.B) {
		if Current().ew.conv3x3In1 == nil {
			b.Skip("no direct kernel in this set: im2col + GEMM is the only path")
		}
		for _, batch := range []int{1, 128} {
			r := rand.New(rand.NewPCG(1, 6))
			src := ewRand(r, batch*l.h*l.w, 1, false)
			weight, bias := ewRand(r, l.cout*9, 1, false), ewRand(r, l.cout, 1, false)
			dst := make([]float32, l.cout*batch*l.h*l.w)
			scratch := make([]float32, Conv3x3ScratchSize(batch, 1, l.h, l.w))
			for _, path := range []string{"direct", "gemm"} {
				for _, th := range []int{1, 0} {
					label := th
					if th == 0 {
						label = threads()
					}
					b.Run(fmt.Sprintf("path=%s/batch=%d/threads=%d", path, batch, label), func(b *testing.B) {
						defer SetMaxThreads(SetMaxThreads(th))
						convForceGEMM = path == "gemm"
						defer func() { convForceGEMM = false }()
						cpu0 := processCPU()
						for b.Loop() {
							Conv3x3BiasReLU(dst, src, weight, bias, batch, 1, l.cout, l.h, l.w, true, scratch)
						}
						flops := 2 * l.cout * 9 * batch * l.h * l.w
						reportGFLOPs(b, flops, cpu0)
					})
				}
			}
		}
	})
}
