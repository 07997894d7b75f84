// Package gen holds the avo code shared by the generators in asm/: the SGEMM micro-kernel and the
// FMA-peak loop, parametrised by instruction set and tile.
package gen

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/buildtags"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// ISA describes one vector instruction set as the generators use it.
type ISA struct {
	Name  string // "avx2", "avx512"
	Lanes int    // float32 lanes per vector register
	// Broadcast is true when FMA can broadcast one float32 from memory (AVX-512 embedded broadcast);
	// otherwise A elements go through VBROADCASTSS into a register.
	Broadcast bool
	Vec       func() reg.VecVirtual
}

var (
	AVX2   = ISA{Name: "avx2", Lanes: 8, Vec: YMM}
	AVX512 = ISA{Name: "avx512", Lanes: 16, Broadcast: true, Vec: ZMM}
)

// Flags of the extended micro-kernel; they must match kernels/sgemm.go.
const (
	FlagLoadC = 1
	FlagBias  = 2
	FlagReLU  = 4
)

// Header sets the build constraint every generated file carries.
func Header() {
	Constraint(buildtags.Not("noasm").ToConstraint())
}

// SgemmKernel emits sgemmKernel_<rows>x<nr>_<isa>, the register-tiled SGEMM micro-kernel: the rows×nr
// tile of C lives in rows·nr/lanes vector registers for the whole k loop (unrolled by unroll); each
// step loads nr/lanes vectors of a row of B and broadcasts one element of each row of A.
//
// A and B are addressed through strides, so the same code runs on packed panels (A: rsa = 1,
// csa = MR; B: ldb = NR) and straight on the caller's row-major or transposed matrices, which the
// driver then does not need to pack.
func SgemmKernel(isa ISA, rows, nr, unroll int) { sgemmKernel(isa, rows, nr, unroll, false) }

// SgemmKernelMasked emits sgemmKernelMasked_<rows>x<nr>_<isa>, SgemmKernel for the last, partial
// column panel of C: a column mask (AVX-512 only) limits every B load and every C load and store to
// the tile's valid columns, so the driver runs it in place on the caller's B and C. Without it that
// panel went through a packed, zero-padded copy of B, a scratch tile and a scalar merge in Go, which
// cost the im2col GEMMs, whose widths (images × 49 or 196 pixels) are rarely a multiple of 32, up to
// a tenth of their time.
func SgemmKernelMasked(isa ISA, rows, nr, unroll int) {
	if isa.Lanes != 16 {
		panic("masked kernels need AVX-512's mask registers")
	}
	sgemmKernel(isa, rows, nr, unroll, true)
}

func sgemmKernel(isa ISA, rows, nr, unroll int, masked bool) {
	mr := rows
	nv := nr / isa.Lanes
	if nv*isa.Lanes != nr {
		panic("nr must be a multiple of the vector width")
	}
	name := fmt.Sprintf("sgemmKernel_%dx%d_%s", mr, nr, isa.Name)
	sig := "func(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags int)"
	cols := fmt.Sprintf("j < %d", nr)
	if masked {
		name = fmt.Sprintf("sgemmKernelMasked_%dx%d_%s", mr, nr, isa.Name)
		sig = "func(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags int, mask uint32)"
		cols = fmt.Sprintf("j < %d with mask>>j&1 == 1 (no other column of B or C is read or written)", nr)
	}
	TEXT(name, NOSPLIT, sig)
	Doc(
		fmt.Sprintf("%s is the SGEMM micro-kernel for a %d×%d tile of C. For k ≥ 0 it computes,", name, mr, nr),
		fmt.Sprintf("for i < %d, %s:", mr, cols),
		"",
		"	var acc float32",
		"	for p := 0; p < k; p++ {",
		"		acc += a[i*rsa+p*csa] * b[p*ldb+j] // fused multiply-add",
		"	}",
		"	if flags&1 != 0 { // load C",
		"		acc += c[i*ldc+j]",
		"	}",
		"	if flags&2 != 0 { // bias",
		"		acc += bias[i]",
		"	}",
		"	if flags&4 != 0 && acc < 0 { // ReLU; NaN is kept",
		"		acc = 0",
		"	}",
		"	c[i*ldc+j] = acc",
	)
	k := Load(Param("k"), GP64())
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(Imm(2), ldb)
	var km []reg.OpmaskVirtual // per B vector: its valid lanes
	if masked {
		m := Load(Param("mask"), GP32())
		for v := 0; v < nv; v++ {
			km = append(km, K())
			KMOVW(m, km[v])
			if v < nv-1 {
				SHRL(Imm(16), m)
			}
		}
	}

	// Fetch the C tile while the k loop runs: its rows are ldc apart, usually far outside L1.
	{
		cp := Load(Param("c"), GP64())
		ld := Load(Param("ldc"), GP64())
		SHLQ(Imm(2), ld)
		for i := 0; i < mr; i++ {
			for off := 0; off < nr*4; off += 64 {
				PREFETCHT0(Mem{Base: cp, Disp: off})
			}
			PREFETCHT0(Mem{Base: cp, Disp: nr*4 - 1})
			if i < mr-1 {
				ADDQ(ld, cp)
			}
		}
	}

	// Row i of A is at bases[i/3] + (i%3)·rsa: one base register per three rows, the row stride as
	// the index register (scale 1 and 2).
	rsa := Load(Param("rsa"), GP64())
	SHLQ(Imm(2), rsa)
	csa := Load(Param("csa"), GP64())
	SHLQ(Imm(2), csa)
	bases := make([]reg.GPVirtual, (mr+2)/3)
	for g := range bases {
		bases[g] = GP64()
		if g == 0 {
			Load(Param("a"), bases[0])
			continue
		}
		LEAQ(Mem{Base: bases[g-1], Index: rsa, Scale: 2}, bases[g])
		ADDQ(rsa, bases[g])
	}
	arow := func(i int) Mem {
		m := Mem{Base: bases[i/3]}
		if i%3 > 0 {
			m.Index, m.Scale = rsa, uint8(i%3)
		}
		return m
	}

	acc := make([][]reg.VecVirtual, mr)
	for i := range acc {
		acc[i] = make([]reg.VecVirtual, nv)
		for v := range acc[i] {
			acc[i][v] = isa.Vec()
			VXORPS(acc[i][v], acc[i][v], acc[i][v])
		}
	}
	bv := make([]reg.VecVirtual, nv)
	for v := range bv {
		bv[v] = isa.Vec()
	}
	// With one B vector per step, FMA broadcasts A from memory (AVX-512); with more, each A element is
	// broadcast once into a register: a memory broadcast per FMA would load it nv times, and the
	// vector load ports (two per cycle) would then limit the FMAs.
	embedded := isa.Broadcast && nv == 1
	var av []reg.VecVirtual
	if !embedded {
		for range min(mr, 32-mr*nv-nv, 4) {
			av = append(av, isa.Vec())
		}
	}
	step := func(u int) {
		for v := 0; v < nv; v++ {
			if masked {
				VMOVUPS_Z(Mem{Base: b, Disp: v * isa.Lanes * 4}, km[v], bv[v])
				continue
			}
			VMOVUPS(Mem{Base: b, Disp: v * isa.Lanes * 4}, bv[v])
		}
		for i := 0; i < mr; i++ {
			m := arow(i)
			if embedded {
				for v := 0; v < nv; v++ {
					VFMADD231PS_BCST(m, bv[v], acc[i][v])
				}
				continue
			}
			t := av[i%len(av)]
			VBROADCASTSS(m, t)
			for v := 0; v < nv; v++ {
				VFMADD231PS(bv[v], t, acc[i][v])
			}
		}
		// The same row of the next NR-wide panel: read in place, B's rows are far apart and the first
		// pass over a panel would otherwise wait on memory for each of them (measured: +15% on
		// 64×25088×288). On a packed panel it is the next row, already on its way.
		for off := 0; off < nr*4; off += 64 {
			PREFETCHT0(Mem{Base: b, Disp: nr*4 + off})
		}
		ADDQ(ldb, b)
		for _, base := range bases {
			ADDQ(csa, base)
		}
	}

	Comment("Main loop: unroll steps of k per iteration.")
	CMPQ(k, Imm(uint64(unroll)))
	JL(LabelRef("tail"))
	Label("loop")
	for u := 0; u < unroll; u++ {
		step(u)
	}
	SUBQ(Imm(uint64(unroll)), k)
	CMPQ(k, Imm(uint64(unroll)))
	JGE(LabelRef("loop"))

	Label("tail")
	TESTQ(k, k)
	JE(LabelRef("store"))
	Label("tailloop")
	step(0)
	DECQ(k)
	JNZ(LabelRef("tailloop"))

	Label("store")
	flags := Load(Param("flags"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(Imm(2), ldc)

	Comment("flags&1: accumulate onto C.")
	TESTQ(U32(FlagLoadC), flags)
	JZ(LabelRef("nload"))
	cr := Load(Param("c"), GP64())
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			if masked {
				VADDPS_Z(Mem{Base: cr, Disp: v * isa.Lanes * 4}, acc[i][v], km[v], acc[i][v])
				continue
			}
			VADDPS(Mem{Base: cr, Disp: v * isa.Lanes * 4}, acc[i][v], acc[i][v])
		}
		if i < mr-1 {
			ADDQ(ldc, cr)
		}
	}
	Label("nload")

	Comment("flags&2: add bias[i] to row i.")
	TESTQ(U32(FlagBias), flags)
	JZ(LabelRef("nbias"))
	bias := Load(Param("bias"), GP64())
	t := isa.Vec()
	for i := 0; i < mr; i++ {
		VBROADCASTSS(Mem{Base: bias, Disp: i * 4}, t)
		for v := 0; v < nv; v++ {
			VADDPS(t, acc[i][v], acc[i][v])
		}
	}
	Label("nbias")

	Comment("flags&4: ReLU. MAXPS returns its second source when either is NaN, so NaN stays.")
	TESTQ(U32(FlagReLU), flags)
	JZ(LabelRef("nrelu"))
	zero := isa.Vec()
	VXORPS(zero, zero, zero)
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			VMAXPS(acc[i][v], zero, acc[i][v])
		}
	}
	Label("nrelu")

	cw := Load(Param("c"), GP64())
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			if masked {
				VMOVUPS(acc[i][v], km[v], Mem{Base: cw, Disp: v * isa.Lanes * 4})
				continue
			}
			VMOVUPS(acc[i][v], Mem{Base: cw, Disp: v * isa.Lanes * 4})
		}
		if i < mr-1 {
			ADDQ(ldc, cw)
		}
	}
	VZEROUPPER()
	RET()
}

// PeakFMA emits peakFMA_<isa>(n int), n iterations of acc independent vector FMAs (enough chains to
// cover latency × ports), the FMA throughput ceiling the SGEMM benchmarks are measured against.
func PeakFMA(isa ISA, chains int) {
	name := "peakFMA_" + isa.Name
	TEXT(name, NOSPLIT, "func(n int)")
	Doc(
		fmt.Sprintf("%s runs n iterations of %d independent %d-lane FMAs (%d flops per iteration):", name, chains, isa.Lanes, chains*isa.Lanes*2),
		"",
		"	for it := 0; it < n; it++ {",
		fmt.Sprintf("		for r := 0; r < %d; r++ {", chains),
		"			acc[r] += x * y // per lane, fused",
		"		}",
		"	}",
	)
	n := Load(Param("n"), GP64())
	x, y := isa.Vec(), isa.Vec()
	VXORPS(x, x, x)
	VXORPS(y, y, y)
	acc := make([]reg.VecVirtual, chains)
	for i := range acc {
		acc[i] = isa.Vec()
		VXORPS(acc[i], acc[i], acc[i])
	}
	TESTQ(n, n)
	JLE(LabelRef("done"))
	Label("loop")
	for i := range acc {
		VFMADD231PS(x, y, acc[i])
	}
	DECQ(n)
	JNZ(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}

// Write is avo's Generate with the output paths in the "Code generated" header cut to their base
// names, so the generated files do not depend on where they were written (make asm-check writes them
// to a temporary directory and compares byte for byte).
func Write() {
	flag.Parse()
	args := append([]string(nil), os.Args...)
	for i := 1; i < len(args); i++ {
		if strings.HasPrefix(args[i], "-") {
			if name, val, ok := strings.Cut(args[i], "="); ok {
				args[i] = name + "=" + filepath.Base(val)
			}
			continue
		}
		args[i] = filepath.Base(args[i])
	}
	os.Args = args
	build.Generate()
}
