//go:build amd64 && !noasm

package kernels

import (
	"math/rand/v2"
	"testing"
)

// The AVX-512 Winograd transforms against the references; the checks are in winograd_asm_test.go.

// TestWinogradInAVX512 checks the assembly input transform against the reference bit for bit on every
// plane up to 33×33 (w = 32, 33 take the fallback), one plane and several a call, on full, smaller and
// larger tile grids (tw = 17 takes the fallback), with gaps between planes, grids and blocks.
func TestWinogradInAVX512(t *testing.T) {
	testWinogradIn(t, winoAVX512, rand.New(rand.NewPCG(71, 72)))
}

// TestWinogradInAVX512Layouts: overlapping stores take the fallback; shared input planes and no planes.
func TestWinogradInAVX512Layouts(t *testing.T) {
	testWinogradInLayouts(t, winoAVX512, rand.New(rand.NewPCG(89, 90)))
}

// TestWinogradInAVX512Specials: NaN, ±Inf and ±0 in the input give the reference's bits.
func TestWinogradInAVX512Specials(t *testing.T) {
	testWinogradInSpecials(t, winoAVX512, rand.New(rand.NewPCG(73, 74)))
}

// TestWinogradOutAVX512 checks the assembly output transform against the reference bit for bit on
// every plane up to 33×33 (ow = 33 takes the fallback), one plane and several a call, whole planes and
// smaller regions with rows wider than the region, ReLU on (lower 0) and off (lower −Inf).
func TestWinogradOutAVX512(t *testing.T) {
	testWinogradOut(t, winoAVX512, rand.New(rand.NewPCG(75, 76)))
}

// TestWinogradOutAVX512Layouts: overlapping stores take the fallback; shared products and no planes.
func TestWinogradOutAVX512Layouts(t *testing.T) {
	testWinogradOutLayouts(t, winoAVX512, rand.New(rand.NewPCG(91, 92)))
}

// TestWinogradOutAVX512NaN: NaN products and NaN, ±Inf, ±0 products give the reference's bits.
func TestWinogradOutAVX512NaN(t *testing.T) {
	testWinogradOutNaN(t, winoAVX512, rand.New(rand.NewPCG(77, 78)))
}

// TestWinogradOutAVX512SignedZero: max(−0, 0) is +0, as in Go.
func TestWinogradOutAVX512SignedZero(t *testing.T) {
	testWinogradOutSignedZero(t, winoAVX512)
}

// BenchmarkWinogradTransforms: both transforms of 32 planes in one call (conv2's 14×14, conv3's 7×7
// on a 3×3 grid into a 6×6 region), the reference against the AVX-512 assembly.
func BenchmarkWinogradTransforms(b *testing.B) {
	benchWinogradTransforms(b, winoAVX512)
}
