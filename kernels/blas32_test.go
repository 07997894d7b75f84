package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/gonum"
)

// TestBLAS32Gemm checks blas32.Gemm once UseWithGonum has registered the adapter, against gonum's own
// implementation, for each transpose and kernel set.
func TestBLAS32Gemm(t *testing.T) {
	UseWithGonum()
	defer blas32.Use(gonum.Implementation{})
	forEachImpl(t, func(t *testing.T, impl Impl) {
		rng := rand.New(rand.NewPCG(11, 12))
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans, blas.ConjTrans} {
			for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				m, n, k := 2*impl.MR+3, 3*impl.NR+1, 77
				mat := func(r, c int) blas32.General {
					g := blas32.General{Rows: r, Cols: c, Stride: c + 2, Data: make([]float32, r*(c+2))}
					for i := range g.Data {
						g.Data[i] = float32(rng.IntN(201)-100) / 64
					}
					return g
				}
				a, b := mat(m, k), mat(k, n)
				if tA != blas.NoTrans {
					a = mat(k, m)
				}
				if tB != blas.NoTrans {
					b = mat(n, k)
				}
				c := mat(m, n)
				want := blas32.General{Rows: m, Cols: n, Stride: c.Stride, Data: append([]float32(nil), c.Data...)}
				gonum.Implementation{}.Sgemm(tA, tB, m, n, k, 1.5, a.Data, a.Stride, b.Data, b.Stride, 0.5, want.Data, want.Stride)
				blas32.Gemm(tA, tB, 1.5, a, b, 0.5, c)
				for i := range c.Data {
					// Inputs are multiples of 1/64 with small sums: both are exact up to one rounding.
					if d := math.Abs(float64(c.Data[i] - want.Data[i])); d > 1e-4*(1+math.Abs(float64(want.Data[i]))) {
						t.Fatalf("tA=%c tB=%c: index %d: got %v, gonum %v", tA, tB, i, c.Data[i], want.Data[i])
					}
				}
			}
		}
	})
}

// TestBLAS32Panics checks the adapter panics with gonum's message, in gonum's order, on bad arguments.
func TestBLAS32Panics(t *testing.T) {
	s := make([]float32, 64)
	for _, tc := range []struct {
		name string
		f    func(blas.Float32)
	}{
		{"transpose", func(b blas.Float32) { b.Sgemm('x', blas.NoTrans, 2, 2, 2, 1, s, 2, s, 2, 0, s, 2) }},
		{"m and lda", func(b blas.Float32) { b.Sgemm(blas.NoTrans, blas.NoTrans, -1, 2, 2, 1, s, 0, s, 2, 0, s, 2) }},
		{"k", func(b blas.Float32) { b.Sgemm(blas.NoTrans, blas.NoTrans, 2, 2, -2, 1, s, 2, s, 2, 0, s, 2) }},
		{"lda trans", func(b blas.Float32) { b.Sgemm(blas.Trans, blas.NoTrans, 3, 2, 2, 1, s, 2, s, 2, 0, s, 2) }},
		{"ldb before short a", func(b blas.Float32) { b.Sgemm(blas.NoTrans, blas.Trans, 40, 2, 3, 1, s, 3, s, 2, 0, s, 2) }},
		{"ldc", func(b blas.Float32) { b.Sgemm(blas.NoTrans, blas.NoTrans, 2, 3, 2, 1, s, 2, s, 3, 0, s, 2) }},
		{"short a", func(b blas.Float32) { b.Sgemm(blas.NoTrans, blas.NoTrans, 40, 2, 3, 1, s, 3, s, 2, 0, s, 2) }},
		{"short b", func(b blas.Float32) { b.Sgemm(blas.NoTrans, blas.NoTrans, 2, 2, 40, 1, s, 40, s, 2, 0, s, 2) }},
		{"short c", func(b blas.Float32) { b.Sgemm(blas.NoTrans, blas.NoTrans, 20, 4, 2, 1, s, 2, s, 4, 0, s, 4) }},
		{"zero m skips lengths", func(b blas.Float32) { b.Sgemm(blas.NoTrans, blas.NoTrans, 0, 2, 2, 1, nil, 2, nil, 2, 0, nil, 2) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			catch := func(b blas.Float32) (msg any) {
				defer func() { msg = recover() }()
				tc.f(b)
				return nil
			}
			want, got := catch(gonum.Implementation{}), catch(BLAS32{})
			if (want == nil) != (tc.name == "zero m skips lengths") {
				t.Fatalf("test case wrong: gonum panics %v", want)
			}
			if got != want {
				t.Errorf("panic %v, gonum panics %v", got, want)
			}
		})
	}
}
