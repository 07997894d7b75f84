package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Sizes around every vector width and unroll we use (8 and 16 lanes, 4× unrolled), and a long one.
var ewSizes = func() []int {
	s := []int{}
	for n := 0; n <= 33; n++ {
		s = append(s, n)
	}
	return append(s, 47, 48, 49, 63, 64, 65, 95, 127, 128, 129, 255, 256, 257, 1000, 4099)
}()

// ewOffsets start slices off the allocation's alignment.
var ewOffsets = []int{0, 1, 3}

const ewGuard = 19 // sentinel floats after every output

var ewSentinel = float32(math.Float32frombits(0x7fa5a5a5)) // a NaN payload no kernel produces

// ewEachImpl runs f once per compiled-in kernel set, as a named subtest.
func ewEachImpl(t *testing.T, f func(t *testing.T, k ewKernels)) {
	t.Helper()
	for _, impl := range Available() {
		t.Run("impl="+impl.Name, func(t *testing.T) { f(t, impl.ew) })
	}
}

// ewWithImpl forces the named set for the exported entry points and restores the previous one.
func ewWithImpl(t *testing.T, name string) {
	t.Helper()
	prev := Current().Name
	if err := Use(name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = Use(prev) })
}

// ewRand returns n floats in [-scale, scale), with a few specials (NaN, ±Inf, ±0) when specials is set.
func ewRand(r *rand.Rand, n int, scale float32, specials bool) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = (r.Float32()*2 - 1) * scale
		if specials && r.IntN(16) == 0 {
			x[i] = []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1))}[r.IntN(5)]
		}
	}
	return x
}

// ewOut returns a slice of n floats at offset off inside a buffer padded with sentinels on both sides,
// and a function that fails the test if any sentinel changed.
func ewOut(t *testing.T, n, off int) ([]float32, func()) {
	buf := make([]float32, off+n+ewGuard)
	for i := range buf {
		buf[i] = ewSentinel
	}
	return buf[off : off+n : off+n], func() {
		t.Helper()
		for i := range buf {
			if (i < off || i >= off+n) && math.Float32bits(buf[i]) != math.Float32bits(ewSentinel) {
				t.Fatalf("n=%d off=%d: guard element %d overwritten with %v", n, off, i-off, buf[i])
			}
		}
	}
}

// ewAt copies x into a fresh buffer at offset off, so inputs are unaligned too.
func ewAt(x []float32, off int) []float32 {
	buf := make([]float32, off+len(x))
	copy(buf[off:], x)
	return buf[off:]
}

// ewClose reports whether got matches want to within tol·scale: NaN must meet NaN, ±Inf the same Inf.
func ewClose(got, want, scale, tol float64) bool {
	switch {
	case math.IsNaN(want):
		return math.IsNaN(got)
	case math.IsInf(want, 0):
		return got == want
	}
	return math.Abs(got-want) <= tol*scale
}

func ewExact(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if got[i] != want[i] && !(got[i] != got[i] && want[i] != want[i]) {
			t.Fatalf("%s: [%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

func TestReLU(t *testing.T) {
	ewEachImpl(t, func(t *testing.T, k ewKernels) {
		r := rand.New(rand.NewPCG(1, 2))
		for _, n := range ewSizes {
			for _, off := range ewOffsets {
				src := ewAt(ewRand(r, n, 4, true), off)
				want := make([]float32, n)
				reluRef(want, src)
				dst, check := ewOut(t, n, off)
				k.relu(dst, src)
				check()
				ewExact(t, fmt.Sprintf("relu n=%d off=%d", n, off), dst, want)
				// In place.
				inpl := append([]float32(nil), src...)
				k.relu(inpl, inpl)
				ewExact(t, fmt.Sprintf("relu in place n=%d", n), inpl, want)

				dy := ewAt(ewRand(r, n, 4, true), off)
				wantDx := make([]float32, n)
				reluBackRef(wantDx, dy, src)
				dx, check := ewOut(t, n, off)
				k.reluBack(dx, dy, src)
				check()
				ewExact(t, fmt.Sprintf("reluBack n=%d off=%d", n, off), dx, wantDx)
			}
		}
	})
}

func TestReLUSemantics(t *testing.T) {
	ewEachImpl(t, func(t *testing.T, k ewKernels) {
		nan, inf := float32(math.NaN()), float32(math.Inf(1))
		src := []float32{-1, 2, nan, -inf, inf, 0, -3, 0.5, -2, 1, nan, -inf, 4, -4, 5, -5, 6, 7, nan}
		want := []float32{0, 2, nan, 0, inf, 0, 0, 0.5, 0, 1, nan, 0, 4, 0, 5, 0, 6, 7, nan}
		dst := make([]float32, len(src))
		k.relu(dst, src)
		ewExact(t, "relu", dst, want)
		dy := make([]float32, len(src))
		for i := range dy {
			dy[i] = float32(i + 1)
		}
		dy[1] = nan
		dx := make([]float32, len(src))
		k.reluBack(dx, dy, src)
		for i := range src {
			wantDx := float32(0)
			if src[i] > 0 {
				wantDx = dy[i]
			}
			if dx[i] != wantDx && !(i == 1 && dx[i] != dx[i]) {
				t.Fatalf("reluBack[%d] (y=%v dy=%v) = %v, want %v", i, src[i], dy[i], dx[i], wantDx)
			}
		}
	})
}

func TestAffineAndAdd(t *testing.T) {
	ewEachImpl(t, func(t *testing.T, k ewKernels) {
		r := rand.New(rand.NewPCG(3, 4))
		for _, n := range ewSizes {
			for _, off := range ewOffsets {
				src := ewAt(ewRand(r, n, 3, true), off)
				a, b := r.Float32()*4-2, r.Float32()*2-1
				for _, relu := range []bool{false, true} {
					want := make([]float32, n)
					f, fr := k.affine, affineRef
					if relu {
						f, fr = k.affineReLU, affineReLURef
					}
					fr(want, src, a, b)
					dst, check := ewOut(t, n, off)
					f(dst, src, a, b)
					check()
					for i := range want {
						scale := math.Abs(float64(a*src[i])) + math.Abs(float64(b))
						if !ewClose(float64(dst[i]), float64(want[i]), scale, 2e-7) {
							t.Fatalf("affine relu=%v n=%d off=%d [%d]: %v·%v+%v = %v, want %v", relu, n, off, i, a, src[i], b, dst[i], want[i])
						}
					}
				}
				acc := ewAt(ewRand(r, n, 3, true), off+1)
				want := append([]float32(nil), acc...)
				addRef(want, src)
				dst, check := ewOut(t, n, off)
				copy(dst, acc)
				k.add(dst, src)
				check()
				ewExact(t, fmt.Sprintf("add n=%d off=%d", n, off), dst, want)
			}
		}
	})
}

func TestReductions(t *testing.T) {
	ewEachImpl(t, func(t *testing.T, k ewKernels) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, n := range ewSizes {
			for _, off := range ewOffsets {
				x := ewAt(ewRand(r, n, 10, false), off)
				y := ewAt(ewRand(r, n, 10, false), off)
				for i := range x {
					x[i] += 1000 // a large mean: the variance must still come out right
				}
				var abs, abs2, absDot float64
				mean := sumRef(x) / float64(max(n, 1))
				for i := range x {
					abs += math.Abs(float64(x[i]))
					d := float64(x[i]) - mean
					abs2 += d * d
					absDot += math.Abs(float64(x[i]) * float64(y[i]))
				}
				if got, want := k.sum(x), sumRef(x); !ewClose(got, want, abs, 1e-13) {
					t.Fatalf("sum n=%d off=%d = %v, want %v", n, off, got, want)
				}
				if got, want := k.sumSqDev(x, mean), sumSqDevRef(x, mean); !ewClose(got, want, abs2, 1e-12) {
					t.Fatalf("sumSqDev n=%d off=%d = %v, want %v", n, off, got, want)
				}
				gs, gd := k.sumDot(y, x)
				ws, wd := sumDotRef(y, x)
				if !ewClose(gs, ws, abs, 1e-13) || !ewClose(gd, wd, absDot, 1e-13) {
					t.Fatalf("sumDot n=%d off=%d = %v, %v, want %v, %v", n, off, gs, gd, ws, wd)
				}
			}
		}
		// NaN and Inf reach the sums.
		x := make([]float32, 100)
		x[37] = float32(math.NaN())
		if s := k.sum(x); !math.IsNaN(s) {
			t.Fatalf("sum with a NaN = %v", s)
		}
		x[37] = float32(math.Inf(1))
		if s := k.sum(x); !math.IsInf(s, 1) {
			t.Fatalf("sum with +Inf = %v", s)
		}
	})
}

func TestBatchNormKernels(t *testing.T) {
	ewEachImpl(t, func(t *testing.T, k ewKernels) {
		r := rand.New(rand.NewPCG(7, 8))
		for _, n := range ewSizes {
			for _, off := range ewOffsets {
				x := ewAt(ewRand(r, n, 3, true), off)
				mean, inv, gamma, beta := r.Float32()-0.5, r.Float32()+0.5, r.Float32()+0.5, r.Float32()-0.5
				wantY, wantH := make([]float32, n), make([]float32, n)
				bnNormRef(wantY, wantH, x, mean, inv, gamma, beta)
				y, checkY := ewOut(t, n, off)
				h, checkH := ewOut(t, n, off+2)
				k.bnNorm(y, h, x, mean, inv, gamma, beta)
				checkY()
				checkH()
				for i := range x {
					sh := (math.Abs(float64(x[i])) + math.Abs(float64(mean))) * float64(inv)
					if !ewClose(float64(h[i]), float64(wantH[i]), sh, 3e-7) ||
						!ewClose(float64(y[i]), float64(wantY[i]), sh*float64(gamma)+math.Abs(float64(beta)), 5e-7) {
						t.Fatalf("bnNorm n=%d off=%d [%d]: x=%v: xhat %v y %v, want %v %v", n, off, i, x[i], h[i], y[i], wantH[i], wantY[i])
					}
				}

				dy := ewAt(ewRand(r, n, 2, true), off+1)
				kk, a, b := r.Float32()*2-1, r.Float32()-0.5, r.Float32()-0.5
				want := make([]float32, n)
				bnBackRef(want, dy, x, kk, a, b)
				dx, check := ewOut(t, n, off)
				k.bnBack(dx, dy, x, kk, a, b)
				check()
				for i := range want {
					s := math.Abs(float64(kk)) * (math.Abs(float64(dy[i])) + math.Abs(float64(a)) + math.Abs(float64(x[i]*b)))
					if !ewClose(float64(dx[i]), float64(want[i]), s, 3e-7) {
						t.Fatalf("bnBack n=%d off=%d [%d] = %v, want %v", n, off, i, dx[i], want[i])
					}
				}
			}
		}
	})
}

func TestAdamKernel(t *testing.T) {
	ewEachImpl(t, func(t *testing.T, k ewKernels) {
		r := rand.New(rand.NewPCG(9, 10))
		for _, n := range ewSizes {
			for _, off := range ewOffsets {
				p0 := ewAt(ewRand(r, n, 1, false), off)
				g := ewAt(ewRand(r, n, 1, n%7 == 3), off+1)
				m0 := ewAt(ewRand(r, n, 0.1, false), off+2)
				v0 := ewAt(ewRand(r, n, 0.01, false), off)
				for i := range v0 {
					v0[i] = v0[i] * v0[i]
				}
				wp, wm, wv := append([]float32(nil), p0...), append([]float32(nil), m0...), append([]float32(nil), v0...)
				adamRef(wp, g, wm, wv, 0.9, 0.999, 0.001/0.271, 0.0632, 1e-8)
				p, cp := ewOut(t, n, off)
				m, cm := ewOut(t, n, off+1)
				v, cv := ewOut(t, n, off+2)
				copy(p, p0)
				copy(m, m0)
				copy(v, v0)
				k.adam(p, g, m, v, 0.9, 0.999, 0.001/0.271, 0.0632, 1e-8)
				cp()
				cm()
				cv()
				for i := range p {
					if !ewClose(float64(m[i]), float64(wm[i]), math.Abs(float64(wm[i]))+math.Abs(float64(g[i])), 3e-7) ||
						!ewClose(float64(v[i]), float64(wv[i]), math.Abs(float64(wv[i])), 5e-7) ||
						// The step is at most about lr/bc1; an ulp of p plus 1e-6 of the step.
						!ewClose(float64(p[i]), float64(wp[i]), math.Abs(float64(p0[i]))+0.01, 3e-7) {
						t.Fatalf("adam n=%d off=%d [%d]: p m v = %v %v %v, want %v %v %v", n, off, i, p[i], m[i], v[i], wp[i], wm[i], wv[i])
					}
				}
			}
		}
	})
}

func TestAdamMatchesPyTorchFormula(t *testing.T) {
	// Two steps by hand in float64 with PyTorch's formula, against the exported entry point.
	for _, impl := range Available() {
		t.Run("impl="+impl.Name, func(t *testing.T) {
			ewWithImpl(t, impl.Name)
			p := []float32{0.5, -0.25, 1}
			g := [][]float32{{0.1, -0.2, 0}, {-0.3, 0.05, 2}}
			m, v := make([]float32, 3), make([]float32, 3)
			pp := []float64{0.5, -0.25, 1}
			mm, vv := make([]float64, 3), make([]float64, 3)
			lr, b1, b2, eps := 0.001, 0.9, 0.999, 1e-8
			for step := 1; step <= 2; step++ {
				bc1, bc2 := 1-math.Pow(b1, float64(step)), 1-math.Pow(b2, float64(step))
				Adam(p, g[step-1], m, v, float32(lr), float32(b1), float32(b2), float32(eps), float32(bc1), float32(bc2))
				for i := range pp {
					gi := float64(g[step-1][i])
					mm[i] = b1*mm[i] + (1-b1)*gi
					vv[i] = b2*vv[i] + (1-b2)*gi*gi
					pp[i] -= lr / bc1 * mm[i] / (math.Sqrt(vv[i])/math.Sqrt(bc2) + eps)
				}
			}
			for i := range pp {
				if math.Abs(float64(p[i])-pp[i]) > 1e-6 {
					t.Fatalf("p[%d] = %v, want %v", i, p[i], pp[i])
				}
			}
		})
	}
}

func TestExportedRowFunctions(t *testing.T) {
	for _, impl := range Available() {
		t.Run("impl="+impl.Name, func(t *testing.T) {
			ewWithImpl(t, impl.Name)
			r := rand.New(rand.NewPCG(11, 12))
			for _, shape := range [][2]int{{1, 1}, {3, 17}, {5, 64}, {2, 129}, {7, 33}} {
				rows, cols := shape[0], shape[1]
				x := ewRand(r, rows*cols, 2, false)
				bias := ewRand(r, rows, 1, false)
				got := append([]float32(nil), x...)
				AddBiasRows(got, bias, rows, cols)
				db := make([]float32, rows)
				BiasGradRows(db, x, rows, cols)
				scale, shift := ewRand(r, rows, 2, false), ewRand(r, rows, 1, false)
				ss := make([]float32, rows*cols)
				ssr := make([]float32, rows*cols)
				ScaleShiftRows(ss, x, scale, shift, rows, cols, false)
				ScaleShiftRows(ssr, x, scale, shift, rows, cols, true)
				for rr := 0; rr < rows; rr++ {
					var s float64
					for c := 0; c < cols; c++ {
						i := rr*cols + c
						if got[i] != x[i]+bias[rr] {
							t.Fatalf("AddBiasRows %v [%d][%d] = %v, want %v", shape, rr, c, got[i], x[i]+bias[rr])
						}
						s += float64(x[i])
						want := float64(scale[rr])*float64(x[i]) + float64(shift[rr])
						if math.Abs(float64(ss[i])-want) > 1e-6 || math.Abs(float64(ssr[i])-max(want, 0)) > 1e-6 {
							t.Fatalf("ScaleShiftRows %v [%d][%d] = %v / %v, want %v", shape, rr, c, ss[i], ssr[i], want)
						}
					}
					if math.Abs(float64(db[rr])-s) > 1e-5 {
						t.Fatalf("BiasGradRows %v [%d] = %v, want %v", shape, rr, db[rr], s)
					}
				}
			}
		})
	}
}

// TestAddAndAddReLU checks the residual join's entry points on every set: sizes across the pieces
// AddReLU works in, dst aliasing either input, and NaN and ±Inf passing as in max(a+b, 0).
func TestAddAndAddReLU(t *testing.T) {
	for _, impl := range Available() {
		t.Run("impl="+impl.Name, func(t *testing.T) {
			ewWithImpl(t, impl.Name)
			r := rand.New(rand.NewPCG(13, 14))
			for _, n := range append(ewSizes, 2047, 2048, 2049, 4096+5, 3*2048+17) {
				a, b := ewRand(r, n, 3, true), ewRand(r, n, 3, true)
				wantSum := make([]float32, n)
				wantJoin := make([]float32, n)
				for i := range wantSum {
					wantSum[i] = a[i] + b[i]
					wantJoin[i] = max(a[i]+b[i], 0)
				}
				for _, alias := range []string{"none", "a", "b"} {
					dst, check := ewOut(t, n, 1)
					x, y := a, b
					switch alias {
					case "a":
						copy(dst, a)
						x = dst
					case "b":
						copy(dst, b)
						y = dst
					}
					AddReLU(dst, x, y)
					check()
					ewExact(t, fmt.Sprintf("AddReLU n=%d dst=%s", n, alias), dst, wantJoin)
				}
				dst, check := ewOut(t, n, 2)
				copy(dst, a)
				Add(dst, b)
				check()
				ewExact(t, fmt.Sprintf("Add n=%d", n), dst, wantSum)
			}
		})
	}
}

func TestMisuseFailsLoudly(t *testing.T) {
	for name, f := range map[string]func(){
		"ReLU short dst":        func() { ReLU(make([]float32, 3), make([]float32, 4)) },
		"Add short src":         func() { Add(make([]float32, 4), make([]float32, 3)) },
		"AddReLU short b":       func() { AddReLU(make([]float32, 4), make([]float32, 4), make([]float32, 3)) },
		"AddBiasRows short":     func() { AddBiasRows(make([]float32, 5), make([]float32, 2), 2, 3) },
		"BatchNormStats cols 0": func() { BatchNormStats(make([]float32, 1), make([]float32, 1), nil, 1, 0) },
		"MaxPool short idx":     func() { MaxPool2x2(make([]float32, 4), make([]uint8, 3), make([]float32, 16), 1, 4, 4) },
		"Im2col short col":      func() { Im2col3x3(make([]float32, 8), make([]float32, 4), 1, 1, 2, 2) },
		"Col2im images past n":  func() { Col2im3x3Images(make([]float32, 8), make([]float32, 72), 2, 1, 2, 2, 1, 3) },
		"Col2im short col":      func() { Col2im3x3Images(make([]float32, 8), make([]float32, 35), 2, 1, 2, 2, 0, 1) },
		"Adam short v": func() {
			Adam(make([]float32, 4), make([]float32, 4), make([]float32, 4), make([]float32, 3), 1, 0.9, 0.9, 1e-8, 1, 1)
		},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f()
		})
	}
}
