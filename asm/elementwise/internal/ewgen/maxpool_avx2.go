package ewgen

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The AVX2 max-pool kernels. AVX2 has no masked byte store for the indices, so instead of masking
// the last chunk of a row these kernels let every chunk be a full 8 outputs (16 inputs per row) and
// run past the row's end: the extra outputs land on the next output row, which is computed later and
// overwrites them, and the extra inputs read are the next rows'. Only the last output rows of the
// whole call would run past the slices; the Go wrapper gives the kernels rows = all but those and
// finishes them with the reference.

// poolRowsAVX2 emits the loop over rows output rows (crossing planes; an odd last row of a plane is
// skipped), calling body once per 8-output chunk with the input row pointer r0 (row 2y+1 is wb bytes
// further), the output pointer o and the index pointer x of the chunk.
func poolRowsAVX2(name string, out, ix, in, rows, h, w reg.Register, perRow int,
	body func(pass int, r0, wb, o, x reg.Register)) {
	poolRows(name, 8, out, ix, in, rows, h, w, perRow, body)
}

// poolRows is the row loop for chunks of lanes outputs.
func poolRows(name string, lanes int, out, ix, in, rows, h, w reg.Register, perRow int,
	body func(pass int, r0, wb, o, x reg.Register)) {
	wb := GP64()
	MOVQ(w, wb)
	SHLQ(Imm(2), wb)
	extra := GP64()
	MOVQ(h, extra)
	ANDQ(Imm(1), extra)
	IMULQ(wb, extra)
	oh := GP64()
	MOVQ(h, oh)
	SHRQ(Imm(1), oh)
	ow := GP64()
	MOVQ(w, ow)
	SHRQ(Imm(1), ow)
	ny := GP64()
	MOVQ(oh, ny)
	Label(name + "_row")
	for pass := 0; pass < perRow; pass++ {
		xr, xo, xi, nc := GP64(), GP64(), GP64(), GP64()
		MOVQ(in, xr)
		MOVQ(out, xo)
		MOVQ(ix, xi)
		MOVQ(ow, nc)
		lbl := name + "_chunk" + string(rune('0'+pass))
		Label(lbl)
		body(pass, xr, wb, xo, xi)
		ADDQ(U32(uint32(8*lanes)), xr)
		ADDQ(U32(uint32(4*lanes)), xo)
		ADDQ(U32(uint32(lanes)), xi)
		SUBQ(U32(uint32(lanes)), nc)
		JG(LabelRef(lbl))
	}
	LEAQ(Mem{Base: out, Index: ow, Scale: 4}, out)
	ADDQ(ow, ix)
	LEAQ(Mem{Base: in, Index: wb, Scale: 2}, in)
	DECQ(ny)
	JNZ(LabelRef(name + "_same"))
	ADDQ(extra, in)
	MOVQ(oh, ny)
	Label(name + "_same")
	DECQ(rows)
	JNZ(LabelRef(name + "_row"))
}

// splitAVX2 returns the even and odd elements of the 16 floats at m.
func splitAVX2(m0, m1 Mem) (e, o reg.VecVirtual) {
	a, b := YMM(), YMM()
	VMOVUPS(m0, a)
	VMOVUPS(m1, b)
	e, o = YMM(), YMM()
	VSHUFPS(Imm(0x88), b, a, e) // a0 a2 b0 b2 | a4 a6 b4 b6
	VSHUFPS(Imm(0xdd), b, a, o)
	VPERMPD(Imm(0xd8), e, e) // a0 a2 a4 a6 b0 b2 b4 b6
	VPERMPD(Imm(0xd8), o, o)
	return e, o
}

func ibcastY(v uint32) reg.VecVirtual {
	r := GP32()
	MOVL(U32(v), r)
	x := XMM()
	MOVD(r, x)
	y := YMM()
	VPBROADCASTD(x, y)
	return y
}

// MaxPoolAVX2 emits maxPool_avx2 and maxPoolBack_avx2.
func MaxPoolAVX2() {
	TEXT("maxPool_avx2", NOSPLIT, "func(dst []float32, idx []uint8, src []float32, rows, h, w int)")
	Doc("maxPool_avx2 is maxPool2x2Ref for the first rows output rows (counted across planes), each",
		"rounded up to a multiple of 8 outputs: the outputs, indices and inputs past a row's end belong",
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
		one, two, three := ibcastY(1), ibcastY(2), ibcastY(3)
		poolRowsAVX2("maxPool_avx2", out, ix, in, rows, h, w, 1, func(_ int, r0, wb, o, x reg.Register) {
			a, b := splitAVX2(Mem{Base: r0}, Mem{Base: r0, Disp: 32})
			c, d := splitAVX2(Mem{Base: r0, Index: wb, Scale: 1}, Mem{Base: r0, Index: wb, Scale: 1, Disp: 32})
			best, at := a, YMM()
			VPXOR(at, at, at)
			// A candidate wins where best is not NaN and !(cand <= best): cand > best, or cand NaN.
			for _, cand := range []struct{ v, k reg.VecVirtual }{{b, one}, {c, two}, {d, three}} {
				ok, win := YMM(), YMM()
				VCMPPS(Imm(0x07), best, best, ok)    // ORD_Q: best is not NaN
				VCMPPS(Imm(0x16), best, cand.v, win) // NLE_UQ: !(cand <= best)
				VANDPS(ok, win, win)
				VBLENDVPS(win, cand.v, best, best)
				VBLENDVPS(win, cand.k, at, at)
			}
			VMOVUPS(best, Mem{Base: o})
			// Eight int32 indices (0..3) to eight bytes.
			VPACKSSDW(at, at, at) // words: a0..a3 a0..a3 | a4..a7 a4..a7
			VPACKUSWB(at, at, at) // bytes: a0..a3 ×4 | a4..a7 ×4
			hi := XMM()
			VEXTRACTI128(Imm(1), at, hi)
			VPUNPCKLDQ(hi, at.AsX(), hi) // a0..a3 a4..a7 in the low 8 bytes
			VMOVQ(hi, Mem{Base: x})
		})
		VZEROUPPER()
		RET()
	}

	TEXT("maxPoolBack_avx2", NOSPLIT, "func(dx []float32, dy []float32, idx []uint8, rows, h, w int)")
	Doc("maxPoolBack_avx2 is maxPool2x2BackRef for the first rows output rows (counted across planes),",
		"each rounded up to a multiple of 8 outputs, so it writes past each pooled row pair into rows",
		"that later rows (or the caller) overwrite; it leaves a dropped odd last row or column to the",
		"caller. h ≥ 2, w ≥ 2, rows ≥ 1.")
	{
		g := Load(Param("dy").Base(), GP64())
		ix := Load(Param("idx").Base(), GP64())
		out := Load(Param("dx").Base(), GP64())
		rows, h, w := Load(Param("rows"), GP64()), Load(Param("h"), GP64()), Load(Param("w"), GP64())
		one, two, three := ibcastY(1), ibcastY(2), ibcastY(3)
		zero := YMM()
		VPXOR(zero, zero, zero)
		// Row 2y first, then row 2y+1: row 2y's last chunk runs into row 2y+1, whose own stores must
		// come after it.
		poolRowsAVX2("maxPoolBack_avx2", g, ix, out, rows, h, w, 2, func(pass int, r0, wb, o, x reg.Register) {
			v, at := YMM(), YMM()
			VMOVUPS(Mem{Base: o}, v)
			VPMOVZXBD(Mem{Base: x}, at)
			var e, od reg.VecVirtual
			for j, cv := range []reg.VecVirtual{zero, one, two, three}[2*pass : 2*pass+2] {
				m := YMM()
				VPCMPEQD(cv, at, m)
				VANDPS(v, m, m)
				if j == 0 {
					e = m
				} else {
					od = m
				}
			}
			lo, hi := YMM(), YMM()
			VUNPCKLPS(od, e, lo) // e0 o0 e1 o1 | e4 o4 e5 o5
			VUNPCKHPS(od, e, hi) // e2 o2 e3 o3 | e6 o6 e7 o7
			r0v, r1v := YMM(), YMM()
			VPERM2F128(Imm(0x20), hi, lo, r0v)
			VPERM2F128(Imm(0x31), hi, lo, r1v)
			m0, m1 := Mem{Base: r0}, Mem{Base: r0, Disp: 32}
			if pass == 1 {
				m0, m1 = Mem{Base: r0, Index: wb, Scale: 1}, Mem{Base: r0, Index: wb, Scale: 1, Disp: 32}
			}
			VMOVUPS(r0v, m0)
			VMOVUPS(r1v, m1)
		})
		VZEROUPPER()
		RET()
	}
}
