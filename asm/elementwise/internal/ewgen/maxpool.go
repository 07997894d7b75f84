package ewgen

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/simdnn/simdnn/asm/internal/gen"
)

// The AVX-512 max-pool kernels. Each output row of ow = w/2 values is done in chunks of 16 outputs,
// the last one running past the row as in maxpool_avx2.go, so the AVX2 and AVX-512 kernels share one
// scheme: two rows of 32 inputs are loaded, split into even and odd columns with VPERMT2PS, and
// reduced with opmask compares that reproduce the reference's rule exactly: a candidate wins when it
// is greater, or when it is NaN and the best so far is not. A first version built that rule from
// three compares and KANDW/KORW and ran 3× slower than the AVX2 kernel on this Zen 5; the two
// compares below, the second under the first's mask, match it.

var poolTables = map[string]Mem{}

// table emits (once) a read-only table of uint32 or uint16 values.
func table(name string, size int, vals []uint32) Mem {
	if m, ok := poolTables[name]; ok {
		return m
	}
	m := GLOBL(name, RODATA|NOPTR)
	for i, v := range vals {
		if size == 2 {
			DATA(2*i, U16(uint16(v)))
		} else {
			DATA(4*i, U32(v))
		}
	}
	poolTables[name] = m
	return m
}

func poolTablesFor() (even, odd, lo, hi, masks Mem) {
	var e, o, l, h, k []uint32
	for i := 0; i < 16; i++ {
		e = append(e, uint32(2*i))
		o = append(o, uint32(2*i+1))
		// Interleave two 16-lane vectors x, y: x0 y0 x1 y1 … (lo half) and x8 y8 … (hi half).
		l = append(l, uint32(i/2+16*(i%2)))
		h = append(h, uint32(8+i/2+16*(i%2)))
	}
	for i := 0; i <= 16; i++ {
		k = append(k, uint32(1)<<i-1)
	}
	return table("maxpool_even", 4, e), table("maxpool_odd", 4, o), table("maxpool_lo", 4, l),
		table("maxpool_hi", 4, h), table("maxpool_masks", 2, k)
}

func ibcast(v uint64) reg.VecVirtual {
	r := GP32()
	MOVL(U32(uint32(v)), r)
	z := ZMM()
	VPBROADCASTD(r, z)
	return z
}

// MaxPool emits maxPool_<isa> and maxPoolBack_<isa>.
func MaxPool(isa gen.ISA) {
	if isa.Lanes != 16 {
		MaxPoolAVX2()
		return
	}
	even, odd, ilo, ihi, _ := poolTablesFor()

	TEXT("maxPool_avx512", NOSPLIT, "func(dst []float32, idx []uint8, src []float32, rows, h, w int)")
	Doc("maxPool_avx512 is maxPool2x2Ref for the first rows output rows (counted across planes), each",
		"rounded up to a multiple of 16 outputs: the outputs, indices and inputs past a row's end belong",
		"to later rows, so rows must leave enough of them to the caller (see elementwise_amd64.go).",
		"h ≥ 2, w ≥ 2, rows ≥ 1. For every 2×2 window:",
		"",
		"	best, at := r0[2x], 0",
		"	for k, v := range []float32{r0[2x+1], r1[2x], r1[2x+1]} {",
		"		if v > best || v != v && best == best {",
		"			best, at = v, k+1",
		"		}",
		"	}",
		"	dst[y][x], idx[y][x] = best, at")
	{
		out := Load(Param("dst").Base(), GP64())
		ix := Load(Param("idx").Base(), GP64())
		in := Load(Param("src").Base(), GP64())
		rows, h, w := Load(Param("rows"), GP64()), Load(Param("h"), GP64()), Load(Param("w"), GP64())
		ve, vo := ZMM(), ZMM()
		VMOVDQU32(even, ve)
		VMOVDQU32(odd, vo)
		one, two, three := ibcast(1), ibcast(2), ibcast(3)
		split := func(m0, m1 Mem) (e, o reg.VecVirtual) {
			x0, x1 := ZMM(), ZMM()
			VMOVUPS(m0, x0)
			VMOVUPS(m1, x1)
			e, o = ZMM(), ZMM()
			VMOVAPS(x0, e)
			VPERMT2PS(x1, ve, e)
			VMOVAPS(x0, o)
			VPERMT2PS(x1, vo, o)
			return e, o
		}
		poolRows("maxPool_avx512", 16, out, ix, in, rows, h, w, 1, func(_ int, r0, wb, o, x reg.Register) {
			a, b := split(Mem{Base: r0}, Mem{Base: r0, Disp: 64})
			c, d := split(Mem{Base: r0, Index: wb, Scale: 1}, Mem{Base: r0, Index: wb, Scale: 1, Disp: 64})
			best, at := a, ZMM()
			VPXORD(at, at, at)
			// A candidate wins where best is not NaN and !(cand <= best): that is cand > best, or cand
			// NaN. Two compares, the second under the first's mask, and no opmask logic.
			for _, cand := range []struct{ v, k reg.VecVirtual }{{b, one}, {c, two}, {d, three}} {
				ok, win := K(), K()
				VCMPPS(Imm(0x07), best, best, ok)        // ORD_Q: best is not NaN
				VCMPPS(Imm(0x16), best, cand.v, ok, win) // NLE_UQ: !(cand <= best)
				VMOVAPS(cand.v, win, best)
				VMOVDQA32(cand.k, win, at)
			}
			VMOVUPS(best, Mem{Base: o})
			// Down-convert in a register, then a plain 16-byte store.
			b8 := XMM()
			VPMOVDB(at, b8)
			VMOVDQU(b8, Mem{Base: x})
		})
		VZEROUPPER()
		RET()
	}

	TEXT("maxPoolBack_avx512", NOSPLIT, "func(dx []float32, dy []float32, idx []uint8, rows, h, w int)")
	Doc("maxPoolBack_avx512 is maxPool2x2BackRef for the first rows output rows (counted across planes),",
		"each rounded up to a multiple of 16 outputs, so it writes past each pooled row pair into rows",
		"that later rows (or the caller) overwrite; it leaves a dropped odd last row or column to the",
		"caller. h ≥ 2, w ≥ 2, rows ≥ 1.")
	{
		g := Load(Param("dy").Base(), GP64())
		ix := Load(Param("idx").Base(), GP64())
		out := Load(Param("dx").Base(), GP64())
		rows, h, w := Load(Param("rows"), GP64()), Load(Param("h"), GP64()), Load(Param("w"), GP64())
		vl, vh := ZMM(), ZMM()
		VMOVDQU32(ilo, vl)
		VMOVDQU32(ihi, vh)
		zero, one, two, three := ZMM(), ibcast(1), ibcast(2), ibcast(3)
		VPXORD(zero, zero, zero)
		// Row 2y first, then row 2y+1: row 2y's last chunk runs into row 2y+1, whose own stores must
		// come after it.
		poolRows("maxPoolBack_avx512", 16, g, ix, out, rows, h, w, 2, func(pass int, r0, wb, o, x reg.Register) {
			v, at := ZMM(), ZMM()
			VMOVUPS(Mem{Base: o}, v)
			VPMOVZXBD(Mem{Base: x}, at)
			var parts [2]reg.VecVirtual
			for j, cv := range []reg.VecVirtual{zero, one, two, three}[2*pass : 2*pass+2] {
				k := K()
				VPCMPEQD(cv, at, k)
				parts[j] = ZMM()
				VMOVAPS_Z(v, k, parts[j])
			}
			l, hh := ZMM(), ZMM()
			VMOVAPS(parts[0], l)
			VPERMT2PS(parts[1], vl, l)
			VMOVAPS(parts[0], hh)
			VPERMT2PS(parts[1], vh, hh)
			m0, m1 := Mem{Base: r0}, Mem{Base: r0, Disp: 64}
			if pass == 1 {
				m0, m1 = Mem{Base: r0, Index: wb, Scale: 1}, Mem{Base: r0, Index: wb, Scale: 1, Disp: 64}
			}
			VMOVUPS(l, m0)
			VMOVUPS(hh, m1)
		})
		VZEROUPPER()
		RET()
	}
}
