package ewgen

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/simdnn/simdnn/asm/internal/gen"
)

// The AVX-512 max-pool kernels. Each output row of ow = w/2 values is done in chunks of 16 outputs:
// two rows of 32 inputs are loaded (zero-masked for the last, partial chunk, whose masks are the same
// for every row and so computed once), split into even and odd columns with VPERMT2PS, and reduced
// with opmask compares that reproduce the reference's rule exactly: a candidate wins when it is
// greater, or when it is NaN and the best so far is not. The CNN's rows are 14, 7 and 3 outputs
// wide, so everything happens in the masked chunk. AVX2: see maxpool_avx2.go.

type poolConsts struct {
	even, odd, lo, hi reg.VecVirtual // VPERMT2PS index vectors
	masks             Mem            // maskTab: (1<<i)−1 for i ≤ 16, as uint16
}

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

// poolLoop emits the plane/row/chunk loops shared by the forward and backward kernels. For each chunk
// body gets the input pointer of row 2y (row 2y+1 is wb bytes further), the float32 output pointer,
// the index pointer, and whether the chunk is the masked last one.
func poolLoop(name string, out, ix, in reg.Register, planes, h, w reg.Register,
	body func(r0, wb, o, x reg.Register, kLo, kHi, kOut reg.Register, masked bool)) {
	wb := GP64()
	MOVQ(w, wb)
	SHLQ(Imm(2), wb)
	extra := GP64() // bytes to skip after a plane's pooled rows: its odd last row, if any
	MOVQ(h, extra)
	ANDQ(Imm(1), extra)
	IMULQ(wb, extra)
	ny0 := GP64()
	MOVQ(h, ny0)
	SHRQ(Imm(1), ny0)
	ow := GP64()
	MOVQ(w, ow)
	SHRQ(Imm(1), ow)

	// Masks of the last chunk: t = ow mod 16 outputs from 2t inputs.
	_, _, _, _, masks := poolTablesFor()
	tab := GP64()
	LEAQ(masks, tab)
	t := GP64()
	MOVQ(ow, t)
	ANDQ(Imm(15), t)
	kOut, kLo, kHi := K(), K(), K()
	KMOVW(Mem{Base: tab, Index: t, Scale: 2}, kOut)
	t2 := GP64()
	LEAQ(Mem{Base: t, Index: t, Scale: 1}, t2) // 2t
	c16 := GP64()
	MOVQ(U32(16), c16)
	lo := GP64()
	MOVQ(t2, lo)
	CMPQ(lo, c16)
	CMOVQGT(c16, lo) // min(2t, 16)
	KMOVW(Mem{Base: tab, Index: lo, Scale: 2}, kLo)
	hi := GP64()
	XORQ(hi, hi)
	SUBQ(c16, t2)
	CMOVQGT(t2, hi) // max(2t−16, 0)
	KMOVW(Mem{Base: tab, Index: hi, Scale: 2}, kHi)

	r0 := GP64() // input row 2y of the current plane
	MOVQ(in, r0)
	np := GP64()
	MOVQ(planes, np)

	Label(name + "_plane")
	ny := GP64()
	MOVQ(ny0, ny)
	Label(name + "_row")
	xr := GP64()
	MOVQ(r0, xr)
	nc := GP64()
	MOVQ(ow, nc)
	SHRQ(Imm(4), nc)
	Label(name + "_chunk")
	TESTQ(nc, nc)
	JZ(LabelRef(name + "_tail"))
	body(xr, wb, out, ix, kLo, kHi, kOut, false)
	ADDQ(Imm(128), xr)
	ADDQ(Imm(64), out)
	ADDQ(Imm(16), ix)
	DECQ(nc)
	JMP(LabelRef(name + "_chunk"))
	Label(name + "_tail")
	TESTQ(t, t)
	JZ(LabelRef(name + "_next"))
	body(xr, wb, out, ix, kLo, kHi, kOut, true)
	LEAQ(Mem{Base: out, Index: t, Scale: 4}, out)
	ADDQ(t, ix)
	Label(name + "_next")
	LEAQ(Mem{Base: r0, Index: wb, Scale: 2}, r0)
	DECQ(ny)
	JNZ(LabelRef(name + "_row"))
	ADDQ(extra, r0)
	DECQ(np)
	JNZ(LabelRef(name + "_plane"))
}

func loadVec(m Mem, k reg.Register, masked bool) reg.VecVirtual {
	v := ZMM()
	if masked {
		VMOVUPS_Z(m, k, v)
	} else {
		VMOVUPS(m, v)
	}
	return v
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

	TEXT("maxPool_avx512", NOSPLIT, "func(dst []float32, idx []uint8, src []float32, planes, h, w int)")
	Doc("maxPool_avx512 is maxPool2x2Ref (planes ≥ 1, h ≥ 2, w ≥ 2): for every 2×2 window,",
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
		planes, h, w := Load(Param("planes"), GP64()), Load(Param("h"), GP64()), Load(Param("w"), GP64())
		ve, vo := ZMM(), ZMM()
		VMOVDQU32(even, ve)
		VMOVDQU32(odd, vo)
		one, two, three := ibcast(1), ibcast(2), ibcast(3)
		split := func(x0, x1 reg.VecVirtual) (e, o reg.VecVirtual) {
			e, o = ZMM(), ZMM()
			VMOVAPS(x0, e)
			VPERMT2PS(x1, ve, e)
			VMOVAPS(x0, o)
			VPERMT2PS(x1, vo, o)
			return e, o
		}
		poolLoop("maxPool_avx512", out, ix, in, planes, h, w, func(r0, wb, o, x, kLo, kHi, kOut reg.Register, masked bool) {
			a, b := split(loadVec(Mem{Base: r0}, kLo, masked), loadVec(Mem{Base: r0, Disp: 64}, kHi, masked))
			c, d := split(loadVec(Mem{Base: r0, Index: wb, Scale: 1}, kLo, masked),
				loadVec(Mem{Base: r0, Index: wb, Scale: 1, Disp: 64}, kHi, masked))
			best, at := a, ZMM()
			VPXORD(at, at, at)
			for _, cand := range []struct{ v, k reg.VecVirtual }{{b, one}, {c, two}, {d, three}} {
				gt, nan, ok := K(), K(), K()
				VCMPPS(Imm(0x1e), best, cand.v, gt)    // cand > best (ordered)
				VCMPPS(Imm(0x03), cand.v, cand.v, nan) // cand is NaN
				VCMPPS(Imm(0x07), best, best, ok)      // best is not NaN
				KANDW(nan, ok, nan)
				KORW(gt, nan, gt)
				VMOVAPS(cand.v, gt, best)
				VMOVDQA32(cand.k, gt, at)
			}
			if masked {
				VMOVUPS(best, kOut, Mem{Base: o})
				VPMOVDB(at, kOut, Mem{Base: x})
			} else {
				VMOVUPS(best, Mem{Base: o})
				VPMOVDB(at, Mem{Base: x})
			}
		})
		VZEROUPPER()
		RET()
	}

	TEXT("maxPoolBack_avx512", NOSPLIT, "func(dx []float32, dy []float32, idx []uint8, planes, h, w int)")
	Doc("maxPoolBack_avx512 is maxPool2x2BackRef without the zeroing of a dropped odd last row or",
		"column (planes ≥ 1, h ≥ 2, w ≥ 2): it writes every element of the pooled rows, dy where idx",
		"points and 0 elsewhere.")
	{
		g := Load(Param("dy").Base(), GP64())
		ix := Load(Param("idx").Base(), GP64())
		out := Load(Param("dx").Base(), GP64())
		planes, h, w := Load(Param("planes"), GP64()), Load(Param("h"), GP64()), Load(Param("w"), GP64())
		vl, vh := ZMM(), ZMM()
		VMOVDQU32(ilo, vl)
		VMOVDQU32(ihi, vh)
		zero, one, two, three := ZMM(), ibcast(1), ibcast(2), ibcast(3)
		VPXORD(zero, zero, zero)
		// poolLoop's "in" walks the rows of dx (the pooled-from planes), its "out" walks dy.
		poolLoop("maxPoolBack_avx512", g, ix, out, planes, h, w, func(r0, wb, o, x, kLo, kHi, kOut reg.Register, masked bool) {
			v, at := ZMM(), ZMM()
			if masked {
				VMOVUPS_Z(Mem{Base: o}, kOut, v)
				VPMOVZXBD_Z(Mem{Base: x}, kOut, at)
			} else {
				VMOVUPS(Mem{Base: o}, v)
				VPMOVZXBD(Mem{Base: x}, at)
			}
			var parts [4]reg.VecVirtual
			for j, cv := range []reg.VecVirtual{zero, one, two, three} {
				k := K()
				VPCMPEQD(cv, at, k)
				parts[j] = ZMM()
				VMOVAPS_Z(v, k, parts[j])
			}
			for row, pair := range [2][2]reg.VecVirtual{{parts[0], parts[1]}, {parts[2], parts[3]}} {
				l, hh := ZMM(), ZMM()
				VMOVAPS(pair[0], l)
				VPERMT2PS(pair[1], vl, l)
				VMOVAPS(pair[0], hh)
				VPERMT2PS(pair[1], vh, hh)
				m0, m1 := Mem{Base: r0}, Mem{Base: r0, Disp: 64}
				if row == 1 {
					m0, m1 = Mem{Base: r0, Index: wb, Scale: 1}, Mem{Base: r0, Index: wb, Scale: 1, Disp: 64}
				}
				if masked {
					VMOVUPS(l, kLo, m0)
					VMOVUPS(hh, kHi, m1)
				} else {
					VMOVUPS(l, m0)
					VMOVUPS(hh, m1)
				}
			}
		})
		VZEROUPPER()
		RET()
	}
}
