package kernels

import (
	"math"
	"math/rand/v2"
	"runtime"
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

// TestBLAS32Threads checks that BLAS32.Threads caps a call's threads under SetMaxThreads's cap and
// that a capped call computes the same bits as an uncapped one (threads split C, never a sum).
func TestBLAS32Threads(t *testing.T) {
	defer SetMaxThreads(SetMaxThreads(4))
	big := gemmJob{m: 256, n: 256, k: 256}
	for _, tc := range []struct{ call, want int }{{0, min(4, runtime.GOMAXPROCS(0))}, {1, 1}, {2, min(2, runtime.GOMAXPROCS(0))}} {
		j := big
		j.threads = tc.call
		if got := j.threadCount(); got != tc.want {
			t.Errorf("Threads=%d: %d threads, want %d", tc.call, got, tc.want)
		}
	}
	rng := rand.New(rand.NewPCG(13, 14))
	const m, n, k = 200, 300, 100
	a, b := randSlice(rng, m*k), randSlice(rng, n*k)
	for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
		ldb := n
		if tB == blas.Trans {
			ldb = k
		}
		c0, c1 := make([]float32, m*n), make([]float32, m*n)
		BLAS32{}.Sgemm(blas.NoTrans, tB, m, n, k, 1, a, k, b, ldb, 0, c0, n)
		BLAS32{Threads: 1}.Sgemm(blas.NoTrans, tB, m, n, k, 1, a, k, b, ldb, 0, c1, n)
		for i := range c0 {
			if math.Float32bits(c0[i]) != math.Float32bits(c1[i]) {
				t.Fatalf("tB=%c: index %d: one thread %v, default %v", tB, i, c1[i], c0[i])
			}
		}
	}
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
