package kernels

import (
	"encoding/binary"
	"math"
	"testing"
)

// fuzzFloats decodes raw bytes as float32s, so the fuzzer reaches NaN payloads, denormals and Inf.
func fuzzFloats(b []byte) []float32 {
	x := make([]float32, len(b)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return x
}

// FuzzElementwise runs every primitive of every kernel set on the same input against the reference.
func FuzzElementwise(f *testing.F) {
	f.Add(make([]byte, 4*37), float32(1.5), float32(-0.25))
	f.Add([]byte{0, 0, 0xc0, 0x7f, 0, 0, 0x80, 0x7f, 0, 0, 0x80, 0xff, 1, 2, 3, 4}, float32(-1), float32(0))
	f.Fuzz(func(t *testing.T, raw []byte, a, b float32) {
		x := fuzzFloats(raw)
		n := len(x)
		y := make([]float32, n)
		for i := range y {
			y[i] = x[n-1-i]
		}
		same := func(what string, got, want []float32, rel float64) {
			t.Helper()
			for i := range want {
				g, w := float64(got[i]), float64(want[i])
				if math.IsNaN(w) && math.IsNaN(g) || g == w {
					continue
				}
				// Overflow to ±Inf or catastrophic cancellation can legitimately differ between an FMA
				// and separate rounding; accept a difference within rel of the inputs' magnitude.
				scale := math.Abs(float64(a)*float64(x[i])) + math.Abs(float64(b)) + math.Abs(float64(y[i]))
				if rel > 0 && !math.IsInf(scale, 0) && !math.IsNaN(scale) && math.Abs(g-w) <= rel*scale {
					continue
				}
				if rel > 0 && (math.IsInf(scale, 0) || math.IsInf(w, 0) || math.IsInf(g, 0)) {
					continue
				}
				t.Fatalf("%s [%d]: got %v, want %v (x=%v y=%v a=%v b=%v)", what, i, got[i], want[i], x[i], y[i], a, b)
			}
		}
		fa, fb := float64(a), float64(b)
		affScale := fuzzScale(n, func(i int) float64 { return math.Abs(fa*float64(x[i])) + math.Abs(fb) })
		// bnNorm(x, mean=a, invStd=b, gamma=a, beta=b) and bnBack(dy=y, xhat=x, k=a, a=b, b=a).
		hScale := fuzzScale(n, func(i int) float64 { return (math.Abs(float64(x[i])) + math.Abs(fa)) * math.Abs(fb) })
		yScale := fuzzScale(n, func(i int) float64 { return math.Abs(fa)*hScale[i] + math.Abs(fb) })
		dScale := fuzzScale(n, func(i int) float64 {
			return math.Abs(fa) * (math.Abs(float64(y[i])) + math.Abs(fb) + math.Abs(float64(x[i])*fa))
		})
		pScale := fuzzScale(n, func(i int) float64 { return math.Abs(float64(x[i])) + 0.01 })
		mScale := fuzzScale(n, func(i int) float64 { return math.Abs(float64(x[i])) + math.Abs(float64(y[i])) })
		vScale := fuzzScale(n, func(i int) float64 { return float64(x[i])*float64(x[i]) + float64(y[i])*float64(y[i]) })
		for _, impl := range Available() {
			k := impl.ew
			want, got := make([]float32, n), make([]float32, n)
			reluRef(want, x)
			k.relu(got, x)
			same(impl.Name+" relu", got, want, 0)
			reluBackRef(want, y, x)
			k.reluBack(got, y, x)
			same(impl.Name+" reluBack", got, want, 0)
			affineRef(want, x, a, b)
			k.affine(got, x, a, b)
			fuzzClose(t, impl.Name+" affine", got, want, affScale, 3e-7)
			affineReLURef(want, x, a, b)
			k.affineReLU(got, x, a, b)
			fuzzClose(t, impl.Name+" affineReLU", got, want, affScale, 3e-7)
			copy(want, y)
			copy(got, y)
			addRef(want, x)
			k.add(got, x)
			same(impl.Name+" add", got, want, 0)
			// The batchnorm and Adam primitives, with x and y as data and a, b as their scalars.
			h1, h2 := make([]float32, n), make([]float32, n)
			bnNormRef(want, h1, x, a, b, a, b)
			k.bnNorm(got, h2, x, a, b, a, b)
			fuzzClose(t, impl.Name+" bnNorm xhat", h2, h1, hScale, 3e-7)
			fuzzClose(t, impl.Name+" bnNorm y", got, want, yScale, 5e-7)
			bnBackRef(want, y, x, a, b, a)
			k.bnBack(got, y, x, a, b, a)
			fuzzClose(t, impl.Name+" bnBack", got, want, dScale, 5e-7)
			pw, mw, vw := append([]float32(nil), x...), append([]float32(nil), y...), make([]float32, n)
			pg, mg, vg := append([]float32(nil), x...), append([]float32(nil), y...), make([]float32, n)
			for i := range vw {
				vw[i] = y[i] * y[i]
				vg[i] = vw[i]
			}
			adamRef(pw, x, mw, vw, 0.9, 0.999, 0.01, 0.1, 1e-8)
			k.adam(pg, x, mg, vg, 0.9, 0.999, 0.01, 0.1, 1e-8)
			fuzzClose(t, impl.Name+" adam m", mg, mw, mScale, 3e-7)
			fuzzClose(t, impl.Name+" adam v", vg, vw, vScale, 5e-7)
			fuzzClose(t, impl.Name+" adam p", pg, pw, pScale, 3e-7)
			// Float64 sums may differ by the order of summation: compare relative to Σ|term|.
			var absX, absXY float64
			for i := range x {
				absX += math.Abs(float64(x[i]))
				absXY += math.Abs(float64(x[i]) * float64(y[i]))
			}
			ws, wd := sumDotRef(x, y)
			gs, gd := k.sumDot(x, y)
			wq, gq := sumSqDevRef(x, 1), k.sumSqDev(x, 1)
			for _, r := range [][3]float64{{ws, gs, absX}, {wd, gd, absXY}, {wq, gq, wq}} {
				w, g, scale := r[0], r[1], r[2]
				if !(w == g || math.IsNaN(w) && math.IsNaN(g) || math.Abs(w-g) <= 1e-12*scale || math.IsInf(scale, 0) || math.IsNaN(scale)) {
					t.Fatalf("%s: float64 sum = %v, want %v", impl.Name, g, w)
				}
			}
			s1, s2 := sumRef(x), k.sum(x)
			if !(s1 == s2 || math.IsNaN(s1) && math.IsNaN(s2) || math.Abs(s1-s2) <= 1e-12*math.Abs(s1)+1e-30) {
				var abs float64
				for _, v := range x {
					abs += math.Abs(float64(v))
				}
				if math.Abs(s1-s2) > 1e-13*abs {
					t.Fatalf("%s sum = %v, want %v", impl.Name, s2, s1)
				}
			}
		}
	})
}

func FuzzMaxPool(f *testing.F) {
	f.Add(make([]byte, 4*49), uint8(7), uint8(7))
	f.Add([]byte{0, 0, 0xc0, 0x7f, 0, 0, 0x80, 0x7f, 0, 0, 0x80, 0xff, 1, 2, 3, 4}, uint8(2), uint8(2))
	f.Fuzz(func(t *testing.T, raw []byte, h, w uint8) {
		x := fuzzFloats(raw)
		H, W := int(h%40)+1, int(w%40)+1
		planes := len(x) / (H * W)
		out := planes * (H / 2) * (W / 2)
		want, wantIdx := make([]float32, out), make([]uint8, out)
		maxPool2x2Ref(want, wantIdx, x, planes, H, W)
		wantDx := make([]float32, planes*H*W)
		maxPool2x2BackRef(wantDx, want, wantIdx, planes, H, W)
		for _, impl := range Available() {
			got, idx := make([]float32, out), make([]uint8, out)
			impl.ew.maxPool(got, idx, x, planes, H, W)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) || idx[i] != wantIdx[i] {
					t.Fatalf("%s: [%d] = %v@%d, want %v@%d", impl.Name, i, got[i], idx[i], want[i], wantIdx[i])
				}
			}
			dx := make([]float32, len(wantDx))
			impl.ew.maxPoolBack(dx, want, wantIdx, planes, H, W)
			for i := range dx {
				if math.Float32bits(dx[i]) != math.Float32bits(wantDx[i]) {
					t.Fatalf("%s backward: [%d] = %v, want %v", impl.Name, i, dx[i], wantDx[i])
				}
			}
		}
	})
}

// fuzzClose compares an FMA-using kernel with the reference on arbitrary bit patterns: equal, both
// NaN, or within rel·scale[i], scale being the magnitude of the terms that were added (so
// cancellation is allowed for). Where a term overflows, rounding order decides between a large
// number, ±Inf and NaN, so such elements are not compared.
func fuzzClose(t *testing.T, what string, got, want []float32, scale []float64, rel float64) {
	t.Helper()
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if g == w || math.IsNaN(g) && math.IsNaN(w) {
			continue
		}
		if math.IsInf(g, 0) || math.IsInf(w, 0) || math.IsNaN(g) || math.IsNaN(w) || math.IsInf(scale[i], 0) || math.IsNaN(scale[i]) || scale[i] > 1e37 {
			continue
		}
		if math.Abs(g-w) <= rel*scale[i] {
			continue
		}
		t.Fatalf("%s [%d]: got %v, want %v (scale %v)", what, i, got[i], want[i], scale[i])
	}
}

// fuzzScale returns Σ_j |terms_j(i)| for every i.
func fuzzScale(n int, term func(i int) float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = term(i)
	}
	return s
}
