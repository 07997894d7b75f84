package gen

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// GemvKernel emits gemv4_<isa>: y[i] = Σ_{p<k} a[i*lda+p]·x[p] for i < m4, four rows of A at a time
// against one load of x, two vectors of k per step (eight independent accumulators to cover the FMA
// latency), then a horizontal sum of each row's accumulators. m4 is a multiple of 4 and k of the
// vector width; the caller does the tails. Each weight is read once, straight from A: no packing,
// which is what a matrix-vector product (a batch of one) needs.
func GemvKernel(isa ISA) {
	name := "gemv4_" + isa.Name
	TEXT(name, NOSPLIT, "func(m4, k int, a *float32, lda int, x, y *float32)")
	Doc(
		fmt.Sprintf("%s computes, for i < m4 (a multiple of 4) and k a multiple of %d:", name, isa.Lanes),
		"",
		"	var acc float32",
		"	for p := 0; p < k; p++ {",
		"		acc += a[i*lda+p] * x[p] // fused multiply-add, in a different order",
		"	}",
		"	y[i] = acc",
	)
	m4 := Load(Param("m4"), GP64())
	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	x := Load(Param("x"), GP64())
	y := Load(Param("y"), GP64())
	lanesB := isa.Lanes * 4
	SHLQ(U8(2), lda) // bytes
	SHLQ(U8(2), k)
	k2 := GP64() // bytes covered by the two-vector loop
	MOVQ(k, k2)
	ANDQ(I32(^(2*lanesB - 1)), k2)

	Label(name + "_rows")
	CMPQ(m4, Imm(0))
	JLE(LabelRef(name + "_done"))
	var r [4]reg.GPVirtual
	r[0] = GP64()
	MOVQ(a, r[0])
	for i := 1; i < 4; i++ {
		r[i] = GP64()
		LEAQ(Mem{Base: r[i-1], Index: lda, Scale: 1}, r[i])
	}
	var acc [8]reg.VecVirtual
	for i := range acc {
		acc[i] = isa.Vec()
		VXORPS(acc[i], acc[i], acc[i])
	}
	p := GP64()
	XORQ(p, p)
	xv0, xv1 := isa.Vec(), isa.Vec()

	Label(name + "_k2")
	CMPQ(p, k2)
	JGE(LabelRef(name + "_k1"))
	VMOVUPS(Mem{Base: x, Index: p, Scale: 1}, xv0)
	VMOVUPS(Mem{Base: x, Index: p, Scale: 1, Disp: lanesB}, xv1)
	for i := 0; i < 4; i++ {
		VFMADD231PS(Mem{Base: r[i], Index: p, Scale: 1}, xv0, acc[i])
		VFMADD231PS(Mem{Base: r[i], Index: p, Scale: 1, Disp: lanesB}, xv1, acc[4+i])
	}
	ADDQ(Imm(uint64(2*lanesB)), p)
	JMP(LabelRef(name + "_k2"))

	Label(name + "_k1")
	CMPQ(p, k)
	JGE(LabelRef(name + "_sum"))
	VMOVUPS(Mem{Base: x, Index: p, Scale: 1}, xv0)
	for i := 0; i < 4; i++ {
		VFMADD231PS(Mem{Base: r[i], Index: p, Scale: 1}, xv0, acc[i])
	}

	Label(name + "_sum")
	var s [4]reg.VecVirtual // one xmm of four partial sums per row
	for i := 0; i < 4; i++ {
		VADDPS(acc[4+i], acc[i], acc[i])
		v := acc[i]
		if isa.Lanes == 16 {
			hi := YMM()
			VEXTRACTF64X4(U8(1), v, hi)
			VADDPS(hi, v.AsY(), hi)
			v = hi
		}
		hx := XMM()
		VEXTRACTF128(U8(1), v, hx)
		VADDPS(hx, v.AsX(), hx)
		s[i] = hx
	}
	t, u := XMM(), XMM()
	VHADDPS(s[1], s[0], t) // [s0 01, s0 23, s1 01, s1 23]
	VHADDPS(s[3], s[2], u)
	VHADDPS(u, t, t) // [Σs0, Σs1, Σs2, Σs3]
	VMOVUPS(t, Mem{Base: y})
	ADDQ(Imm(16), y)
	LEAQ(Mem{Base: r[3], Index: lda, Scale: 1}, a)
	SUBQ(Imm(4), m4)
	JMP(LabelRef(name + "_rows"))

	Label(name + "_done")
	VZEROUPPER()
	RET()
}
