package ewgen

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/simdnn/simdnn/asm/internal/gen"
)

// Im2colTap emits im2colTap_<isa> and col2imTap_<isa>: one (kh, kw) tap of a 3×3, stride-1,
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
//
// AVX2 has no mask registers: its kernels expand each 16-bit table entry into two 8-lane vector masks
// (broadcast, AND with each lane's bit, compare) for VMASKMOVPS, which does not fault on masked-off
// lanes either. im2col stores whole vectors (the zeros are wanted); col2im stores through the mask.
func Im2colTap(isa gen.ISA) {
	if isa.Lanes == 8 {
		tapKernelAVX2(false)
		tapKernelAVX2(true)
		return
	}
	tapKernelAVX512(false)
	tapKernelAVX512(true)
}

// tapDoc writes the kernels' doc comment, the spec the Go tests hold them to.
func tapDoc(isa string, adjoint bool) {
	if adjoint {
		TEXT("col2imTap_"+isa, NOSPLIT, "func(dx, g []float32, shift int, masks []uint16, tail uint16)")
		Doc("col2imTap_"+isa+" adds g into dx shifted by shift floats where the periodic mask says so,",
			"with n = len(g) and tail = (1<<(n%16))−1 (0 when n%16 = 0):",
			"",
			"	for p := range g {",
			"		if masks[p/16%len(masks)]>>(p%16)&1 != 0 {",
			"			dx[p+shift] += g[p]",
			"		}",
			"	}",
			"",
			"No other float of dx is read or written.")
		return
	}
	TEXT("im2colTap_"+isa, NOSPLIT, "func(out, in []float32, shift int, masks []uint16, tail uint16)")
	Doc("im2colTap_"+isa+" writes in shifted by shift floats into out, zero where the periodic mask",
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

// tapArgs loads the arguments both ISAs' kernels share: the contiguous side (out, or g) indexed by
// p, the shifted side (in, or dx) already moved by shift, n, the table and its period.
func tapArgs(adjoint bool) (run, shifted, n, tab, period reg.GPVirtual) {
	run, shifted, n = GP64(), GP64(), GP64()
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
	tab, period = GP64(), GP64()
	Load(Param("masks").Base(), tab)
	Load(Param("masks").Len(), period)
	return run, shifted, n, tab, period
}

// tapLoop emits the loop both ISAs' kernels share around their moves: step moves the 16 floats at
// run and shifted under the table entry at entry (a uint16 in memory); last moves the last n%16, with
// m the entry already cut to them and tail their mask (both in the low 16 bits).
func tapLoop(adjoint bool, run, shifted, n, tab, period reg.GPVirtual, step func(entry Mem), last func(m, tail reg.GPVirtual)) {
	t := GP64() // index into masks: vector number mod period
	XORQ(t, t)
	zero := GP64()
	XORQ(zero, zero)
	vecs := GP64()
	MOVQ(n, vecs)
	SHRQ(Imm(4), vecs)
	JZ(LabelRef(tapLabel(adjoint, "tail")))

	Label(tapLabel(adjoint, "loop"))
	step(Mem{Base: tab, Index: t, Scale: 2})
	ADDQ(Imm(64), run)
	ADDQ(Imm(64), shifted)
	INCQ(t)
	CMPQ(t, period)
	CMOVQEQ(zero, t)
	DECQ(vecs)
	JNZ(LabelRef(tapLabel(adjoint, "loop")))

	Label(tapLabel(adjoint, "tail"))
	tail := GP64()
	Load(Param("tail"), tail.As32())
	TESTL(tail.As32(), tail.As32())
	JZ(LabelRef(tapLabel(adjoint, "done")))
	m := GP64()
	MOVWQZX(Mem{Base: tab, Index: t, Scale: 2}, m)
	ANDL(tail.As32(), m.As32())
	last(m, tail)
	Label(tapLabel(adjoint, "done"))
	VZEROUPPER()
	RET()
}

func tapKernelAVX2(adjoint bool) {
	tapDoc("avx2", adjoint)
	run, shifted, n, tab, period := tapArgs(adjoint)
	var lane [16]uint32
	for i := range lane {
		lane[i] = 1 << i
	}
	bits := table("tapLaneBits_avx2", 4, lane[:])
	bitsLo, bitsHi := YMM(), YMM()
	VMOVDQU(bits, bitsLo)
	VMOVDQU(bits.Offset(32), bitsHi)
	// expand turns the 16-bit mask in r into the two halves' vector masks.
	expand := func(r reg.GPVirtual, m0, m1 reg.VecVirtual) {
		x := XMM()
		VMOVD(r.As32(), x)
		VPBROADCASTD(x, m0)
		VPAND(bitsHi, m0, m1)
		VPCMPEQD(bitsHi, m1, m1)
		VPAND(bitsLo, m0, m0)
		VPCMPEQD(bitsLo, m0, m0)
	}
	m0, m1, v0, v1, w0, w1 := YMM(), YMM(), YMM(), YMM(), YMM(), YMM()
	step := func(entry Mem) {
		r := GP64()
		MOVWQZX(entry, r)
		expand(r, m0, m1)
		if adjoint {
			VMASKMOVPS(Mem{Base: shifted}, m0, w0)
			VMASKMOVPS(Mem{Base: shifted, Disp: 32}, m1, w1)
			VADDPS(Mem{Base: run}, w0, w0)
			VADDPS(Mem{Base: run, Disp: 32}, w1, w1)
			VMASKMOVPS(w0, m0, Mem{Base: shifted})
			VMASKMOVPS(w1, m1, Mem{Base: shifted, Disp: 32})
			return
		}
		VMASKMOVPS(Mem{Base: shifted}, m0, v0)
		VMASKMOVPS(Mem{Base: shifted, Disp: 32}, m1, v1)
		VMOVUPS(v0, Mem{Base: run})
		VMOVUPS(v1, Mem{Base: run, Disp: 32})
	}
	last := func(m, tail reg.GPVirtual) {
		expand(m, m0, m1)
		if adjoint { // g too is read only where the mask says: past its end there is nothing
			VMASKMOVPS(Mem{Base: run}, m0, v0)
			VMASKMOVPS(Mem{Base: run, Disp: 32}, m1, v1)
			VMASKMOVPS(Mem{Base: shifted}, m0, w0)
			VMASKMOVPS(Mem{Base: shifted, Disp: 32}, m1, w1)
			VADDPS(v0, w0, w0)
			VADDPS(v1, w1, w1)
			VMASKMOVPS(w0, m0, Mem{Base: shifted})
			VMASKMOVPS(w1, m1, Mem{Base: shifted, Disp: 32})
			return
		}
		VMASKMOVPS(Mem{Base: shifted}, m0, v0)
		VMASKMOVPS(Mem{Base: shifted, Disp: 32}, m1, v1)
		s0, s1 := YMM(), YMM()
		expand(tail, s0, s1) // stores the whole tail, zeros included
		VMASKMOVPS(v0, s0, Mem{Base: run})
		VMASKMOVPS(v1, s1, Mem{Base: run, Disp: 32})
	}
	tapLoop(adjoint, run, shifted, n, tab, period, step, last)
}

func tapKernelAVX512(adjoint bool) {
	tapDoc("avx512", adjoint)
	run, shifted, n, tab, period := tapArgs(adjoint)
	k := K()
	v := ZMM()
	// move moves the 16 floats under k; im2col stores through ks, or the whole vector when ks is nil.
	move := func(ks reg.Register) {
		if adjoint {
			VMOVUPS_Z(Mem{Base: run}, k, v)
			VADDPS_Z(Mem{Base: shifted}, v, k, v)
			VMOVUPS(v, k, Mem{Base: shifted})
			return
		}
		VMOVUPS_Z(Mem{Base: shifted}, k, v)
		if ks == nil {
			VMOVUPS(v, Mem{Base: run})
			return
		}
		VMOVUPS(v, ks, Mem{Base: run})
	}
	step := func(entry Mem) {
		KMOVW(entry, k)
		move(nil)
	}
	last := func(m, tail reg.GPVirtual) {
		KMOVW(m.As32(), k)
		if adjoint {
			move(nil)
			return
		}
		ks := K()
		KMOVW(tail.As32(), ks) // stores the whole tail, zeros included
		move(ks)
	}
	tapLoop(adjoint, run, shifted, n, tab, period, step, last)
}

func tapLabel(adjoint bool, s string) string {
	if adjoint {
		return "col2im_" + s
	}
	return "im2col_" + s
}
