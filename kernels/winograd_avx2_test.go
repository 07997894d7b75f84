//go:build amd64 && !noasm

package kernels

import (
	"math/rand/v2"
	"testing"
)

// The AVX2 Winograd transforms against the references; the checks are in winograd_asm_test.go.

// TestWinogradInAVX2 checks the assembly input transform against the reference bit for bit on every
// plane up to 33×33 (w ≥ 16 takes the fallback), one plane and several a call, on full, smaller and
// larger tile grids (tw ≥ 9 takes the fallback), with gaps between planes, grids and blocks.
func TestWinogradInAVX2(t *testing.T) {
	testWinogradIn(t, winoAVX2, rand.New(rand.NewPCG(81, 82)))
}

// TestWinogradInAVX2Layouts: overlapping stores take the fallback; shared input planes and no planes.
func TestWinogradInAVX2Layouts(t *testing.T) {
	testWinogradInLayouts(t, winoAVX2, rand.New(rand.NewPCG(93, 94)))
}

// TestWinogradInAVX2Specials: NaN, ±Inf and ±0 in the input give the reference's bits, NaN payloads and
// signs included.
func TestWinogradInAVX2Specials(t *testing.T) {
	testWinogradInSpecials(t, winoAVX2, rand.New(rand.NewPCG(83, 84)))
}

// TestWinogradOutAVX2 checks the assembly output transform against the reference bit for bit on every
// plane up to 33×33 (ow ≥ 17 takes the fallback), one plane and several a call, whole planes and
// smaller regions with rows wider than the region, ReLU on (lower 0) and off (lower −Inf).
func TestWinogradOutAVX2(t *testing.T) {
	testWinogradOut(t, winoAVX2, rand.New(rand.NewPCG(85, 86)))
}

// TestWinogradOutAVX2Layouts: overlapping stores take the fallback; shared products and no planes.
func TestWinogradOutAVX2Layouts(t *testing.T) {
	testWinogradOutLayouts(t, winoAVX2, rand.New(rand.NewPCG(95, 96)))
}

// TestWinogradOutAVX2NaN: NaN products give NaN outputs with lower = 0 as Go's max does, and NaN,
// ±Inf, ±0 products give the reference's bits, even with a NaN lower bound.
func TestWinogradOutAVX2NaN(t *testing.T) {
	testWinogradOutNaN(t, winoAVX2, rand.New(rand.NewPCG(87, 88)))
}

// TestWinogradOutAVX2SignedZero: max(−0, 0) is +0 in Go, and so in the assembly; −0 stays with
// lower = −Inf.
func TestWinogradOutAVX2SignedZero(t *testing.T) {
	testWinogradOutSignedZero(t, winoAVX2)
}

// BenchmarkWinogradTransformsAVX2: both transforms of 32 planes in one call (conv2's 14×14, conv3's
// 7×7 on a 3×3 grid into a 6×6 region), the reference against the AVX2 assembly.
func BenchmarkWinogradTransformsAVX2(b *testing.B) {
	benchWinogradTransforms(b, winoAVX2)
}
