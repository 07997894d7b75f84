package kernels

import "fmt"

// ewKernels is the element-wise family's entry in the dispatch table: the primitives behind ReLU, bias,
// batchnorm, pooling, Adam and col2im. Every primitive works on flat slices; the exported functions
// below loop over rows and call one primitive per row, so an ISA only has to provide these loops.
//
// Contract for every primitive (the reference in elementwise_ref.go is the spec):
//   - the output slice decides the length n; every input is at least n long;
//   - an output may be the very same slice as an input (in place) but must not otherwise overlap it;
//   - reductions accumulate in float64, so results do not depend on the row length's rounding drift.
type ewKernels struct {
	relu        func(dst, src []float32)                                           // dst[i] = max(src[i], 0), NaN kept
	reluBack    func(dx, dy, y []float32)                                          // dx[i] = dy[i] if y[i] > 0, else 0
	affine      func(dst, src []float32, a, b float32)                             // dst[i] = a*src[i] + b
	affineReLU  func(dst, src []float32, a, b float32)                             // dst[i] = max(a*src[i] + b, 0)
	add         func(dst, src []float32)                                           // dst[i] += src[i]
	sum         func(x []float32) float64                                          // Σ x[i]
	sumSqDev    func(x []float32, mean float64) float64                            // Σ (x[i] - mean)²
	sumDot      func(dy, xhat []float32) (sdy, sdyx float64)                       // Σ dy[i], Σ dy[i]·xhat[i]
	bnNorm      func(y, xhat, x []float32, mean, invStd, gamma, beta float32)      // xhat = (x-mean)·invStd; y = γ·xhat+β
	bnBack      func(dx, dy, xhat []float32, k, a, b float32)                      // dx[i] = k·(dy[i] - a - xhat[i]·b)
	adam        func(p, g, m, v []float32, b1, b2, stepSize, sqrtBC2, eps float32) // one Adam step, see adam.go
	maxPool     func(dst []float32, idx []uint8, src []float32, planes, h, w int)
	maxPoolBack func(dx, dy []float32, idx []uint8, planes, h, w int)

	// conv3x3In1, where an ISA has it, is the direct convolution of one zero-padded input plane
	// ((h+2)×(w+2)) with cout filters, cout a multiple of 8; dst holds the output channels m floats
	// apart; lo is 0 for a fused ReLU and −Inf for none. Conv3x3BiasReLU uses it for cin = 1, where it
	// measures faster than im2col + GEMM (K = 9); nil means im2col + GEMM.
	conv3x3In1 func(dst, pad, weight, bias []float32, cout, h, w, m int, lo float32)

	// im2col and col2im, where an ISA has them, are im2colRef and col2imRows with addRef (a chunk's
	// im2col, and its adjoint), bit for bit; nil means im2colRef, and col2imRows with the set's add.
	im2col func(col, src []float32, cin, cstride, nimg, h, w int)
	col2im func(dx, col []float32, cin, cstride, nimg, h, w int)

	// winogradIn and winogradOut, where an ISA has them, are winogradInRef and winogradOutRef (the
	// transforms of Winograd F(2×2, 3×3) for a run of planes, winograd.go), bit for bit; nil means the
	// reference, and WinogradF2x3.Pays then reports false.
	winogradIn  func(v, x []float32, planes, xstride, pstride, vstride, h, w, th, tw int)
	winogradOut func(y, m []float32, planes, ystride, pstride, mstride, oh, ow, w int, bias, lower float32)
	// winogradMinFill and winogradMinTiles say where Winograd starts to beat im2col + GEMM on this
	// set (WinogradF2x3.Pays): the least share of the tiles' outputs inside the image, and the fewest
	// tiles (GEMM columns) per call.
	winogradMinFill  float64
	winogradMinTiles int
}

var ewGeneric = ewKernels{
	relu:        reluRef,
	reluBack:    reluBackRef,
	affine:      affineRef,
	affineReLU:  affineReLURef,
	add:         addRef,
	sum:         sumRef,
	sumSqDev:    sumSqDevRef,
	sumDot:      sumDotRef,
	bnNorm:      bnNormRef,
	bnBack:      bnBackRef,
	adam:        adamRef,
	maxPool:     maxPool2x2Ref,
	maxPoolBack: maxPool2x2BackRef,
}

// ReLU sets dst[i] = max(src[i], 0) for i < len(src). NaN stays NaN (as in PyTorch). dst may be src.
func ReLU(dst, src []float32) {
	need("ReLU", "dst", len(dst), len(src))
	current.Load().ew.relu(dst[:len(src)], src)
}

// ReLUBackward sets dx[i] = dy[i] where y[i] > 0 and 0 elsewhere, for i < len(dy); y is the ReLU's
// output (or its input: the sign test is the same). dx may be dy.
func ReLUBackward(dx, dy, y []float32) {
	n := len(dy)
	need("ReLUBackward", "dx", len(dx), n)
	need("ReLUBackward", "y", len(y), n)
	current.Load().ew.reluBack(dx[:n], dy, y[:n])
}

// Add sets dst[i] += src[i] for i < len(dst).
func Add(dst, src []float32) {
	need("Add", "src", len(src), len(dst))
	current.Load().ew.add(dst, src[:len(dst)])
}

// AddReLU sets dst[i] = max(a[i]+b[i], 0) for i < len(dst): a residual block's join. dst may be a or b.
// It runs the add and the ReLU over L1-sized pieces, so each element is loaded from memory once.
func AddReLU(dst, a, b []float32) {
	n := len(dst)
	need("AddReLU", "a", len(a), n)
	need("AddReLU", "b", len(b), n)
	if n == 0 {
		return
	}
	if &dst[0] == &b[0] {
		a, b = b, a // a+b = b+a exactly; now dst is a or neither
	}
	inPlace := &dst[0] == &a[0]
	k := current.Load().ew
	const piece = 2048 // floats: dst's and b's pieces take 16 KiB of L1
	for lo := 0; lo < n; lo += piece {
		hi := min(lo+piece, n)
		d := dst[lo:hi]
		if !inPlace {
			copy(d, a[lo:hi])
		}
		k.add(d, b[lo:hi])
		k.relu(d, d)
	}
}

// AddBiasRows adds bias[r] to every element of row r of the rows×cols matrix x (channel-major: a
// channel's bias over all its positions).
func AddBiasRows(x, bias []float32, rows, cols int) {
	checkMatrix("AddBiasRows", "x", len(x), rows, cols)
	need("AddBiasRows", "bias", len(bias), rows)
	k := current.Load().ew
	for r := 0; r < rows; r++ {
		row := x[r*cols : (r+1)*cols]
		k.affine(row, row, 1, bias[r])
	}
}

// BiasGradRows sets db[r] to the sum of row r of the rows×cols matrix dy (the bias gradient of a
// channel-major layer). It overwrites db; sums are accumulated in float64.
func BiasGradRows(db, dy []float32, rows, cols int) {
	checkMatrix("BiasGradRows", "dy", len(dy), rows, cols)
	need("BiasGradRows", "db", len(db), rows)
	k := current.Load().ew
	for r := 0; r < rows; r++ {
		db[r] = float32(k.sum(dy[r*cols : (r+1)*cols]))
	}
}

// ScaleShiftRows sets dst[r][j] = scale[r]·src[r][j] + shift[r] over a rows×cols matrix, followed by
// max(·, 0) when relu is set: inference batchnorm (scale = γ/√(var+eps), shift = β − mean·scale), alone
// or fused with the ReLU after it. dst may be src.
func ScaleShiftRows(dst, src, scale, shift []float32, rows, cols int, relu bool) {
	checkMatrix("ScaleShiftRows", "src", len(src), rows, cols)
	checkMatrix("ScaleShiftRows", "dst", len(dst), rows, cols)
	need("ScaleShiftRows", "scale", len(scale), rows)
	need("ScaleShiftRows", "shift", len(shift), rows)
	k := current.Load().ew
	f := k.affine
	if relu {
		f = k.affineReLU
	}
	for r := 0; r < rows; r++ {
		f(dst[r*cols:(r+1)*cols], src[r*cols:(r+1)*cols], scale[r], shift[r])
	}
}

// need panics when a slice is shorter than a kernel needs. Kernel misuse is a programming error, as in
// BLAS; checking here keeps the assembly from ever reading or writing out of bounds.
func need(fn, name string, have, want int) {
	if have < want {
		panic(fmt.Sprintf("kernels: %s: len(%s) = %d, need %d", fn, name, have, want))
	}
}

func checkMatrix(fn, name string, have, rows, cols int) {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("kernels: %s: negative size %d×%d", fn, rows, cols))
	}
	need(fn, name, have, rows*cols)
}
