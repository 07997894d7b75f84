//go:build !noasm

package kernels

import "sync"

// The amd64 element-wise sets. The generated kernels (elementwise_avx2_amd64.s,
// elementwise_avx512_amd64.s, from asm/elementwise) handle a multiple of the vector width; these
// wrappers, the functions in the dispatch table, pass that part and finish the last few elements with
// the reference.

var (
	ewAVX2 = ewAsmSet{
		lanes: 8, relu: relu_avx2, reluBack: reluBack_avx2, affine: affine_avx2, affineReLU: affineReLU_avx2,
		add: add_avx2, sum: sum_avx2, sumSqDev: sumSqDev_avx2, sumDot: sumDot_avx2,
		bnNorm: bnNorm_avx2, bnBack: bnBack_avx2, adam: adam_avx2,
	}.kernels(maxPoolAVX2, maxPoolBackAVX2).withIm2col(im2colTaps(im2colTap_avx2), col2imTaps(col2imTap_avx2)).
		withWinograd(winogradInAVX2, winogradOutAVX2, winogradAVX2MinFill, winogradAVX2MinTiles)
	ewAVX512 = ewAsmSet{
		lanes: 16, relu: relu_avx512, reluBack: reluBack_avx512, affine: affine_avx512, affineReLU: affineReLU_avx512,
		add: add_avx512, sum: sum_avx512, sumSqDev: sumSqDev_avx512, sumDot: sumDot_avx512,
		bnNorm: bnNorm_avx512, bnBack: bnBack_avx512, adam: adam_avx512,
	}.kernels(maxPoolAVX512, maxPoolBackAVX512).withConv3x3In1(conv3x3In1_avx512).withIm2col(im2colTaps(im2colTap_avx512), col2imTaps(col2imTap_avx512)).
		withWinograd(winogradInAVX512, winogradOutAVX512, winogradAVX512MinFill, winogradAVX512MinTiles)
)

// Where Winograd pays, measured on one thread with BenchmarkConv3x3Winograd (2026-11-30; the CNN's
// conv2 is 32→64 channels at 14×14, 49 tiles an image; conv3 64→128 at 7×7 feeding a 3×3 pool, so
// only its 6×6 region is computed: 9 tiles an image, against 49 pixels for im2col + GEMM).
//   - AVX-512: conv2 1.56× faster at batch 1, 1.75× at 32; conv3 1.08× and 1.32×. But a single image
//     runs each layer's halves on two cores (nn/infer_one.go), and there conv3's half measured slower
//     with Winograd (29.8 against 27 µs; 16 GEMMs of 64×9×64): at least 48 tiles a call. Before the
//     region was computed alone (16 tiles for 49 pixels) and the transforms took a run of planes per
//     call, conv3 was slower with Winograd at batch 32 too (36.6 against 32.2 µs an image), so a 7×7
//     output read whole (the residual CNN's last block) stays on im2col + GEMM: the fill is the limit.
//   - AVX2: conv2 1.58× and 1.91×, conv3 1.35× and 2.15×: its GEMM has half the FLOP rate, so the
//     multiplications saved weigh twice as much against the transforms, whatever the fill.
const (
	winogradAVX512MinFill, winogradAVX512MinTiles = 0.9, 48
	winogradAVX2MinFill, winogradAVX2MinTiles     = 0.7, 9
)

func (k ewKernels) withIm2col(im2col func(col, src []float32, cin, cstride, nimg, h, w int),
	col2im func(dx, col []float32, cin, cstride, nimg, h, w int)) ewKernels {
	k.im2col, k.col2im = im2col, col2im
	return k
}

// tapMaxPlane bounds the planes the tap kernels take: their mask tables hold up to h·w
// entries a tap; larger planes run the reference.
const tapMaxPlane = 4096

// im2colTaps is a set's im2col over its tap kernel, one call a row of the chunk's columns.
func im2colTaps(tap func(out, in []float32, shift int, masks []uint16, tail uint16)) func(col, src []float32, cin, cstride, nimg, h, w int) {
	return func(col, src []float32, cin, cstride, nimg, h, w int) {
		if h*w > tapMaxPlane {
			im2colRef(col, src, cin, cstride, nimg, h, w)
			return
		}
		eachTap(col, src, cin, cstride, nimg, h, w, tap)
	}
}

// col2imTaps is im2colTaps' adjoint, the rows added in the order col2imRows adds them.
func col2imTaps(tap func(dx, g []float32, shift int, masks []uint16, tail uint16)) func(dx, col []float32, cin, cstride, nimg, h, w int) {
	return func(dx, col []float32, cin, cstride, nimg, h, w int) {
		if h*w > tapMaxPlane {
			col2imRows(dx, col, cin, cstride, nimg, h, w, addRef)
			return
		}
		eachTap(col, dx, cin, cstride, nimg, h, w, func(row, channel []float32, shift int, masks []uint16, tail uint16) {
			tap(channel, row, shift, masks, tail)
		})
	}
}

// eachTap calls f for row ci·9+kh·3+kw of col, in order, with the chunk's images of channel ci
// (cstride floats apart in chans), that tap's shift and mask table, and the run's tail mask. The
// slicing checks the bounds the tap kernels rely on: their tables keep every access inside the run.
func eachTap(col, chans []float32, cin, cstride, nimg, h, w int, f func(row, channel []float32, shift int, masks []uint16, tail uint16)) {
	m := nimg * h * w
	tm := tapMasksFor(h, w)
	tail := uint16(1)<<(m%16) - 1
	for ci := 0; ci < cin; ci++ {
		channel := chans[ci*cstride : ci*cstride+m]
		for t := 0; t < 9; t++ {
			r := ci*9 + t
			f(col[r*m:(r+1)*m], channel, (t/3-1)*w+t%3-1, tm.masks[t], tail)
		}
	}
}

// tapMasks holds the tap kernels' mask tables for one plane shape. Over a run of images, tap (kh, kw)
// reads inside the image at run position p exactly when bit p%16 of masks[kh*3+kw][p/16%len] is set:
// the pattern repeats every lcm(h·w, 16) floats, h·w/gcd(h·w, 16) vectors. That every set bit lies
// inside p's own image is what keeps the kernels' shifted accesses inside the slices.
type tapMasks struct {
	h, w  int
	masks [9][]uint16
}

var tapMasksAll sync.Map // [2]int{h, w} → *tapMasks

func tapMasksFor(h, w int) *tapMasks {
	key := [2]int{h, w}
	v, ok := tapMasksAll.Load(key)
	if !ok {
		v, _ = tapMasksAll.LoadOrStore(key, newTapMasks(h, w))
	}
	return v.(*tapMasks)
}

func newTapMasks(h, w int) *tapMasks {
	hw := h * w
	g := 16
	for a := hw; a != 0; g, a = a, g%a { // gcd(hw, 16)
	}
	period := hw / g
	m := &tapMasks{h: h, w: w}
	for t := range m.masks {
		kh, kw := t/3, t%3
		masks := make([]uint16, period)
		for p := 0; p < 16*period; p++ {
			q := p % hw
			if sy, sx := q/w+kh-1, q%w+kw-1; sy >= 0 && sy < h && sx >= 0 && sx < w {
				masks[p/16] |= 1 << (p % 16)
			}
		}
		m.masks[t] = masks
	}
	return m
}

func (k ewKernels) withWinograd(in func(v, x []float32, planes, xstride, pstride, vstride, h, w, th, tw int),
	out func(y, m []float32, planes, ystride, pstride, mstride, oh, ow, w int, bias, lower float32),
	minFill float64, minTiles int) ewKernels {
	k.winogradIn, k.winogradOut = in, out
	k.winogradMinFill, k.winogradMinTiles = minFill, minTiles
	return k
}

// winogradInAsm reports whether an input transform call fits the assembly, whose rows span two vectors
// (w ≤ maxW) and whose tile rows one (tw ≤ maxTW), and returns v and x cut to exactly what it touches
// (so Go's bounds checks guard it). It needs planes, a plane and a grid that are not empty, planes that
// do not start before x, and stores that do not overlap (the assembly stores a tile row of one ξ at a
// time, the reference a tile's 16 values, so where stores overlap the last value written could
// differ): the planes' tile grids side by side within each ξ block (Forward's layout), or the 16
// blocks side by side within each plane. Otherwise the reference runs (for planes ≤ 0, nothing).
func winogradInAsm(v, x []float32, planes, xstride, pstride, vstride, h, w, th, tw, maxW, maxTW int) (vs, xs []float32, ok bool) {
	t := th * tw
	apart := (planes == 1 || pstride >= t) && vstride >= (planes-1)*pstride+t ||
		vstride >= t && (planes == 1 || pstride >= 15*vstride+t)
	if planes <= 0 || h <= 0 || w <= 0 || w > maxW || th <= 0 || tw <= 0 || tw > maxTW || planes > 1 && xstride < 0 || !apart {
		return nil, nil, false
	}
	return v[:15*vstride+(planes-1)*pstride+t], x[:(planes-1)*xstride+h*w], true
}

// winogradOutAsm reports whether an output transform call fits the assembly, whose output rows span
// two vectors (ow ≤ maxOW; the row stride w may be anything from ow), and returns y and m cut to
// exactly what it touches. It needs planes, a region that is not empty, rows and planes that do not
// overlap in y (as for the input transform, the order of the stores differs from the reference's),
// and products that do not start before m. Otherwise the reference runs (for planes ≤ 0, nothing).
func winogradOutAsm(y, m []float32, planes, ystride, pstride, mstride, oh, ow, w, maxOW int) (ys, ms []float32, ok bool) {
	if planes <= 0 || oh <= 0 || ow <= 0 || ow > maxOW || w < ow || planes > 1 && (ystride < (oh-1)*w+ow || pstride < 0) || mstride < 0 {
		return nil, nil, false
	}
	th, tw := winogradTiles(oh, ow)
	return y[:(planes-1)*ystride+(oh-1)*w+ow], m[:15*mstride+(planes-1)*pstride+th*tw], true
}

// winogradInAVX512 runs the assembly for planes up to 31 wide (a row in two vectors) on grids up to 16
// tiles wide (a tile row in one), the reference otherwise.
func winogradInAVX512(v, x []float32, planes, xstride, pstride, vstride, h, w, th, tw int) {
	vs, xs, ok := winogradInAsm(v, x, planes, xstride, pstride, vstride, h, w, th, tw, 31, 16)
	if !ok {
		winogradInRef(v, x, planes, xstride, pstride, vstride, h, w, th, tw)
		return
	}
	lmask := (uint32(1)<<w - 1) << 1 // lane c holds column c−1
	tmask := uint32(1)<<tw - 1
	winogradIn_avx512(vs, xs, planes, xstride, pstride, vstride, h, w, th, tw, lmask, tmask)
}

// winogradOutAVX512 runs the assembly for regions up to 32 wide (an output row in two vectors), the
// reference otherwise.
func winogradOutAVX512(y, m []float32, planes, ystride, pstride, mstride, oh, ow, w int, bias, lower float32) {
	ys, ms, ok := winogradOutAsm(y, m, planes, ystride, pstride, mstride, oh, ow, w, 32)
	if !ok {
		winogradOutRef(y, m, planes, ystride, pstride, mstride, oh, ow, w, bias, lower)
		return
	}
	_, tw := winogradTiles(oh, ow)
	tmask := uint32(1)<<tw - 1
	smask := uint32(uint64(1)<<ow - 1)
	winogradOut_avx512(ys, ms, planes, ystride, pstride, mstride, oh, ow, w, bias, lower, tmask, smask)
}

// winogradInAVX2 runs the assembly for planes up to 15 wide (a row in two vectors) on grids up to 8
// tiles wide (a tile row in one), the reference otherwise.
func winogradInAVX2(v, x []float32, planes, xstride, pstride, vstride, h, w, th, tw int) {
	vs, xs, ok := winogradInAsm(v, x, planes, xstride, pstride, vstride, h, w, th, tw, 15, 8)
	if !ok {
		winogradInRef(v, x, planes, xstride, pstride, vstride, h, w, th, tw)
		return
	}
	winogradIn_avx2(vs, xs, planes, xstride, pstride, vstride, h, w, th, tw)
}

// winogradOutAVX2 runs the assembly for regions up to 16 wide (an output row in two vectors), the
// reference otherwise.
func winogradOutAVX2(y, m []float32, planes, ystride, pstride, mstride, oh, ow, w int, bias, lower float32) {
	ys, ms, ok := winogradOutAsm(y, m, planes, ystride, pstride, mstride, oh, ow, w, 16)
	if !ok {
		winogradOutRef(y, m, planes, ystride, pstride, mstride, oh, ow, w, bias, lower)
		return
	}
	winogradOut_avx2(ys, ms, planes, ystride, pstride, mstride, oh, ow, w, bias, lower)
}

func (k ewKernels) withConv3x3In1(f func(dst, pad, weight, bias []float32, cout, h, w, m int, lo float32)) ewKernels {
	k.conv3x3In1 = f
	return k
}

// ewAsmSet is one ISA's generated kernels, each valid only for a multiple of lanes elements.
type ewAsmSet struct {
	lanes      int
	relu       func(dst, src []float32)
	reluBack   func(dx, dy, y []float32)
	affine     func(dst, src []float32, a, b float32)
	affineReLU func(dst, src []float32, a, b float32)
	add        func(dst, src []float32)
	sum        func(x []float32) float64
	sumSqDev   func(x []float32, mean float64) float64
	sumDot     func(dy, xhat []float32) (float64, float64)
	bnNorm     func(y, xhat, x []float32, mean, invStd, gamma, beta float32)
	bnBack     func(dx, dy, xhat []float32, k, a, b float32)
	adam       func(p, g, m, v []float32, b1, c1, b2, c2, stepSize, sqrtBC2, eps float32)
}

func (s ewAsmSet) kernels(
	maxPool func(dst []float32, idx []uint8, src []float32, planes, h, w int),
	maxPoolBack func(dx, dy []float32, idx []uint8, planes, h, w int),
) ewKernels {
	// vec is the length of the part the assembly handles.
	vec := func(n int) int { return n &^ (s.lanes - 1) }
	return ewKernels{
		relu: func(dst, src []float32) {
			v := vec(len(dst))
			s.relu(dst[:v], src[:v])
			reluRef(dst[v:], src[v:])
		},
		reluBack: func(dx, dy, y []float32) {
			v := vec(len(dx))
			s.reluBack(dx[:v], dy[:v], y[:v])
			reluBackRef(dx[v:], dy[v:], y[v:])
		},
		affine: func(dst, src []float32, a, b float32) {
			v := vec(len(dst))
			s.affine(dst[:v], src[:v], a, b)
			affineRef(dst[v:], src[v:], a, b)
		},
		affineReLU: func(dst, src []float32, a, b float32) {
			v := vec(len(dst))
			s.affineReLU(dst[:v], src[:v], a, b)
			affineReLURef(dst[v:], src[v:], a, b)
		},
		add: func(dst, src []float32) {
			v := vec(len(dst))
			s.add(dst[:v], src[:v])
			addRef(dst[v:], src[v:])
		},
		sum: func(x []float32) float64 {
			v := vec(len(x))
			return s.sum(x[:v]) + sumRef(x[v:])
		},
		sumSqDev: func(x []float32, mean float64) float64 {
			v := vec(len(x))
			return s.sumSqDev(x[:v], mean) + sumSqDevRef(x[v:], mean)
		},
		sumDot: func(dy, xhat []float32) (float64, float64) {
			v := vec(len(dy))
			a, b := s.sumDot(dy[:v], xhat[:v])
			c, d := sumDotRef(dy[v:], xhat[v:])
			return a + c, b + d
		},
		bnNorm: func(y, xhat, x []float32, mean, invStd, gamma, beta float32) {
			v := vec(len(y))
			s.bnNorm(y[:v], xhat[:v], x[:v], mean, invStd, gamma, beta)
			bnNormRef(y[v:], xhat[v:], x[v:], mean, invStd, gamma, beta)
		},
		bnBack: func(dx, dy, xhat []float32, k, a, b float32) {
			v := vec(len(dx))
			s.bnBack(dx[:v], dy[:v], xhat[:v], k, a, b)
			bnBackRef(dx[v:], dy[v:], xhat[v:], k, a, b)
		},
		adam: func(p, g, m, v []float32, b1, b2, stepSize, sqrtBC2, eps float32) {
			n := vec(len(p))
			s.adam(p[:n], g[:n], m[:n], v[:n], b1, 1-b1, b2, 1-b2, stepSize, sqrtBC2, eps)
			adamRef(p[n:], g[n:], m[n:], v[n:], b1, b2, stepSize, sqrtBC2, eps)
		},
		maxPool:     maxPool,
		maxPoolBack: maxPoolBack,
	}
}

var (
	maxPoolAVX512, maxPoolBackAVX512 = maxPoolChunked(16, maxPool_avx512, maxPoolBack_avx512)
	maxPoolAVX2, maxPoolBackAVX2     = maxPoolChunked(8, maxPool_avx2, maxPoolBack_avx2)
)

// maxPoolChunked wraps max-pool kernels that round every output row up to a multiple of lanes
// outputs: they write up to lanes outputs, and read and write up to 2·lanes floats of each input row,
// past the row's end. All but the last ⌈lanes/ow⌉ output rows (counted across planes) keep that
// inside the slices and are left to the kernels; the reference does the rest.
func maxPoolChunked(lanes int,
	fwd func(dst []float32, idx []uint8, src []float32, rows, h, w int),
	back func(dx, dy []float32, idx []uint8, rows, h, w int),
) (func(dst []float32, idx []uint8, src []float32, planes, h, w int), func(dx, dy []float32, idx []uint8, planes, h, w int)) {
	split := func(planes, h, w int) (rows, total int) {
		oh, ow := h/2, w/2
		total = planes * oh
		if ow == 0 || oh == 0 {
			return 0, total
		}
		return max(0, total-(lanes+ow-1)/ow), total
	}
	pool := func(dst []float32, idx []uint8, src []float32, planes, h, w int) {
		rows, total := split(planes, h, w)
		if rows > 0 {
			fwd(dst, idx, src, rows, h, w)
		}
		oh, ow := h/2, w/2
		for r := rows; r < total; r++ {
			p, y := r/oh, r%oh
			maxPool2x2Ref(dst[r*ow:(r+1)*ow], idx[r*ow:(r+1)*ow], src[p*h*w+2*y*w:p*h*w+(2*y+2)*w], 1, 2, w)
		}
	}
	poolBack := func(dx, dy []float32, idx []uint8, planes, h, w int) {
		rows, total := split(planes, h, w)
		if rows == 0 {
			maxPool2x2BackRef(dx, dy, idx, planes, h, w)
			return
		}
		back(dx, dy, idx, rows, h, w)
		oh, ow := h/2, w/2
		for r := rows; r < total; r++ {
			p, y := r/oh, r%oh
			maxPool2x2BackRef(dx[p*h*w+2*y*w:p*h*w+(2*y+2)*w], dy[r*ow:(r+1)*ow], idx[r*ow:(r+1)*ow], 1, 2, w)
		}
		clearPoolDropped(dx, planes, h, w)
	}
	return pool, poolBack
}

// clearPoolDropped zeroes the inputs 2×2 pooling drops: the last column when w is odd, the last row
// when h is odd.
func clearPoolDropped(dx []float32, planes, h, w int) {
	for p := 0; p < planes; p++ {
		plane := dx[p*h*w : (p+1)*h*w]
		if w%2 == 1 {
			for y := 0; y < h&^1; y++ {
				plane[y*w+w-1] = 0
			}
		}
		if h%2 == 1 {
			clear(plane[(h-1)*w:])
		}
	}
}
