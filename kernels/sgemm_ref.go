package kernels

// sgemmRef is the specification of Sgemm, written for reading, not speed:
//
//	C[i][j] = alpha · Σ_p op(A)[i][p]·op(B)[p][j] + beta · C[i][j]
//
// with op(X) = Xᵀ when the flag is set, all matrices row-major with leading dimensions lda, ldb, ldc.
// The sum is accumulated in float64 so that the reference is closer to the exact product than any
// kernel under test. As in BLAS, beta == 0 means C is not read (NaN in C does not propagate), and
// alpha == 0 or k == 0 means A and B are not read.
func sgemmRef(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var sum float64
			if alpha != 0 {
				for p := 0; p < k; p++ {
					var av, bv float32
					if transA {
						av = a[p*lda+i]
					} else {
						av = a[i*lda+p]
					}
					if transB {
						bv = b[j*ldb+p]
					} else {
						bv = b[p*ldb+j]
					}
					sum += float64(av) * float64(bv)
				}
			}
			v := float32(float64(alpha) * sum)
			if alpha == 0 {
				v = 0
			}
			if beta != 0 {
				v += beta * c[i*ldc+j]
			}
			c[i*ldc+j] = v
		}
	}
}

// sgemmBiasReLURef is the specification of SgemmBiasReLU:
//
//	C[i][j] = act(Σ_p A[i][p]·B[p][j] + bias[i]),  act = ReLU (max(x, 0), NaN kept) or identity.
//
// A nil bias means no bias.
func sgemmBiasReLURef(m, n, k int, a []float32, lda int, b []float32, ldb int, bias []float32,
	relu bool, c []float32, ldc int) {
	sgemmRef(false, false, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			v := c[i*ldc+j]
			if bias != nil {
				v += bias[i]
			}
			if relu && v < 0 {
				v = 0
			}
			c[i*ldc+j] = v
		}
	}
}
