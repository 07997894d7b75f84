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
			same(impl.Name+" affine", got, want, 2e-7)
			affineReLURef(want, x, a, b)
			k.affineReLU(got, x, a, b)
			same(impl.Name+" affineReLU", got, want, 2e-7)
			copy(want, y)
			copy(got, y)
			addRef(want, x)
			k.add(got, x)
			same(impl.Name+" add", got, want, 0)
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
