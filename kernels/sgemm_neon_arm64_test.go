//go:build !noasm

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSgemmKernel_8x12_neon checks the micro-kernel alone against its doc-comment loop, so a broken
// WORD encoding shows up here with a tile position rather than as a wrong GEMM somewhere in the driver.
func TestSgemmKernel_8x12_neon(t *testing.T) {
	const mr, nr, guard = 8, 12, 7
	rng := rand.New(rand.NewPCG(3, 12))
	for _, k := range []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 13, 64, 257} {
		for _, ldc := range []int{nr, nr + 1, 29} {
			// Panels start one float in, so nothing relies on 16-byte alignment.
			a := make([]float32, 1+k*mr)
			b := make([]float32, 1+k*nr)
			for i := range a {
				a[i] = rng.Float32()*2 - 1
			}
			for i := range b {
				b[i] = rng.Float32()*2 - 1
			}
			const sentinel = float32(-12345.5)
			size := guard + (mr-1)*ldc + nr + guard
			c := make([]float32, size)
			for i := range c {
				c[i] = sentinel
			}
			want := make([]float32, size)
			for i := 0; i < mr; i++ {
				for j := 0; j < nr; j++ {
					c[guard+i*ldc+j] = rng.Float32()
				}
			}
			copy(want, c)
			for p := 0; p < k; p++ {
				for i := 0; i < mr; i++ {
					for j := 0; j < nr; j++ {
						want[guard+i*ldc+j] += a[1+p*mr+i] * b[1+p*nr+j]
					}
				}
			}
			var ap, bp *float32
			if k > 0 {
				ap, bp = &a[1], &b[1]
			} else {
				ap, bp = &a[0], &b[0] // never read with k = 0
			}
			sgemmKernel_8x12_neon(k, ap, bp, &c[guard], ldc)
			for idx := range c {
				row, col := (idx-guard)/ldc, (idx-guard)%ldc
				inTile := idx >= guard && row < mr && col < nr
				if !inTile {
					if c[idx] != sentinel {
						t.Fatalf("k=%d ldc=%d: wrote outside the tile at offset %d: %v", k, ldc, idx-guard, c[idx])
					}
					continue
				}
				// FMLA fuses, the Go loop may not: allow a few ulps of the sum of |terms|.
				var mag float64 = math.Abs(float64(want[idx]))
				for p := 0; p < k; p++ {
					mag += math.Abs(float64(a[1+p*mr+row] * b[1+p*nr+col]))
				}
				if d := math.Abs(float64(c[idx] - want[idx])); d > 1e-6*mag+1e-30 {
					t.Fatalf("k=%d ldc=%d: c[%d][%d] = %v, want %v", k, ldc, row, col, c[idx], want[idx])
				}
			}
		}
	}
}

// TestSgemmKernel_8x12_neon_NaNInf checks that a NaN or Inf in one panel reaches exactly the row or
// column it belongs to and no other.
func TestSgemmKernel_8x12_neon_NaNInf(t *testing.T) {
	const mr, nr, k = 8, 12, 5
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
		for row := 0; row < mr; row++ {
			a := make([]float32, k*mr)
			b := make([]float32, k*nr)
			for i := range a {
				a[i] = 1
			}
			for i := range b {
				b[i] = 1
			}
			a[2*mr+row] = bad
			c := make([]float32, mr*nr)
			sgemmKernel_8x12_neon(k, &a[0], &b[0], &c[0], nr)
			for i := 0; i < mr; i++ {
				for j := 0; j < nr; j++ {
					got := c[i*nr+j]
					if i == row {
						if math.IsInf(float64(bad), 1) && !math.IsInf(float64(got), 1) || math.IsNaN(float64(bad)) && !math.IsNaN(float64(got)) {
							t.Fatalf("bad=%v in A row %d: c[%d][%d] = %v", bad, row, i, j, got)
						}
					} else if got != k {
						t.Fatalf("bad=%v in A row %d leaked into c[%d][%d] = %v", bad, row, i, j, got)
					}
				}
			}
		}
		for col := 0; col < nr; col++ {
			a := make([]float32, k*mr)
			b := make([]float32, k*nr)
			for i := range a {
				a[i] = 1
			}
			for i := range b {
				b[i] = 1
			}
			b[3*nr+col] = bad
			c := make([]float32, mr*nr)
			sgemmKernel_8x12_neon(k, &a[0], &b[0], &c[0], nr)
			for i := 0; i < mr; i++ {
				for j := 0; j < nr; j++ {
					got := c[i*nr+j]
					if j == col {
						if math.IsInf(float64(bad), 1) && !math.IsInf(float64(got), 1) || math.IsNaN(float64(bad)) && !math.IsNaN(float64(got)) {
							t.Fatalf("bad=%v in B col %d: c[%d][%d] = %v", bad, col, i, j, got)
						}
					} else if got != k {
						t.Fatalf("bad=%v in B col %d leaked into c[%d][%d] = %v", bad, col, i, j, got)
					}
				}
			}
		}
	}
}

// TestSgemmKernelEx_8x12_neon checks the fused store modes against the loop in the stub's doc comment,
// every flag combination: C not read without gemmLoadC (NaN there must vanish), bias per row,
// ReLU keeping NaN and -0 (v < 0 is false for both) bit for bit.
func TestSgemmKernelEx_8x12_neon(t *testing.T) {
	const mr, nr, guard = 8, 12, 5
	rng := rand.New(rand.NewPCG(8, 12))
	negZero := float32(math.Copysign(0, -1))
	for flags := 0; flags < 8; flags++ {
		for _, k := range []int{1, 2, 3, 4, 5, 9, 33} {
			ldc := nr + 3
			a := make([]float32, k*mr)
			b := make([]float32, k*nr)
			for i := range a {
				a[i] = rng.Float32()*2 - 1
			}
			for i := range b {
				b[i] = rng.Float32()*2 - 1
			}
			// Row 7 of A is zero, so with C = -0 and bias -0 that row's result is exactly -0 (or +0).
			for p := 0; p < k; p++ {
				a[p*mr+7] = 0
			}
			bias := make([]float32, mr+1) // one past the tile, poisoned: must not be read
			for i := range bias {
				bias[i] = rng.Float32()*2 - 1
			}
			bias[7], bias[mr] = negZero, float32(math.NaN())
			const sentinel = float32(-777.25)
			c := make([]float32, guard+(mr-1)*ldc+nr+guard)
			for i := range c {
				c[i] = sentinel
			}
			for i := 0; i < mr; i++ {
				for j := 0; j < nr; j++ {
					c[guard+i*ldc+j] = rng.Float32()*2 - 1
				}
			}
			c[guard+7*ldc] = negZero
			c[guard+2*ldc+5] = float32(math.NaN()) // reaches the output only through gemmLoadC
			want := append([]float32(nil), c...)
			for i := 0; i < mr; i++ {
				for j := 0; j < nr; j++ {
					var v float32
					if flags&gemmLoadC != 0 {
						v = want[guard+i*ldc+j]
					}
					for p := 0; p < k; p++ {
						v += a[p*mr+i] * b[p*nr+j]
					}
					if flags&gemmBias != 0 {
						v += bias[i]
					}
					if flags&gemmReLU != 0 && v < 0 {
						v = 0
					}
					want[guard+i*ldc+j] = v
				}
			}
			sgemmKernelEx_8x12_neon(k, &a[0], &b[0], &c[guard], ldc, &bias[0], flags)
			for idx := range c {
				got, w := c[idx], want[idx]
				var ok bool
				switch {
				case w != w:
					ok = got != got
				case w == 0 || w == sentinel:
					ok = math.Float32bits(got) == math.Float32bits(w)
				default:
					ok = math.Abs(float64(got-w)) <= 1e-5*(1+math.Abs(float64(w)))
				}
				if !ok {
					t.Fatalf("flags=%03b k=%d: c offset %d = %v (%#08x), want %v (%#08x)", flags, k, idx-guard,
						got, math.Float32bits(got), w, math.Float32bits(w))
				}
			}
		}
	}
}

// TestSgemmKernelEx_8x12_neon_SignedZero: with A = 1, B = -0, C = -0 and bias = -0 every lane of the
// tile ends on a signed zero, so the ReLU's "v < 0" (not "v <= 0") is checked in all 24 registers.
func TestSgemmKernelEx_8x12_neon_SignedZero(t *testing.T) {
	const mr, nr, k = 8, 12, 2
	negZero := float32(math.Copysign(0, -1))
	for flags := 0; flags < 8; flags++ {
		a := make([]float32, k*mr)
		b := make([]float32, k*nr)
		bias := make([]float32, mr)
		c := make([]float32, mr*nr)
		for i := range a {
			a[i] = 1
		}
		for i := range b {
			b[i] = negZero
		}
		for i := range bias {
			bias[i] = negZero
		}
		for i := range c {
			c[i] = negZero
		}
		var v float32 // the doc-comment loop, the same for every element
		if flags&gemmLoadC != 0 {
			v = negZero
		}
		for p := 0; p < k; p++ {
			v += 1 * negZero
		}
		if flags&gemmBias != 0 {
			v += negZero
		}
		if flags&gemmReLU != 0 && v < 0 {
			v = 0
		}
		sgemmKernelEx_8x12_neon(k, &a[0], &b[0], &c[0], nr, &bias[0], flags)
		for idx, got := range c {
			if math.Float32bits(got) != math.Float32bits(v) {
				t.Fatalf("flags=%03b: c[%d][%d] = %#08x, want %#08x", flags, idx/nr, idx%nr, math.Float32bits(got), math.Float32bits(v))
			}
		}
	}
}
