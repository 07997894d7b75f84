package kernels

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/gonum"
)

// BLAS32 is a gonum blas.Float32 whose Sgemm is this package's (through the dispatch table) and whose
// other routines are gonum's pure-Go ones. Register it with UseWithGonum.
type BLAS32 struct {
	gonum.Implementation
	// Threads caps the threads of each Sgemm call, under SetMaxThreads's cap; 0 means no further cap.
	// Callers that already split their work over the cores use 1.
	Threads int
}

var _ blas.Float32 = BLAS32{}

// UseWithGonum makes gonum's blas32 package (blas32.Gemm and everything built on it) run on these
// kernels. cmd/train and cmd/bench call it once at start-up; library users opt in the same way.
func UseWithGonum() { blas32.Use(BLAS32{}) }

// Sgemm is blas.Float32's Sgemm: C = alpha·op(A)·op(B) + beta·C. It validates its arguments in gonum's
// order with gonum's panic messages, so code written against gonum behaves the same.
func (bl BLAS32) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	const (
		badTranspose = "blas: illegal transpose"
		mLT0         = "blas: m < 0"
		nLT0         = "blas: n < 0"
		kLT0         = "blas: k < 0"
		badLdA       = "blas: bad leading dimension of A"
		badLdB       = "blas: bad leading dimension of B"
		badLdC       = "blas: bad leading dimension of C"
		shortA       = "blas: insufficient length of a"
		shortB       = "blas: insufficient length of b"
		shortC       = "blas: insufficient length of c"
	)
	transposed := func(t blas.Transpose) bool {
		switch t {
		case blas.NoTrans:
			return false
		case blas.Trans, blas.ConjTrans:
			return true
		}
		panic(badTranspose)
	}
	aTrans, bTrans := transposed(tA), transposed(tB)
	switch {
	case m < 0:
		panic(mLT0)
	case n < 0:
		panic(nLT0)
	case k < 0:
		panic(kLT0)
	case aTrans && lda < max(1, m), !aTrans && lda < max(1, k):
		panic(badLdA)
	case bTrans && ldb < max(1, k), !bTrans && ldb < max(1, n):
		panic(badLdB)
	case ldc < max(1, n):
		panic(badLdC)
	}
	if m == 0 || n == 0 {
		return
	}
	switch {
	case aTrans && len(a) < (k-1)*lda+m, !aTrans && len(a) < (m-1)*lda+k:
		panic(shortA)
	case bTrans && len(b) < (n-1)*ldb+k, !bTrans && len(b) < (k-1)*ldb+n:
		panic(shortB)
	case len(c) < (m-1)*ldc+n:
		panic(shortC)
	}
	gemm(bl.Threads, aTrans, bTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
