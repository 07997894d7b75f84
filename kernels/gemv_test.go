package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// TestSgemvBiasReLU checks every kernel set against a float64 reference on shapes around the vector
// widths and the four-row blocking, with a row stride above k, bias or none, ReLU or none, and
// sentinels after y that must stay untouched. Tolerance: 1e-5 of Σ|a·x| per row (float32 sums in a
// different order).
func TestSgemvBiasReLU(t *testing.T) {
	prev := Current().Name
	defer Use(prev)
	rng := rand.New(rand.NewSource(1))
	ms := []int{1, 2, 3, 4, 5, 7, 8, 9, 10, 13, 128, 256}
	ks := []int{1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 128, 784, 1152}
	for _, impl := range Available() {
		t.Run("impl="+impl.Name, func(t *testing.T) {
			if err := Use(impl.Name); err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				for _, k := range ks {
					for _, pad := range []int{0, 3} {
						for _, variant := range []int{0, 1, 2} { // plain, bias, bias+relu
							lda := k + pad
							a := make([]float32, m*lda)
							for i := range a {
								a[i] = float32(rng.NormFloat64())
							}
							x := make([]float32, k)
							for i := range x {
								x[i] = float32(rng.NormFloat64())
							}
							var bias []float32
							if variant > 0 {
								bias = make([]float32, m)
								for i := range bias {
									bias[i] = float32(rng.NormFloat64())
								}
							}
							relu := variant == 2
							y := make([]float32, m+5)
							for i := range y {
								y[i] = -7 // sentinel, and stale output the kernel must overwrite
							}
							SgemvBiasReLU(m, k, a, lda, x, bias, relu, y[:m])
							for i := 0; i < m; i++ {
								var want, mag float64
								for p := 0; p < k; p++ {
									want += float64(a[i*lda+p]) * float64(x[p])
									mag += math.Abs(float64(a[i*lda+p]) * float64(x[p]))
								}
								if bias != nil {
									want += float64(bias[i])
									mag += math.Abs(float64(bias[i]))
								}
								if relu {
									want = math.Max(want, 0)
								}
								if d := math.Abs(float64(y[i]) - want); !(d <= 1e-5*mag+1e-30) {
									t.Fatalf("m=%d k=%d lda=%d variant=%d: y[%d] = %v, want %v", m, k, lda, variant, i, y[i], want)
								}
							}
							for i := m; i < len(y); i++ {
								if y[i] != -7 {
									t.Fatalf("m=%d k=%d: wrote y[%d] beyond m", m, k, i)
								}
							}
						}
					}
				}
			}
		})
	}
}

func TestSgemvNaN(t *testing.T) {
	prev := Current().Name
	defer Use(prev)
	for _, impl := range Available() {
		Use(impl.Name)
		const m, k = 8, 64
		a := make([]float32, m*k)
		x := make([]float32, k)
		for i := range x {
			x[i] = 1
		}
		a[3*k+17] = float32(math.NaN())
		y := make([]float32, m)
		SgemvBiasReLU(m, k, a, k, x, nil, true, y)
		if !math.IsNaN(float64(y[3])) || y[2] != 0 {
			t.Errorf("%s: NaN in row 3 gave y = %v", impl.Name, y)
		}
	}
}

func BenchmarkSgemv(b *testing.B) {
	for _, impl := range Available() {
		for _, s := range []struct{ m, k int }{{512, 784}, {256, 1152}, {128, 1152}, {256, 512}} {
			b.Run(fmt.Sprintf("impl=%s/m=%d/k=%d", impl.Name, s.m, s.k), func(b *testing.B) {
				prev := Current().Name
				defer Use(prev)
				Use(impl.Name)
				a := make([]float32, s.m*s.k)
				x := make([]float32, s.k)
				y := make([]float32, s.m)
				for range b.N {
					SgemvBiasReLU(s.m, s.k, a, s.k, x, nil, false, y)
				}
				b.ReportMetric(2*float64(s.m*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				b.ReportMetric(4*float64(s.m*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}
