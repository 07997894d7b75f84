package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// forEachImpl runs f once per kernel set this CPU can run, as subtest impl=<name>, with that set in use.
func forEachImpl(t *testing.T, f func(t *testing.T, impl Impl)) {
	t.Helper()
	prev := Current().Name
	defer Use(prev)
	for _, impl := range Available() {
		t.Run("impl="+impl.Name, func(t *testing.T) {
			if err := Use(impl.Name); err != nil {
				t.Fatal(err)
			}
			f(t, impl)
		})
	}
}

// sentinel fills every float the kernel must not touch; a write shows as a changed bit pattern.
var sentinel = math.Float32frombits(0x7fc0beef)

type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	lda, ldb, ldc  int  // 0: tight
	offA, offB     int  // unaligned starts
	special        bool // NaN and Inf in the inputs
	nanC           bool // C starts as NaN (with beta == 0 it must not propagate)
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("tA=%v/tB=%v/m=%d/n=%d/k=%d/alpha=%g/beta=%g", tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, tc.beta)
}

// fill returns a slice with a rows×cols matrix at leading dimension ld starting at off, guard floats
// (sentinel) around and between rows.
func fillMat(rng *rand.Rand, rows, cols, ld, off int) []float32 {
	const guard = 19
	s := make([]float32, off+max(0, rows-1)*ld+cols+guard)
	for i := range s {
		s[i] = sentinel
	}
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			s[off+i*ld+j] = float32(rng.IntN(2001)-1000) / 512
		}
	}
	return s
}

func absAll(s []float32) []float32 {
	r := make([]float32, len(s))
	for i, v := range s {
		r[i] = float32(math.Abs(float64(v)))
	}
	return r
}

// checkGemmCase runs Sgemm on tc and compares it with sgemmRef. Tolerance: each element may differ
// from the float64-accumulated reference by (k+2)·ε₃₂·(|α|·Σ_p|a·b| + |β·c|), the float32 rounding
// bound of a k-term sum; guard floats must keep their bit pattern.
func checkGemmCase(t *testing.T, rng *rand.Rand, tc gemmCase) {
	t.Helper()
	rA, cA := tc.m, tc.k
	if tc.transA {
		rA, cA = tc.k, tc.m
	}
	rB, cB := tc.k, tc.n
	if tc.transB {
		rB, cB = tc.n, tc.k
	}
	lda, ldb, ldc := max(1, cA)+tc.lda, max(1, cB)+tc.ldb, max(1, tc.n)+tc.ldc
	a := fillMat(rng, rA, cA, lda, tc.offA)
	b := fillMat(rng, rB, cB, ldb, tc.offB)
	c := fillMat(rng, tc.m, tc.n, ldc, 3)
	if tc.special && rA*cA > 0 && rB*cB > 0 {
		a[tc.offA+rng.IntN(rA)*lda+rng.IntN(cA)] = float32(math.NaN())
		a[tc.offA+rng.IntN(rA)*lda+rng.IntN(cA)] = float32(math.Inf(1))
		b[tc.offB+rng.IntN(rB)*ldb+rng.IntN(cB)] = float32(math.Inf(-1))
	}
	if tc.nanC {
		for i := 0; i < tc.m; i++ {
			for j := 0; j < tc.n; j++ {
				c[3+i*ldc+j] = float32(math.NaN())
			}
		}
	}
	want := append([]float32(nil), c...)
	sgemmRef(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a[tc.offA:], lda, b[tc.offB:], ldb, tc.beta, want[3:], ldc)
	bound := absAll(c)
	sgemmRef(tc.transA, tc.transB, tc.m, tc.n, tc.k, float32(math.Abs(float64(tc.alpha))), absAll(a[tc.offA:]), lda,
		absAll(b[tc.offB:]), ldb, float32(math.Abs(float64(tc.beta))), bound[3:], ldc)
	got := append([]float32(nil), c...)
	Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a[tc.offA:], lda, b[tc.offB:], ldb, tc.beta, got[3:], ldc)
	compareC(t, tc.String(), got, want, bound, c, tc.k)
}

func compareC(t *testing.T, name string, got, want, bound, orig []float32, k int) {
	t.Helper()
	bad := 0
	tol := float64(k+2) * 0x1p-24
	for i := range got {
		g, w := got[i], want[i]
		ok := false
		switch {
		case math.Float32bits(w) == math.Float32bits(orig[i]) && math.IsNaN(float64(w)) && w == w:
		case math.Float32bits(orig[i]) == math.Float32bits(sentinel) && math.Float32bits(w) == math.Float32bits(sentinel):
			ok = math.Float32bits(g) == math.Float32bits(sentinel)
		case math.IsNaN(float64(w)):
			ok = math.IsNaN(float64(g))
		case math.IsInf(float64(w), 0):
			ok = g == w
		default:
			ok = math.Abs(float64(g)-float64(w)) <= tol*float64(bound[i])+1e-30
		}
		if !ok {
			if bad < 5 {
				t.Errorf("%s: index %d: got %v (bits %#x), want %v", name, i, g, math.Float32bits(g), w)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d wrong floats", name, bad)
	}
}

func TestSgemmTileShapes(t *testing.T) {
	forEachImpl(t, func(t *testing.T, impl Impl) {
		rng := rand.New(rand.NewPCG(1, 2))
		// Every m ≤ MR+1 and n ≤ NR+1 (full tiles, edge tiles, one row or column over).
		for m := 1; m <= impl.MR+1; m++ {
			for n := 1; n <= impl.NR+1; n++ {
				for _, k := range []int{1, 5} {
					tA, tB := (m+n)%2 == 0, (m+n+k)%4 < 2
					checkGemmCase(t, rng, gemmCase{transA: tA, transB: tB, m: m, n: n, k: k, alpha: 1, beta: 0, offA: m % 3, offB: n % 4})
					checkGemmCase(t, rng, gemmCase{transA: !tA, transB: tB, m: m, n: n, k: k, alpha: 1.5, beta: 1, ldc: 1})
				}
			}
		}
	})
}

func TestSgemmBlocking(t *testing.T) {
	forEachImpl(t, func(t *testing.T, impl Impl) {
		rng := rand.New(rand.NewPCG(3, 4))
		abs := [][2]float32{{1, 0}, {1, 1}, {-0.75, 2.5}, {2, -1}}
		// Short depths on every shape, transpose pair and two of the alpha/beta cases (rotating).
		shapes := [][2]int{{impl.MR, impl.NR}, {2*impl.MR + 1, 3*impl.NR - 1}, {37, 41}, {1, 53}, {59, 1}}
		for _, sh := range shapes {
			for _, k := range []int{1, 2, 3, 17} {
				for tr := 0; tr < 4; tr++ {
					for _, ab := range [][2]float32{abs[(tr+k)%4], abs[(tr+k+2)%4]} {
						checkGemmCase(t, rng, gemmCase{transA: tr&1 != 0, transB: tr&2 != 0, m: sh[0], n: sh[1], k: k,
							alpha: ab[0], beta: ab[1], lda: k % 3, ldb: 2, ldc: tr, offA: 1, offB: 3})
					}
				}
			}
		}
		// Depths below, at and above the real KC block (and split into balanced blocks).
		for _, sh := range [][2]int{{impl.MR, impl.NR}, {2*impl.MR - 1, impl.NR + 3}} {
			for _, k := range []int{gemmKC - 1, gemmKC, gemmKC + 1, 2*gemmKC + 7} {
				for tr := 0; tr < 4; tr++ {
					ab := abs[(tr+k)%4]
					checkGemmCase(t, rng, gemmCase{transA: tr&1 != 0, transB: tr&2 != 0, m: sh[0], n: sh[1], k: k,
						alpha: ab[0], beta: ab[1], lda: k % 3, ldb: 2, ldc: tr, offA: 1, offB: 3})
				}
			}
		}
	})
}

func TestSgemmLargeBlocks(t *testing.T) {
	// Shrunk blocks (the loops do not depend on the sizes) so that small matrices cross several KC,
	// MC and NC blocks and their edges, on one thread and on two (split over N and over M).
	defer func(kc, mc, div int) { gemmKC, gemmMC, gemmL2Div = kc, mc, div }(gemmKC, gemmMC, gemmL2Div)
	forEachImpl(t, func(t *testing.T, impl Impl) {
		rng := rand.New(rand.NewPCG(5, 6))
		gemmKC, gemmMC = 24, 3*impl.MR
		gemmL2Div = gemmL2Bytes / (gemmKC * 4 * 2 * impl.NR) // NC = 2·NR
		_, mc, nc := gemmBlocks(impl.MR, impl.NR, gemmKC)
		if nc != 2*impl.NR {
			t.Fatalf("nc = %d, want %d", nc, 2*impl.NR)
		}
		for _, threads := range []int{1, 2} {
			prev := SetMaxThreads(threads)
			checkGemmCase(t, rng, gemmCase{m: 2*mc + 3, n: 3*nc + 5, k: 2*gemmKC + 5, alpha: 1, beta: 0, offA: 1})
			checkGemmCase(t, rng, gemmCase{transB: true, m: mc - 1, n: 2*nc + impl.NR, k: 37, alpha: 1, beta: 0.5})
			checkGemmCase(t, rng, gemmCase{transA: true, m: 2*mc + 1, n: nc + 1, k: 3*gemmKC - 1, alpha: 0.5, beta: 1})
			// Large enough for the two-thread split: over N, then over M.
			checkGemmCase(t, rng, gemmCase{m: 21, n: 1000, k: 110, alpha: 1, beta: 0})
			checkGemmCase(t, rng, gemmCase{transA: true, transB: true, m: 900, n: 2 * impl.NR, k: 50, alpha: 1, beta: 1})
			SetMaxThreads(prev)
		}
	})
}

func TestSgemmSpecialValues(t *testing.T) {
	forEachImpl(t, func(t *testing.T, impl Impl) {
		rng := rand.New(rand.NewPCG(7, 8))
		for i := 0; i < 20; i++ {
			m, n, k := 1+rng.IntN(2*impl.MR+2), 1+rng.IntN(2*impl.NR+2), 1+rng.IntN(40)
			tA, tB := rng.IntN(2) == 0, rng.IntN(2) == 0
			checkGemmCase(t, rng, gemmCase{transA: tA, transB: tB, m: m, n: n, k: k, alpha: 1, beta: 0, special: true})
			checkGemmCase(t, rng, gemmCase{transA: tA, transB: tB, m: m, n: n, k: k, alpha: 2, beta: 1, special: true})
			// beta == 0 ignores NaN already in C.
			checkGemmCase(t, rng, gemmCase{transA: tA, transB: tB, m: m, n: n, k: k, alpha: 1, beta: 0, nanC: true})
		}
		// alpha == 0 or k == 0: C = beta·C, A and B unread (NaN there must not show).
		for _, tc := range []gemmCase{
			{m: 5, n: 7, k: 3, alpha: 0, beta: 2, special: true},
			{m: 5, n: 7, k: 3, alpha: 0, beta: 0, nanC: true},
			{m: 5, n: 7, k: 0, alpha: 1, beta: -1},
			{m: 0, n: 7, k: 3, alpha: 1, beta: 1},
			{m: 4, n: 0, k: 3, alpha: 1, beta: 1},
		} {
			checkGemmCase(t, rng, tc)
		}
	})
}

func TestSgemmBiasReLU(t *testing.T) {
	forEachImpl(t, func(t *testing.T, impl Impl) {
		rng := rand.New(rand.NewPCG(9, 10))
		for _, sh := range [][3]int{{impl.MR, impl.NR, 9}, {2*impl.MR + 3, 5*impl.NR + 1, 288}, {32, 257, 9}, {3, 2, 1}, {5, 6, 0}, {70, 300, 140}} {
			for _, relu := range []bool{false, true} {
				for _, withBias := range []bool{false, true} {
					m, n, k := sh[0], sh[1], sh[2]
					lda, ldb, ldc := k+1, n+2, n+3
					a := fillMat(rng, m, k, lda, 1)
					b := fillMat(rng, k, n, ldb, 2)
					c := fillMat(rng, m, n, ldc, 3)
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							c[3+i*ldc+j] = float32(math.NaN()) // only written
						}
					}
					var bias []float32
					if withBias {
						bias = make([]float32, m)
						for i := range bias {
							bias[i] = float32(rng.IntN(200)-100) / 8
						}
					}
					want := append([]float32(nil), c...)
					sgemmBiasReLURef(m, n, k, a[1:], lda, b[2:], ldb, bias, relu, want[3:], ldc)
					bound := make([]float32, len(c))
					sgemmRef(false, false, m, n, k, 1, absAll(a[1:]), lda, absAll(b[2:]), ldb, 0, bound[3:], ldc)
					for i := 0; i < m && bias != nil; i++ {
						for j := 0; j < n; j++ {
							bound[3+i*ldc+j] += float32(math.Abs(float64(bias[i])))
						}
					}
					got := append([]float32(nil), c...)
					SgemmBiasReLU(m, n, k, a[1:], lda, b[2:], ldb, bias, relu, got[3:], ldc)
					compareC(t, fmt.Sprintf("m=%d/n=%d/k=%d/relu=%v/bias=%v", m, n, k, relu, withBias), got, want, bound, c, k)
				}
			}
		}
	})
}

func TestSgemmPanics(t *testing.T) {
	s := make([]float32, 100)
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"negative m", func() { Sgemm(false, false, -1, 2, 2, 1, s, 2, s, 2, 0, s, 2) }},
		{"small lda", func() { Sgemm(false, false, 2, 2, 3, 1, s, 2, s, 2, 0, s, 2) }},
		{"small lda trans", func() { Sgemm(true, false, 4, 2, 3, 1, s, 3, s, 2, 0, s, 2) }},
		{"small ldb", func() { Sgemm(false, false, 2, 3, 2, 1, s, 2, s, 2, 0, s, 3) }},
		{"small ldc", func() { Sgemm(false, false, 2, 3, 2, 1, s, 2, s, 3, 0, s, 2) }},
		{"short a", func() { Sgemm(false, false, 11, 2, 10, 1, s, 10, s, 2, 0, s, 2) }},
		{"short b", func() { Sgemm(false, true, 2, 11, 10, 1, s, 10, s, 10, 0, s, 11) }},
		{"short c", func() { Sgemm(false, false, 9, 12, 2, 1, s, 2, s, 12, 0, s, 12) }},
		{"short bias", func() { SgemmBiasReLU(3, 2, 2, s, 2, s, 2, s[:2], false, s, 2) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("no panic")
				} else {
					t.Log(r)
				}
			}()
			tc.f()
		})
	}
}

func TestSgemmNoAllocs(t *testing.T) {
	forEachImpl(t, func(t *testing.T, impl Impl) {
		m, n, k := 96, 512, 96
		a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
		for _, threads := range []int{1, 2} {
			prev := SetMaxThreads(threads)
			Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
			if allocs := testing.AllocsPerRun(10, func() { Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n) }); allocs > 0 {
				t.Errorf("threads=%d: %v allocations per call", threads, allocs)
			}
			SetMaxThreads(prev)
		}
	})
}

func FuzzSgemm(f *testing.F) {
	f.Add(uint8(3), uint8(5), uint8(7), false, true, float32(1), float32(0), uint64(1))
	f.Add(uint8(17), uint8(33), uint8(1), true, false, float32(-2), float32(0.5), uint64(2))
	f.Add(uint8(0), uint8(1), uint8(9), true, true, float32(1), float32(1), uint64(3))
	f.Fuzz(func(t *testing.T, m, n, k uint8, tA, tB bool, alpha, beta float32, seed uint64) {
		if math.IsNaN(float64(alpha)) || math.IsInf(float64(alpha), 0) || math.Abs(float64(alpha)) > 1e6 ||
			math.IsNaN(float64(beta)) || math.IsInf(float64(beta), 0) || math.Abs(float64(beta)) > 1e6 {
			t.Skip("alpha/beta outside the finite range the tolerance covers")
		}
		tc := gemmCase{transA: tA, transB: tB, m: int(m % 70), n: int(n % 90), k: int(k), alpha: alpha, beta: beta,
			lda: int(seed % 3), ldb: int(seed / 3 % 3), ldc: int(seed / 9 % 3), offA: int(seed % 5), offB: int(seed % 7)}
		forEachImpl(t, func(t *testing.T, impl Impl) {
			checkGemmCase(t, rand.New(rand.NewPCG(seed, 1)), tc)
		})
	})
}

// TestGemmMicroKernelContract checks each set's contract entries on packed panels directly: kernel
// (C += A·B over the full MR×NR tile) and kernelEx with every flag combination, inside guard floats.
func TestGemmMicroKernelContract(t *testing.T) {
	forEachImpl(t, func(t *testing.T, impl Impl) {
		rng := rand.New(rand.NewPCG(13, 14))
		mr, nr := impl.MR, impl.NR
		for _, k := range []int{1, 3, 8, 37} {
			a, b := randSlice(rng, k*mr), randSlice(rng, k*nr)
			bias := randSlice(rng, mr)
			ldc := nr + 5
			for flags := -1; flags < 8; flags++ { // -1: the plain kernel
				if flags >= 0 && impl.gemm.kernelEx == nil {
					continue
				}
				c := randSlice(rng, 2+mr*ldc+2)
				for i := range c {
					if i < 2 || i >= 2+mr*ldc || (i-2)%ldc >= nr {
						c[i] = sentinel
					}
				}
				want := append([]float32(nil), c...)
				for i := 0; i < mr; i++ {
					for j := 0; j < nr; j++ {
						var acc float64
						for p := 0; p < k; p++ {
							acc += float64(a[p*mr+i]) * float64(b[p*nr+j])
						}
						v := float32(acc)
						if flags < 0 || flags&gemmLoadC != 0 {
							v += c[2+i*ldc+j]
						}
						if flags > 0 && flags&gemmBias != 0 {
							v += bias[i]
						}
						if flags > 0 && flags&gemmReLU != 0 && v < 0 {
							v = 0
						}
						want[2+i*ldc+j] = v
					}
				}
				got := append([]float32(nil), c...)
				if flags < 0 {
					impl.gemm.kernel(k, &a[0], &b[0], &got[2], ldc)
				} else {
					impl.gemm.kernelEx(k, &a[0], &b[0], &got[2], ldc, &bias[0], flags)
				}
				for i := range got {
					g, w := got[i], want[i]
					if math.Float32bits(w) == math.Float32bits(sentinel) {
						if math.Float32bits(g) != math.Float32bits(sentinel) {
							t.Fatalf("k=%d flags=%d: wrote guard float %d", k, flags, i)
						}
						continue
					}
					if math.Abs(float64(g-w)) > 1e-5*float64(k+2)*(1+math.Abs(float64(w))) {
						t.Fatalf("k=%d flags=%d: index %d: got %v, want %v", k, flags, i, g, w)
					}
				}
			}
		}
	})
}

// TestGemmMaskedHalfBitExact: where a set has half-width kernels for the last column panel, each
// gives, for every row count, width ≤ NR/2 and store mode, the full-width masked kernel's C bit for
// bit (the driver picks either by width, and a seed must train the same model whichever it took), on
// strided A and B, touching no float outside its tile.
func TestGemmMaskedHalfBitExact(t *testing.T) {
	forEachImpl(t, func(t *testing.T, impl Impl) {
		g := impl.gemm
		if g.stridedMaskedHalf == nil {
			return
		}
		rng := rand.New(rand.NewPCG(15, 16))
		mr, nr := impl.MR, impl.NR
		for _, k := range []int{1, 4, 5, 37} {
			lda := k + 2
			a := randSlice(rng, mr*lda)
			ldb := nr + 7
			b := randSlice(rng, k*ldb+nr)
			bias := randSlice(rng, mr)
			ldc := nr + 3
			for rows := 1; rows <= mr; rows++ {
				for nn := 1; nn <= nr/2; nn++ {
					mask := uint32(1)<<nn - 1
					for flags := 0; flags < 8; flags++ {
						c := randSlice(rng, rows*ldc)
						for i := range c {
							if i%ldc >= nn {
								c[i] = sentinel
							}
						}
						full, half := append([]float32(nil), c...), append([]float32(nil), c...)
						g.stridedMasked[rows](k, &a[0], lda, 1, &b[0], ldb, &full[0], ldc, &bias[0], flags, mask)
						g.stridedMaskedHalf[rows](k, &a[0], lda, 1, &b[0], ldb, &half[0], ldc, &bias[0], flags, mask)
						for i := range full {
							if math.Float32bits(half[i]) != math.Float32bits(full[i]) {
								t.Fatalf("k=%d rows=%d nn=%d flags=%d: C[%d] = %v, full-width kernel %v", k, rows, nn, flags, i, half[i], full[i])
							}
							if i%ldc >= nn && math.Float32bits(half[i]) != math.Float32bits(sentinel) {
								t.Fatalf("k=%d rows=%d nn=%d flags=%d: wrote guard float %d", k, rows, nn, flags, i)
							}
						}
					}
				}
			}
		}
	})
}

// TestSgemmThreadedPieces: a product split into pieces that the caller and the workers pull from one
// counter gives the one-thread result bit for bit, for splits over N and over M (B in place, and B
// packed), from several goroutines at once so that workers start late and calls overlap (run it
// under -race: `make test-race`).
func TestSgemmThreadedPieces(t *testing.T) {
	forEachImpl(t, func(t *testing.T, impl Impl) {
		shapes := [][3]int{
			{64, 40 * impl.NR, 96},          // over N
			{200, 100, 128},                 // over M, B in place
			{gemmDirectBMaxM + 40, 64, 128}, // over M, B packed
		}
		for _, s := range shapes {
			m, n, k := s[0], s[1], s[2]
			r := rand.New(rand.NewPCG(uint64(m), uint64(n)))
			a, b := ewRand(r, m*k, 1, false), ewRand(r, k*n, 1, false)
			bias := ewRand(r, m, 1, false)
			want := make([]float32, m*n)
			prev := SetMaxThreads(1)
			SgemmBiasReLU(m, n, k, a, k, b, n, bias, true, want, n)
			SetMaxThreads(2)
			var wg sync.WaitGroup
			errs := make(chan string, 8)
			for g := 0; g < 4; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := make([]float32, m*n)
					for it := 0; it < 3; it++ {
						SgemmBiasReLU(m, n, k, a, k, b, n, bias, true, c, n)
						for i := range want {
							if math.Float32bits(c[i]) != math.Float32bits(want[i]) {
								errs <- fmt.Sprintf("%d×%d×%d: c[%d] = %v, one thread gave %v", m, n, k, i, c[i], want[i])
								return
							}
						}
					}
				}()
			}
			wg.Wait()
			SetMaxThreads(prev)
			close(errs)
			for e := range errs {
				t.Error(e)
			}
		}
	})
}
