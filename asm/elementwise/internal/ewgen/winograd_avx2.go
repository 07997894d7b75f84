package ewgen

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The AVX2 Winograd F(2×2, 3×3) transforms (kernels/winograd.go), bit for bit the reference as the
// AVX-512 ones in winograd.go are: the same operations in the same order and operand order, on the 8
// tiles of a tile row at a time (lane tx; tw ≤ 8), every plane of a call in an outer loop. Without
// mask registers the loads and stores that must stay inside the plane, the tile row and the output
// region are VMASKMOVPS (masked-off lanes read as +0, are not written and do not fault), with mask
// vectors the kernel slides out of one prefix table once a call and keeps in its frame: 16 YMM
// registers do not hold them next to the transforms' rows.

// winoTablesAVX2 returns the prefix table (16 all-ones dwords, then 16 zero ones: the 8 dwords at
// byte 4(16−n) have their first n lanes set, and the 16 there the first n of two vectors) and the
// VPERMPS index 1 2 … 7 7 that moves every lane down by one.
func winoTablesAVX2() (prefix, shift Mem) {
	var p, s []uint32
	for i := 0; i < 32; i++ {
		p = append(p, uint32(0xffffffff)*uint32(1-i/16))
	}
	for i := 0; i < 8; i++ {
		s = append(s, uint32(min(i+1, 7)))
	}
	return table("winograd_prefix_avx2", 4, p), table("winograd_shift_avx2", 4, s)
}

// splitRegsAVX2 returns the even and odd lanes of the 16 floats a:b.
func splitRegsAVX2(a, b reg.VecVirtual) (e, o reg.VecVirtual) {
	e, o = YMM(), YMM()
	VSHUFPS(Imm(0x88), b, a, e) // a0 a2 b0 b2 | a4 a6 b4 b6
	VSHUFPS(Imm(0xdd), b, a, o) // a1 a3 b1 b3 | a5 a7 b5 b7
	VPERMPD(Imm(0xd8), e, e)    // a0 a2 a4 a6 b0 b2 b4 b6
	VPERMPD(Imm(0xd8), o, o)
	return e, o
}

// WinogradInAVX2 emits winogradIn_avx2, the scheme of winogradIn_avx512 on 8 tiles: each input row is
// read once, as 16 lanes R[c] = x[row][c−1] in two masked loads, split into its even and odd lanes
// (the column phases d[·][0] = R[2tx] and d[·][1] = R[2tx+1]), whose lanes moved down by one are the
// phases 2 and 3 (R[2tx+2], R[2tx+3]; lane 7 needs R[16], R[17], columns 15 and 16, outside the plane
// for w ≤ 15, so it is zeroed). A tile row's last two input rows are the next one's first two, so
// their t is kept; to keep at most three t rows live, the first three v rows of a tile row are
// stored before its fourth input row is read.
func WinogradInAVX2() {
	prefix, shift := winoTablesAVX2()
	TEXT("winogradIn_avx2", NOSPLIT, "func(v, x []float32, planes, xstride, pstride, vstride, h, w, th, tw int)")
	Doc("winogradIn_avx2 is winogradInRef for planes ≥ 1, xstride ≥ 0, h ≥ 1, 1 ≤ w ≤ 15, th ≥ 1,",
		"1 ≤ tw ≤ 8, where no two of its stores overlap. For every plane p, tile (ty, tx) of the th×tw",
		"grid, in the reference's order of operations:",
		"",
		"	d[r][s] = x[p*xstride + (2ty−1+r)*w + 2tx−1+s] // 0 outside the h×w plane",
		"	t[r] = {d[r][0] − d[r][2], d[r][1] + d[r][2], d[r][2] − d[r][1], d[r][1] − d[r][3]}",
		"	q = p*pstride + ty*tw + tx",
		"	v[(0*4+j)*vstride + q] = t[0][j] − t[2][j]",
		"	v[(1*4+j)*vstride + q] = t[1][j] + t[2][j]",
		"	v[(2*4+j)*vstride + q] = t[2][j] − t[1][j]",
		"	v[(3*4+j)*vstride + q] = t[1][j] − t[3][j]")
	masks := AllocLocal(96) // row lanes 0–7, row lanes 8–15, tiles
	lmask0, lmask1, tmask := masks, masks.Offset(32), masks.Offset(64)
	vs, vs3 := xiStrides("vstride")
	vbase := Load(Param("v").Base(), GP64()) // plane p's v
	xbase := Load(Param("x").Base(), GP64()) // plane p's &x[row 0][−1]: lane c of a row load is column c−1
	SUBQ(Imm(4), xbase)
	np := Load(Param("planes"), GP64()) // planes left
	wb := Load(Param("w"), GP64())
	twb := paramBytes("tw")
	{
		// Lanes 1 ≤ c ≤ w of a row (the prefix of w+1 lanes without lane 0), the first tw of a tile row.
		pt, off := GP64(), GP64()
		LEAQ(prefix, pt)
		MOVQ(U32(15), off)
		SUBQ(wb, off)
		m0, m1, z := YMM(), YMM(), YMM()
		VMOVUPS(Mem{Base: pt, Index: off, Scale: 4}, m0)
		VMOVUPS(Mem{Base: pt, Index: off, Scale: 4, Disp: 32}, m1)
		VXORPS(z, z, z)
		VBLENDPS(Imm(1), z, m0, m0)
		VMOVUPS(m0, lmask0)
		VMOVUPS(m1, lmask1)
		MOVQ(U32(64), off)
		SUBQ(twb, off)
		VMOVUPS(Mem{Base: pt, Index: off, Scale: 1}, m0)
		VMOVUPS(m0, tmask)
	}
	SHLQ(Imm(2), wb)
	ix := YMM()
	VMOVUPS(shift, ix)

	// rowT returns the t row of the input row R = r0:r1 (zeros for a row outside the plane).
	rowT := func(r0, r1 reg.VecVirtual) [4]reg.VecVirtual {
		d0, d1 := splitRegsAVX2(r0, r1)
		d2, d3 := YMM(), YMM()
		VPERMPS(d0, ix, d2)
		VANDPS(prefix.Offset(4*9), d2, d2) // lane 7: column 15
		VPERMPS(d1, ix, d3)
		VANDPS(prefix.Offset(4*9), d3, d3) // lane 7: column 16
		return winoRowT([4]reg.VecVirtual{d0, d1, d2, d3}, YMM)
	}
	// loadRow loads the row at m (and m+32) under the row masks.
	loadRow := func(m Mem) (r0, r1 reg.VecVirtual) {
		r0, r1 = YMM(), YMM()
		k0, k1 := YMM(), YMM()
		VMOVUPS(lmask0, k0)
		VMASKMOVPS(m, k0, r0)
		VMOVUPS(lmask1, k1)
		VMASKMOVPS(m.Offset(32), k1, r1)
		return r0, r1
	}

	Label("winoin2_plane")
	pv := xiPointers(vbase, vs)
	px := GP64()
	MOVQ(xbase, px)
	// t of row −1 (zeros) and of row 0 (always inside: h ≥ 1).
	var t0, t1 [4]reg.VecVirtual
	for j := range t0 {
		t0[j] = YMM()
		VXORPS(t0[j], t0[j], t0[j])
	}
	t1 = rowT(loadRow(Mem{Base: px}))
	ADDQ(wb, px)                     // row 1
	rem := Load(Param("h"), GP64())  // h − 2ty: rows 2ty+1+k exist for rem > k+1
	nty := Load(Param("th"), GP64()) // tile rows left

	// inputRow returns t of row 2ty+1+k, at px + k·wb; it may lie below the plane.
	inputRow := func(k int, lab string) [4]reg.VecVirtual {
		var r0, r1 reg.VecVirtual
		CMPQ(rem, Imm(uint64(k+1)))
		JLE(LabelRef(lab + "_pad"))
		m := Mem{Base: px}
		if k == 1 {
			m = Mem{Base: px, Index: wb, Scale: 1}
		}
		r0, r1 = loadRow(m)
		JMP(LabelRef(lab + "_t"))
		Label(lab + "_pad")
		VXORPS(r0, r0, r0)
		VXORPS(r1, r1, r1)
		Label(lab + "_t")
		return rowT(r0, r1)
	}

	Label("winoin2_tile_row")
	t2 := inputRow(0, "winoin2_a")
	km := YMM()
	VMOVUPS(tmask, km)
	for j := 0; j < 4; j++ {
		a, b, c := YMM(), YMM(), YMM()
		VSUBPS(t2[j], t0[j], a) // t0 − t2
		VMASKMOVPS(a, km, xiMem(pv, vs, vs3, 0, j))
		VADDPS(t2[j], t1[j], b) // t1 + t2
		VMASKMOVPS(b, km, xiMem(pv, vs, vs3, 1, j))
		VSUBPS(t1[j], t2[j], c) // t2 − t1
		VMASKMOVPS(c, km, xiMem(pv, vs, vs3, 2, j))
	}
	t3 := inputRow(1, "winoin2_b")
	VMOVUPS(tmask, km)
	for j := 0; j < 4; j++ {
		d := YMM()
		VSUBPS(t3[j], t1[j], d) // t1 − t3
		VMASKMOVPS(d, km, xiMem(pv, vs, vs3, 3, j))
	}
	for j := 0; j < 4; j++ {
		VMOVAPS(t2[j], t0[j])
		VMOVAPS(t3[j], t1[j])
	}
	for i := range pv {
		ADDQ(twb, pv[i])
	}
	LEAQ(Mem{Base: px, Index: wb, Scale: 2}, px)
	SUBQ(Imm(2), rem)
	DECQ(nty)
	JNZ(LabelRef("winoin2_tile_row"))

	ADDQ(paramBytes("xstride"), xbase)
	ADDQ(paramBytes("pstride"), vbase)
	DECQ(np)
	JNZ(LabelRef("winoin2_plane"))
	VZEROUPPER()
	RET()
}

// WinogradOutAVX2 emits winogradOut_avx2, the scheme of winogradOut_avx512 on 8 tiles: per tile row
// the 16 products of its tiles in 16 masked loads, s and the two output rows' even and odd columns in
// the reference's order and operand order, bias, Go's max with lower (the four operations of
// winogradOut_avx512, VPTERNLOGD's (a | b) ^ sign as VORPS and VXORPS), then the columns interleaved
// with VUNPCKLPS, VUNPCKHPS and VPERM2F128 into two vectors per output row.
func WinogradOutAVX2() {
	prefix, _ := winoTablesAVX2()
	TEXT("winogradOut_avx2", NOSPLIT, "func(y, m []float32, planes, ystride, pstride, mstride, oh, ow, w int, bias, lower float32)")
	Doc("winogradOut_avx2 is winogradOutRef for planes ≥ 1, oh ≥ 1, 1 ≤ ow ≤ 16, where no two of its",
		"stores overlap. For every plane p, tile (ty, tx) of the ⌈oh/2⌉×⌈ow/2⌉ grid (tw = ⌈ow/2⌉), in",
		"the reference's order of operations:",
		"",
		"	mm[i][j] = m[(4i+j)*mstride + p*pstride + ty*tw + tx]",
		"	s[0][j] = mm[0][j] + mm[1][j] + mm[2][j]",
		"	s[1][j] = mm[1][j] − mm[2][j] − mm[3][j]",
		"	o[r] = {s[r][0] + s[r][1] + s[r][2], s[r][1] − s[r][2] − s[r][3]}",
		"	y[p*ystride + (2ty+r)*w + 2tx+c] = max(o[r][c]+bias, lower) // Go's max; where inside oh×ow")
	masks := AllocLocal(96) // tiles, output row lanes 0–7, lanes 8–15
	tmask, smask0, smask1 := masks, masks.Offset(32), masks.Offset(64)
	ms, ms3 := xiStrides("mstride")
	mbase := Load(Param("m").Base(), GP64()) // plane p's m
	ybase := Load(Param("y").Base(), GP64()) // plane p's y
	np := Load(Param("planes"), GP64())      // planes left
	twb := tileRowBytes(Load(Param("ow"), GP64()))
	owb := paramBytes("ow")
	wb := paramBytes("w")
	{
		// The first tw lanes of a tile row, the first ow of an output row.
		pt, off := GP64(), GP64()
		LEAQ(prefix, pt)
		m := YMM()
		MOVQ(U32(64), off)
		SUBQ(twb, off)
		VMOVUPS(Mem{Base: pt, Index: off, Scale: 1}, m)
		VMOVUPS(m, tmask)
		MOVQ(U32(64), off)
		SUBQ(owb, off)
		VMOVUPS(Mem{Base: pt, Index: off, Scale: 1}, m)
		VMOVUPS(m, smask0)
		VMOVUPS(Mem{Base: pt, Index: off, Scale: 1, Disp: 32}, m)
		VMOVUPS(m, smask1)
	}
	bias, lower := YMM(), YMM()
	VBROADCASTSS(Load(Param("bias"), XMM()), bias)
	VBROADCASTSS(Load(Param("lower"), XMM()), lower)
	sign, nlower := ibcastY(0x80000000), YMM()
	VXORPS(sign, lower, nlower)

	Label("winoout2_plane")
	pm := xiPointers(mbase, ms)
	py := GP64()
	MOVQ(ybase, py)
	rem := Load(Param("oh"), GP64()) // oh − 2ty: row 2ty+1 exists for rem > 1

	Label("winoout2_tile_row")
	var s [2][4]reg.VecVirtual
	for j := 0; j < 4; j++ {
		var mm [4]reg.VecVirtual
		km := YMM()
		VMOVUPS(tmask, km)
		for i := range mm {
			mm[i] = YMM()
			VMASKMOVPS(xiMem(pm, ms, ms3, i, j), km, mm[i])
		}
		s[0][j], s[1][j] = winoS(mm, YMM)
	}
	for r := 0; r < 2; r++ {
		out := Mem{Base: py}
		if r == 1 {
			CMPQ(rem, Imm(1))
			JLE(LabelRef("winoout2_next")) // the last tile row of an odd oh has one output row
			out = Mem{Base: py, Index: wb, Scale: 1}
		}
		e, o := winoEO(s[r], YMM)
		for _, v := range []reg.VecVirtual{e, o} {
			winoBiasMax(v, bias, sign, nlower, YMM, func(a, b, v reg.VecVirtual) {
				VORPS(b, a, a)
				VXORPS(sign, a, v)
			})
		}
		lo, hi := YMM(), YMM()
		VUNPCKLPS(o, e, lo) // e0 o0 e1 o1 | e4 o4 e5 o5
		VUNPCKHPS(o, e, hi) // e2 o2 e3 o3 | e6 o6 e7 o7
		r0, r1 := YMM(), YMM()
		VPERM2F128(Imm(0x20), hi, lo, r0) // e0 o0 … e3 o3
		VPERM2F128(Imm(0x31), hi, lo, r1) // e4 o4 … e7 o7
		k0, k1 := YMM(), YMM()
		VMOVUPS(smask0, k0)
		VMASKMOVPS(r0, k0, out)
		VMOVUPS(smask1, k1)
		VMASKMOVPS(r1, k1, out.Offset(32))
	}
	Label("winoout2_next")
	for i := range pm {
		ADDQ(twb, pm[i])
	}
	LEAQ(Mem{Base: py, Index: wb, Scale: 2}, py)
	SUBQ(Imm(2), rem)
	JG(LabelRef("winoout2_tile_row"))

	ADDQ(paramBytes("ystride"), ybase)
	ADDQ(paramBytes("pstride"), mbase)
	DECQ(np)
	JNZ(LabelRef("winoout2_plane"))
	VZEROUPPER()
	RET()
}
