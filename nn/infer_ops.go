package nn

import "github.com/simdnn/simdnn/kernels"

// The inference graph's compute steps, on the kernels package.

// infConvOp is one 3×3 convolution of the graph (stride 1, padding 1, BatchNorm folded): the CNN's
// conv layers and the residual blocks' convolutions both run through it.
type infConvOp struct {
	weight, bias    []float32 // [cout][cin·9], [cout]
	wino            *kernels.WinogradF2x3
	cin, cout, h, w int
	// rh×rw is the top-left region of the output the next step reads: a 2×2 max-pool that rounds down
	// skips an odd last row and column (the CNN's conv3: 6×6 of 7×7). Winograd computes only the
	// region; im2col + GEMM computes the whole output.
	rh, rw int
	relu   bool
	// wt is the weight matrix transposed, [9·cin][cout] with rows in (kh, kw, ci) order, for a
	// single image whose output a 2×2 pool reads: runPooled. nil for other convolutions.
	wt []float32
}

// newInfConvOp makes the step and, for more than one input channel, the Winograd transform of its
// weights (one input channel runs the direct kernel of the first layer, faster than either GEMM).
func newInfConvOp(weight, bias []float32, cin, cout, h, w int, relu bool) *infConvOp {
	c := &infConvOp{weight: weight, bias: bias, cin: cin, cout: cout, h: h, w: w, rh: h, rw: w, relu: relu}
	if cin >= 2 {
		c.wino = kernels.NewWinogradF2x3(weight, cin, cout)
	}
	return c
}

// setPooled prepares runPooled: the convolution's output feeds a floor 2×2 max-pool.
func (c *infConvOp) setPooled() {
	c.rh, c.rw = c.h-c.h%2, c.w-c.w%2
	if c.cin < 2 || c.rh == 0 || c.rw == 0 {
		return // one input channel: the direct kernel is faster than any GEMM
	}
	k := 9 * c.cin
	c.wt = make([]float32, k*c.cout)
	for o := 0; o < c.cout; o++ {
		for ci := 0; ci < c.cin; ci++ {
			for t := 0; t < 9; t++ {
				c.wt[(t*c.cin+ci)*c.cout+o] = c.weight[o*k+ci*9+t]
			}
		}
	}
}

// pooled reports whether a single image runs runPooled with the current kernel set: when Winograd
// does not pay for it.
func (c *infConvOp) pooled() bool { return c.wt != nil && !c.winograd(1) }

// pooledScratch is the scratch runPooled needs: the zero-padded input pixel-major, the unfolded region
// and the product.
func (c *infConvOp) pooledScratch() int {
	m := c.rh * c.rw
	return (c.h+2)*(c.w+2)*c.cin + m*9*c.cin + m*c.cout
}

// runPooled computes, for one image, output channels [lo, hi) of the convolution followed by the
// 2×2 max-pool: dst is the pool's output [cout][rh/2·rw/2] (only the range's channels are written),
// src the convolution's input [cin][h·w]. It computes only the pool's region, as Cᵀ = col·Wt: the
// region's rh·rw pixels are the rows, so the GEMM's rows are not padded up to its tile (the CNN's
// conv3 on AVX-512: 36 rows, 3 tiles of 12, against 49 columns in two panels of 32 for W·col). One
// core's half, 64 channels, with the unfolding and the pool: 14.0 against 24.9 µs
// (`go test ./nn -bench ConvPooled`). The input is first laid out pixel-major with a zero border,
// so each row of col is three copies of 3·cin floats, one per kernel row. Bias and ReLU come after
// the max: both are monotonic, so act(max(a) + b) = max(act(a + b)).
func (c *infConvOp) runPooled(dst, src []float32, lo, hi int, scratch []float32) {
	cin, h, w, rh, rw := c.cin, c.h, c.w, c.rh, c.rw
	pw, k, m, nc := w+2, 9*c.cin, rh*rw, hi-lo
	pad := scratch[:(h+2)*pw*cin]
	col := scratch[len(pad) : len(pad)+m*k]
	ct := scratch[len(pad)+m*k : len(pad)+m*k+m*nc]
	clear(pad[:(pw+1)*cin])
	for y := 0; y < h; y++ {
		// Row y+1 of the padded grid: its pixels 1..w hold the input; its last pixel and the next
		// row's first are the border.
		for x := 0; x < w; x++ {
			px := pad[((y+1)*pw+1+x)*cin:][:cin]
			s := src[y*w+x:]
			for ci := range px {
				px[ci] = s[ci*h*w]
			}
		}
		clear(pad[((y+1)*pw+1+w)*cin : ((y+2)*pw+1)*cin])
	}
	clear(pad[((h+1)*pw+1)*cin:])
	for y := 0; y < rh; y++ {
		for x := 0; x < rw; x++ {
			row := col[(y*rw+x)*k : (y*rw+x+1)*k]
			for kh := 0; kh < 3; kh++ {
				copy(row[kh*3*cin:(kh+1)*3*cin], pad[((y+kh)*pw+x)*cin:])
			}
		}
	}
	kernels.Sgemm(false, false, m, nc, k, 1, col, k, c.wt[lo:], c.cout, 0, ct, nc)
	oh, ow := rh/2, rw/2
	bias := c.bias[lo:hi]
	for py := 0; py < oh; py++ {
		for px := 0; px < ow; px++ {
			r0 := ct[(2*py*rw+2*px)*nc:][:nc]
			r1 := ct[(2*py*rw+2*px+1)*nc:][:nc]
			r2 := ct[((2*py+1)*rw+2*px)*nc:][:nc]
			r3 := ct[((2*py+1)*rw+2*px+1)*nc:][:nc]
			out := dst[lo*oh*ow+py*ow+px:]
			for j := range nc {
				v := max(max(r0[j], r1[j]), max(r2[j], r3[j])) + bias[j]
				if c.relu && v < 0 {
					v = 0
				}
				out[j*oh*ow] = v
			}
		}
	}
}

// winograd reports whether n images take the Winograd path with the current kernel set.
func (c *infConvOp) winograd(n int) bool { return c.wino != nil && c.wino.Pays(n, c.rh, c.rw) }

// scratchSize is the scratch n images need: the im2col chunk or Winograd's transformed tiles, whichever
// path runs.
func (c *infConvOp) scratchSize(n int) int {
	s := kernels.Conv3x3ScratchSize(n, c.cin, c.h, c.w)
	if c.wino != nil {
		s = max(s, c.wino.ScratchSize(n, c.rh, c.rw))
	}
	if c.wt != nil {
		s = max(s, c.pooledScratch())
	}
	return s
}

// run computes output channels [lo, hi) of act(W · im2col(src) + bias) for n images, src [cin][n·h·w]
// and dst [hi−lo][n·h·w] channel-major (dst holds the range's channels only).
func (c *infConvOp) run(dst, src []float32, n, lo, hi int, scratch []float32) {
	if c.winograd(n) {
		c.wino.Forward(dst, src, c.bias[lo:hi], n, c.h, c.w, c.rh, c.rw, lo, hi, c.relu, scratch)
		return
	}
	k := c.cin * 9
	kernels.Conv3x3BiasReLU(dst, src, c.weight[lo*k:hi*k], c.bias[lo:hi], n, c.cin, hi-lo, c.h, c.w, c.relu, scratch)
}

// algorithm names the path run takes for n images.
func (c *infConvOp) algorithm(n int) string {
	if c.winograd(n) {
		return "winograd-f2x3"
	}
	return kernels.Conv3x3Algorithm(c.cin, c.cout)
}

// bytes is the memory of the weights, the bias, the Winograd transform and the transposed weights.
func (c *infConvOp) bytes() int64 {
	return int64(len(c.weight)+len(c.bias)+len(c.wt))*4 + c.wino.Bytes()
}

// infGemmBias computes C[m][n] = act(A[m][k]·B[k][n] + bias[i]), all row-major and dense. A single
// column (a batch of one) goes through the matrix-vector kernel, which reads the weights once
// instead of packing them.
func infGemmBias(m, n, k int, a, b, bias []float32, relu bool, c []float32) {
	if n == 1 {
		kernels.SgemvBiasReLU(m, k, a, k, b, bias, relu, c)
		return
	}
	kernels.SgemmBiasReLU(m, n, k, a, k, b, n, bias, relu, c, n)
}

// infMaxPool2x2 pools each of planes h×w planes to (h/2)×(w/2) (floor, like PyTorch). idx is scratch
// for the argmax the kernel records (training's backward needs it; inference ignores it).
func infMaxPool2x2(dst []float32, idx []uint8, src []float32, planes, h, w int) {
	kernels.MaxPool2x2(dst, idx, src, planes, h, w)
}
