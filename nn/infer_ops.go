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

// winograd reports whether n images take the Winograd path with the current kernel set.
func (c *infConvOp) winograd(n int) bool { return c.wino != nil && c.wino.Pays(n, c.rh, c.rw) }

// scratchSize is the scratch n images need: the im2col chunk or Winograd's transformed tiles, whichever
// path runs.
func (c *infConvOp) scratchSize(n int) int {
	s := kernels.Conv3x3ScratchSize(n, c.cin, c.h, c.w)
	if c.wino != nil {
		s = max(s, c.wino.ScratchSize(n, c.rh, c.rw))
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

// bytes is the memory of the weights, the bias and the Winograd transform.
func (c *infConvOp) bytes() int64 { return int64(len(c.weight)+len(c.bias))*4 + c.wino.Bytes() }

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
