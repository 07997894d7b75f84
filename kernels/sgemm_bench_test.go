package kernels

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// gemmBenchShapes are the products the kit runs: 1024³ and, at batch 128, the im2col GEMMs of the CNN's
// three convolutions and its two dense layers (M×N×K, channel-major: M = output channels or features).
var gemmBenchShapes = [][3]int{
	{1024, 1024, 1024},
	{32, 100352, 9},
	{64, 25088, 288},
	{128, 6272, 576},
	{128, 256, 1152},
	{128, 512, 784},
	// One training chunk's forward product (nn's conv3x3): a 14×14 image (n = 196 leaves a 4-column
	// last panel) and two 7×7 images (n = 98: 2 columns).
	{64, 196, 576},
	{128, 98, 1152},
}

// sgemmBenchImpl is one SGEMM under benchmark: ours per kernel set, or a foreign library
// (sgemm_openblas_bench_test.go) under the same names so one benchstat run compares them.
type sgemmBenchImpl struct {
	name string
	// setup prepares threads and returns C = A·B (row-major, tight) plus a cleanup.
	setup func(threads int) (run func(m, n, k int, a, b, c []float32), done func())
}

var foreignSgemm []sgemmBenchImpl

func oursSgemmBench(name string) sgemmBenchImpl {
	return sgemmBenchImpl{name: name, setup: func(threads int) (func(m, n, k int, a, b, c []float32), func()) {
		prevImpl := Current().Name
		if err := Use(name); err != nil {
			panic(err)
		}
		prev := SetMaxThreads(threads)
		return func(m, n, k int, a, b, c []float32) {
				Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
			}, func() {
				SetMaxThreads(prev)
				Use(prevImpl)
			}
	}}
}

func BenchmarkSgemm(b *testing.B) {
	var impls []sgemmBenchImpl
	for _, impl := range Available() {
		impls = append(impls, oursSgemmBench(impl.Name))
	}
	impls = append(impls, foreignSgemm...)
	rng := rand.New(rand.NewPCG(1, 1))
	for _, impl := range impls {
		for _, sh := range gemmBenchShapes {
			m, n, k := sh[0], sh[1], sh[2]
			for _, threads := range []int{1, 2} {
				name := fmt.Sprintf("impl=%s/m=%d/n=%d/k=%d/threads=%d", impl.name, m, n, k, threads)
				b.Run(name, func(b *testing.B) {
					if impl.name == "generic" && m*n*k > 1<<26 {
						b.Skip("generic on a product this size takes seconds per op")
					}
					a, bb, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
					run, done := impl.setup(threads)
					defer done()
					run(m, n, k, a, bb, c)
					b.ResetTimer()
					cpu0 := processCPU()
					for b.Loop() {
						run(m, n, k, a, bb, c)
					}
					cpu := processCPU() - cpu0
					flops := 2 * float64(m) * float64(n) * float64(k) * float64(b.N)
					b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					// Per CPU-second: what each core did while it ran, the fair figure on a shared
					// machine; its ratio to the FMA peak (also per CPU-second) is %peak.
					if cpu > 0 {
						perCPU := flops / cpu.Seconds() / 1e9
						b.ReportMetric(perCPU, "GFLOP/cpu-s")
						if pk := measuredPeak(bestPeakImpl(impl.name)); pk > 0 {
							b.ReportMetric(100*perCPU/pk, "%peak")
						}
					}
				})
			}
		}
	}
}

// bestPeakImpl names the peak a foreign library is held to: the best set this CPU runs.
func bestPeakImpl(name string) string {
	if _, ok := peakKernels[name]; ok {
		return name
	}
	return Available()[0].Name
}

// BenchmarkPeakFMA measures each kernel set's FMA throughput, the ceiling for "% of peak".
func BenchmarkPeakFMA(b *testing.B) {
	for _, impl := range Available() {
		pk, ok := peakKernels[impl.Name]
		if !ok {
			continue
		}
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("impl=%s/threads=%d", impl.Name, threads), func(b *testing.B) {
				const iters = 1 << 20 // milliseconds per op: long enough for the CPU-time clock
				cpu0 := processCPU()
				for b.Loop() {
					var wg sync.WaitGroup
					for range threads - 1 {
						wg.Go(func() { pk.run(iters) })
					}
					pk.run(iters)
					wg.Wait()
				}
				cpu := processCPU() - cpu0
				flops := float64(pk.flops) * iters * float64(threads) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				if cpu > 0 {
					b.ReportMetric(flops/cpu.Seconds()/1e9, "GFLOP/cpu-s")
				}
			})
		}
	}
}

var peakCache sync.Map // impl name → GFLOP/cpu-s on one thread

// measuredPeak is one thread's FMA throughput in GFLOP per CPU-second for impl (per wall second
// where CPU time is not measured): the best of a few short runs.
func measuredPeak(impl string) float64 {
	if v, ok := peakCache.Load(impl); ok {
		return v.(float64)
	}
	pk, ok := peakKernels[impl]
	if !ok {
		return 0
	}
	const iters = 1 << 20
	best := 0.0
	for range 10 {
		t, cpu := time.Now(), processCPU()
		pk.run(iters)
		d := time.Since(t)
		if c := processCPU() - cpu; c > 0 {
			d = c
		}
		best = max(best, float64(pk.flops)*iters/d.Seconds()/1e9)
	}
	peakCache.Store(impl, best)
	return best
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}
