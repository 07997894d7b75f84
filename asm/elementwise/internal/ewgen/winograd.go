package ewgen

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/simdnn/simdnn/asm/internal/gen"
)

// The AVX-512 Winograd F(2×2, 3×3) transforms (kernels/winograd.go), bit for bit the reference: the
// same additions and subtractions in the same order, on 16 tiles of a tile row at a time (lane tx;
// tw ≤ 16), every plane of a call in an outer loop around the tile rows (the masks, tables and
// strides are set up once a call). Masked loads and stores keep every access inside the planes, the
// tile rows and the output regions, so the Go wrapper's reslicing bounds them.

// winoTables returns the permutation tables: in[j] (j = 0…3, 64 bytes apart) picks R[2tx+j] out of a
// 32-float row R, lo and hi interleave two vectors e, o into e0 o0 e1 o1 … (lanes 0…15 and 16…31).
func winoTables() (in, lo, hi Mem) {
	var t, l, h []uint32
	for j := 0; j < 4; j++ {
		for i := 0; i < 16; i++ {
			t = append(t, uint32(2*i+j)&31)
		}
	}
	for i := 0; i < 16; i++ {
		l = append(l, uint32(i/2+16*(i%2)))
		h = append(h, uint32(8+i/2+16*(i%2)))
	}
	return table("winograd_in_idx", 4, t), table("winograd_lo", 4, l), table("winograd_hi", 4, h)
}

// xiMem returns, for ξ = 4i+j, the address in block ξ from the pointers p[i] into blocks 4i and the
// block stride in bytes s and 3s.
func xiMem(p [4]reg.Register, s, s3 reg.Register, i, j int) Mem {
	switch j {
	case 0:
		return Mem{Base: p[i]}
	case 1:
		return Mem{Base: p[i], Index: s, Scale: 1}
	case 2:
		return Mem{Base: p[i], Index: s, Scale: 2}
	}
	return Mem{Base: p[i], Index: s3, Scale: 1}
}

// xiStrides loads the stride param of the 16 blocks ξ (in floats) and returns it in bytes, s and 3s.
func xiStrides(stride string) (s, s3 reg.Register) {
	s = paramBytes(stride)
	s3 = GP64()
	LEAQ(Mem{Base: s, Index: s, Scale: 2}, s3)
	return s, s3
}

// xiPointers returns the pointers to blocks 0, 4, 8, 12 from base, the pointer to block 0, and the
// block stride in bytes s.
func xiPointers(base, s reg.Register) (p [4]reg.Register) {
	p[0] = GP64()
	MOVQ(base, p[0])
	for i := 1; i < 4; i++ {
		p[i] = GP64()
		LEAQ(Mem{Base: p[i-1], Index: s, Scale: 4}, p[i])
	}
	return p
}

// paramBytes loads the int param name, a count of floats, and returns it in bytes.
func paramBytes(name string) reg.Register {
	r := Load(Param(name), GP64())
	SHLQ(Imm(2), r)
	return r
}

// tileRowBytes returns 4·⌈ow/2⌉, the bytes of one tile row of an output region ow wide.
func tileRowBytes(ow reg.Register) reg.Register {
	t := GP64()
	LEAQ(Mem{Base: ow, Disp: 1}, t)
	SHRQ(Imm(1), t)
	SHLQ(Imm(2), t)
	return t
}

// WinogradIn emits winogradIn_avx512. Each input row is read once, as 32 lanes R[c] = x[row][c−1] with
// two masked loads, split into the four column phases d[·][j] = R[2tx+j] with VPERMI2PS, and turned
// into its row of t; a tile row's last two input rows are the next one's first two, so their t is
// kept.
func WinogradIn(isa gen.ISA) {
	if isa.Lanes != 16 {
		WinogradInAVX2()
		return
	}
	idx, _, _ := winoTables()
	TEXT("winogradIn_avx512", NOSPLIT, "func(v, x []float32, planes, xstride, pstride, vstride, h, w, th, tw int, lmask, tmask uint32)")
	Doc("winogradIn_avx512 is winogradInRef for planes ≥ 1, xstride ≥ 0, h ≥ 1, 1 ≤ w ≤ 31, th ≥ 1,",
		"1 ≤ tw ≤ 16, with lmask = (1<<w − 1) << 1 (the lanes c of a row with 0 ≤ c−1 < w) and",
		"tmask = 1<<tw − 1, where no two of its stores overlap. For every plane p, tile (ty, tx) of the",
		"th×tw grid, in the reference's order of operations:",
		"",
		"	d[r][s] = x[p*xstride + (2ty−1+r)*w + 2tx−1+s] // 0 outside the h×w plane",
		"	t[r] = {d[r][0] − d[r][2], d[r][1] + d[r][2], d[r][2] − d[r][1], d[r][1] − d[r][3]}",
		"	q = p*pstride + ty*tw + tx",
		"	v[(0*4+j)*vstride + q] = t[0][j] − t[2][j]",
		"	v[(1*4+j)*vstride + q] = t[1][j] + t[2][j]",
		"	v[(2*4+j)*vstride + q] = t[2][j] − t[1][j]",
		"	v[(3*4+j)*vstride + q] = t[1][j] − t[3][j]")
	vs, vs3 := xiStrides("vstride")
	vbase := Load(Param("v").Base(), GP64()) // plane p's v
	xbase := Load(Param("x").Base(), GP64()) // plane p's &x[row 0][−1]: lane c of a row load is column c−1
	SUBQ(Imm(4), xbase)
	np := Load(Param("planes"), GP64()) // planes left
	wb := paramBytes("w")
	twb := paramBytes("tw")
	lm := Load(Param("lmask"), GP32())
	tm := Load(Param("tmask"), GP32())
	kl0, kl1, kt, k15 := K(), K(), K(), K()
	KMOVW(lm, kl0)
	SHRL(Imm(16), lm)
	KMOVW(lm, kl1)
	KMOVW(tm, kt)
	// Lane 15 of phases 2 and 3 would need R[32], R[33] (columns 31, 32): outside the plane for
	// w ≤ 31, and the 5-bit indices wrap, so those lanes are zeroed.
	MOVL(U32(0x7fff), tm)
	KMOVW(tm, k15)
	var ix [4]reg.VecVirtual
	for j := range ix {
		ix[j] = ZMM()
		VMOVUPS(idx.Offset(64*j), ix[j])
	}

	// rowT returns the t row of the input row R = r0:r1 (zeros for a row outside the plane).
	rowT := func(r0, r1 reg.VecVirtual) [4]reg.VecVirtual {
		var d [4]reg.VecVirtual
		for j := range d {
			d[j] = ZMM()
			VMOVAPS(ix[j], d[j])
			if j < 2 {
				VPERMI2PS(r1, r0, d[j])
			} else {
				VPERMI2PS_Z(r1, r0, k15, d[j])
			}
		}
		return winoRowT(d, ZMM)
	}
	load := func(m0, m1 Mem) (r0, r1 reg.VecVirtual) {
		r0, r1 = ZMM(), ZMM()
		VMOVUPS_Z(m0, kl0, r0)
		VMOVUPS_Z(m1, kl1, r1)
		return r0, r1
	}

	Label("winoin_plane")
	pv := xiPointers(vbase, vs)
	px := GP64()
	MOVQ(xbase, px)
	// t of row −1 (zeros) and of row 0 (always inside: h ≥ 1).
	var t0, t1 [4]reg.VecVirtual
	for j := range t0 {
		t0[j] = ZMM()
		VXORPS(t0[j], t0[j], t0[j])
	}
	t1 = rowT(load(Mem{Base: px}, Mem{Base: px, Disp: 64}))
	ADDQ(wb, px)                     // row 1
	rem := Load(Param("h"), GP64())  // h − 2ty: rows 2ty+1+k exist for rem > k+1
	nty := Load(Param("th"), GP64()) // tile rows left

	Label("winoin_tile_row")
	// Rows 2ty+1 (at px) and 2ty+2 (at px+wb); either may lie below the plane.
	var t2, t3 [4]reg.VecVirtual
	for k, lab := range []string{"winoin_a", "winoin_b"} {
		r0, r1 := ZMM(), ZMM()
		CMPQ(rem, Imm(uint64(k+1)))
		JLE(LabelRef(lab + "_pad"))
		m0, m1 := Mem{Base: px}, Mem{Base: px, Disp: 64}
		if k == 1 {
			m0, m1 = Mem{Base: px, Index: wb, Scale: 1}, Mem{Base: px, Index: wb, Scale: 1, Disp: 64}
		}
		VMOVUPS_Z(m0, kl0, r0)
		VMOVUPS_Z(m1, kl1, r1)
		JMP(LabelRef(lab + "_t"))
		Label(lab + "_pad")
		VXORPS(r0, r0, r0)
		VXORPS(r1, r1, r1)
		Label(lab + "_t")
		if k == 0 {
			t2 = rowT(r0, r1)
		} else {
			t3 = rowT(r0, r1)
		}
	}
	for j := 0; j < 4; j++ {
		a, b, c, d := ZMM(), ZMM(), ZMM(), ZMM()
		VSUBPS(t2[j], t0[j], a) // t0 − t2
		VMOVUPS(a, kt, xiMem(pv, vs, vs3, 0, j))
		VADDPS(t2[j], t1[j], b) // t1 + t2
		VMOVUPS(b, kt, xiMem(pv, vs, vs3, 1, j))
		VSUBPS(t1[j], t2[j], c) // t2 − t1
		VMOVUPS(c, kt, xiMem(pv, vs, vs3, 2, j))
		VSUBPS(t3[j], t1[j], d) // t1 − t3
		VMOVUPS(d, kt, xiMem(pv, vs, vs3, 3, j))
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
	JNZ(LabelRef("winoin_tile_row"))

	ADDQ(paramBytes("xstride"), xbase)
	ADDQ(paramBytes("pstride"), vbase)
	DECQ(np)
	JNZ(LabelRef("winoin_plane"))
	VZEROUPPER()
	RET()
}

// WinogradOut emits winogradOut_avx512: per tile row, the 16 products of its tiles in 16 masked
// loads, s and the two output rows' even and odd columns in the reference's order, bias, Go's max
// with lower, then the columns interleaved with VPERMI2PS into two vectors per output row.
//
// Bit for bit includes NaNs. Go's max(x, lower) on amd64 is −(a | b) with a = MINSS(−x, −lower) and
// b = MINSS(a, −x) (the compiler's lowering of Max32F): it returns a NaN x, but with lower = +0 clears
// its sign (the default NaN of Inf − Inf is negative), and takes +0 over −0. VMAXPS returns its second
// source for a NaN and for two zeros, so it gets the zeros or the NaN wrong whatever the operand
// order; VRANGEPS returns the number against a quiet NaN. So the same four operations run here. And
// where two different NaNs meet in an addition, the result is the first source's, so the additions
// take their operands in the order of the compiled reference (Go 1.26), which swaps two of them.
func WinogradOut(isa gen.ISA) {
	if isa.Lanes != 16 {
		WinogradOutAVX2()
		return
	}
	_, ilo, ihi := winoTables()
	TEXT("winogradOut_avx512", NOSPLIT, "func(y, m []float32, planes, ystride, pstride, mstride, oh, ow, w int, bias, lower float32, tmask, smask uint32)")
	Doc("winogradOut_avx512 is winogradOutRef for planes ≥ 1, oh ≥ 1, 1 ≤ ow ≤ 32, with",
		"tmask = 1<<⌈ow/2⌉ − 1 and smask = 1<<ow − 1, where no two of its stores overlap. For every",
		"plane p, tile (ty, tx) of the ⌈oh/2⌉×⌈ow/2⌉ grid (tw = ⌈ow/2⌉), in the reference's order of",
		"operations:",
		"",
		"	mm[i][j] = m[(4i+j)*mstride + p*pstride + ty*tw + tx]",
		"	s[0][j] = mm[0][j] + mm[1][j] + mm[2][j]",
		"	s[1][j] = mm[1][j] − mm[2][j] − mm[3][j]",
		"	o[r] = {s[r][0] + s[r][1] + s[r][2], s[r][1] − s[r][2] − s[r][3]}",
		"	y[p*ystride + (2ty+r)*w + 2tx+c] = max(o[r][c]+bias, lower) // Go's max; where inside oh×ow")
	ms, ms3 := xiStrides("mstride")
	mbase := Load(Param("m").Base(), GP64()) // plane p's m
	ybase := Load(Param("y").Base(), GP64()) // plane p's y
	np := Load(Param("planes"), GP64())      // planes left
	twb := tileRowBytes(Load(Param("ow"), GP64()))
	wb := paramBytes("w")
	bias, lower := ZMM(), ZMM()
	VBROADCASTSS(Load(Param("bias"), XMM()), bias)
	VBROADCASTSS(Load(Param("lower"), XMM()), lower)
	sign, nlower := ibcast(0x80000000), ZMM()
	VXORPS(sign, lower, nlower)
	tm := Load(Param("tmask"), GP32())
	sm := Load(Param("smask"), GP32())
	kt, ks0, ks1 := K(), K(), K()
	KMOVW(tm, kt)
	KMOVW(sm, ks0)
	SHRL(Imm(16), sm)
	KMOVW(sm, ks1)
	vlo, vhi := ZMM(), ZMM()
	VMOVUPS(ilo, vlo)
	VMOVUPS(ihi, vhi)

	Label("winoout_plane")
	pm := xiPointers(mbase, ms)
	py := GP64()
	MOVQ(ybase, py)
	rem := Load(Param("oh"), GP64()) // oh − 2ty: row 2ty+1 exists for rem > 1

	Label("winoout_tile_row")
	var s [2][4]reg.VecVirtual
	for j := 0; j < 4; j++ {
		var mm [4]reg.VecVirtual
		for i := range mm {
			mm[i] = ZMM()
			VMOVUPS_Z(xiMem(pm, ms, ms3, i, j), kt, mm[i])
		}
		s[0][j], s[1][j] = winoS(mm, ZMM)
	}
	for r := 0; r < 2; r++ {
		out := Mem{Base: py}
		if r == 1 {
			CMPQ(rem, Imm(1))
			JLE(LabelRef("winoout_next")) // the last tile row of an odd oh has one output row
			out = Mem{Base: py, Index: wb, Scale: 1}
		}
		e, o := winoEO(s[r], ZMM)
		for _, v := range []reg.VecVirtual{e, o} {
			winoBiasMax(v, bias, sign, nlower, ZMM, func(a, b, v reg.VecVirtual) {
				VPTERNLOGD(Imm(0x56), sign, b, a) // (a | b) ^ sign
				VMOVAPS(a, v)
			})
		}
		lo, hi := ZMM(), ZMM()
		VMOVAPS(vlo, lo)
		VPERMI2PS(o, e, lo)
		VMOVAPS(vhi, hi)
		VPERMI2PS(o, e, hi)
		VMOVUPS(lo, ks0, out)
		VMOVUPS(hi, ks1, out.Offset(64))
	}
	Label("winoout_next")
	for i := range pm {
		ADDQ(twb, pm[i])
	}
	LEAQ(Mem{Base: py, Index: wb, Scale: 2}, py)
	SUBQ(Imm(2), rem)
	JG(LabelRef("winoout_tile_row"))

	ADDQ(paramBytes("ystride"), ybase)
	ADDQ(paramBytes("pstride"), mbase)
	DECQ(np)
	JNZ(LabelRef("winoout_plane"))
	VZEROUPPER()
	RET()
}

// The transforms' arithmetic, shared by the AVX-512 and AVX2 generators (avo's instructions take
// either width); vec makes a vector register of the ISA's width. The operand order is the compiled
// reference's (see WinogradOut for why it matters for NaNs).

// winoRowT emits the input transform's step within a row: t = {d0 − d2, d1 + d2, d2 − d1, d1 − d3}.
func winoRowT(d [4]reg.VecVirtual, vec func() reg.VecVirtual) [4]reg.VecVirtual {
	var t [4]reg.VecVirtual
	for j := range t {
		t[j] = vec()
	}
	VSUBPS(d[2], d[0], t[0]) // d0 − d2
	VADDPS(d[2], d[1], t[1]) // d1 + d2
	VSUBPS(d[1], d[2], t[2]) // d2 − d1
	VSUBPS(d[3], d[1], t[3]) // d1 − d3
	return t
}

// winoS emits the output transform's step over the rows of one column: s0 = m0 + m1 + m2,
// s1 = m1 − m2 − m3.
func winoS(mm [4]reg.VecVirtual, vec func() reg.VecVirtual) (s0, s1 reg.VecVirtual) {
	s0, s1 = vec(), vec()
	VADDPS(mm[0], mm[1], s0) // m0 + m1, m1 the first source as in the compiled reference
	VADDPS(mm[2], s0, s0)    // + m2
	VSUBPS(mm[2], mm[1], s1) // m1 − m2
	VSUBPS(mm[3], s1, s1)    // − m3
	return s0, s1
}

// winoEO emits the output transform's step within a row, its even and odd output columns:
// e = s0 + s1 + s2, o = s1 − s2 − s3.
func winoEO(s [4]reg.VecVirtual, vec func() reg.VecVirtual) (e, o reg.VecVirtual) {
	e, o = vec(), vec()
	VADDPS(s[0], s[1], e) // s0 + s1, s1 the first source as in the compiled reference
	VADDPS(s[2], e, e)    // + s2
	VSUBPS(s[2], s[1], o) // s1 − s2
	VSUBPS(s[3], o, o)    // − s3
	return e, o
}

// winoBiasMax emits v = max(v + bias, lower) as Go lowers max on amd64: −(a | b) with
// a = MIN(−x, −lower), b = MIN(a, −x); orXor(a, b, v) must set v = (a | b) ^ sign.
func winoBiasMax(v, bias, sign, nlower reg.VecVirtual, vec func() reg.VecVirtual, orXor func(a, b, v reg.VecVirtual)) {
	VADDPS(bias, v, v) // x = o + bias
	nx, a, b := vec(), vec(), vec()
	VXORPS(sign, v, nx)
	VMINPS(nlower, nx, a)
	VMINPS(nx, a, b)
	orXor(a, b, v)
}
