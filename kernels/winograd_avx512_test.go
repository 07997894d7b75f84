//go:build amd64 && !noasm

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// skipWithoutAVX512 skips t when this CPU cannot run the AVX-512 set.
func skipWithoutAVX512(t testing.TB) {
	t.Helper()
	for _, impl := range Available() {
		if impl.Name == "avx512" {
			if impl.ew.winogradIn == nil || impl.ew.winogradOut == nil {
				t.Fatal("the avx512 set has no Winograd transforms")
			}
			return
		}
	}
	t.Skip("no AVX-512 on this CPU")
}

// winoSentinel fills what no transform may write: a NaN with a payload no arithmetic produces.
var winoSentinel = math.Float32frombits(0x7fa5a5a5)

func winoFill(n int, v float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = v
	}
	return x
}

// winoSame fails t unless got and want are equal bit for bit.
func winoSame(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: element %d = %v (%#08x), reference %v (%#08x)", what, i,
				got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// winoIn runs winogradInAVX512 and winogradInRef on the plane x (inside a buffer of large values, which
// a read outside the plane would bring in) into planes vstride apart inside a buffer of sentinels, and
// compares the whole buffers: the outputs bit for bit, and every element the reference leaves alone.
func winoIn(t *testing.T, x []float32, vstride, h, w int) {
	t.Helper()
	const off, guard = 7, 40
	xb := winoFill(len(x)+2*guard, 1e6)
	copy(xb[guard:], x)
	x = xb[guard : guard+len(x) : guard+len(x)]
	n := off + 16*vstride + guard
	got, want := winoFill(n, winoSentinel), winoFill(n, winoSentinel)
	winogradInAVX512(got[off:off+16*vstride], x, vstride, h, w)
	winogradInRef(want[off:off+16*vstride], x, vstride, h, w)
	winoSame(t, fmt.Sprintf("h=%d w=%d vstride=%d: v (from %d)", h, w, vstride, -off), got, want)
}

// winoOut is winoIn for the output transform: m random everywhere (also between the tile grids, which
// must not be read), y inside a buffer of sentinels.
func winoOut(t *testing.T, m []float32, mstride, h, w int, bias, lower float32) {
	t.Helper()
	const off, guard = 5, 40
	n := off + h*w + guard
	got, want := winoFill(n, winoSentinel), winoFill(n, winoSentinel)
	winogradOutAVX512(got[off:off+h*w], m, mstride, h, w, bias, lower)
	winogradOutRef(want[off:off+h*w], m, mstride, h, w, bias, lower)
	winoSame(t, fmt.Sprintf("h=%d w=%d mstride=%d bias=%v lower=%v: y (from %d)", h, w, mstride, bias, lower, -off), got, want)
}

// TestWinogradInAVX512 checks the assembly input transform against the reference bit for bit on every
// plane up to 33×33 (w = 32, 33 take the fallback), with planes spaced wider than a tile grid.
func TestWinogradInAVX512(t *testing.T) {
	skipWithoutAVX512(t)
	r := rand.New(rand.NewPCG(71, 72))
	for h := 1; h <= 33; h++ {
		for w := 1; w <= 33; w++ {
			th, tw := winogradTiles(h, w)
			for _, vstride := range []int{th * tw, th*tw + 5} {
				winoIn(t, ewRand(r, h*w, 4, false), vstride, h, w)
			}
		}
	}
}

// winoSpecials returns n random floats, a quarter of them NaNs of three payloads and both signs, ±Inf
// and ±0, so that different NaNs meet in one operation.
func winoSpecials(r *rand.Rand, n int) []float32 {
	specials := []float32{
		math.Float32frombits(0x7fc00000), math.Float32frombits(0xffc12345), math.Float32frombits(0x7fd00001),
		float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)),
	}
	x := ewRand(r, n, 4, false)
	for i := range x {
		if r.IntN(4) == 0 {
			x[i] = specials[r.IntN(len(specials))]
		}
	}
	return x
}

// TestWinogradInAVX512Specials: NaN, ±Inf and ±0 in the input give the reference's bits, NaN payloads
// and signs included (the additions take their operands in the compiled reference's order).
func TestWinogradInAVX512Specials(t *testing.T) {
	skipWithoutAVX512(t)
	r := rand.New(rand.NewPCG(73, 74))
	for _, s := range [][2]int{{1, 1}, {3, 5}, {8, 8}, {14, 14}, {7, 30}, {6, 31}} {
		h, w := s[0], s[1]
		th, tw := winogradTiles(h, w)
		for k := 0; k < 50; k++ {
			winoIn(t, winoSpecials(r, h*w), th*tw+3, h, w)
		}
	}
}

// TestWinogradOutAVX512 checks the assembly output transform against the reference bit for bit on
// every plane up to 33×33 (w = 33 takes the fallback), ReLU on (lower 0) and off (lower −Inf).
func TestWinogradOutAVX512(t *testing.T) {
	skipWithoutAVX512(t)
	r := rand.New(rand.NewPCG(75, 76))
	for h := 1; h <= 33; h++ {
		for w := 1; w <= 33; w++ {
			th, tw := winogradTiles(h, w)
			for _, mstride := range []int{th * tw, th*tw + 5} {
				m := ewRand(r, 16*mstride, 3, false)
				bias := ewRand(r, 1, 2, false)[0]
				for _, lower := range []float32{0, float32(math.Inf(-1))} {
					winoOut(t, m, mstride, h, w, bias, lower)
				}
			}
		}
	}
}

// TestWinogradOutAVX512NaN: a NaN product gives NaN outputs with lower = 0, as Go's max(NaN, 0) does,
// with the reference's bits; and products full of NaNs, ±Inf and ±0 too give the reference's bits,
// even with a NaN lower bound.
func TestWinogradOutAVX512NaN(t *testing.T) {
	skipWithoutAVX512(t)
	r := rand.New(rand.NewPCG(77, 78))
	for _, s := range [][2]int{{1, 1}, {2, 3}, {5, 7}, {14, 14}, {9, 30}, {4, 32}} {
		h, w := s[0], s[1]
		th, tw := winogradTiles(h, w)
		mstride := th*tw + 5
		for k := 0; k < 20; k++ {
			m := ewRand(r, 16*mstride, 3, false)
			m[r.IntN(16)*mstride+r.IntN(th*tw)] = float32(math.NaN())
			for _, lower := range []float32{0, float32(math.Inf(-1))} {
				winoOut(t, m, mstride, h, w, 0.25, lower)
			}
			// m[1][1] enters all four outputs of its tile, y[0][0] inside the plane.
			m = ewRand(r, 16*mstride, 3, false)
			m[5*mstride+r.IntN(th*tw)] = float32(math.NaN())
			winoOut(t, m, mstride, h, w, 0.25, 0)
			y := make([]float32, h*w)
			winogradOutAVX512(y, m, mstride, h, w, 0.25, 0)
			nan := 0
			for _, v := range y {
				if v != v {
					nan++
				}
			}
			if nan == 0 {
				t.Fatalf("h=%d w=%d: the NaN product reached no output", h, w)
			}
			for _, lower := range []float32{0, float32(math.Inf(-1)), float32(math.NaN())} {
				winoOut(t, winoSpecials(r, 16*mstride), mstride, h, w, 0.25, lower)
			}
		}
	}
}

// TestWinogradOutAVX512SignedZero: max(−0, 0) is +0 in Go, and so in the assembly; −0 stays with
// lower = −Inf, and max(+0, −0) is +0.
func TestWinogradOutAVX512SignedZero(t *testing.T) {
	skipWithoutAVX512(t)
	negZero := float32(math.Copysign(0, -1))
	h, w := 5, 7
	th, tw := winogradTiles(h, w)
	m := winoFill(16*th*tw, negZero) // y[0][0] of every tile is −0 + bias
	for _, bias := range []float32{negZero, 0} {
		for _, lower := range []float32{0, negZero, float32(math.Inf(-1))} {
			winoOut(t, m, th*tw, h, w, bias, lower)
		}
	}
	y := make([]float32, h*w)
	winogradOutAVX512(y, m, th*tw, h, w, negZero, 0)
	if math.Float32bits(y[0]) != 0 {
		t.Fatalf("y[0] = %#08x, want +0", math.Float32bits(y[0]))
	}
}

// BenchmarkWinogradTransforms: both transforms of 32 channels of a 14×14 plane (one image, as
// WinogradF2x3.Forward lays them out), the reference against the assembly.
func BenchmarkWinogradTransforms(b *testing.B) {
	const c, h, w = 32, 14, 14
	th, tw := winogradTiles(h, w)
	t := th * tw
	r := rand.New(rand.NewPCG(79, 80))
	x := ewRand(r, c*h*w, 1, false)
	v := make([]float32, 16*c*t)
	y := make([]float32, c*h*w)
	impls := []struct {
		name string
		in   func(v, x []float32, vstride, h, w int)
		out  func(y, m []float32, mstride, h, w int, bias, lower float32)
	}{{"ref", winogradInRef, winogradOutRef}, {"avx512", winogradInAVX512, winogradOutAVX512}}
	for _, impl := range impls {
		b.Run("op=in/impl="+impl.name, func(b *testing.B) {
			if impl.name == "avx512" {
				skipWithoutAVX512(b)
			}
			for b.Loop() {
				for ci := 0; ci < c; ci++ {
					impl.in(v[ci*t:], x[ci*h*w:(ci+1)*h*w], c*t, h, w)
				}
			}
		})
		b.Run("op=out/impl="+impl.name, func(b *testing.B) {
			if impl.name == "avx512" {
				skipWithoutAVX512(b)
			}
			for b.Loop() {
				for co := 0; co < c; co++ {
					impl.out(y[co*h*w:(co+1)*h*w], v[co*t:], c*t, h, w, 0.5, 0)
				}
			}
		})
	}
}
