package ewgen

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/simdnn/simdnn/asm/internal/gen"
)

// Conv1 emits conv3x3In1_avx512, the direct 3×3 convolution of a single input channel (the CNN's
// first layer, where im2col + GEMM has K = 9 and mostly moves memory). For 8 output channels at a
// time it walks the plane in chunks of 16 output columns: the 9 shifted input vectors are loaded once
// (from L1: the padded plane is small) and feed 8 independent chains of 9 FMAs with the weights
// broadcast from memory, which hides the FMA latency. Eight channels at a time, not all, because the
// channels are m floats apart in dst: with m·4 a multiple of 4 KiB (batch 128 of 28×28) every channel
// maps to the same L1 set, and 32 streams thrash its 12 ways where 8 do not.
func Conv1(isa gen.ISA) {
	if isa.Lanes != 16 {
		return
	}
	_, _, _, _, masks := poolTablesFor()
	TEXT("conv3x3In1_avx512", NOSPLIT, "func(dst, pad, weight, bias []float32, cout, h, w, m int, lo float32)")
	Doc("conv3x3In1_avx512 convolves one zero-padded (h+2)×(w+2) plane pad with cout 3×3 filters",
		"(cout a multiple of 8), the output channels m floats apart in dst:",
		"",
		"	for co, y, x := range cout, h, w {",
		"		s := bias[co]",
		"		for kh, kw := range 3, 3 {",
		"			s += weight[co*9+kh*3+kw] * pad[(y+kh)*(w+2)+x+kw] // FMA, in this order",
		"		}",
		"		dst[co*m+y*w+x] = max(lo, s) // lo = 0 for ReLU, -Inf for none; NaN is kept",
		"	}")
	pd := Load(Param("dst").Base(), GP64()) // dst + co·m
	pw := Load(Param("weight").Base(), GP64())
	w := Load(Param("w"), GP64())
	mb := Load(Param("m"), GP64())
	SHLQ(Imm(2), mb) // bytes between output channels
	lox := Load(Param("lo"), XMM())
	lo := ZMM()
	VBROADCASTSS(lox, lo)

	wp := GP64() // bytes per padded row
	LEAQ(Mem{Base: w, Disp: 2}, wp)
	SHLQ(Imm(2), wp)
	t := GP64()
	MOVQ(w, t)
	ANDQ(Imm(15), t)
	tab := GP64()
	LEAQ(masks, tab)
	kt := K()
	KMOVW(Mem{Base: tab, Index: t, Scale: 2}, kt)
	wb := w // bytes per output row
	SHLQ(Imm(2), wb)
	co := GP64()
	XORQ(co, co)

	Label("conv1_group")
	var bias [8]reg.VecVirtual
	{
		pb := Load(Param("bias").Base(), GP64())
		for j := range bias {
			bias[j] = ZMM()
			VBROADCASTSS(Mem{Base: pb, Index: co, Scale: 4, Disp: 4 * j}, bias[j])
		}
	}
	xr := Load(Param("pad").Base(), GP64()) // pad + y·wp
	xo := GP64()                            // dst + co·m + y·w
	MOVQ(pd, xo)
	ny := Load(Param("h"), GP64())
	Label("conv1_row")
	xrc, xoc := GP64(), GP64() // the chunk's input and output
	MOVQ(xr, xrc)
	MOVQ(xo, xoc)
	nc := GP64()
	MOVQ(wb, nc)
	SHRQ(Imm(6), nc) // w / 16
	chunk := func(masked bool) {
		var in [9]reg.VecVirtual
		for kh := 0; kh < 3; kh++ {
			for kw := 0; kw < 3; kw++ {
				m := Mem{Base: xrc, Disp: 4 * kw}
				if kh > 0 {
					m = Mem{Base: xrc, Index: wp, Scale: uint8(kh), Disp: 4 * kw}
				}
				v := ZMM()
				if masked {
					VMOVUPS_Z(m, kt, v)
				} else {
					VMOVUPS(m, v)
				}
				in[kh*3+kw] = v
			}
		}
		var acc [8]reg.VecVirtual
		for j := range acc {
			acc[j] = ZMM()
			VMOVAPS(bias[j], acc[j])
		}
		for k := 0; k < 9; k++ {
			for j := range acc {
				VFMADD231PS_BCST(Mem{Base: pw, Disp: 4 * (j*9 + k)}, in[k], acc[j])
			}
		}
		po := GP64()
		MOVQ(xoc, po)
		for j := range acc {
			VMAXPS(acc[j], lo, acc[j])
			if masked {
				VMOVUPS(acc[j], kt, Mem{Base: po})
			} else {
				VMOVUPS(acc[j], Mem{Base: po})
			}
			if j < len(acc)-1 {
				ADDQ(mb, po)
			}
		}
	}
	Label("conv1_chunk")
	TESTQ(nc, nc)
	JZ(LabelRef("conv1_tail"))
	chunk(false)
	ADDQ(Imm(64), xrc)
	ADDQ(Imm(64), xoc)
	DECQ(nc)
	JMP(LabelRef("conv1_chunk"))
	Label("conv1_tail")
	KORTESTW(kt, kt)
	JZ(LabelRef("conv1_next"))
	chunk(true)
	Label("conv1_next")
	ADDQ(wp, xr)
	ADDQ(wb, xo)
	DECQ(ny)
	JNZ(LabelRef("conv1_row"))

	ADDQ(U32(8*9*4), pw)
	LEAQ(Mem{Base: pd, Index: mb, Scale: 8}, pd)
	ADDQ(Imm(8), co)
	cout := Load(Param("cout"), GP64())
	CMPQ(co, cout)
	JB(LabelRef("conv1_group"))
	VZEROUPPER()
	RET()
}
