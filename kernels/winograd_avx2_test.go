//go:build amd64 && !noasm

package kernels

import (
	"math/rand/v2"
	"testing"
)

// The AVX2 Winograd transforms against the references; the checks are in winograd_asm_test.go.

// TestWinogradInAVX2 checks the assembly input transform against the reference bit for bit on every
// plane up to 33×33 (w ≥ 16 takes the fallback), with planes spaced as tight as a tile grid and wider.
func TestWinogradInAVX2(t *testing.T) {
	testWinogradIn(t, winoAVX2, rand.New(rand.NewPCG(81, 82)))
}

// TestWinogradInAVX2Specials: NaN, ±Inf and ±0 in the input give the reference's bits, NaN payloads and
// signs included.
func TestWinogradInAVX2Specials(t *testing.T) {
	testWinogradInSpecials(t, winoAVX2, rand.New(rand.NewPCG(83, 84)))
}

// TestWinogradOutAVX2 checks the assembly output transform against the reference bit for bit on every
// plane up to 33×33 (w ≥ 17 takes the fallback), ReLU on (lower 0) and off (lower −Inf).
func TestWinogradOutAVX2(t *testing.T) {
	testWinogradOut(t, winoAVX2, rand.New(rand.NewPCG(85, 86)))
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

// BenchmarkWinogradTransformsAVX2: both transforms of 32 channels of a 14×14 plane (one image, as
// WinogradF2x3.Forward lays them out), the reference against the AVX2 assembly.
func BenchmarkWinogradTransformsAVX2(b *testing.B) {
	benchWinogradTransforms(b, winoAVX2)
}
