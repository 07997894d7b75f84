package kernels

// SgemvBiasReLU is the batch-of-one form of SgemmBiasReLU, a matrix-vector product with the same
// epilogue:
//
//	y[i] = act(Σ_p A[i][p]·x[p] + bias[i])   for i < m, p < k
//
// A is m×k row-major with row stride lda, bias has m entries or is nil, act is max(·, 0) (NaN kept)
// when relu is set, else the identity. Unlike Sgemm it reads each element of A once, straight from
// memory, with no packing: a Linear layer on a single input vector is bound by reading its weights,
// and a GEMM with n = 1 would pack them (and pad the one column to a whole register tile) on every
// call. It runs on one thread.
func SgemvBiasReLU(m, k int, a []float32, lda int, x, bias []float32, relu bool, y []float32) {
	if m < 0 || k < 0 {
		panic("kernels: SgemvBiasReLU: negative size")
	}
	if m == 0 {
		return
	}
	if lda < max(k, 1) {
		panic("kernels: SgemvBiasReLU: lda < k")
	}
	need("SgemvBiasReLU", "a", len(a), (m-1)*lda+k)
	need("SgemvBiasReLU", "x", len(x), k)
	need("SgemvBiasReLU", "y", len(y), m)
	if bias != nil {
		need("SgemvBiasReLU", "bias", len(bias), m)
	}
	m4, kv := 0, 0
	if g := &current.Load().gemm; g.gemv4 != nil && m >= 4 && k >= g.gemvLanes {
		m4, kv = m&^3, k-k%g.gemvLanes
		g.gemv4(m4, kv, &a[0], lda, &x[0], &y[0])
	}
	// The tails: columns kv..k of the kernel's rows, and whole rows m4..m.
	for i := 0; i < m; i++ {
		p0 := kv
		var s float32
		if i >= m4 {
			p0 = 0
		} else {
			s = y[i]
		}
		s += dotGo(a[i*lda+p0:i*lda+k], x[p0:k])
		if bias != nil {
			s += bias[i]
		}
		if relu && s < 0 { // NaN stays NaN
			s = 0
		}
		y[i] = s
	}
}

// dotGo is Σ a[p]·x[p] with four independent sums, so the loop is bound by the loads rather than by
// the latency of one chain of additions (the pure-Go and NEON builds run every row through it).
func dotGo(a, x []float32) float32 {
	x = x[:len(a)]
	var s0, s1, s2, s3 float32
	p := 0
	for ; p+4 <= len(a); p += 4 {
		s0 += a[p] * x[p]
		s1 += a[p+1] * x[p+1]
		s2 += a[p+2] * x[p+2]
		s3 += a[p+3] * x[p+3]
	}
	for ; p < len(a); p++ {
		s0 += a[p] * x[p]
	}
	return (s0 + s1) + (s2 + s3)
}
