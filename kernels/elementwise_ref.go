package kernels

import "math"

// The pure-Go reference of the element-wise family: the spec every assembly version is tested against,
// and the generic set's kernels. Each loop runs over the first slice's length (see ewKernels).
// Assembly versions may fuse a*b+c into one FMA, so they agree with these loops to an ulp or two, not
// bit for bit; ReLU, its backward and max-pool are exact.

func reluRef(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = max(x, 0) // NaN stays NaN (Go's max, like PyTorch), and branch-free
	}
}

func reluBackRef(dx, dy, y []float32) {
	dy, y = dy[:len(dx)], y[:len(dx)]
	for i := range dx {
		// dx[i] = y[i] > 0 ? dy[i] : 0, as a bit mask so the compiler emits no data-dependent branch.
		var keep uint32
		if y[i] > 0 {
			keep = ^uint32(0)
		}
		dx[i] = math.Float32frombits(math.Float32bits(dy[i]) & keep)
	}
}

func affineRef(dst, src []float32, a, b float32) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = a*x + b
	}
}

func affineReLURef(dst, src []float32, a, b float32) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = max(a*x+b, 0)
	}
}

func addRef(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] += x
	}
}

func sumRef(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	return s
}

func sumSqDevRef(x []float32, mean float64) float64 {
	var s float64
	for _, v := range x {
		d := float64(v) - mean
		s += d * d
	}
	return s
}

func sumDotRef(dy, xhat []float32) (sdy, sdyx float64) {
	xhat = xhat[:len(dy)]
	for i, g := range dy {
		sdy += float64(g)
		sdyx += float64(g) * float64(xhat[i])
	}
	return sdy, sdyx
}

func bnNormRef(y, xhat, x []float32, mean, invStd, gamma, beta float32) {
	xhat, x = xhat[:len(y)], x[:len(y)]
	for i, v := range x {
		h := (v - mean) * invStd
		xhat[i] = h
		y[i] = gamma*h + beta
	}
}

func bnBackRef(dx, dy, xhat []float32, k, a, b float32) {
	dy, xhat = dy[:len(dx)], xhat[:len(dx)]
	for i := range dx {
		dx[i] = k * (dy[i] - a - xhat[i]*b)
	}
}

func adamRef(p, g, m, v []float32, b1, b2, stepSize, sqrtBC2, eps float32) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	c1, c2 := 1-b1, 1-b2
	for i, gi := range g {
		mi := b1*m[i] + c1*gi
		vi := b2*v[i] + c2*gi*gi
		m[i], v[i] = mi, vi
		p[i] -= stepSize * (mi / (float32(math.Sqrt(float64(vi)))/sqrtBC2 + eps))
	}
}

// maxPool2x2Ref pools planes of h×w into planes of (h/2)×(w/2) (floor, like PyTorch: a trailing odd
// row or column is dropped). idx records where each maximum was in its window: 2·dy + dx. The first
// maximum wins ties (so −0 before +0 gives −0); a NaN wins over numbers (the first NaN), so NaN
// propagates as in PyTorch.
func maxPool2x2Ref(dst []float32, idx []uint8, src []float32, planes, h, w int) {
	oh, ow := h/2, w/2
	for p := 0; p < planes; p++ {
		in := src[p*h*w : (p+1)*h*w]
		out := dst[p*oh*ow : (p+1)*oh*ow]
		ix := idx[p*oh*ow : (p+1)*oh*ow]
		for y := 0; y < oh; y++ {
			r0 := in[2*y*w : 2*y*w+w]
			r1 := in[(2*y+1)*w : (2*y+1)*w+w]
			o, ox := out[y*ow:y*ow+ow], ix[y*ow:y*ow+ow]
			for x := range o {
				a, b, c, d := r0[2*x], r0[2*x+1], r1[2*x], r1[2*x+1]
				// The first element equal to the window's maximum, or its first NaN; written as
				// selects rather than a compare-and-branch chain, which mispredicts on real data.
				m := max(a, b, c, d)
				best, at := d, uint8(3)
				if c == m || c != c {
					best, at = c, 2
				}
				if b == m || b != b {
					best, at = b, 1
				}
				if a == m || a != a {
					best, at = a, 0
				}
				o[x], ox[x] = best, at
			}
		}
	}
}

// maxPool2x2BackRef is the adjoint: it overwrites dx (h×w planes) with zeros and routes each dy to
// the position its forward pass recorded.
func maxPool2x2BackRef(dx, dy []float32, idx []uint8, planes, h, w int) {
	oh, ow := h/2, w/2
	clear(dx[:planes*h*w])
	for p := 0; p < planes; p++ {
		out := dx[p*h*w : (p+1)*h*w]
		g := dy[p*oh*ow : (p+1)*oh*ow]
		ix := idx[p*oh*ow : (p+1)*oh*ow]
		for y := 0; y < oh; y++ {
			r0, r1 := out[2*y*w:2*y*w+w], out[(2*y+1)*w:(2*y+1)*w+w]
			gy, iy := g[y*ow:y*ow+ow], ix[y*ow:y*ow+ow]
			for x, v := range gy {
				switch iy[x] {
				case 0:
					r0[2*x] = v
				case 1:
					r0[2*x+1] = v
				case 2:
					r1[2*x] = v
				default:
					r1[2*x+1] = v
				}
			}
		}
	}
}
