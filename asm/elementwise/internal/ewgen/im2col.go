package ewgen

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"

	"github.com/simdnn/simdnn/asm/internal/gen"
)

// Im2colTap emits im2colTap_avx512 and col2imTap_avx512: one (kh, kw) tap of a 3×3, stride-1,
// padding-1 im2col for a run of contiguous images, and its adjoint. Seen over the whole run, a tap is
// the input shifted by (kh−1)·w + kw−1 floats with the padding positions zeroed, and which positions
// are padding repeats every lcm(h·w, 16) floats. So each 16-float vector of the run is one masked load
// (or load-add) and one store, with its mask taken from a table that the Go wrapper builds once per
// plane shape: about 6 instructions per 16 floats whatever the width. The earlier kernel moved one
// image row per step (7 floats of a 7×7 plane for about 13 instructions), which made the 7×7 taps run
// at half the 14×14 ones' speed; col2im was a Go loop of one add call per image and tap.
//
// Masked-off lanes do not fault, so the shifted address may lie before the run's first float or past
// its last where the mask says padding: the wrapper guarantees that every set bit addresses inside
// the slice.
func Im2colTap(isa gen.ISA) {
	if isa.Lanes != 16 {
		return
	}
	tapKernel(false)
	tapKernel(true)
}

func tapKernel(adjoint bool) {
	if adjoint {
		TEXT("col2imTap_avx512", NOSPLIT, "func(dx, g []float32, shift int, masks []uint16, tail uint16)")
		Doc("col2imTap_avx512 adds g into dx shifted by shift floats where the periodic mask says so,",
			"with n = len(g) and tail = (1<<(n%16))−1 (0 when n%16 = 0):",
			"",
			"	for p := range g {",
			"		if masks[p/16%len(masks)]>>(p%16)&1 != 0 {",
			"			dx[p+shift] += g[p]",
			"		}",
			"	}",
			"",
			"No other float of dx is read or written.")
	} else {
		TEXT("im2colTap_avx512", NOSPLIT, "func(out, in []float32, shift int, masks []uint16, tail uint16)")
		Doc("im2colTap_avx512 writes in shifted by shift floats into out, zero where the periodic mask",
			"is clear, with n = len(out) and tail = (1<<(n%16))−1 (0 when n%16 = 0):",
			"",
			"	for p := range out {",
			"		v := float32(0)",
			"		if masks[p/16%len(masks)]>>(p%16)&1 != 0 {",
			"			v = in[p+shift]",
			"		}",
			"		out[p] = v",
			"	}")
	}
	// run: the contiguous side (out, or g), indexed by p; shifted: in or dx, indexed by p + shift.
	var run, shifted, n = GP64(), GP64(), GP64()
	if adjoint {
		Load(Param("g").Base(), run)
		Load(Param("g").Len(), n)
		Load(Param("dx").Base(), shifted)
	} else {
		Load(Param("out").Base(), run)
		Load(Param("out").Len(), n)
		Load(Param("in").Base(), shifted)
	}
	shift := Load(Param("shift"), GP64())
	LEAQ(Mem{Base: shifted, Index: shift, Scale: 4}, shifted)
	tab := Load(Param("masks").Base(), GP64())
	period := Load(Param("masks").Len(), GP64())
	t := GP64() // index into masks: vector number mod period
	XORQ(t, t)
	zero := GP64()
	XORQ(zero, zero)
	k := K()
	v := ZMM()
	vecs := GP64()
	MOVQ(n, vecs)
	SHRQ(Imm(4), vecs)
	JZ(LabelRef(tapLabel(adjoint, "tail")))

	Label(tapLabel(adjoint, "loop"))
	KMOVW(Mem{Base: tab, Index: t, Scale: 2}, k)
	if adjoint {
		VMOVUPS_Z(Mem{Base: run}, k, v)
		VADDPS_Z(Mem{Base: shifted}, v, k, v)
		VMOVUPS(v, k, Mem{Base: shifted})
	} else {
		VMOVUPS_Z(Mem{Base: shifted}, k, v)
		VMOVUPS(v, Mem{Base: run})
	}
	ADDQ(Imm(64), run)
	ADDQ(Imm(64), shifted)
	INCQ(t)
	CMPQ(t, period)
	CMOVQEQ(zero, t)
	DECQ(vecs)
	JNZ(LabelRef(tapLabel(adjoint, "loop")))

	Label(tapLabel(adjoint, "tail")) // the last n%16 floats: the table's mask cut to them
	tail := Load(Param("tail"), GP32())
	TESTL(tail, tail)
	JZ(LabelRef(tapLabel(adjoint, "done")))
	m := GP32()
	MOVWLZX(Mem{Base: tab, Index: t, Scale: 2}, m)
	if adjoint {
		ANDL(tail, m)
		KMOVW(m, k)
		VMOVUPS_Z(Mem{Base: run}, k, v)
		VADDPS_Z(Mem{Base: shifted}, v, k, v)
		VMOVUPS(v, k, Mem{Base: shifted})
	} else {
		ANDL(tail, m) // loads only the valid floats of the tail, and of them only non-padding
		KMOVW(m, k)
		VMOVUPS_Z(Mem{Base: shifted}, k, v)
		ks := K()
		KMOVW(tail, ks) // stores the whole tail, zeros included
		VMOVUPS(v, ks, Mem{Base: run})
	}
	Label(tapLabel(adjoint, "done"))
	VZEROUPPER()
	RET()
}

func tapLabel(adjoint bool, s string) string {
	if adjoint {
		return "col2im_" + s
	}
	return "im2col_" + s
}
