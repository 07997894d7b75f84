//go:build amd64 && !noasm

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The checks every amd64 set's Winograd transforms run (the tests at the end of this file,
// one subtest per set): bit for bit the references, NaN payloads and signed zeros included, on every
// plane up to 33×33, past the widths the assembly handles (where the wrappers take the reference); one
// plane and several in a call, with gaps between the planes, between their tile grids and between the
// 16 blocks ξ; tile grids smaller (and larger) than the plane's, and output regions smaller than the
// plane with a row stride wider than the region.

// winoAsm is one kernel set's Winograd transform wrappers, and the widest planes, tile rows and output
// regions their assembly takes.
type winoAsm struct {
	set                  string // the set's name in Available()
	in                   func(v, x []float32, planes, xstride, pstride, vstride, h, w, th, tw int)
	out                  func(y, m []float32, planes, ystride, pstride, mstride, oh, ow, w int, bias, lower float32)
	maxIn, maxTW, maxOut int
}

var (
	winoAVX512 = winoAsm{"avx512", winogradInAVX512, winogradOutAVX512, 31, 16, 32}
	winoAVX2   = winoAsm{"avx2", winogradInAVX2, winogradOutAVX2, 15, 8, 16}
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
	if len(got) != len(want) {
		t.Fatalf("%s: %d elements, reference %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: element %d = %v (%#08x), reference %v (%#08x)", what, i,
				got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// winoInCall is one input transform call: planes planes of h×w, xstride apart in x, on a th×tw grid,
// the grids pstride apart in each of the 16 blocks of v, vstride apart.
type winoInCall struct{ planes, xstride, pstride, vstride, h, w, th, tw int }

func (c winoInCall) String() string {
	return fmt.Sprintf("planes=%d xstride=%d pstride=%d vstride=%d h=%d w=%d th=%d tw=%d",
		c.planes, c.xstride, c.pstride, c.vstride, c.h, c.w, c.th, c.tw)
}

// xLen and vLen are the extents of x and v the call reads and writes, the lengths it gets.
func (c winoInCall) xLen() int { return (c.planes-1)*c.xstride + c.h*c.w }
func (c winoInCall) vLen() int { return 15*c.vstride + (c.planes-1)*c.pstride + c.th*c.tw }

// winoInput returns c's input x: every plane from plane(n) (n = h·w), the gaps between planes and a
// guard on both sides (outside the slice) full of large values that a read outside a plane would
// bring in.
func winoInput(c winoInCall, plane func(n int) []float32) []float32 {
	const guard = 40
	n := c.xLen()
	xb := winoFill(n+2*guard, 1e6)
	x := xb[guard : guard+n : guard+n]
	for p := 0; p < c.planes; p++ {
		copy(x[p*c.xstride:], plane(c.h*c.w))
	}
	return x
}

// winoIn runs a.in and winogradInRef on x into a buffer of sentinels, v exactly as long as the call's
// extent, and compares the whole buffers bit for bit: the outputs, and every element the reference
// leaves alone (the gaps between grids and between blocks, and a guard on both sides).
func winoIn(t *testing.T, a winoAsm, c winoInCall, x []float32) {
	t.Helper()
	const off, guard = 7, 40
	n := c.vLen()
	got, want := winoFill(off+n+guard, winoSentinel), winoFill(off+n+guard, winoSentinel)
	x0 := append([]float32(nil), x...)
	a.in(got[off:off+n], x, c.planes, c.xstride, c.pstride, c.vstride, c.h, c.w, c.th, c.tw)
	winogradInRef(want[off:off+n], x, c.planes, c.xstride, c.pstride, c.vstride, c.h, c.w, c.th, c.tw)
	winoSame(t, fmt.Sprintf("%s %v: v (from %d)", a.set, c, -off), got, want)
	winoSame(t, fmt.Sprintf("%s %v: x after the call", a.set, c), x, x0)
}

// winoOutCall is one output transform call: planes oh×ow regions of planes ystride apart in y, rows w
// apart, from the products of their ⌈oh/2⌉×⌈ow/2⌉ grids, pstride apart in each of the 16 blocks of m,
// mstride apart.
type winoOutCall struct{ planes, ystride, pstride, mstride, oh, ow, w int }

func (c winoOutCall) String() string {
	return fmt.Sprintf("planes=%d ystride=%d pstride=%d mstride=%d oh=%d ow=%d w=%d",
		c.planes, c.ystride, c.pstride, c.mstride, c.oh, c.ow, c.w)
}

func (c winoOutCall) tiles() int { th, tw := winogradTiles(c.oh, c.ow); return th * tw }
func (c winoOutCall) yLen() int  { return (c.planes-1)*c.ystride + (c.oh-1)*c.w + c.ow }
func (c winoOutCall) mLen() int  { return 15*c.mstride + (c.planes-1)*c.pstride + c.tiles() }

// winoOut is winoIn for the output transform: m (c.mLen() long; random also between the tile grids,
// which must not be read) into y inside a buffer of sentinels, y exactly as long as the call's extent
// (so the rows' tails past ow and the gaps between planes are sentinels that must stay).
func winoOut(t *testing.T, a winoAsm, c winoOutCall, m []float32, bias, lower float32) {
	t.Helper()
	const off, guard = 5, 40
	n := c.yLen()
	got, want := winoFill(off+n+guard, winoSentinel), winoFill(off+n+guard, winoSentinel)
	m = m[:c.mLen():c.mLen()]
	a.out(got[off:off+n], m, c.planes, c.ystride, c.pstride, c.mstride, c.oh, c.ow, c.w, bias, lower)
	winogradOutRef(want[off:off+n], m, c.planes, c.ystride, c.pstride, c.mstride, c.oh, c.ow, c.w, bias, lower)
	winoSame(t, fmt.Sprintf("%s %v bias=%v lower=%v: y (from %d)", a.set, c, bias, lower, -off), got, want)
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

// winoInCalls returns the calls the input transform is checked on for an h×w plane: one plane on the
// full grid with the blocks as tight as a grid and wider; three planes with gaps between the planes,
// the grids and the blocks; two planes on a grid one tile smaller each way (where that leaves a tile),
// and one larger (rows and columns past the plane read as 0); and two planes with the 16 blocks inside
// each plane's share of v instead of the planes inside each block.
func winoInCalls(h, w int) []winoInCall {
	th, tw := winogradTiles(h, w)
	t := th * tw
	hw := h * w
	calls := []winoInCall{
		{1, hw, t, t, h, w, th, tw},
		{1, hw, t, t + 5, h, w, th, tw},
		{3, hw + 3, t + 2, 3*(t+2) + 1, h, w, th, tw},
		{2, hw, 16*(t+1) + 3, t + 1, h, w, th, tw},
	}
	for _, d := range [][2]int{{-1, -1}, {-1, 0}, {0, -1}, {1, 1}} {
		gh, gw := th+d[0], tw+d[1]
		if gh < 1 || gw < 1 {
			continue
		}
		g := gh * gw
		calls = append(calls, winoInCall{2, hw + 1, g + 3, 2*(g+3) + 2, h, w, gh, gw})
	}
	return calls
}

// testWinogradIn checks the input transform against the reference bit for bit on every plane up to
// 33×33 (the widest ones take the fallback) in the calls of winoInCalls, and on the CNN's conv3 (a
// 3×3 grid over a 7×7 plane, for the 6×6 region a 2×2 pool reads) for up to 32 planes.
func testWinogradIn(t *testing.T, a winoAsm, r *rand.Rand) {
	a.skip(t)
	random := func(n int) []float32 { return ewRand(r, n, 4, false) }
	for h := 1; h <= 33; h++ {
		for w := 1; w <= 33; w++ {
			for _, c := range winoInCalls(h, w) {
				winoIn(t, a, c, winoInput(c, random))
			}
		}
	}
	for _, planes := range []int{1, 2, 3, 32} {
		c := winoInCall{planes, 49, 9, planes * 9, 7, 7, 3, 3}
		winoIn(t, a, c, winoInput(c, random))
	}
	// Grids up to the widest tile row the assembly takes, on planes narrower than it.
	for w := 1; w <= a.maxIn; w++ {
		for _, tw := range []int{1, a.maxTW, a.maxTW + 1} {
			c := winoInCall{2, 3 * w, 2 * tw, 4 * tw, 3, w, 2, tw}
			winoIn(t, a, c, winoInput(c, random))
		}
	}
}

// testWinogradInLayouts: calls the assembly does not take, whose stores overlap, give the reference's
// result (the fallback), planes that share their input give it too, and no planes write nothing.
func testWinogradInLayouts(t *testing.T, a winoAsm, r *rand.Rand) {
	a.skip(t)
	random := func(n int) []float32 { return ewRand(r, n, 4, false) }
	for _, c := range []winoInCall{
		{2, 64, 15, 40, 8, 8, 4, 4}, // grids overlapping (pstride < th·tw)
		{2, 64, 16, 20, 8, 8, 4, 4}, // blocks overlapping the next plane's grid
		{1, 64, 0, 15, 8, 8, 4, 4},  // blocks overlapping
		{1, 64, 0, 1, 8, 8, 4, 4},   // blocks overlapping within a tile row
		{3, 0, 16, 48, 8, 8, 4, 4},  // every plane the same x (allowed: reads overlap)
	} {
		winoIn(t, a, c, winoInput(c, random))
	}
	a.in(nil, nil, 0, 49, 9, 9, 7, 7, 4, 4)
}

// testWinogradInSpecials: NaN, ±Inf and ±0 in the input give the reference's bits, NaN payloads and
// signs included (the additions take their operands in the compiled reference's order).
func testWinogradInSpecials(t *testing.T, a winoAsm, r *rand.Rand) {
	a.skip(t)
	specials := func(n int) []float32 { return winoSpecials(r, n) }
	for _, s := range [][2]int{{1, 1}, {3, 5}, {7, 7}, {8, 8}, {14, 14}, {7, a.maxIn - 1}, {6, a.maxIn}} {
		h, w := s[0], s[1]
		for k := 0; k < 10; k++ {
			for _, c := range winoInCalls(h, w) {
				winoIn(t, a, c, winoInput(c, specials))
			}
		}
	}
}

// winoOutCalls returns the calls the output transform is checked on for an h×w plane: the whole plane,
// one plane with the blocks as tight as a grid and wider; three planes with gaps between the planes,
// the grids and the blocks; two planes' (h−1)×(w−1), h×(w−1) and (h−1)×w regions (where not empty),
// rows w apart; the whole plane with rows wider than it (w + 3); and two planes with the 16 blocks
// inside each plane's share of m.
func winoOutCalls(h, w int) []winoOutCall {
	hw := h * w
	type region struct{ oh, ow, w int }
	var calls []winoOutCall
	for _, g := range []region{{h, w, w}, {h - 1, w - 1, w}, {h, w - 1, w}, {h - 1, w, w}, {h, w, w + 3}} {
		if g.oh < 1 || g.ow < 1 {
			continue
		}
		th, tw := winogradTiles(g.oh, g.ow)
		t := th * tw
		ys := h*g.w + 2
		if g == (region{h, w, w}) {
			calls = append(calls,
				winoOutCall{1, hw, t, t, h, w, w},
				winoOutCall{1, hw, t, t + 5, h, w, w},
				winoOutCall{2, hw + 1, 16*(t+1) + 3, t + 1, h, w, w})
		}
		calls = append(calls, winoOutCall{3, ys + 1, t + 2, 3*(t+2) + 1, g.oh, g.ow, g.w})
	}
	return calls
}

// testWinogradOut checks the output transform against the reference bit for bit on every plane up to
// 33×33 (the widest regions take the fallback) in the calls of winoOutCalls, ReLU on (lower 0) and off
// (lower −Inf), and on the CNN's conv3 (the 6×6 region of 7×7 planes, 3×3 tiles) for up to 32 planes.
func testWinogradOut(t *testing.T, a winoAsm, r *rand.Rand) {
	a.skip(t)
	check := func(c winoOutCall) {
		m := ewRand(r, c.mLen(), 3, false)
		bias := ewRand(r, 1, 2, false)[0]
		for _, lower := range []float32{0, float32(math.Inf(-1))} {
			winoOut(t, a, c, m, bias, lower)
		}
	}
	for h := 1; h <= 33; h++ {
		for w := 1; w <= 33; w++ {
			for _, c := range winoOutCalls(h, w) {
				check(c)
			}
		}
	}
	for _, planes := range []int{1, 2, 3, 32} {
		check(winoOutCall{planes, 49, 9, planes * 9, 6, 6, 7})
	}
	// Regions up to the widest the assembly takes, in rows far wider.
	for ow := 1; ow <= a.maxOut+1; ow++ {
		check(winoOutCall{2, 3 * 70, (ow + 1) / 2 * 2, (ow + 1) / 2 * 4, 3, ow, 70})
	}
}

// testWinogradOutLayouts: calls the assembly does not take, whose stores overlap, give the reference's
// result (the fallback), planes that share their products give it too, and no planes write nothing.
func testWinogradOutLayouts(t *testing.T, a winoAsm, r *rand.Rand) {
	a.skip(t)
	for _, c := range []winoOutCall{
		{2, 60, 16, 32, 8, 8, 8}, // planes overlapping (ystride < (oh−1)·w + ow)
		{1, 64, 16, 16, 8, 8, 7}, // rows overlapping (w < ow)
		{1, 64, 16, 16, 8, 8, 1}, // rows overlapping more
		{2, 64, 0, 16, 8, 8, 8},  // every plane the same products (allowed: reads overlap)
	} {
		m := ewRand(r, c.mLen(), 3, false)
		winoOut(t, a, c, m, 0.5, 0)
	}
	a.out(nil, nil, 0, 36, 9, 9, 6, 6, 6, 0.5, 0)
}

// testWinogradOutNaN: a NaN product gives NaN outputs with lower = 0, as Go's max(NaN, 0) does, with
// the reference's bits; and products full of NaNs, ±Inf and ±0 too give the reference's bits, even
// with a NaN lower bound.
func testWinogradOutNaN(t *testing.T, a winoAsm, r *rand.Rand) {
	a.skip(t)
	for _, s := range [][2]int{{1, 1}, {2, 3}, {5, 7}, {7, 7}, {14, 14}, {9, a.maxOut - 2}, {4, a.maxOut}} {
		h, w := s[0], s[1]
		for k := 0; k < 5; k++ {
			for _, c := range winoOutCalls(h, w) {
				t0 := c.tiles()
				m := ewRand(r, c.mLen(), 3, false)
				m[r.IntN(16)*c.mstride+r.IntN(c.planes)*c.pstride+r.IntN(t0)] = float32(math.NaN())
				for _, lower := range []float32{0, float32(math.Inf(-1))} {
					winoOut(t, a, c, m, 0.25, lower)
				}
				// m[1][1] enters all four outputs of its tile, y[0][0] inside the region.
				m = ewRand(r, c.mLen(), 3, false)
				m[5*c.mstride+(c.planes-1)*c.pstride+r.IntN(t0)] = float32(math.NaN())
				winoOut(t, a, c, m, 0.25, 0)
				y := make([]float32, c.yLen())
				a.out(y, m, c.planes, c.ystride, c.pstride, c.mstride, c.oh, c.ow, c.w, 0.25, 0)
				nan := 0
				for _, v := range y[(c.planes-1)*c.ystride:] {
					if v != v {
						nan++
					}
				}
				if nan == 0 {
					t.Fatalf("%s %v: the NaN product reached no output", a.set, c)
				}
				for _, lower := range []float32{0, float32(math.Inf(-1)), float32(math.NaN())} {
					winoOut(t, a, c, winoSpecials(r, c.mLen()), 0.25, lower)
				}
			}
		}
	}
}

// testWinogradOutSignedZero: max(−0, 0) is +0 in Go, and so in the assembly; −0 stays with
// lower = −Inf, and max(+0, −0) is +0.
func testWinogradOutSignedZero(t *testing.T, a winoAsm) {
	a.skip(t)
	negZero := float32(math.Copysign(0, -1))
	for _, c := range []winoOutCall{{1, 35, 12, 12, 5, 7, 7}, {3, 40, 13, 40, 5, 7, 7}, {2, 49, 9, 18, 6, 6, 7}} {
		m := winoFill(c.mLen(), negZero) // y[0][0] of every tile is −0 + bias
		for _, bias := range []float32{negZero, 0} {
			for _, lower := range []float32{0, negZero, float32(math.Inf(-1))} {
				winoOut(t, a, c, m, bias, lower)
			}
		}
		y := make([]float32, c.yLen())
		a.out(y, m, c.planes, c.ystride, c.pstride, c.mstride, c.oh, c.ow, c.w, negZero, 0)
		for p := 0; p < c.planes; p++ {
			if b := math.Float32bits(y[p*c.ystride]); b != 0 {
				t.Fatalf("%s %v: y[%d] = %#08x, want +0", a.set, c, p*c.ystride, b)
			}
		}
	}
}

// benchWinogradTransforms: both transforms of one channel of 32 images in one call, as
// WinogradF2x3.Forward lays them out (the planes' grids side by side in each block ξ), the reference
// against the set's assembly: the CNN's conv2 (14×14, the full 7×7 grid) and conv3 (7×7 planes on a
// 3×3 grid, the 6×6 region a 2×2 pool reads).
func benchWinogradTransforms(b *testing.B, sets ...winoAsm) {
	const planes = 32
	type shape struct {
		name         string
		h, w, oh, ow int
	}
	impls := append([]winoAsm{{set: "ref", in: winogradInRef, out: winogradOutRef}}, sets...)
	r := rand.New(rand.NewPCG(79, 80))
	for _, s := range []shape{{"14x14", 14, 14, 14, 14}, {"7x7to6x6", 7, 7, 6, 6}} {
		th, tw := winogradTiles(s.oh, s.ow)
		t := th * tw
		hw := s.h * s.w
		x := ewRand(r, planes*hw, 1, false)
		v := make([]float32, 16*planes*t)
		y := make([]float32, planes*hw)
		for _, impl := range impls {
			b.Run("shape="+s.name+"/op=in/impl="+impl.set, func(b *testing.B) {
				if impl.set != "ref" {
					impl.skip(b)
				}
				for b.Loop() {
					impl.in(v, x, planes, hw, t, planes*t, s.h, s.w, th, tw)
				}
			})
			b.Run("shape="+s.name+"/op=out/impl="+impl.set, func(b *testing.B) {
				if impl.set != "ref" {
					impl.skip(b)
				}
				for b.Loop() {
					impl.out(y, v, planes, hw, t, planes*t, s.oh, s.ow, s.w, 0.5, 0)
				}
			})
		}
	}
}

// The tests and benchmark of every set with Winograd assembly; each set draws its own random inputs.
var winoSets = []struct {
	a    winoAsm
	seed uint64
}{{winoAVX512, 71}, {winoAVX2, 81}}

func forEachWinoSet(t *testing.T, salt uint64, f func(t *testing.T, a winoAsm, r *rand.Rand)) {
	for _, s := range winoSets {
		t.Run("set="+s.a.set, func(t *testing.T) { f(t, s.a, rand.New(rand.NewPCG(s.seed, salt))) })
	}
}

// TestWinogradInAsm checks the assembly input transform against the reference bit for bit on every
// plane up to 33×33 (past each set's width, the fallback), one plane and several a call, on full,
// smaller and larger tile grids (past each set's tile row, the fallback), with gaps between planes,
// grids and blocks.
func TestWinogradInAsm(t *testing.T) { forEachWinoSet(t, 1, testWinogradIn) }

// TestWinogradInAsmLayouts: overlapping stores take the fallback; shared input planes and no planes.
func TestWinogradInAsmLayouts(t *testing.T) { forEachWinoSet(t, 2, testWinogradInLayouts) }

// TestWinogradInAsmSpecials: NaN, ±Inf and ±0 in the input give the reference's bits, NaN payloads and
// signs included.
func TestWinogradInAsmSpecials(t *testing.T) { forEachWinoSet(t, 3, testWinogradInSpecials) }

// TestWinogradOutAsm checks the assembly output transform against the reference bit for bit on every
// plane up to 33×33 (past each set's width, the fallback), one plane and several a call, whole planes
// and smaller regions with rows wider than the region, ReLU on (lower 0) and off (lower −Inf).
func TestWinogradOutAsm(t *testing.T) { forEachWinoSet(t, 4, testWinogradOut) }

// TestWinogradOutAsmLayouts: overlapping stores take the fallback; shared products and no planes.
func TestWinogradOutAsmLayouts(t *testing.T) { forEachWinoSet(t, 5, testWinogradOutLayouts) }

// TestWinogradOutAsmNaN: NaN products give NaN outputs with lower = 0 as Go's max does, and NaN, ±Inf,
// ±0 products give the reference's bits, even with a NaN lower bound.
func TestWinogradOutAsmNaN(t *testing.T) { forEachWinoSet(t, 6, testWinogradOutNaN) }

// TestWinogradOutAsmSignedZero: max(−0, 0) is +0 in Go, and so in the assembly; −0 stays with
// lower = −Inf.
func TestWinogradOutAsmSignedZero(t *testing.T) {
	forEachWinoSet(t, 7, func(t *testing.T, a winoAsm, _ *rand.Rand) { testWinogradOutSignedZero(t, a) })
}

// BenchmarkWinogradTransforms: both transforms of 32 planes in one call (conv2's 14×14, conv3's 7×7 on
// a 3×3 grid into a 6×6 region), the reference against each set's assembly.
func BenchmarkWinogradTransforms(b *testing.B) { benchWinogradTransforms(b, winoAVX512, winoAVX2) }
