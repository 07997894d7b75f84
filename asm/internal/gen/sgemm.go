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

// SgemmKernel emits sgemmKernel_<mr>x<nr>_<isa>, the register-tiled SGEMM micro-kernel: the mr×nr tile
// of C lives in mr·nr/lanes vector registers for the whole k loop (unrolled by unroll), each step loads
// nr/lanes vectors of the packed B panel and broadcasts mr elements of the packed A panel.
func SgemmKernel(isa ISA, mr, nr, unroll int) { sgemmKernel(isa, mr, mr, nr, unroll) }

// SgemmKernelRows emits sgemmKernel_<rows>of<mr>x<nr>_<isa>: the same kernel for the first rows rows of
// an MR-row packed A panel (its stride stays mr), so that the last rows of C, when m is not a
// multiple of MR, are computed in place instead of through a temporary tile.
func SgemmKernelRows(isa ISA, rows, mr, nr, unroll int) { sgemmKernel(isa, rows, mr, nr, unroll) }

func sgemmKernel(isa ISA, rows, astride, nr, unroll int) {
	mr := rows
	nv := nr / isa.Lanes
	if nv*isa.Lanes != nr {
		panic("nr must be a multiple of the vector width")
	}
	name := fmt.Sprintf("sgemmKernel_%dx%d_%s", mr, nr, isa.Name)
	if rows != astride {
		name = fmt.Sprintf("sgemmKernel_%dof%dx%d_%s", rows, astride, nr, isa.Name)
	}
	TEXT(name, NOSPLIT, "func(k int, a, b, c *float32, ldc int, bias *float32, flags int)")
	Doc(
		fmt.Sprintf("%s is the SGEMM micro-kernel for an %d×%d tile of C. With packed panels", name, mr, nr),
		fmt.Sprintf("a[p*%d+i] and b[p*%d+j] and k ≥ 0 it computes, for i < %d, j < %d:", astride, nr, mr, nr),
		"",
		"	var acc float32",
		"	for p := 0; p < k; p++ {",
		fmt.Sprintf("		acc += a[p*%d+i] * b[p*%d+j] // fused multiply-add", astride, nr),
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
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())

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
	var av [2]reg.VecVirtual
	if !isa.Broadcast {
		av[0], av[1] = isa.Vec(), isa.Vec()
	}
	step := func(u int) {
		for v := 0; v < nv; v++ {
			VMOVUPS(Mem{Base: b, Disp: (u*nr + v*isa.Lanes) * 4}, bv[v])
		}
		for i := 0; i < mr; i++ {
			m := Mem{Base: a, Disp: (u*astride + i) * 4}
			if isa.Broadcast {
				for v := 0; v < nv; v++ {
					VFMADD231PS_BCST(m, bv[v], acc[i][v])
				}
				continue
			}
			t := av[i%2]
			VBROADCASTSS(m, t)
			for v := 0; v < nv; v++ {
				VFMADD231PS(bv[v], t, acc[i][v])
			}
		}
	}

	Comment("Main loop: unroll steps of k per iteration.")
	CMPQ(k, Imm(uint64(unroll)))
	JL(LabelRef("tail"))
	Label("loop")
	for u := 0; u < unroll; u++ {
		step(u)
	}
	ADDQ(U32(unroll*astride*4), a)
	ADDQ(U32(unroll*nr*4), b)
	SUBQ(Imm(uint64(unroll)), k)
	CMPQ(k, Imm(uint64(unroll)))
	JGE(LabelRef("loop"))

	Label("tail")
	TESTQ(k, k)
	JE(LabelRef("store"))
	Label("tailloop")
	step(0)
	ADDQ(U32(astride*4), a)
	ADDQ(U32(nr*4), b)
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
