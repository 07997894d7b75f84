package nn

import (
	"math"
	"math/rand/v2"
	"runtime"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/simdnn/simdnn/kernels"
)

// layer is one step of a network over channel-major activations. forward's input stays referenced
// until backward (layers never write into their input), and each layer owns its output and input
// gradient buffers, which live until the next call.
type layer interface {
	name() string
	forward(x []float32, n int, training bool) []float32
	// backward takes dLoss/dOutput and returns dLoss/dInput (nil for a layer that is first in its
	// network, which needs no input gradient); parameter gradients accumulate.
	backward(dy []float32) []float32
}

// tap records what a layer last produced and received, so tools such as Grad-CAM can read a
// feature map and the gradient of the loss with respect to it without a special network.
type tap struct {
	label string
	out   []float32 // last forward output
	dout  []float32 // last gradient received by backward (not a copy)
}

func (t *tap) name() string { return t.label }

func sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	blas32.Implementation().Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// sgemmSerial is sgemm on the calling goroutine's thread only, for work already split over the cores.
// A foreign blas.Float32 (gonum's, for comparisons) runs as it is.
func sgemmSerial(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	impl := blas32.Implementation()
	if kb, ok := impl.(kernels.BLAS32); ok {
		kb.Threads = 1
		kb.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	impl.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// initUniform fills v from U(−bound, bound): PyTorch's default for Linear and Conv weights
// (kaiming_uniform with a=√5 reduces to bound = 1/√fan_in) and their biases.
func initUniform(v []float32, bound float64, rng *rand.Rand) {
	for i := range v {
		v[i] = float32((rng.Float64()*2 - 1) * bound)
	}
}

// ---- Linear ----

// linear computes Y[out][N] = W[out][in]·X[in][N] + b, W in PyTorch's [out,in] layout.
type linear struct {
	tap
	in, out int
	w, b    *Param
	needDX  bool
	x       []float32
	n       int
	y, dx   []float32
	bias    biasAdder
	sums    rowSummer
}

func newLinear(name string, in, out int, rng *rand.Rand) *linear {
	l := &linear{tap: tap{label: name}, in: in, out: out, needDX: true,
		w: newParam(name+".weight", []int{out, in}, true),
		b: newParam(name+".bias", []int{out}, true)}
	bound := 1 / math.Sqrt(float64(in))
	initUniform(l.w.Value, bound, rng)
	initUniform(l.b.Value, bound, rng)
	return l
}

func (l *linear) forward(x []float32, n int, training bool) []float32 {
	l.x, l.n = x, n
	l.y = grow(l.y, l.out*n)
	sgemm(blas.NoTrans, blas.NoTrans, l.out, n, l.in, 1, l.w.Value, l.in, x, n, 0, l.y, n)
	l.bias.do(l.y, l.b.Value, l.out, n)
	l.tap.out = l.y
	return l.y
}

func (l *linear) backward(dy []float32) []float32 {
	l.tap.dout = dy
	n := l.n
	sgemm(blas.NoTrans, blas.Trans, l.out, l.in, n, 1, dy, n, l.x, n, 1, l.w.Grad, l.in)
	l.sums.do(l.b.Grad, dy, l.out, n)
	if !l.needDX {
		return nil
	}
	l.dx = grow(l.dx, l.in*n)
	sgemm(blas.Trans, blas.NoTrans, l.in, n, l.out, 1, l.w.Value, l.in, dy, n, 0, l.dx, n)
	return l.dx
}

// ---- Conv2d 3×3, stride 1, padding 1 ----

// conv3x3 is im2col + GEMM over CNHW activations: X [cin][N·H·W] → col [cin·9][N·H·W] (row
// ci·9+kh·3+kw, matching PyTorch's [out,in,kh,kw] weight layout) → Y [cout][N·H·W] = W·col + b.
//
// It works on chunks of images whose unfolded columns stay in L2 (convChunkBytes): unfolding the
// whole batch would write, then read back, nine copies of the input from memory (29 MB for conv2 at
// batch 128) in forward and twice more in backward. Backward unfolds each chunk again instead of
// keeping the columns, which costs less than reading them back from memory.
//
// The chunks, not the products, are split over the cores: each worker unfolds its own chunks into its
// own buffers (in its own core's L2) and runs their GEMMs on one thread, so there is no fork and join
// per product and each core's GEMM keeps whole panels. Measured on a CNN training step at batch 128
// (conv2 + conv3, forward + backward, 2 cores): 55.4 ms with each chunk's GEMM split over both cores,
// 24.5 ms with the chunks split over the cores.
type conv3x3 struct {
	tap
	cin, cout, h, w int
	wt, b           *Param
	needDX          bool
	// dwT: the workers accumulate the weight gradient transposed, [cin·9][cout] += col·dyᵀ, when
	// cin·9 > cout. The GEMM then runs with its long side as rows, as Sgemm would run dW = dy·colᵀ
	// anyway (swapped into scratch), but without a transposed add into dW after every chunk: that
	// add, scalar and on one core, took 5% of a residual CNN training step.
	dwT          bool
	n, chunk     int
	x, y, dy, dx []float32
	workers      []convWorker
	bias         biasAdder
	sums         rowSummer
	fwdLoop      loop // over workers, each taking every len(workers)-th chunk
	bwdLoop      loop
}

// convWorker is one core's share of a convolution: its chunk buffers and its part of the weight
// gradient (summed into the parameter's gradient after the batch, in worker order).
type convWorker struct {
	col, dcol []float32 // one chunk's columns [cin·9][nb·h·w] and their gradient
	dw        []float32 // the worker's weight gradient, [cout][cin·9], or transposed when dwT
}

// convChunkBytes bounds one chunk's im2col matrix: half the 1 MiB L2 of one core here, which also
// holds the GEMM's packed panels. Measured on a CNN training step at batch 128 (ms per step, 2 cores,
// two runs each): 256 KiB 44.4, 512 KiB 38.8 and 41.7, 1 MiB 39.3 and 40.0, 2 MiB 42.2.
var convChunkBytes = 1 << 19

func newConv3x3(name string, cin, cout, h, w int, rng *rand.Rand) *conv3x3 {
	c := &conv3x3{tap: tap{label: name}, cin: cin, cout: cout, h: h, w: w, needDX: true, dwT: cin*9 > cout,
		wt: newParam(name+".weight", []int{cout, cin, 3, 3}, true),
		b:  newParam(name+".bias", []int{cout}, true)}
	bound := 1 / math.Sqrt(float64(cin*9))
	initUniform(c.wt.Value, bound, rng)
	initUniform(c.b.Value, bound, rng)
	c.fwdLoop.body = c.forwardWorker // bound once: a method value allocates
	c.bwdLoop.body = c.backwardWorker
	return c
}

// chunkSize is the number of images per chunk for a batch of n: at most convChunkBytes of columns,
// with a number of chunks that the cores share evenly.
func (c *conv3x3) chunkSize(n int) int {
	per := c.cin * 9 * c.h * c.w * 4
	most := max(1, min(n, convChunkBytes/per))
	chunks := roundUp((n+most-1)/most, convWorkers(n))
	return (n + chunks - 1) / chunks
}

// convWorkers is the number of workers a batch of n images is split over.
func convWorkers(n int) int { return max(1, min(runtime.GOMAXPROCS(0), n)) }

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// setup sizes the workers' buffers for a batch of n.
func (c *conv3x3) setup(n int) {
	c.n = n
	c.chunk = c.chunkSize(n)
	chunks := (n + c.chunk - 1) / c.chunk
	nw := min(convWorkers(n), chunks)
	if len(c.workers) != nw {
		c.workers = make([]convWorker, nw)
	}
	hw := c.h * c.w
	for i := range c.workers {
		wk := &c.workers[i]
		wk.col = grow(wk.col, c.cin*9*c.chunk*hw)
	}
}

// runWorkers runs body once per worker, each on its own core.
func (c *conv3x3) runWorkers(l *loop) {
	// The work figure only has to exceed minParallelWork: every worker has whole chunks to do.
	l.run(len(c.workers), minParallelWork)
}

// unfold writes the columns of images [i0, i1) of x into wk.col ([cin·9][(i1−i0)·h·w]).
func (c *conv3x3) unfold(wk *convWorker, x []float32, i0, i1 int) []float32 {
	col := wk.col[:c.cin*9*(i1-i0)*c.h*c.w]
	kernels.Im2col3x3Images(col, x[:c.cin*c.n*c.h*c.w], c.n, c.cin, c.h, c.w, i0, i1)
	return col
}

func (c *conv3x3) forward(x []float32, n int, training bool) []float32 {
	c.x = x
	c.setup(n)
	c.y = grow(c.y, c.cout*n*c.h*c.w)
	c.runWorkers(&c.fwdLoop)
	c.tap.out = c.y
	return c.y
}

func (c *conv3x3) forwardWorker(lo, hi int)  { c.work(lo, hi, false) }
func (c *conv3x3) backwardWorker(lo, hi int) { c.work(lo, hi, true) }

// work runs workers [lo, hi) over their chunks: forward (columns, GEMM, bias) or backward (columns
// again, the worker's weight gradient, the column gradient folded back onto dx).
func (c *conv3x3) work(lo, hi int, backward bool) {
	hw := c.h * c.w
	m := c.n * hw
	k := c.cin * 9
	for w := lo; w < hi; w++ {
		wk := &c.workers[w]
		for i0 := w * c.chunk; i0 < c.n; i0 += len(c.workers) * c.chunk {
			i1 := min(c.n, i0+c.chunk)
			nb := i1 - i0
			mc := nb * hw
			col := c.unfold(wk, c.x, i0, i1)
			if !backward {
				sgemmSerial(blas.NoTrans, blas.NoTrans, c.cout, mc, k, 1, c.wt.Value, k, col, mc, 0, c.y[i0*hw:], m)
				for r := 0; r < c.cout; r++ {
					kernels.AddBiasRows(c.y[r*m+i0*hw:r*m+i1*hw], c.b.Value[r:r+1], 1, mc)
				}
				continue
			}
			if c.dwT {
				sgemmSerial(blas.NoTrans, blas.Trans, k, c.cout, mc, 1, col, mc, c.dy[i0*hw:], m, 1, wk.dw, c.cout)
			} else {
				sgemmSerial(blas.NoTrans, blas.Trans, c.cout, k, mc, 1, c.dy[i0*hw:], m, col, mc, 1, wk.dw, k)
			}
			if !c.needDX {
				continue
			}
			dcol := wk.dcol[:k*mc]
			sgemmSerial(blas.Trans, blas.NoTrans, k, mc, c.cout, 1, c.wt.Value, k, c.dy[i0*hw:], m, 0, dcol, mc)
			for ci := 0; ci < c.cin; ci++ {
				clear(c.dx[(ci*c.n+i0)*hw : (ci*c.n+i1)*hw])
			}
			kernels.Col2im3x3Images(c.dx, dcol, c.n, c.cin, c.h, c.w, i0, i1)
		}
	}
}

func (c *conv3x3) backward(dy []float32) []float32 {
	c.tap.dout = dy
	c.dy = dy
	n := c.n
	hw := c.h * c.w
	k := c.cin * 9
	c.sums.do(c.b.Grad, dy, c.cout, n*hw)
	if c.needDX {
		c.dx = grow(c.dx, c.cin*n*hw)
	}
	for i := range c.workers {
		wk := &c.workers[i]
		wk.dw = grow(wk.dw, c.cout*k)
		clear(wk.dw)
		if c.needDX {
			wk.dcol = grow(wk.dcol, k*c.chunk*hw)
		}
	}
	c.runWorkers(&c.bwdLoop)
	g := c.wt.Grad
	for i := range c.workers {
		dw := c.workers[i].dw
		if !c.dwT {
			kernels.Add(g, dw)
			continue
		}
		for o := 0; o < c.cout; o++ {
			row := g[o*k : (o+1)*k]
			for p := range row {
				row[p] += dw[p*c.cout+o]
			}
		}
	}
	if !c.needDX {
		return nil
	}
	return c.dx
}

// im2col3x3 and col2im3x3 unfold and fold a whole batch at once (tests check the kernels' layout
// against the direct convolution and their adjointness through these).
func im2col3x3(col, src []float32, cin, n, h, w int) { kernels.Im2col3x3(col, src, n, cin, h, w) }

func col2im3x3(dst, col []float32, cin, n, h, w int) {
	clear(dst[:cin*n*h*w])
	kernels.Col2im3x3(dst, col, n, cin, h, w)
}

// ---- BatchNorm (1d over features × N, 2d over C × N·H·W: both are per-row) ----

const (
	batchNormEps = 1e-5
	bnMomentum   = 0.1
)

// batchNorm normalizes each row of a [C][M] tensor. Training uses the batch's mean and biased
// variance and updates the running statistics with the unbiased variance, exactly as PyTorch does;
// evaluation uses the running statistics.
type batchNorm struct {
	tap
	c               int
	hw              int // positions per image: M = N·hw
	gamma, beta     *Param
	runMean, runVar *Param
	m               int
	training        bool
	// average: training-mode batches update the running statistics to the plain average of the
	// batches seen since RecomputeBNStats reset them, not to the exponential moving average.
	average        bool
	seen           int
	xhat, y, dx    []float32
	mean, variance []float32 // the statistics the last forward normalized with
	dg, db, scale  []float32 // per-channel scratch for backward
	zero           []float32
	x, dy          []float32 // operands of the parallel loops
	fwdLoop        loop
	bwdLoop        loop
}

func newBatchNorm(name string, c, hw int) *batchNorm {
	b := &batchNorm{tap: tap{label: name}, c: c, hw: hw,
		gamma:   newParam(name+".weight", []int{c}, true),
		beta:    newParam(name+".bias", []int{c}, true),
		runMean: newParam(name+".running_mean", []int{c}, false),
		runVar:  newParam(name+".running_var", []int{c}, false),
		mean:    make([]float32, c), variance: make([]float32, c),
		dg: make([]float32, c), db: make([]float32, c), scale: make([]float32, c), zero: make([]float32, c)}
	for i := 0; i < c; i++ {
		b.gamma.Value[i] = 1
		b.runVar.Value[i] = 1
	}
	return b
}

func (b *batchNorm) forward(x []float32, n int, training bool) []float32 {
	m := n * b.hw
	b.m, b.training = m, training
	if training && b.average {
		b.seen++
	}
	b.xhat = grow(b.xhat, b.c*m)
	b.y = grow(b.y, b.c*m)
	b.x = x
	if b.fwdLoop.body == nil {
		b.fwdLoop.body = b.forwardRows // bound once: a method value allocates
	}
	b.fwdLoop.run(b.c, 3*m)
	b.tap.out = b.y
	return b.y
}

func (b *batchNorm) forwardRows(lo, hi int) {
	m, x := b.m, b.x
	mean, variance := b.mean[lo:hi], b.variance[lo:hi]
	if b.training {
		kernels.BatchNormStats(mean, variance, x[lo*m:hi*m], hi-lo, m)
		unbias := 1.0
		if m > 1 {
			unbias = float64(m) / float64(m-1)
		}
		momentum := bnMomentum
		if b.average {
			momentum = 1 / float64(b.seen)
		}
		for r := lo; r < hi; r++ {
			b.runMean.Value[r] = float32((1-momentum)*float64(b.runMean.Value[r]) + momentum*float64(b.mean[r]))
			b.runVar.Value[r] = float32((1-momentum)*float64(b.runVar.Value[r]) + momentum*float64(b.variance[r])*unbias)
		}
	} else {
		copy(mean, b.runMean.Value[lo:hi])
		copy(variance, b.runVar.Value[lo:hi])
	}
	kernels.BatchNormForward(b.y[lo*m:hi*m], b.xhat[lo*m:hi*m], x[lo*m:hi*m], mean, variance,
		b.gamma.Value[lo:hi], b.beta.Value[lo:hi], hi-lo, m, batchNormEps)
}

func (b *batchNorm) backward(dy []float32) []float32 {
	b.tap.dout = dy
	m := b.m
	b.dx = grow(b.dx, b.c*m)
	b.dy = dy
	if b.bwdLoop.body == nil {
		b.bwdLoop.body = b.backwardRows // bound once: a method value allocates
	}
	b.bwdLoop.run(b.c, 3*m)
	return b.dx
}

func (b *batchNorm) backwardRows(lo, hi int) {
	m, dy := b.m, b.dy
	rows := hi - lo
	dx, d, xh := b.dx[lo*m:hi*m], dy[lo*m:hi*m], b.xhat[lo*m:hi*m]
	if b.training {
		kernels.BatchNormBackward(dx, b.dg[lo:hi], b.db[lo:hi], d, xh, b.variance[lo:hi], b.gamma.Value[lo:hi], rows, m, batchNormEps)
	} else {
		// With running statistics the normalization is a fixed per-channel affine map.
		kernels.BiasGradRows(b.db[lo:hi], d, rows, m)
		for r := lo; r < hi; r++ {
			var s float64
			xr := b.xhat[r*m : (r+1)*m]
			for j, v := range dy[r*m : (r+1)*m] {
				s += float64(v) * float64(xr[j])
			}
			b.dg[r] = float32(s)
			b.scale[r] = b.gamma.Value[r] / float32(math.Sqrt(float64(b.variance[r])+batchNormEps))
		}
		kernels.ScaleShiftRows(dx, d, b.scale[lo:hi], b.zero[lo:hi], rows, m, false)
	}
	for r := lo; r < hi; r++ {
		b.gamma.Grad[r] += b.dg[r]
		b.beta.Grad[r] += b.db[r]
	}
}

// ---- ReLU ----

type relu struct {
	tap
	y, dx, x, dy     []float32
	fwdLoop, bwdLoop loop
}

func (l *relu) forward(x []float32, n int, training bool) []float32 {
	l.y = grow(l.y, len(x))
	l.x = x
	if l.fwdLoop.body == nil {
		l.fwdLoop.body = l.forwardPart // bound once: a method value allocates
	}
	l.fwdLoop.run(len(x), 1)
	l.tap.out = l.y
	return l.y
}

func (l *relu) backward(dy []float32) []float32 {
	l.tap.dout = dy
	l.dx = grow(l.dx, len(dy))
	l.dy = dy
	if l.bwdLoop.body == nil {
		l.bwdLoop.body = l.backwardPart // bound once: a method value allocates
	}
	l.bwdLoop.run(len(dy), 1)
	return l.dx
}

func (l *relu) forwardPart(lo, hi int)  { kernels.ReLU(l.y[lo:hi], l.x[lo:hi]) }
func (l *relu) backwardPart(lo, hi int) { kernels.ReLUBackward(l.dx[lo:hi], l.dy[lo:hi], l.y[lo:hi]) }

// ---- MaxPool 2×2, stride 2, floor ----

// maxPool2 pools each contiguous h×w plane of a CNHW tensor (planes = C·N) to (h/2)×(w/2), dropping
// an odd last row/column like PyTorch, and remembers each window's argmax for backward.
type maxPool2 struct {
	tap
	c, h, w int
	planes  int
	y, dx   []float32
	arg     []uint8 // per output: where in its 2×2 window the max was
	x, dy   []float32
	fwdLoop loop
	bwdLoop loop
}

func (p *maxPool2) forward(x []float32, n int, training bool) []float32 {
	in, out := p.h*p.w, (p.h/2)*(p.w/2)
	p.planes = p.c * n
	p.y = grow(p.y, p.planes*out)
	if cap(p.arg) < p.planes*out {
		p.arg = make([]uint8, p.planes*out)
	}
	p.arg = p.arg[:p.planes*out]
	p.x = x
	if p.fwdLoop.body == nil {
		p.fwdLoop.body = p.forwardPlanes // bound once: a method value allocates
	}
	p.fwdLoop.run(p.planes, in)
	p.tap.out = p.y
	return p.y
}

func (p *maxPool2) backward(dy []float32) []float32 {
	p.tap.dout = dy
	in := p.h * p.w
	p.dx = grow(p.dx, p.planes*in)
	p.dy = dy
	if p.bwdLoop.body == nil {
		p.bwdLoop.body = p.backwardPlanes // bound once: a method value allocates
	}
	p.bwdLoop.run(p.planes, in)
	return p.dx
}

func (p *maxPool2) forwardPlanes(lo, hi int) {
	in, out := p.h*p.w, (p.h/2)*(p.w/2)
	kernels.MaxPool2x2(p.y[lo*out:hi*out], p.arg[lo*out:hi*out], p.x[lo*in:hi*in], hi-lo, p.h, p.w)
}

func (p *maxPool2) backwardPlanes(lo, hi int) {
	in, out := p.h*p.w, (p.h/2)*(p.w/2)
	kernels.MaxPool2x2Backward(p.dx[lo*in:hi*in], p.dy[lo*out:hi*out], p.arg[lo*out:hi*out], hi-lo, p.h, p.w)
}

// ---- Dropout (inverted) ----

// dropout zeroes each activation with probability p while training and scales the survivors by
// 1/(1−p), so evaluation is the identity. The mask comes from the network's seeded generator, so a
// seed reproduces a run.
type dropout struct {
	tap
	p        float32
	rng      *rand.Rand
	training bool
	mask     []float32
	y, dx    []float32
	// fixedMask, when set (tests), replaces the random draw.
	fixedMask []float32
	// mulLoop computes dst = src·mask (forward and backward alike).
	mulLoop  loop
	dst, src []float32
}

func (d *dropout) forward(x []float32, n int, training bool) []float32 {
	d.training = training
	if !training || d.p == 0 {
		d.tap.out = x
		return x
	}
	d.mask = grow(d.mask, len(x))
	if d.fixedMask != nil {
		copy(d.mask, d.fixedMask)
	} else {
		// Two 32-bit uniforms per draw from the generator: the mask is serial (one seeded stream),
		// so its cost matters. P(u < p·2³²) = p to within 2⁻³². The loop selects keep or 0 by bit
		// masks rather than branches: a branch on a random bit mispredicts once in four draws at
		// p = 0.25, and the loop took 2% of a residual CNN training step's CPU time on one core
		// while the other waited.
		keep := 1 / (1 - d.p)
		thresh := uint32(float64(d.p) * (1 << 32))
		keepBits := math.Float32bits(keep)
		mask := d.mask
		for len(mask) >= 2 {
			r := d.rng.Uint64()
			mask[0] = math.Float32frombits(keepBits & dropBits(uint32(r), thresh))
			mask[1] = math.Float32frombits(keepBits & dropBits(uint32(r>>32), thresh))
			mask = mask[2:]
		}
		if len(mask) == 1 {
			mask[0] = keep
			if uint32(d.rng.Uint64()) < thresh {
				mask[0] = 0
			}
		}
	}
	d.y = grow(d.y, len(x))
	d.dst, d.src = d.y, x
	if d.mulLoop.body == nil {
		d.mulLoop.body = d.mul // bound once: a method value allocates
	}
	d.mulLoop.run(len(x), 1)
	d.tap.out = d.y
	return d.y
}

// dropBits is all ones when u ≥ thresh (the unit is kept) and zero when u < thresh (dropped).
func dropBits(u, thresh uint32) uint32 {
	return uint32((uint64(u)-uint64(thresh))>>63) - 1
}

func (d *dropout) backward(dy []float32) []float32 {
	d.tap.dout = dy
	if !d.training || d.p == 0 {
		return dy
	}
	d.dx = grow(d.dx, len(dy))
	d.dst, d.src = d.dx, dy
	if d.mulLoop.body == nil {
		d.mulLoop.body = d.mul // bound once: a method value allocates
	}
	d.mulLoop.run(len(dy), 1)
	return d.dx
}

func (d *dropout) mul(lo, hi int) {
	dst, m := d.dst[lo:hi], d.mask[lo:hi]
	for i, v := range d.src[lo:hi] {
		dst[i] = v * m[i]
	}
}

// ---- Flatten: CNHW [C][N·HW] → features × N with feature index c·HW + p (PyTorch's C,H,W order) ----

type flatten struct {
	tap
	c, hw            int
	n                int
	y, dx, x, dy     []float32
	fwdLoop, bwdLoop loop
}

func (f *flatten) forward(x []float32, n int, training bool) []float32 {
	f.n = n
	f.y = grow(f.y, f.c*f.hw*n)
	f.x = x
	if f.fwdLoop.body == nil {
		f.fwdLoop.body = f.forwardChannels // bound once: a method value allocates
	}
	f.fwdLoop.run(f.c, f.hw*n)
	f.tap.out = f.y
	return f.y
}

func (f *flatten) forwardChannels(lo, hi int) {
	n, x := f.n, f.x
	for c := lo; c < hi; c++ {
		for img := 0; img < n; img++ {
			src := x[c*n*f.hw+img*f.hw : c*n*f.hw+(img+1)*f.hw]
			for p, v := range src {
				f.y[(c*f.hw+p)*n+img] = v
			}
		}
	}
}

func (f *flatten) backward(dy []float32) []float32 {
	f.tap.dout = dy
	n := f.n
	f.dx = grow(f.dx, f.c*f.hw*n)
	f.dy = dy
	if f.bwdLoop.body == nil {
		f.bwdLoop.body = f.backwardChannels // bound once: a method value allocates
	}
	f.bwdLoop.run(f.c, f.hw*n)
	return f.dx
}

func (f *flatten) backwardChannels(lo, hi int) {
	n, dy := f.n, f.dy
	for c := lo; c < hi; c++ {
		for img := 0; img < n; img++ {
			dst := f.dx[c*n*f.hw+img*f.hw : c*n*f.hw+(img+1)*f.hw]
			for p := range dst {
				dst[p] = dy[(c*f.hw+p)*n+img]
			}
		}
	}
}
