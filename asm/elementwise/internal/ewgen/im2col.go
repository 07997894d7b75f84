package ewgen

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"

	"github.com/simdnn/simdnn/asm/internal/gen"
)

// Im2colTap emits im2colTap_avx512, one tap (kh, kw) of a 3×3 im2col for images up to 32 wide. Each
// output row is one or two masked 16-lane moves: the load mask zeroes the column that falls in the
// padding (and never touches the float before or after the row that it would address), the store
// mask stops at the row's end. (Whole-vector stores that spill into the next row, masked only at
// the end, measured slower.) The generic loop spends a memmove call and a scalar fix-up per row
// instead, which made im2col about a fifth of a convolution's time (BenchmarkConv3x3, profile).
// Masked-off lanes do not fault, so reading in at (kw−1) floats before a row is safe at the very
// start of the slice.
func Im2colTap(isa gen.ISA) {
	if isa.Lanes != 16 {
		return
	}
	TEXT("im2colTap_avx512", NOSPLIT, "func(out, in []float32, nimg, h, w, istride, kh, kw int, lmask, smask uint32)")
	Doc("im2colTap_avx512 writes one (kh, kw) tap of a 3×3, stride-1, padding-1 im2col for nimg images",
		"of h×w (w ≤ 32), input images istride floats apart, output planes contiguous. lmask has bit x",
		"set where input column x+kw−1 lies inside the image, smask is (1<<w)−1:",
		"",
		"	for img, y, x := range nimg, h, w {",
		"		v := float32(0)",
		"		if sy := y + kh - 1; 0 <= sy && sy < h && lmask>>x&1 != 0 {",
		"			v = in[img*istride+sy*w+x+kw-1]",
		"		}",
		"		out[(img*h+y)*w+x] = v",
		"	}")
	po := Load(Param("out").Base(), GP64())
	pi := Load(Param("in").Base(), GP64())
	nimg := Load(Param("nimg"), GP64())
	h := Load(Param("h"), GP64())
	wb := Load(Param("w"), GP64())
	SHLQ(Imm(2), wb) // bytes per row
	is := Load(Param("istride"), GP64())
	SHLQ(Imm(2), is)
	kh := Load(Param("kh"), GP64())
	kw := Load(Param("kw"), GP64())
	LEAQ(Mem{Base: pi, Index: kw, Scale: 4, Disp: -4}, pi) // in + kw − 1: the row's first source float
	lm := Load(Param("lmask"), GP32())
	sm := Load(Param("smask"), GP32())
	l0, l1, s0, s1 := K(), K(), K(), K()
	KMOVW(lm, l0)
	KMOVW(sm, s0)
	SHRL(Imm(16), lm)
	SHRL(Imm(16), sm)
	KMOVW(lm, l1)
	KMOVW(sm, s1)
	wide := GP64()        // nonzero: rows span two vectors
	MOVL(sm, wide.As32()) // smask >> 16
	zero := ZMM()
	VXORPS(zero, zero, zero)
	TESTQ(nimg, nimg)
	JZ(LabelRef("im2col_done"))

	Label("im2col_img")
	y := GP64()
	XORQ(y, y)
	Label("im2col_row")
	sy := GP64()
	LEAQ(Mem{Base: y, Index: kh, Scale: 1, Disp: -1}, sy)
	CMPQ(sy, h)
	JAE(LabelRef("im2col_pad")) // unsigned: sy < 0 too
	src := GP64()
	MOVQ(sy, src)
	IMULQ(wb, src)
	ADDQ(pi, src)
	v0 := ZMM()
	VMOVUPS_Z(Mem{Base: src}, l0, v0)
	VMOVUPS(v0, s0, Mem{Base: po})
	TESTQ(wide, wide)
	JZ(LabelRef("im2col_next"))
	v1 := ZMM()
	VMOVUPS_Z(Mem{Base: src, Disp: 64}, l1, v1)
	VMOVUPS(v1, s1, Mem{Base: po, Disp: 64})
	JMP(LabelRef("im2col_next"))

	Label("im2col_pad") // a row above or below the image
	VMOVUPS(zero, s0, Mem{Base: po})
	TESTQ(wide, wide)
	JZ(LabelRef("im2col_next"))
	VMOVUPS(zero, s1, Mem{Base: po, Disp: 64})

	Label("im2col_next")
	ADDQ(wb, po)
	INCQ(y)
	CMPQ(y, h)
	JB(LabelRef("im2col_row"))
	ADDQ(is, pi)
	DECQ(nimg)
	JNZ(LabelRef("im2col_img"))
	Label("im2col_done")
	VZEROUPPER()
	RET()
}
