package nn

import (
	"math"
	"math/rand/v2"

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
	db      []float32 // bias-gradient scratch
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
	addBiasRows(l.y, l.b.Value, l.out, n)
	l.tap.out = l.y
	return l.y
}

func (l *linear) backward(dy []float32) []float32 {
	l.tap.dout = dy
	n := l.n
	sgemm(blas.NoTrans, blas.Trans, l.out, l.in, n, 1, dy, n, l.x, n, 1, l.w.Grad, l.in)
	l.db = grow(l.db, l.out)
	addRowSums(l.b.Grad, l.db, dy, l.out, n)
	if !l.needDX {
		return nil
	}
	l.dx = grow(l.dx, l.in*n)
	sgemm(blas.Trans, blas.NoTrans, l.in, n, l.out, 1, l.w.Value, l.in, dy, n, 0, l.dx, n)
	return l.dx
}

// addRowSums adds the row sums of the rows×cols matrix m to dst (a bias gradient); tmp holds rows
// values of scratch, since the kernel overwrites while gradients accumulate.
func addRowSums(dst, tmp, m []float32, rows, cols int) {
	parallelFor(rows, cols, func(lo, hi int) {
		kernels.BiasGradRows(tmp[lo:hi], m[lo*cols:hi*cols], hi-lo, cols)
		for r := lo; r < hi; r++ {
			dst[r] += tmp[r]
		}
	})
}

// addBiasRows adds bias[r] to row r of the rows×cols matrix x.
func addBiasRows(x, bias []float32, rows, cols int) {
	parallelFor(rows, cols, func(lo, hi int) {
		kernels.AddBiasRows(x[lo*cols:hi*cols], bias[lo:hi], hi-lo, cols)
	})
}

// ---- Conv2d 3×3, stride 1, padding 1 ----

// conv3x3 is im2col + GEMM over CNHW activations: X [cin][N·H·W] → col [cin·9][N·H·W] (row
// ci·9+kh·3+kw, matching PyTorch's [out,in,kh,kw] weight layout) → Y [cout][N·H·W] = W·col + b.
//
// It works on chunks of images whose unfolded columns stay in L2 (convChunkBytes): unfolding the
// whole batch would write, then read back, nine copies of the input from memory (29 MB for conv2 at
// batch 128) in forward and twice more in backward. Backward unfolds each chunk again instead of
// keeping the columns, which costs less than reading them back from memory.
type conv3x3 struct {
	tap
	cin, cout, h, w int
	wt, b           *Param
	needDX          bool
	n, chunk        int
	x, y, dx        []float32
	col, dcol       []float32 // one chunk's columns and their gradient
	xs, dxs         []float32 // one chunk's input (and its gradient) gathered dense, [cin][nb][h·w]
	db              []float32 // bias-gradient scratch
}

// convChunkBytes bounds one chunk's im2col matrix: half the 1 MiB L2 per core here, so the GEMM
// reads it back from cache, while each GEMM still has enough work for both cores.
var convChunkBytes = 512 << 10

func newConv3x3(name string, cin, cout, h, w int, rng *rand.Rand) *conv3x3 {
	c := &conv3x3{tap: tap{label: name}, cin: cin, cout: cout, h: h, w: w, needDX: true,
		wt: newParam(name+".weight", []int{cout, cin, 3, 3}, true),
		b:  newParam(name+".bias", []int{cout}, true)}
	bound := 1 / math.Sqrt(float64(cin*9))
	initUniform(c.wt.Value, bound, rng)
	initUniform(c.b.Value, bound, rng)
	return c
}

// chunkSize is the number of images per chunk for a batch of n.
func (c *conv3x3) chunkSize(n int) int {
	per := c.cin * 9 * c.h * c.w * 4
	return max(1, min(n, convChunkBytes/per))
}

// unfold writes the columns of images [i0, i1) into c.col ([cin·9][(i1−i0)·h·w]).
func (c *conv3x3) unfold(x []float32, n, i0, i1 int) []float32 {
	hw := c.h * c.w
	nb := i1 - i0
	src := x
	if nb != n && c.cin > 1 {
		// Each channel's images [i0, i1) are contiguous; gather them so the chunk is a dense tensor.
		for ci := 0; ci < c.cin; ci++ {
			copy(c.xs[ci*nb*hw:(ci+1)*nb*hw], x[(ci*n+i0)*hw:(ci*n+i1)*hw])
		}
		src = c.xs[:c.cin*nb*hw]
	} else if nb != n {
		src = x[i0*hw : i1*hw]
	}
	col := c.col[:c.cin*9*nb*hw]
	kernels.Im2col3x3(col, src, nb, c.cin, c.h, c.w)
	return col
}

func (c *conv3x3) forward(x []float32, n int, training bool) []float32 {
	c.n, c.x = n, x
	hw := c.h * c.w
	m := n * hw
	k := c.cin * 9
	c.chunk = c.chunkSize(n)
	c.col = grow(c.col, k*c.chunk*hw)
	c.xs = grow(c.xs, c.cin*c.chunk*hw)
	c.y = grow(c.y, c.cout*m)
	for i0 := 0; i0 < n; i0 += c.chunk {
		i1 := min(n, i0+c.chunk)
		mc := (i1 - i0) * hw
		col := c.unfold(x, n, i0, i1)
		sgemm(blas.NoTrans, blas.NoTrans, c.cout, mc, k, 1, c.wt.Value, k, col, mc, 0, c.y[i0*hw:], m)
	}
	addBiasRows(c.y, c.b.Value, c.cout, m)
	c.tap.out = c.y
	return c.y
}

func (c *conv3x3) backward(dy []float32) []float32 {
	c.tap.dout = dy
	n := c.n
	hw := c.h * c.w
	m := n * hw
	k := c.cin * 9
	c.db = grow(c.db, c.cout)
	addRowSums(c.b.Grad, c.db, dy, c.cout, m)
	if c.needDX {
		c.dcol = grow(c.dcol, k*c.chunk*hw)
		c.dxs = grow(c.dxs, c.cin*c.chunk*hw)
		c.dx = grow(c.dx, c.cin*m)
	}
	for i0 := 0; i0 < n; i0 += c.chunk {
		i1 := min(n, i0+c.chunk)
		nb := i1 - i0
		mc := nb * hw
		col := c.unfold(c.x, n, i0, i1)
		sgemm(blas.NoTrans, blas.Trans, c.cout, k, mc, 1, dy[i0*hw:], m, col, mc, 1, c.wt.Grad, k)
		if !c.needDX {
			continue
		}
		dcol := c.dcol[:k*mc]
		sgemm(blas.Trans, blas.NoTrans, k, mc, c.cout, 1, c.wt.Value, k, dy[i0*hw:], m, 0, dcol, mc)
		dxs := c.dxs[:c.cin*mc]
		clear(dxs)
		kernels.Col2im3x3(dxs, dcol, nb, c.cin, c.h, c.w)
		for ci := 0; ci < c.cin; ci++ {
			copy(c.dx[(ci*n+i0)*hw:(ci*n+i1)*hw], dxs[ci*mc:(ci+1)*mc])
		}
	}
	if !c.needDX {
		return nil
	}
	return c.dx
}

// im2col3x3 writes col[ci·9+kh·3+kw][(img·h+i)·w+j] = src[ci][img][i+kh−1][j+kw−1], zero outside,
// split over input channels (each channel's 9 rows are independent).
func im2col3x3(col, src []float32, cin, n, h, w int) {
	m := n * h * w
	parallelFor(cin, 9*m, func(lo, hi int) {
		kernels.Im2col3x3(col[lo*9*m:hi*9*m], src[lo*m:hi*m], n, hi-lo, h, w)
	})
}

// col2im3x3 is the adjoint of im2col3x3 (the convolution's input gradient). It overwrites dst.
func col2im3x3(dst, col []float32, cin, n, h, w int) {
	m := n * h * w
	parallelFor(cin, 9*m, func(lo, hi int) {
		clear(dst[lo*m : hi*m])
		kernels.Col2im3x3(dst[lo*m:hi*m], col[lo*9*m:hi*9*m], n, hi-lo, h, w)
	})
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
	xhat, y, dx     []float32
	mean, variance  []float32 // the statistics the last forward normalized with
	dg, db, scale   []float32 // per-channel scratch for backward
	zero            []float32
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
	b.xhat = grow(b.xhat, b.c*m)
	b.y = grow(b.y, b.c*m)
	parallelFor(b.c, 3*m, func(lo, hi int) {
		mean, variance := b.mean[lo:hi], b.variance[lo:hi]
		if training {
			kernels.BatchNormStats(mean, variance, x[lo*m:hi*m], hi-lo, m)
			unbias := 1.0
			if m > 1 {
				unbias = float64(m) / float64(m-1)
			}
			for r := lo; r < hi; r++ {
				b.runMean.Value[r] = float32((1-bnMomentum)*float64(b.runMean.Value[r]) + bnMomentum*float64(b.mean[r]))
				b.runVar.Value[r] = float32((1-bnMomentum)*float64(b.runVar.Value[r]) + bnMomentum*float64(b.variance[r])*unbias)
			}
		} else {
			copy(mean, b.runMean.Value[lo:hi])
			copy(variance, b.runVar.Value[lo:hi])
		}
		kernels.BatchNormForward(b.y[lo*m:hi*m], b.xhat[lo*m:hi*m], x[lo*m:hi*m], mean, variance,
			b.gamma.Value[lo:hi], b.beta.Value[lo:hi], hi-lo, m, batchNormEps)
	})
	b.tap.out = b.y
	return b.y
}

func (b *batchNorm) backward(dy []float32) []float32 {
	b.tap.dout = dy
	m := b.m
	b.dx = grow(b.dx, b.c*m)
	parallelFor(b.c, 3*m, func(lo, hi int) {
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
	})
	return b.dx
}

// ---- ReLU ----

type relu struct {
	tap
	y, dx []float32
}

func (l *relu) forward(x []float32, n int, training bool) []float32 {
	l.y = grow(l.y, len(x))
	parallelFor(len(x), 1, func(lo, hi int) { kernels.ReLU(l.y[lo:hi], x[lo:hi]) })
	l.tap.out = l.y
	return l.y
}

func (l *relu) backward(dy []float32) []float32 {
	l.tap.dout = dy
	l.dx = grow(l.dx, len(dy))
	parallelFor(len(dy), 1, func(lo, hi int) { kernels.ReLUBackward(l.dx[lo:hi], dy[lo:hi], l.y[lo:hi]) })
	return l.dx
}

// ---- MaxPool 2×2, stride 2, floor ----

// maxPool2 pools each contiguous h×w plane of a CNHW tensor (planes = C·N) to (h/2)×(w/2), dropping
// an odd last row/column like PyTorch, and remembers each window's argmax for backward.
type maxPool2 struct {
	tap
	c, h, w int
	planes  int
	y, dx   []float32
	arg     []uint8 // per output: where in its 2×2 window the max was
}

func (p *maxPool2) forward(x []float32, n int, training bool) []float32 {
	in, out := p.h*p.w, (p.h/2)*(p.w/2)
	p.planes = p.c * n
	p.y = grow(p.y, p.planes*out)
	if cap(p.arg) < p.planes*out {
		p.arg = make([]uint8, p.planes*out)
	}
	p.arg = p.arg[:p.planes*out]
	parallelFor(p.planes, in, func(lo, hi int) {
		kernels.MaxPool2x2(p.y[lo*out:hi*out], p.arg[lo*out:hi*out], x[lo*in:hi*in], hi-lo, p.h, p.w)
	})
	p.tap.out = p.y
	return p.y
}

func (p *maxPool2) backward(dy []float32) []float32 {
	p.tap.dout = dy
	in, out := p.h*p.w, (p.h/2)*(p.w/2)
	p.dx = grow(p.dx, p.planes*in)
	parallelFor(p.planes, in, func(lo, hi int) {
		kernels.MaxPool2x2Backward(p.dx[lo*in:hi*in], dy[lo*out:hi*out], p.arg[lo*out:hi*out], hi-lo, p.h, p.w)
	})
	return p.dx
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
		// so its cost matters. P(u < p·2³²) = p to within 2⁻³².
		keep := 1 / (1 - d.p)
		thresh := uint32(float64(d.p) * (1 << 32))
		mask := d.mask
		for len(mask) >= 2 {
			r := d.rng.Uint64()
			mask[0], mask[1] = keep, keep
			if uint32(r) < thresh {
				mask[0] = 0
			}
			if uint32(r>>32) < thresh {
				mask[1] = 0
			}
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
	parallelFor(len(x), 1, func(lo, hi int) {
		y, m := d.y[lo:hi], d.mask[lo:hi]
		for i, v := range x[lo:hi] {
			y[i] = v * m[i]
		}
	})
	d.tap.out = d.y
	return d.y
}

func (d *dropout) backward(dy []float32) []float32 {
	d.tap.dout = dy
	if !d.training || d.p == 0 {
		return dy
	}
	d.dx = grow(d.dx, len(dy))
	parallelFor(len(dy), 1, func(lo, hi int) {
		dx, m := d.dx[lo:hi], d.mask[lo:hi]
		for i, v := range dy[lo:hi] {
			dx[i] = v * m[i]
		}
	})
	return d.dx
}

// ---- Flatten: CNHW [C][N·HW] → features × N with feature index c·HW + p (PyTorch's C,H,W order) ----

type flatten struct {
	tap
	c, hw int
	n     int
	y, dx []float32
}

func (f *flatten) forward(x []float32, n int, training bool) []float32 {
	f.n = n
	f.y = grow(f.y, f.c*f.hw*n)
	parallelFor(f.c, f.hw*n, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			for img := 0; img < n; img++ {
				src := x[c*n*f.hw+img*f.hw : c*n*f.hw+(img+1)*f.hw]
				for p, v := range src {
					f.y[(c*f.hw+p)*n+img] = v
				}
			}
		}
	})
	f.tap.out = f.y
	return f.y
}

func (f *flatten) backward(dy []float32) []float32 {
	f.tap.dout = dy
	n := f.n
	f.dx = grow(f.dx, f.c*f.hw*n)
	parallelFor(f.c, f.hw*n, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			for img := 0; img < n; img++ {
				dst := f.dx[c*n*f.hw+img*f.hw : c*n*f.hw+(img+1)*f.hw]
				for p := range dst {
					dst[p] = dy[(c*f.hw+p)*n+img]
				}
			}
		}
	})
	return f.dx
}

// transpose writes dst[c][r] = src[r][c] for a rows×cols src.
func transpose(dst, src []float32, rows, cols int) {
	parallelFor(rows, cols, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			for c, v := range src[r*cols : (r+1)*cols] {
				dst[c*rows+r] = v
			}
		}
	})
}
