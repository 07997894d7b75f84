// Package ewgen generates the element-wise kernels (ReLU, bias/scale-shift, batchnorm, Adam, sums) for
// one x86 vector ISA. Every kernel walks its slices with one element index, unrolled by four vectors,
// and requires len(first slice) to be a multiple of the vector width: the Go wrapper in
// kernels/elementwise_amd64.go passes the vector part and finishes the tail with the reference. So
// these need no masks or scalar code, and AVX2 and AVX-512 share one generator. The kernels that walk
// image planes (pooling, the first convolution, im2col/col2im, Winograd's transforms) mask their
// edges and have a generator per ISA where the masks differ.
package ewgen

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/simdnn/simdnn/asm/internal/gen"
)

// g holds the state of the kernel being generated.
type g struct {
	isa  gen.ISA
	name string
	idx  reg.GPVirtual // element index
}

// All emits every element-wise kernel for isa.
func All(isa gen.ISA) {
	ReLU(isa)
	ReLUBack(isa)
	Affine(isa, false)
	Affine(isa, true)
	Add(isa)
	Sum(isa)
	SumSqDev(isa)
	SumDot(isa)
	BNNorm(isa)
	BNBack(isa)
	Adam(isa)
	MaxPool(isa)
	Conv1(isa)
	Im2colTap(isa)
	WinogradIn(isa)
	WinogradOut(isa)
}

func (k *g) mem(base reg.Register, off int) Mem {
	return Mem{Base: base, Index: k.idx, Scale: 4, Disp: 4 * off}
}

// text starts kernel op_<isa> with the given signature and doc lines.
func text(isa gen.ISA, op, sig string, doc ...string) *g {
	name := fmt.Sprintf("%s_%s", op, isa.Name)
	TEXT(name, NOSPLIT, sig)
	lines := []string{fmt.Sprintf("%s computes, with n = len(%s) a multiple of %d:", name, firstParam(sig), isa.Lanes), ""}
	for _, d := range doc {
		lines = append(lines, "\t"+d)
	}
	Doc(lines...)
	return &g{isa: isa, name: name}
}

func firstParam(sig string) string {
	s := sig[len("func("):]
	for i, c := range s {
		if c == ',' || c == ' ' {
			return s[:i]
		}
	}
	return s
}

// loop emits the element loop over n elements: body(u, off) handles one vector at element offset off
// from the index; u is the vector's slot in the unrolled block (0 in the single-vector loop).
func (k *g) loop(n reg.Register, unroll int, body func(u, off int)) {
	L := k.isa.Lanes
	k.idx = GP64()
	XORQ(k.idx, k.idx)
	Label(k.name + "_big")
	CMPQ(n, Imm(uint64(unroll*L)))
	JB(LabelRef(k.name + "_one"))
	for u := 0; u < unroll; u++ {
		body(u, u*L)
	}
	ADDQ(Imm(uint64(unroll*L)), k.idx)
	SUBQ(Imm(uint64(unroll*L)), n)
	JMP(LabelRef(k.name + "_big"))
	Label(k.name + "_one")
	TESTQ(n, n)
	JZ(LabelRef(k.name + "_done"))
	body(0, 0)
	ADDQ(Imm(uint64(L)), k.idx)
	SUBQ(Imm(uint64(L)), n)
	JMP(LabelRef(k.name + "_one"))
	Label(k.name + "_done")
}

func (k *g) bcast(param string) reg.VecVirtual {
	x := Load(Param(param), XMM())
	v := k.isa.Vec()
	VBROADCASTSS(x, v)
	return v
}

func (k *g) zero() reg.VecVirtual {
	z := k.isa.Vec()
	VXORPS(z, z, z)
	return z
}

// ReLU: dst[i] = max(src[i], 0). VMAXPS returns its second source operand (Intel order) when either
// is NaN; with the data there, NaN propagates as in PyTorch.
func ReLU(isa gen.ISA) {
	k := text(isa, "relu", "func(dst, src []float32)",
		"for i := range dst {",
		"	dst[i] = src[i] <= 0 ? 0 : src[i] // NaN is kept",
		"}")
	n := Load(Param("dst").Len(), GP64())
	dst := Load(Param("dst").Base(), GP64())
	src := Load(Param("src").Base(), GP64())
	z := k.zero()
	k.loop(n, 4, func(u, off int) {
		v := isa.Vec()
		VMAXPS(k.mem(src, off), z, v)
		VMOVUPS(v, k.mem(dst, off))
	})
	VZEROUPPER()
	RET()
}

// ReLUBack: dx[i] = dy[i] where y[i] > 0 (ordered: NaN in y gives 0), else 0.
func ReLUBack(isa gen.ISA) {
	k := text(isa, "reluBack", "func(dx, dy, y []float32)",
		"for i := range dx {",
		"	dx[i] = y[i] > 0 ? dy[i] : 0",
		"}")
	n := Load(Param("dx").Len(), GP64())
	dx := Load(Param("dx").Base(), GP64())
	dy := Load(Param("dy").Base(), GP64())
	y := Load(Param("y").Base(), GP64())
	z := k.zero()
	const ltOQ = 0x11 // 0 < y, ordered and quiet
	k.loop(n, 4, func(u, off int) {
		v := isa.Vec()
		if isa.Lanes == 16 {
			m := K()
			VCMPPS(Imm(ltOQ), k.mem(y, off), z, m)
			VMOVUPS_Z(k.mem(dy, off), m, v)
		} else {
			VCMPPS(Imm(ltOQ), k.mem(y, off), z, v)
			VANDPS(k.mem(dy, off), v, v)
		}
		VMOVUPS(v, k.mem(dx, off))
	})
	VZEROUPPER()
	RET()
}

// Affine: dst[i] = a·src[i] + b in one FMA, and max(·, 0) after it for the ReLU variant.
func Affine(isa gen.ISA, relu bool) {
	op, doc := "affine", "dst[i] = a*src[i] + b // one FMA"
	if relu {
		op, doc = "affineReLU", "dst[i] = max(a*src[i] + b, 0) // one FMA; NaN is kept"
	}
	k := text(isa, op, "func(dst, src []float32, a, b float32)", "for i := range dst {", "	"+doc, "}")
	n := Load(Param("dst").Len(), GP64())
	dst := Load(Param("dst").Base(), GP64())
	src := Load(Param("src").Base(), GP64())
	a, b := k.bcast("a"), k.bcast("b")
	var z reg.VecVirtual
	if relu {
		z = k.zero()
	}
	k.loop(n, 4, func(u, off int) {
		v := isa.Vec()
		VMOVUPS(k.mem(src, off), v)
		VFMADD213PS(b, a, v)
		if relu {
			VMAXPS(v, z, v)
		}
		VMOVUPS(v, k.mem(dst, off))
	})
	VZEROUPPER()
	RET()
}

// Add: dst[i] += src[i].
func Add(isa gen.ISA) {
	k := text(isa, "add", "func(dst, src []float32)", "for i := range dst {", "	dst[i] += src[i]", "}")
	n := Load(Param("dst").Len(), GP64())
	dst := Load(Param("dst").Base(), GP64())
	src := Load(Param("src").Base(), GP64())
	k.loop(n, 4, func(u, off int) {
		v := isa.Vec()
		VMOVUPS(k.mem(dst, off), v)
		VADDPS(k.mem(src, off), v, v)
		VMOVUPS(v, k.mem(dst, off))
	})
	VZEROUPPER()
	RET()
}

// cvt loads half a vector of float32 (element offset off) widened to float64 lanes.
func (k *g) cvt(base reg.Register, off int) reg.VecVirtual {
	v := k.isa.Vec()
	VCVTPS2PD(k.mem(base, off), v)
	return v
}

func (k *g) accs(n int) []reg.VecVirtual {
	a := make([]reg.VecVirtual, n)
	for i := range a {
		a[i] = k.zero()
	}
	return a
}

// hsum adds the accumulators and returns their float64 lanes' sum in the low lane of an XMM register.
func (k *g) hsum(acc []reg.VecVirtual) reg.Register {
	for len(acc) > 1 {
		VADDPD(acc[len(acc)-1], acc[0], acc[0])
		acc = acc[:len(acc)-1]
	}
	a := acc[0]
	if k.isa.Lanes == 16 {
		hi := YMM()
		VEXTRACTF64X4(Imm(1), a, hi)
		VADDPD(hi, a.AsY(), a.AsY())
	}
	hi := XMM()
	VEXTRACTF128(Imm(1), a.AsY(), hi)
	VADDPD(hi, a.AsX(), a.AsX())
	VPERMILPD(Imm(1), a.AsX(), hi)
	VADDSD(hi, a.AsX(), a.AsX())
	return a.AsX()
}

// Sum: Σ x[i] in float64 (each half vector widened, four accumulators).
func Sum(isa gen.ISA) {
	k := text(isa, "sum", "func(x []float32) float64",
		"var s float64", "for i := range x {", "	s += float64(x[i])", "}", "return s // summed in float64 lanes, in another order")
	n := Load(Param("x").Len(), GP64())
	x := Load(Param("x").Base(), GP64())
	acc := k.accs(4)
	h := isa.Lanes / 2
	k.loop(n, 4, func(u, off int) {
		VADDPD(k.cvt(x, off), acc[u], acc[u])
		VADDPD(k.cvt(x, off+h), acc[(u+2)%4], acc[(u+2)%4])
	})
	Store(k.hsum(acc), ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// SumSqDev: Σ (x[i] − mean)² in float64.
func SumSqDev(isa gen.ISA) {
	k := text(isa, "sumSqDev", "func(x []float32, mean float64) float64",
		"var s float64", "for i := range x {", "	d := float64(x[i]) - mean", "	s += d * d", "}", "return s // summed in float64 lanes, in another order")
	n := Load(Param("x").Len(), GP64())
	x := Load(Param("x").Base(), GP64())
	mx := Load(Param("mean"), XMM())
	mean := isa.Vec()
	VBROADCASTSD(mx, mean)
	acc := k.accs(4)
	h := isa.Lanes / 2
	k.loop(n, 4, func(u, off int) {
		for j, o := range []int{off, off + h} {
			d := k.cvt(x, o)
			VSUBPD(mean, d, d)
			a := acc[(u+2*j)%4]
			VFMADD231PD(d, d, a)
		}
	})
	Store(k.hsum(acc), ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// SumDot: Σ dy[i] and Σ dy[i]·xhat[i] in float64, the two sums of batchnorm's backward pass.
func SumDot(isa gen.ISA) {
	k := text(isa, "sumDot", "func(dy, xhat []float32) (sdy, sdyx float64)",
		"for i := range dy {",
		"	sdy += float64(dy[i])",
		"	sdyx += float64(dy[i]) * float64(xhat[i])",
		"}", "return // summed in float64 lanes, in another order")
	n := Load(Param("dy").Len(), GP64())
	dy := Load(Param("dy").Base(), GP64())
	xh := Load(Param("xhat").Base(), GP64())
	s1, s2 := k.accs(2), k.accs(2)
	h := isa.Lanes / 2
	k.loop(n, 4, func(u, off int) {
		for j, o := range []int{off, off + h} {
			d := k.cvt(dy, o)
			x := k.cvt(xh, o)
			VADDPD(d, s1[j], s1[j])
			VFMADD231PD(d, x, s2[j])
		}
	})
	Store(k.hsum(s1), ReturnIndex(0))
	Store(k.hsum(s2), ReturnIndex(1))
	VZEROUPPER()
	RET()
}

// BNNorm: xhat = (x − mean)·invStd, y = γ·xhat + β (one FMA).
func BNNorm(isa gen.ISA) {
	k := text(isa, "bnNorm", "func(y, xhat, x []float32, mean, invStd, gamma, beta float32)",
		"for i := range y {",
		"	h := (x[i] - mean) * invStd",
		"	xhat[i] = h",
		"	y[i] = gamma*h + beta // one FMA",
		"}")
	n := Load(Param("y").Len(), GP64())
	y := Load(Param("y").Base(), GP64())
	xh := Load(Param("xhat").Base(), GP64())
	x := Load(Param("x").Base(), GP64())
	mean, inv, gm, bt := k.bcast("mean"), k.bcast("invStd"), k.bcast("gamma"), k.bcast("beta")
	k.loop(n, 4, func(u, off int) {
		v := isa.Vec()
		VMOVUPS(k.mem(x, off), v)
		VSUBPS(mean, v, v)
		VMULPS(inv, v, v)
		VMOVUPS(v, k.mem(xh, off))
		VFMADD213PS(bt, gm, v)
		VMOVUPS(v, k.mem(y, off))
	})
	VZEROUPPER()
	RET()
}

// BNBack: dx = k·(dy − a − xhat·b), the closed-form batchnorm input gradient given the row sums.
func BNBack(isa gen.ISA) {
	k := text(isa, "bnBack", "func(dx, dy, xhat []float32, k, a, b float32)",
		"for i := range dx {",
		"	dx[i] = k * (dy[i] - a - xhat[i]*b) // xhat[i]*b subtracted with one FMA",
		"}")
	n := Load(Param("dx").Len(), GP64())
	dx := Load(Param("dx").Base(), GP64())
	dy := Load(Param("dy").Base(), GP64())
	xh := Load(Param("xhat").Base(), GP64())
	kk, a, b := k.bcast("k"), k.bcast("a"), k.bcast("b")
	k.loop(n, 4, func(u, off int) {
		v, t := isa.Vec(), isa.Vec()
		VMOVUPS(k.mem(dy, off), v)
		VSUBPS(a, v, v)
		VMOVUPS(k.mem(xh, off), t)
		VFNMADD231PS(b, t, v)
		VMULPS(kk, v, v)
		VMOVUPS(v, k.mem(dx, off))
	})
	VZEROUPPER()
	RET()
}

// Adam: one step of torch.optim.Adam with precomputed step size and √bc2; c1 = 1−β1 and c2 = 1−β2 come
// from the caller so they round exactly as in the reference. Exact VSQRTPS and VDIVPS, no rsqrt
// estimates: the update must agree with PyTorch to rounding.
func Adam(isa gen.ISA) {
	k := text(isa, "adam", "func(p, g, m, v []float32, b1, c1, b2, c2, stepSize, sqrtBC2, eps float32)",
		"for i := range p {",
		"	m[i] = b1*m[i] + c1*g[i]      // FMA",
		"	v[i] = b2*v[i] + c2*(g[i]*g[i]) // FMA",
		"	p[i] -= stepSize * (m[i] / (sqrt(v[i])/sqrtBC2 + eps)) // FMA",
		"}")
	n := Load(Param("p").Len(), GP64())
	p := Load(Param("p").Base(), GP64())
	gr := Load(Param("g").Base(), GP64())
	m := Load(Param("m").Base(), GP64())
	v := Load(Param("v").Base(), GP64())
	b1, c1, b2, c2 := k.bcast("b1"), k.bcast("c1"), k.bcast("b2"), k.bcast("c2")
	step, sq, eps := k.bcast("stepSize"), k.bcast("sqrtBC2"), k.bcast("eps")
	unroll := 4
	if isa.Lanes == 8 {
		unroll = 2 // 7 constants + 4 temporaries per vector in 16 YMM registers
	}
	k.loop(n, unroll, func(u, off int) {
		gv, mv, vv, t := isa.Vec(), isa.Vec(), isa.Vec(), isa.Vec()
		VMOVUPS(k.mem(gr, off), gv)
		VMULPS(k.mem(m, off), b1, mv)
		VFMADD231PS(c1, gv, mv)
		VMOVUPS(mv, k.mem(m, off))
		VMULPS(gv, gv, gv)
		VMULPS(k.mem(v, off), b2, vv)
		VFMADD231PS(c2, gv, vv)
		VMOVUPS(vv, k.mem(v, off))
		VSQRTPS(vv, t)
		VDIVPS(sq, t, t)
		VADDPS(eps, t, t)
		VDIVPS(t, mv, mv)
		VMOVUPS(k.mem(p, off), t)
		VFNMADD231PS(step, mv, t)
		VMOVUPS(t, k.mem(p, off))
	})
	VZEROUPPER()
	RET()
}
