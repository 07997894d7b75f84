//go:build !noasm

package kernels

// The NEON element-wise kernels. Each assembly routine handles a multiple of four floats; its wrapper
// below (the function in the dispatch table, with ewKernels' signature) reslices, passes the
// vector part and finishes the last n mod 4 elements with the reference, which the vector part
// matches to within FMA rounding.

// relu_neon: for i < n { dst[i] = src[i] <= 0 ? 0 : src[i] } (NaN kept), n a multiple of 4.
//
//go:noescape
func relu_neon(dst, src *float32, n int)

// reluBack_neon: for i < n { dx[i] = y[i] > 0 ? dy[i] : 0 }, n a multiple of 4.
//
//go:noescape
func reluBack_neon(dx, dy, y *float32, n int)

// affine_neon: for i < n { dst[i] = a*src[i] + b } (fused), n a multiple of 4.
//
//go:noescape
func affine_neon(dst, src *float32, n int, a, b float32)

// affineReLU_neon: for i < n { y := a*src[i] + b; dst[i] = y <= 0 ? 0 : y }, n a multiple of 4.
//
//go:noescape
func affineReLU_neon(dst, src *float32, n int, a, b float32)

// add_neon: for i < n { dst[i] += src[i] }, n a multiple of 4.
//
//go:noescape
func add_neon(dst, src *float32, n int)

// bnNorm_neon: for i < n { h := (x[i]-mean)*invStd; xhat[i] = h; y[i] = gamma*h + beta }, n a
// multiple of 4.
//
//go:noescape
func bnNorm_neon(y, xhat, x *float32, n int, mean, invStd, gamma, beta float32)

// bnBack_neon: for i < n { dx[i] = k * (dy[i] - a - xhat[i]*b) }, n a multiple of 4.
//
//go:noescape
func bnBack_neon(dx, dy, xhat *float32, n int, k, a, b float32)

// adam_neon: for i < n {
//
//	m[i] = b1*m[i] + c1*grad[i]
//	v[i] = b2*v[i] + c2*grad[i]*grad[i]
//	p[i] -= stepSize * (m[i] / (sqrt(v[i])/sqrtBC2 + eps))
//
// }, n a multiple of 4.
//
//go:noescape
func adam_neon(p, grad, m, v *float32, n int, b1, c1, b2, c2, stepSize, sqrtBC2, eps float32)

// sum_neon: Σ_{i<n} float64(x[i]), n a multiple of 4.
//
//go:noescape
func sum_neon(x *float32, n int) float64

// sumSqDev_neon: Σ_{i<n} (float64(x[i]) - mean)², n a multiple of 4.
//
//go:noescape
func sumSqDev_neon(x *float32, n int, mean float64) float64

// sumDot_neon: Σ_{i<n} float64(dy[i]) and Σ_{i<n} float64(dy[i])·float64(xhat[i]), n a multiple of 4.
//
//go:noescape
func sumDot_neon(dy, xhat *float32, n int) (sdy, sdyx float64)

func reluNeon(dst, src []float32) {
	src = src[:len(dst)]
	if n := len(dst) &^ 3; n > 0 {
		relu_neon(&dst[0], &src[0], n)
		dst, src = dst[n:], src[n:]
	}
	reluRef(dst, src)
}

func reluBackNeon(dx, dy, y []float32) {
	dy, y = dy[:len(dx)], y[:len(dx)]
	if n := len(dx) &^ 3; n > 0 {
		reluBack_neon(&dx[0], &dy[0], &y[0], n)
		dx, dy, y = dx[n:], dy[n:], y[n:]
	}
	reluBackRef(dx, dy, y)
}

func affineNeon(dst, src []float32, a, b float32) {
	src = src[:len(dst)]
	if n := len(dst) &^ 3; n > 0 {
		affine_neon(&dst[0], &src[0], n, a, b)
		dst, src = dst[n:], src[n:]
	}
	affineRef(dst, src, a, b)
}

func affineReLUNeon(dst, src []float32, a, b float32) {
	src = src[:len(dst)]
	if n := len(dst) &^ 3; n > 0 {
		affineReLU_neon(&dst[0], &src[0], n, a, b)
		dst, src = dst[n:], src[n:]
	}
	affineReLURef(dst, src, a, b)
}

func addNeon(dst, src []float32) {
	src = src[:len(dst)]
	if n := len(dst) &^ 3; n > 0 {
		add_neon(&dst[0], &src[0], n)
		dst, src = dst[n:], src[n:]
	}
	addRef(dst, src)
}

func sumNeon(x []float32) float64 {
	var s float64
	if n := len(x) &^ 3; n > 0 {
		s = sum_neon(&x[0], n)
		x = x[n:]
	}
	return s + sumRef(x)
}

func sumSqDevNeon(x []float32, mean float64) float64 {
	var s float64
	if n := len(x) &^ 3; n > 0 {
		s = sumSqDev_neon(&x[0], n, mean)
		x = x[n:]
	}
	return s + sumSqDevRef(x, mean)
}

func sumDotNeon(dy, xhat []float32) (sdy, sdyx float64) {
	xhat = xhat[:len(dy)]
	if n := len(dy) &^ 3; n > 0 {
		sdy, sdyx = sumDot_neon(&dy[0], &xhat[0], n)
		dy, xhat = dy[n:], xhat[n:]
	}
	a, b := sumDotRef(dy, xhat)
	return sdy + a, sdyx + b
}

func bnNormNeon(y, xhat, x []float32, mean, invStd, gamma, beta float32) {
	xhat, x = xhat[:len(y)], x[:len(y)]
	if n := len(y) &^ 3; n > 0 {
		bnNorm_neon(&y[0], &xhat[0], &x[0], n, mean, invStd, gamma, beta)
		y, xhat, x = y[n:], xhat[n:], x[n:]
	}
	bnNormRef(y, xhat, x, mean, invStd, gamma, beta)
}

func bnBackNeon(dx, dy, xhat []float32, k, a, b float32) {
	dy, xhat = dy[:len(dx)], xhat[:len(dx)]
	if n := len(dx) &^ 3; n > 0 {
		bnBack_neon(&dx[0], &dy[0], &xhat[0], n, k, a, b)
		dx, dy, xhat = dx[n:], dy[n:], xhat[n:]
	}
	bnBackRef(dx, dy, xhat, k, a, b)
}

func adamNeon(p, g, m, v []float32, b1, b2, stepSize, sqrtBC2, eps float32) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	if n := len(p) &^ 3; n > 0 {
		adam_neon(&p[0], &g[0], &m[0], &v[0], n, b1, 1-b1, b2, 1-b2, stepSize, sqrtBC2, eps)
		p, g, m, v = p[n:], g[n:], m[n:], v[n:]
	}
	adamRef(p, g, m, v, b1, b2, stepSize, sqrtBC2, eps)
}

// ewNeon is the NEON element-wise set: the generic set with every kernel that has a NEON version
// replaced, so a kernel added to ewKernels later falls back to its reference here until it is ported.
func ewNeon() ewKernels {
	k := ewGeneric
	k.relu = reluNeon
	k.reluBack = reluBackNeon
	k.affine = affineNeon
	k.affineReLU = affineReLUNeon
	k.add = addNeon
	k.sum = sumNeon
	k.sumSqDev = sumSqDevNeon
	k.sumDot = sumDotNeon
	k.bnNorm = bnNormNeon
	k.bnBack = bnBackNeon
	k.adam = adamNeon
	k.maxPool = maxPoolNeon
	k.maxPoolBack = maxPoolBackNeon
	k.conv3x3In1 = conv3x3In1Neon
	return k
}
