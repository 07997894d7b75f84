package kernels

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Sgemm computes, in single precision,
//
//	C = alpha · op(A) · op(B) + beta · C
//
// where op(A) is m×k, op(B) is k×n and C is m×n, every matrix row-major with leading dimension
// (row stride) lda, ldb, ldc; op(X) is Xᵀ when transX is set (then A is stored k×m, B n×k).
// As in BLAS, beta == 0 means C is only written (NaN or Inf already in C do not propagate), and
// alpha == 0 or k == 0 means A and B are not read. Any sizes are accepted; large products use every
// thread allowed by SetMaxThreads. It panics, like gonum, on negative sizes, too small leading
// dimensions or too short slices.
//
// The work runs through the kernel set chosen by Use (see Current): packed panels of A (alpha folded
// in) and B, blocked for a 1 MiB L2 and a 48 KiB L1D, and an MR×NR register-tiled micro-kernel.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm(0, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemm is Sgemm on at most threads threads (0: as many as SetMaxThreads allows).
func gemm(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm("Sgemm", transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	if transB && !transA && n > m && k >= gemmSwapMinK {
		sgemmSwapped(threads, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	sgemm(&gemmJob{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
		a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, threads: threads})
}

// gemmSwapMinK is the depth from which sgemmSwapped's transposed store (m·n) is small beside the
// product (m·n·k).
const gemmSwapMinK = 64

// sgemmSwapped computes C = alpha·A·Bᵀ + beta·C as Cᵀ = alpha·B·Aᵀ into scratch, then adds its
// transpose to C. Bᵀ's panels need a transposing pack, A's rows are read in place; with n > m the
// swap packs m columns instead of n. It is what a weight gradient dW = dY·colᵀ runs on (measured,
// one thread: 64×288×784 85 → 146 GFLOP/s, 128×576×441 124 → 156).
func sgemmSwapped(threads, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int,
	beta float32, c []float32, ldc int) {
	tp := gemmScratch.Get().(*[]float32)
	if cap(*tp) < m*n {
		*tp = make([]float32, m*n)
	}
	t := (*tp)[:m*n]
	sgemm(&gemmJob{transA: false, transB: true, m: n, n: m, k: k, alpha: alpha,
		a: b, lda: ldb, b: a, ldb: lda, c: t, ldc: m, threads: threads})
	// C[i][j] = beta·C[i][j] + t[j][i], in square blocks so both sides stay in L1.
	const bs = 32
	for i0 := 0; i0 < m; i0 += bs {
		for j0 := 0; j0 < n; j0 += bs {
			for i := i0; i < min(i0+bs, m); i++ {
				row := c[i*ldc+j0 : i*ldc+min(j0+bs, n)]
				for x := range row {
					v := t[(j0+x)*m+i]
					if beta != 0 {
						v += beta * row[x]
					}
					row[x] = v
				}
			}
		}
	}
	gemmScratch.Put(tp)
}

var gemmScratch = sync.Pool{New: func() any { return new([]float32) }}

// SgemmBiasReLU is the inference form of Sgemm with its epilogue fused into the store of each C tile:
//
//	C[i][j] = act(Σ_p A[i][p]·B[p][j] + bias[i])
//
// A is m×k, B is k×n, C is m×n, row-major, no transposes; C is only written. bias has one entry per
// row of C (an output channel or feature in the channel-major layout) or is nil for none; act is
// ReLU (max(x, 0), NaN kept) when relu is set, else the identity. A 3×3 convolution is im2col +
// this call, a Linear layer Y[out][N] = W·X + b is this call with A = W.
func SgemmBiasReLU(m, n, k int, a []float32, lda int, b []float32, ldb int, bias []float32,
	relu bool, c []float32, ldc int) {
	checkGemm("SgemmBiasReLU", false, false, m, n, k, a, lda, b, ldb, c, ldc)
	if bias != nil && len(bias) < m {
		panic(fmt.Sprintf("kernels: SgemmBiasReLU: len(bias) = %d < m = %d", len(bias), m))
	}
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			var v float32
			if bias != nil {
				v = bias[i]
			}
			if relu && v < 0 {
				v = 0
			}
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				row[j] = v
			}
		}
		return
	}
	sgemm(&gemmJob{m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
		bias: bias, relu: relu})
}

// SetMaxThreads caps the number of threads the kernels use and returns the previous cap; n ≤ 0 means
// GOMAXPROCS (the default). Benchmarks use it to measure one thread and two.
func SetMaxThreads(n int) int {
	if n < 0 {
		n = 0
	}
	return int(maxThreads.Swap(int32(n)))
}

var maxThreads atomic.Int32

func threads() int {
	t := int(maxThreads.Load())
	if p := runtime.GOMAXPROCS(0); t <= 0 || t > p {
		t = p
	}
	return min(t, gemmMaxParts)
}

// gemmKernels is the SGEMM family's entry in the dispatch table.
//
// kernel is the micro-kernel contract every ISA provides: for a packed A panel a[p*MR+i] and a packed
// B panel b[p*NR+j], p < k (k ≥ 1),
//
//	C[i*ldc+j] += Σ_p a[p*MR+i]·b[p*NR+j]   for the full MR×NR tile.
//
// kernelEx, optional, is the same product with the driver's store modes folded in (flags: gemmLoadC
// adds the old C, otherwise C is overwritten and never read; gemmBias adds bias[i]; gemmReLU applies
// max(x, 0) last). When it is nil the driver emulates it around kernel.
//
// strided, optional, replaces both: strided[r] (1 ≤ r ≤ MR) computes r rows of the tile with A and B
// addressed through strides, a[i*rsa+p*csa] and b[p*ldb+j], so the driver can skip packing A
// (alpha == 1) or B (not transposed, few rows of C to reuse a packed panel), and computes a last
// partial row panel in place.
type gemmKernels struct {
	kernel   func(k int, a, b, c *float32, ldc int)
	kernelEx func(k int, a, b, c *float32, ldc int, bias *float32, flags int)
	strided  []gemmKernelStrided

	// stridedMasked, optional (with strided), is strided for the last, partial column panel:
	// stridedMasked[r] computes only the columns j with mask>>j&1 set (mask = 1<<nn − 1), reading and
	// writing nothing else of B and C, so that panel too runs in place with no scratch tile.
	stridedMasked []gemmKernelMasked

	// stridedMaskedHalf, optional (with stridedMasked), is stridedMasked for a last panel of at most
	// NR/2 columns: the same sums in the same order, so C is bit for bit the same, for half the FMAs.
	stridedMaskedHalf []gemmKernelMasked

	// gemv4 is SgemvBiasReLU's kernel: y[i] = Σ_p a[i*lda+p]·x[p] for i < m4 (a multiple of 4) and
	// p < k (a multiple of gemvLanes). nil: the pure-Go loop does all of it.
	gemv4     func(m4, k int, a *float32, lda int, x, y *float32)
	gemvLanes int
}

type gemmKernelStrided func(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int,
	bias *float32, flags int)

type gemmKernelMasked func(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int,
	bias *float32, flags int, mask uint32)

// gemmDirectBMaxM: with strided kernels, B is read in place (not packed) when C has at most this many
// rows, because each packed B panel would be reused only m/MR times (the im2col GEMMs of the CNN have
// 32–128 rows and 9–576 deep, tens of thousands of columns: packing B cost them up to a third).
var gemmDirectBMaxM = 256

const (
	gemmLoadC = 1 << iota
	gemmBias
	gemmReLU
)

// Cache blocking, for a 48 KiB L1D and a 1 MiB L2 per core (fixed figures on purpose: cpuid's cache
// sizes are wrong under the hypervisor this was tuned on). The micro-kernel broadcasts A and loads B
// as vectors, so, as in BLIS with the roles of A and B exchanged: one MR×KC micro-panel of A
// (12×640 floats at most: 30 KiB) stays in L1 while the KC×NR micro-panels of the KC×NC block of B
// (half of L2) stream from L2, where that block stays for all of the MC×KC block of A. KC 640 was
// measured against 256, 384, 512 and 768: deep enough that the CNN's K = 288 and 576 take one pass
// over C, and the A micro-panel still leaves L1 room for B and C.
//
// Variables, not constants, only so that tests can shrink the blocks and cross every block edge
// with small matrices.
var gemmKC, gemmMC, gemmL2Div = 640, 4096, 2

const (
	gemmL2Bytes  = 1 << 20
	gemmMaxParts = 16
	// Below this many multiply-adds a second thread costs more (wake-up, duplicate packing) than it saves.
	gemmParallelMin = 1 << 21
	// gemmSplitNPanels: with fewer NR panels per thread the split goes over M. Measured on two threads
	// (AVX-512, 12×32), GFLOP/s N-split vs M-split: 128×256×1152 287 vs 314, 128×512×784 322 vs 349,
	// 1024³ 460 vs 448, 128×6272×576 453 vs 433. At 4 panels (the old threshold) the first two went
	// over N and fell below OpenBLAS on two threads.
	gemmSplitNPanels = 16
)

// gemmBlocks returns the block sizes for an MR×NR kernel and depth k: KC (depth, k split into equal
// blocks of at most gemmKC, so that no block is a short remainder that pays the C tile's load and
// store for a few steps), MC (rows of A per packed block, a multiple of MR) and NC (columns of B per
// packed block, a multiple of NR).
func gemmBlocks(mr, nr, k int) (kc, mc, nc int) {
	kc = gemmKC
	if k > 0 {
		nb := (k + gemmKC - 1) / gemmKC
		kc = (k + nb - 1) / nb
	}
	mc = max(mr, gemmMC/mr*mr)
	nc = max(nr, gemmL2Bytes/gemmL2Div/(kc*4)/nr*nr)
	return kc, mc, nc
}

type gemmJob struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	bias           []float32
	relu           bool
	threads        int // cap for this call; 0: none beyond threads()
	impl           *Impl
}

// bInPlace reports whether the driver reads B in place rather than packing it (gemmDirectBMaxM).
func (j *gemmJob) bInPlace(g *gemmKernels) bool {
	return g.strided != nil && !j.transB && j.m <= gemmDirectBMaxM
}

// threadCount is how many threads the job may use: SetMaxThreads's cap, the call's own cap, and one
// for a product too small to pay for a second.
func (j *gemmJob) threadCount() int {
	t := threads()
	if j.threads > 0 {
		t = min(t, j.threads)
	}
	if int64(j.m)*int64(j.n)*int64(j.k) < gemmParallelMin {
		t = 1
	}
	return t
}

// gemmPart is one piece of a job: rows [i0, i1) × columns [j0, j1) of C.
type gemmPart struct {
	job            *gemmJob
	i0, i1, j0, j1 int
}

// gemmCall is one multi-threaded product: its pieces are pulled by the caller and the workers it
// woke from one counter, so a worker that starts late (waking a parked goroutine took 90 µs here,
// a third of a 128×256×1152 product) takes what is left instead of holding the caller up with a
// fixed share. The last participant out recycles the call.
type gemmCall struct {
	job   gemmJob
	parts [gemmMaxParts]gemmPart
	n     int32
	next  atomic.Int32 // next piece to take
	left  atomic.Int32 // pieces not finished
	refs  atomic.Int32
}

var (
	gemmCalls   = sync.Pool{New: func() any { return new(gemmCall) }}
	gemmWorkers sync.Once
	gemmQueue   chan *gemmCall
)

func gemmWorker() {
	for c := range gemmQueue {
		c.pull()
		c.release()
	}
}

// pull runs pieces until none is left to take.
func (c *gemmCall) pull() {
	for {
		i := c.next.Add(1) - 1
		if i >= c.n {
			return
		}
		c.parts[i].run()
		c.left.Add(-1)
	}
}

func (c *gemmCall) release() {
	if c.refs.Add(-1) == 0 {
		// Drop references to the caller's slices before pooling.
		c.job = gemmJob{}
		c.parts = [gemmMaxParts]gemmPart{}
		gemmCalls.Put(c)
	}
}

// gemmPiecesPerThread: pieces per thread when the split allows finer pieces, so that a late worker
// and the caller even out.
const gemmPiecesPerThread = 4

func sgemm(j *gemmJob) {
	impl := current.Load()
	call := gemmCalls.Get().(*gemmCall)
	call.job = *j
	job := &call.job
	job.impl = impl

	t := j.threadCount()
	// Split over N when each thread keeps at least gemmSplitNPanels whole NR panels (the B panels are
	// then disjoint and each piece packs only its own), else over M. Over M, every piece packs all of
	// B unless B is read in place, so pieces are finer than one per thread only then.
	parts := call.parts[:0]
	if t > 1 && j.n >= t*impl.NR*gemmSplitNPanels {
		pieces := min(gemmMaxParts, t*gemmPiecesPerThread)
		step := roundUp((j.n+pieces-1)/pieces, impl.NR)
		for j0 := 0; j0 < j.n; j0 += step {
			parts = append(parts, gemmPart{job: job, i0: 0, i1: j.m, j0: j0, j1: min(j0+step, j.n)})
		}
	} else if t > 1 && j.m >= t*impl.MR*2 {
		pieces := t
		if j.bInPlace(&impl.gemm) {
			pieces = min(gemmMaxParts, t*gemmPiecesPerThread, j.m/impl.MR)
		}
		step := roundUp((j.m+pieces-1)/pieces, impl.MR)
		for i0 := 0; i0 < j.m; i0 += step {
			parts = append(parts, gemmPart{job: job, i0: i0, i1: min(i0+step, j.m), j0: 0, j1: j.n})
		}
	} else {
		parts = append(parts, gemmPart{job: job, i0: 0, i1: j.m, j0: 0, j1: j.n})
	}
	call.n = int32(len(parts))
	call.next.Store(0)
	call.left.Store(int32(len(parts)))
	helpers := min(t, len(parts)) - 1
	call.refs.Store(int32(1 + helpers))
	if helpers > 0 {
		gemmWorkers.Do(func() {
			gemmQueue = make(chan *gemmCall, gemmMaxParts)
			for range runtime.NumCPU() + 1 {
				go gemmWorker()
			}
		})
		for range helpers {
			gemmQueue <- call
		}
	}
	call.pull()
	// What is left is at most one piece per worker, already running: wait for it without parking,
	// since waking this goroutine again would cost as much as the piece.
	for spins := 0; call.left.Load() > 0; spins++ {
		if spins&63 == 63 {
			runtime.Gosched()
		}
	}
	call.release()
}

// gemmBuf holds one thread's packing buffers, 64-byte aligned, reused across calls.
type gemmBuf struct {
	ap, bp []float32
	tmp    []float32 // an MR×NR edge tile
	memA   []float32
	memB   []float32
}

var gemmBufs struct {
	sync.Mutex
	free []*gemmBuf
}

func getGemmBuf() *gemmBuf {
	gemmBufs.Lock()
	defer gemmBufs.Unlock()
	if n := len(gemmBufs.free); n > 0 {
		b := gemmBufs.free[n-1]
		gemmBufs.free = gemmBufs.free[:n-1]
		return b
	}
	return new(gemmBuf)
}

func putGemmBuf(b *gemmBuf) {
	gemmBufs.Lock()
	gemmBufs.free = append(gemmBufs.free, b)
	gemmBufs.Unlock()
}

// aligned returns a slice of n floats starting on a 64-byte boundary, reusing *mem when large enough.
func aligned(mem *[]float32, n int) []float32 {
	if cap(*mem) < n+16 {
		*mem = make([]float32, n+16)
	}
	m := (*mem)[:cap(*mem)]
	off := int((64 - uintptr(unsafe.Pointer(&m[0]))%64) % 64 / 4)
	return m[off : off+n]
}

func (p *gemmPart) run() {
	j := p.job
	impl := j.impl
	g := &impl.gemm
	mr, nr := impl.MR, impl.NR
	kc, mc, nc := gemmBlocks(mr, nr, j.k)
	strided := g.strided != nil
	directA := strided && j.alpha == 1
	directB := j.bInPlace(g)
	masked := g.stridedMasked != nil // only sets with strided kernels have it

	// A product that reads A and B in place and its edges through masked kernels packs nothing: it
	// takes no buffer. The single-image plan's products are such (Winograd's sixteen a layer on each
	// core), and their trips through the buffers' shared lock were 6% of the CNN's one-image profile:
	// without them 43.0 → 40.0 µs an image on two cores (`bench --model cnn --batch 1`, alternated).
	var buf *gemmBuf
	if !(directA && directB && masked) {
		buf = getGemmBuf()
		defer putGemmBuf(buf)
		kmax := min(kc, j.k)
		buf.ap = aligned(&buf.memA, kmax*roundUp(min(mc, p.i1-p.i0), mr)+mr*nr)
		buf.bp = aligned(&buf.memB, kmax*roundUp(min(nc, p.j1-p.j0), nr))
		buf.tmp = buf.ap[len(buf.ap)-mr*nr:]
	}

	if j.beta != 0 && j.beta != 1 {
		for i := p.i0; i < p.i1; i++ {
			row := j.c[i*j.ldc+p.j0 : i*j.ldc+p.j1]
			for x := range row {
				row[x] *= j.beta
			}
		}
	}
	var biasFlags int
	if j.bias != nil {
		biasFlags |= gemmBias
	}
	if j.relu {
		biasFlags |= gemmReLU
	}

	for ic := p.i0; ic < p.i1; ic += mc {
		mcur := min(mc, p.i1-ic)
		for pc := 0; pc < j.k; pc += kc {
			kcur := min(kc, j.k-pc)
			if !directA {
				packA(buf.ap, j.a, j.lda, j.transA, j.alpha, ic, mcur, pc, kcur, mr)
			}
			flags := 0
			if pc > 0 || j.beta != 0 {
				flags |= gemmLoadC
			}
			if pc+kcur == j.k {
				flags |= biasFlags
			}
			for jc := p.j0; jc < p.j1; jc += nc {
				ncur := min(nc, p.j1-jc)
				switch {
				case !directB:
					packB(buf.bp, j.b, j.ldb, j.transB, pc, kcur, jc, ncur, nr)
				case ncur%nr != 0 && !masked:
					// In place but for the last, partial panel: packed (zero-padded), as the kernel
					// reads whole NR-wide rows.
					last := ncur / nr * nr
					packB(buf.bp, j.b, j.ldb, false, pc, kcur, jc+last, ncur-last, nr)
				}
				for ir := 0; ir < mcur; ir += mr {
					mm := min(mr, mcur-ir)
					// A panel: packed (rows 1 apart, steps mr apart), or in place.
					var apanel *float32
					rsa, csa := 1, mr
					switch {
					case !directA:
						apanel = &buf.ap[ir*kcur]
					case j.transA:
						apanel, rsa, csa = &j.a[pc*j.lda+ic+ir], 1, j.lda
					default:
						apanel, rsa, csa = &j.a[(ic+ir)*j.lda+pc], j.lda, 1
					}
					for jr := 0; jr < ncur; jr += nr {
						nn := min(nr, ncur-jr)
						var bpanel *float32
						ldb := nr
						switch {
						case !directB:
							bpanel = &buf.bp[jr*kcur]
						case nn == nr || masked:
							bpanel, ldb = &j.b[pc*j.ldb+jc+jr], j.ldb
						default: // the packed partial panel
							bpanel = &buf.bp[0]
						}
						ci := (ic+ir)*j.ldc + jc + jr
						if strided {
							var bias *float32
							if flags&gemmBias != 0 {
								bias = &j.bias[ic+ir]
							}
							if nn == nr {
								g.strided[mm](kcur, apanel, rsa, csa, bpanel, ldb, &j.c[ci], j.ldc, bias, flags)
								continue
							}
							if masked {
								kern := g.stridedMasked
								if nn <= nr/2 && g.stridedMaskedHalf != nil {
									kern = g.stridedMaskedHalf
								}
								kern[mm](kcur, apanel, rsa, csa, bpanel, ldb, &j.c[ci], j.ldc, bias, flags, uint32(1)<<nn-1)
								continue
							}
							g.strided[mm](kcur, apanel, rsa, csa, bpanel, ldb, &buf.tmp[0], nr, nil, 0)
						} else {
							if mm == mr && nn == nr {
								var bias *float32
								if flags&gemmBias != 0 {
									bias = &j.bias[ic+ir]
								}
								g.tile(mr, nr, kcur, apanel, bpanel, &j.c[ci], j.ldc, bias, flags)
								continue
							}
							g.tile(mr, nr, kcur, apanel, bpanel, &buf.tmp[0], nr, nil, 0)
						}
						// Edge tile: computed into tmp, the valid part merged here.
						for i := 0; i < mm; i++ {
							crow := j.c[ci+i*j.ldc : ci+i*j.ldc+nn]
							trow := buf.tmp[i*nr : i*nr+nn]
							for x, v := range trow {
								if flags&gemmLoadC != 0 {
									v += crow[x]
								}
								if flags&gemmBias != 0 {
									v += j.bias[ic+ir+i]
								}
								if flags&gemmReLU != 0 && v < 0 {
									v = 0
								}
								crow[x] = v
							}
						}
					}
				}
			}
		}
	}
}

// tile runs one micro-kernel call with the given store flags.
func (g *gemmKernels) tile(mr, nr, k int, a, b, c *float32, ldc int, bias *float32, flags int) {
	if g.kernelEx != nil {
		g.kernelEx(k, a, b, c, ldc, bias, flags)
		return
	}
	if flags&gemmLoadC == 0 {
		for i := 0; i < mr; i++ {
			row := unsafe.Slice((*float32)(unsafe.Add(unsafe.Pointer(c), i*ldc*4)), nr)
			clear(row)
		}
	}
	g.kernel(k, a, b, c, ldc)
	if flags&(gemmBias|gemmReLU) != 0 {
		for i := 0; i < mr; i++ {
			row := unsafe.Slice((*float32)(unsafe.Add(unsafe.Pointer(c), i*ldc*4)), nr)
			var bv float32
			if flags&gemmBias != 0 {
				bv = *(*float32)(unsafe.Add(unsafe.Pointer(bias), i*4))
			}
			for x, v := range row {
				v += bv
				if flags&gemmReLU != 0 && v < 0 {
					v = 0
				}
				row[x] = v
			}
		}
	}
}

// packA copies the mcur×kcur block of alpha·op(A) at (ic, pc) into MR-row panels, panel r at
// ap[r*kcur*mr:], element (i, p) at [p*mr+i]; rows past mcur are zero.
func packA(ap, a []float32, lda int, trans bool, alpha float32, ic, mcur, pc, kcur, mr int) {
	for ir := 0; ir < mcur; ir += mr {
		mm := min(mr, mcur-ir)
		dst := ap[ir*kcur : (ir+mr)*kcur]
		if trans {
			// op(A)[i][p] = a[p*lda+i]: each p is a contiguous run of mm values.
			for p := 0; p < kcur; p++ {
				src := a[(pc+p)*lda+ic+ir : (pc+p)*lda+ic+ir+mm]
				d := dst[p*mr : p*mr+mr]
				for i, v := range src {
					d[i] = alpha * v
				}
				clear(d[mm:])
			}
			continue
		}
		// op(A)[i][p] = a[i*lda+p]: a transpose of mm rows. Walking p outside and the rows inside
		// writes the panel sequentially and keeps mm read streams open; the slice bounds are checked
		// once here, so the inner loop uses unchecked loads.
		first := a[(ic+ir)*lda+pc : (ic+ir+mm-1)*lda+pc+kcur]
		base := unsafe.Pointer(&first[0])
		stride := uintptr(lda) * 4
		for p := 0; p < kcur; p++ {
			d := dst[p*mr : p*mr+mr]
			src := unsafe.Add(base, p*4)
			for i := range d[:mm] {
				d[i] = alpha * *(*float32)(unsafe.Add(src, uintptr(i)*stride))
			}
			clear(d[mm:])
		}
	}
}

// packB copies the kcur×ncur block of op(B) at (pc, jc) into NR-column panels, panel r at
// bp[r*kcur*nr:], element (p, j) at [p*nr+j]; columns past ncur are zero.
func packB(bp, b []float32, ldb int, trans bool, pc, kcur, jc, ncur, nr int) {
	for jr := 0; jr < ncur; jr += nr {
		nn := min(nr, ncur-jr)
		dst := bp[jr*kcur : (jr+nr)*kcur]
		if !trans {
			for p := 0; p < kcur; p++ {
				o := (pc+p)*ldb + jc + jr
				d := dst[p*nr : p*nr+nr]
				copy(d, b[o:o+nn])
				clear(d[nn:])
			}
			continue
		}
		// op(B)[p][j] = b[j*ldb+p]: each column j of the panel is a contiguous row of b, a transpose
		// of nn rows. It goes in blocks of packTBlock steps so that the block's panel rows stay in
		// L1 while all nn rows write into them: column by column over the whole depth, each column
		// touched kcur lines and evicted the previous column's (measured: NT products at 54–98
		// GFLOP/s against 140–180 for NN).
		for p0 := 0; p0 < kcur; p0 += packTBlock {
			p1 := min(p0+packTBlock, kcur)
			for x := 0; x < nn; x++ {
				o := (jc+jr+x)*ldb + pc
				src := b[o+p0 : o+p1]
				d := dst[p0*nr+x:]
				for p, v := range src {
					d[p*nr] = v
				}
			}
			if nn < nr {
				for p := p0; p < p1; p++ {
					clear(dst[p*nr+nn : p*nr+nr])
				}
			}
		}
	}
}

// packTBlock is the depth of one block of a transposing pack: 16 steps of a 32-wide panel are 2 KiB.
const packTBlock = 16

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// scaleC sets C = beta·C, and C = 0 when beta is 0 (without reading C).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// checkGemm panics with a clear message on a programmer error in the arguments of fn.
func checkGemm(fn string, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int,
	c []float32, ldc int) {
	fail := func(format string, args ...any) {
		panic("kernels: " + fn + ": " + fmt.Sprintf(format, args...))
	}
	if m < 0 || n < 0 || k < 0 {
		fail("negative size m=%d n=%d k=%d", m, n, k)
	}
	rowsA, colsA := m, k
	if transA {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if transB {
		rowsB, colsB = n, k
	}
	if lda < max(1, colsA) {
		fail("lda = %d < max(1, %d) columns of A as stored", lda, colsA)
	}
	if ldb < max(1, colsB) {
		fail("ldb = %d < max(1, %d) columns of B as stored", ldb, colsB)
	}
	if ldc < max(1, n) {
		fail("ldc = %d < max(1, n = %d)", ldc, n)
	}
	if m == 0 || n == 0 {
		return
	}
	if need := lda*(rowsA-1) + colsA; rowsA > 0 && len(a) < need {
		fail("len(a) = %d < %d needed for %d×%d with lda %d", len(a), need, rowsA, colsA, lda)
	}
	if need := ldb*(rowsB-1) + colsB; rowsB > 0 && len(b) < need {
		fail("len(b) = %d < %d needed for %d×%d with ldb %d", len(b), need, rowsB, colsB, ldb)
	}
	if need := ldc*(m-1) + n; len(c) < need {
		fail("len(c) = %d < %d needed for %d×%d with ldc %d", len(c), need, m, n, ldc)
	}
}
