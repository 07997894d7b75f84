//go:build !noasm

package kernels

import (
	"math"
	"testing"
)

// TestNeonAvailable: on arm64 the NEON set must be compiled in and offered first, or every "neon"
// subtest elsewhere would silently test nothing.
func TestNeonAvailable(t *testing.T) {
	impls := Available()
	if len(impls) == 0 || impls[0].Name != "neon" {
		t.Fatalf("Available() = %v, want the neon set first", implNames(impls))
	}
	if impls[0].MR != 8 || impls[0].NR != 12 {
		t.Fatalf("neon tile = %d×%d, want 8×12 (sgemmKernel_8x12_neon)", impls[0].MR, impls[0].NR)
	}
}

func implNames(impls []Impl) []string {
	var s []string
	for _, impl := range impls {
		s = append(s, impl.Name)
	}
	return s
}

// TestNeonReLUBitExact: the shared tests compare ReLU numerically, where -0 equals +0; the NEON
// kernels claim bit-exactness with the reference (-0 becomes +0, NaN payloads survive), so check bits.
func TestNeonReLUBitExact(t *testing.T) {
	specials := []float32{
		float32(math.Copysign(0, -1)), 0, 1, -1, float32(math.Inf(1)), float32(math.Inf(-1)),
		math.Float32frombits(0x7fc12345), math.Float32frombits(0xffc54321), // quiet NaNs, both signs
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, math.MaxFloat32, -math.MaxFloat32,
	}
	// Every special in every lane of the 16-wide loop, the 4-wide loop and the Go tail.
	const n = 16 + 4 + 3
	for _, s := range specials {
		for pos := 0; pos < n; pos++ {
			src := make([]float32, n)
			for i := range src {
				src[i] = float32(i%5) - 2
			}
			src[pos] = s
			got, want := make([]float32, n), make([]float32, n)
			reluNeon(got, src)
			reluRef(want, src)
			diffBits(t, "relu", s, pos, got, want)
			// a = 1, b = -0: the affine part is exact and keeps -0 (+0 would turn -0 into +0 before the
			// ReLU sees it), so the ReLU part must match bit for bit too.
			negZero := float32(math.Copysign(0, -1))
			affineReLUNeon(got, src, 1, negZero)
			affineReLURef(want, src, 1, negZero)
			diffBits(t, "affineReLU", s, pos, got, want)
		}
	}
}

func diffBits(t *testing.T, op string, s float32, pos int, got, want []float32) {
	t.Helper()
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s with %v (%#08x) at %d: [%d] = %#08x, want %#08x", op, s, math.Float32bits(s), pos, i,
				math.Float32bits(got[i]), math.Float32bits(want[i]))
		}
	}
}
