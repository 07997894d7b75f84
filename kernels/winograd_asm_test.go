//go:build amd64 && !noasm

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The checks every amd64 set's Winograd transforms run (winograd_avx512_test.go,
// winograd_avx2_test.go): bit for bit the references, NaN payloads and signed zeros included, on every
// plane up to 33×33, past the width the assembly handles (where the wrappers take the reference).

// winoAsm is one kernel set's Winograd transform wrappers, and the widest planes their assembly takes.
type winoAsm struct {
	set           string // the set's name in Available()
	in            func(v, x []float32, vstride, h, w int)
	out           func(y, m []float32, mstride, h, w int, bias, lower float32)
	maxIn, maxOut int
}

var (
	winoAVX512 = winoAsm{"avx512", winogradInAVX512, winogradOutAVX512, 31, 32}
	winoAVX2   = winoAsm{"avx2", winogradInAVX2, winogradOutAVX2, 15, 16}
)

// skip skips t when this CPU cannot run the set, and fails it when the set has no Winograd transforms.
func (a winoAsm) skip(t testing.TB) {
	t.Helper()
	for _, impl := range Available() {
		if impl.Name == a.set {
			if impl.ew.winogradIn == nil || impl.ew.winogradOut == nil {
				t.Fatalf("the %s set has no Winograd transforms", a.set)
			}
			return
		}
	}
	t.Skipf("no %s on this CPU", a.set)
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

// winoIn runs a.in and winogradInRef on the plane x (inside a buffer of large values, which a read
// outside the plane would bring in) into planes vstride apart inside a buffer of sentinels, and
// compares the whole buffers: the outputs bit for bit, and every element the reference leaves alone.
func winoIn(t *testing.T, a winoAsm, x []float32, vstride, h, w int) {
	t.Helper()
	const off, guard = 7, 40
	xb := winoFill(len(x)+2*guard, 1e6)
	copy(xb[guard:], x)
	x = xb[guard : guard+len(x) : guard+len(x)]
	n := off + 16*vstride + guard
	got, want := winoFill(n, winoSentinel), winoFill(n, winoSentinel)
	a.in(got[off:off+16*vstride], x, vstride, h, w)
	winogradInRef(want[off:off+16*vstride], x, vstride, h, w)
	winoSame(t, fmt.Sprintf("%s h=%d w=%d vstride=%d: v (from %d)", a.set, h, w, vstride, -off), got, want)
}

// winoOut is winoIn for the output transform: m random everywhere (also between the tile grids, which
// must not be read), y inside a buffer of sentinels.
func winoOut(t *testing.T, a winoAsm, m []float32, mstride, h, w int, bias, lower float32) {
	t.Helper()
	const off, guard = 5, 40
	n := off + h*w + guard
	got, want := winoFill(n, winoSentinel), winoFill(n, winoSentinel)
	a.out(got[off:off+h*w], m, mstride, h, w, bias, lower)
	winogradOutRef(want[off:off+h*w], m, mstride, h, w, bias, lower)
	winoSame(t, fmt.Sprintf("%s h=%d w=%d mstride=%d bias=%v lower=%v: y (from %d)", a.set, h, w, mstride, bias, lower, -off), got, want)
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

// testWinogradIn checks the input transform against the reference bit for bit on every plane up to
// 33×33 (the widest ones take the fallback), with planes spaced as tight as a tile grid and wider.
func testWinogradIn(t *testing.T, a winoAsm, r *rand.Rand) {
	a.skip(t)
	for h := 1; h <= 33; h++ {
		for w := 1; w <= 33; w++ {
			th, tw := winogradTiles(h, w)
			for _, vstride := range []int{th * tw, th*tw + 5} {
				winoIn(t, a, ewRand(r, h*w, 4, false), vstride, h, w)
			}
		}
	}
}

// testWinogradInSpecials: NaN, ±Inf and ±0 in the input give the reference's bits, NaN payloads and
// signs included (the additions take their operands in the compiled reference's order).
func testWinogradInSpecials(t *testing.T, a winoAsm, r *rand.Rand) {
	a.skip(t)
	for _, s := range [][2]int{{1, 1}, {3, 5}, {8, 8}, {14, 14}, {7, a.maxIn - 1}, {6, a.maxIn}} {
		h, w := s[0], s[1]
		th, tw := winogradTiles(h, w)
		for k := 0; k < 50; k++ {
			winoIn(t, a, winoSpecials(r, h*w), th*tw+3, h, w)
		}
	}
}

// testWinogradOut checks the output transform against the reference bit for bit on every plane up to
// 33×33 (the widest ones take the fallback), ReLU on (lower 0) and off (lower −Inf).
func testWinogradOut(t *testing.T, a winoAsm, r *rand.Rand) {
	a.skip(t)
	for h := 1; h <= 33; h++ {
		for w := 1; w <= 33; w++ {
			th, tw := winogradTiles(h, w)
			for _, mstride := range []int{th * tw, th*tw + 5} {
				m := ewRand(r, 16*mstride, 3, false)
				bias := ewRand(r, 1, 2, false)[0]
				for _, lower := range []float32{0, float32(math.Inf(-1))} {
					winoOut(t, a, m, mstride, h, w, bias, lower)
				}
			}
		}
	}
}

// testWinogradOutNaN: a NaN product gives NaN outputs with lower = 0, as Go's max(NaN, 0) does, with
// the reference's bits; and products full of NaNs, ±Inf and ±0 too give the reference's bits, even
// with a NaN lower bound.
func testWinogradOutNaN(t *testing.T, a winoAsm, r *rand.Rand) {
	a.skip(t)
	for _, s := range [][2]int{{1, 1}, {2, 3}, {5, 7}, {14, 14}, {9, a.maxOut - 2}, {4, a.maxOut}} {
		h, w := s[0], s[1]
		th, tw := winogradTiles(h, w)
		mstride := th*tw + 5
		for k := 0; k < 20; k++ {
			m := ewRand(r, 16*mstride, 3, false)
			m[r.IntN(16)*mstride+r.IntN(th*tw)] = float32(math.NaN())
			for _, lower := range []float32{0, float32(math.Inf(-1))} {
				winoOut(t, a, m, mstride, h, w, 0.25, lower)
			}
			// m[1][1] enters all four outputs of its tile, y[0][0] inside the plane.
			m = ewRand(r, 16*mstride, 3, false)
			m[5*mstride+r.IntN(th*tw)] = float32(math.NaN())
			winoOut(t, a, m, mstride, h, w, 0.25, 0)
			y := make([]float32, h*w)
			a.out(y, m, mstride, h, w, 0.25, 0)
			nan := 0
			for _, v := range y {
				if v != v {
					nan++
				}
			}
			if nan == 0 {
				t.Fatalf("%s h=%d w=%d: the NaN product reached no output", a.set, h, w)
			}
			for _, lower := range []float32{0, float32(math.Inf(-1)), float32(math.NaN())} {
				winoOut(t, a, winoSpecials(r, 16*mstride), mstride, h, w, 0.25, lower)
			}
		}
	}
}

// testWinogradOutSignedZero: max(−0, 0) is +0 in Go, and so in the assembly; −0 stays with
// lower = −Inf, and max(+0, −0) is +0.
func testWinogradOutSignedZero(t *testing.T, a winoAsm) {
	a.skip(t)
	negZero := float32(math.Copysign(0, -1))
	h, w := 5, 7
	th, tw := winogradTiles(h, w)
	m := winoFill(16*th*tw, negZero) // y[0][0] of every tile is −0 + bias
	for _, bias := range []float32{negZero, 0} {
		for _, lower := range []float32{0, negZero, float32(math.Inf(-1))} {
			winoOut(t, a, m, th*tw, h, w, bias, lower)
		}
	}
	y := make([]float32, h*w)
	a.out(y, m, th*tw, h, w, negZero, 0)
	if math.Float32bits(y[0]) != 0 {
		t.Fatalf("%s: y[0] = %#08x, want +0", a.set, math.Float32bits(y[0]))
	}
}

// benchWinogradTransforms: both transforms of 32 channels of a 14×14 plane (one image, as
// WinogradF2x3.Forward lays them out), the reference against the set's assembly.
func benchWinogradTransforms(b *testing.B, a winoAsm) {
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
	}{{"ref", winogradInRef, winogradOutRef}, {a.set, a.in, a.out}}
	for _, impl := range impls {
		b.Run("op=in/impl="+impl.name, func(b *testing.B) {
			if impl.name != "ref" {
				a.skip(b)
			}
			for b.Loop() {
				for ci := 0; ci < c; ci++ {
					impl.in(v[ci*t:], x[ci*h*w:(ci+1)*h*w], c*t, h, w)
				}
			}
		})
		b.Run("op=out/impl="+impl.name, func(b *testing.B) {
			if impl.name != "ref" {
				a.skip(b)
			}
			for b.Loop() {
				for co := 0; co < c; co++ {
					impl.out(y[co*h*w:(co+1)*h*w], v[co*t:], c*t, h, w, 0.5, 0)
				}
			}
		})
	}
}
