package kernels

import "math"

// Batch normalization over the rows of a channel-major rows×cols tensor: row r is channel r, the cols
// are its positions (N·H·W for a convolution, N for a dense layer). Training uses the batch statistics;
// inference folds them into ScaleShiftRows.

// BatchNormStats sets mean[r] and variance[r] to row r's mean and biased variance (divided by cols,
// as PyTorch normalizes with; the running variance wants the unbiased one, variance·cols/(cols−1)).
// Two passes with float64 sums, so a large mean does not swamp a small variance.
func BatchNormStats(mean, variance, x []float32, rows, cols int) {
	checkMatrix("BatchNormStats", "x", len(x), rows, cols)
	need("BatchNormStats", "mean", len(mean), rows)
	need("BatchNormStats", "variance", len(variance), rows)
	if cols == 0 {
		panic("kernels: BatchNormStats: cols = 0")
	}
	k := current.Load().ew
	for r := 0; r < rows; r++ {
		row := x[r*cols : (r+1)*cols]
		m := k.sum(row) / float64(cols)
		mean[r] = float32(m)
		variance[r] = float32(k.sumSqDev(row, m) / float64(cols))
	}
}

// BatchNormForward normalizes each row with its statistics: xhat = (x − mean[r])/√(variance[r] + eps)
// and y = gamma[r]·xhat + beta[r]. It keeps xhat for BatchNormBackward. y may be x; xhat may not
// overlap x or y.
func BatchNormForward(y, xhat, x, mean, variance, gamma, beta []float32, rows, cols int, eps float32) {
	checkMatrix("BatchNormForward", "x", len(x), rows, cols)
	checkMatrix("BatchNormForward", "y", len(y), rows, cols)
	checkMatrix("BatchNormForward", "xhat", len(xhat), rows, cols)
	for _, s := range []struct {
		name string
		n    int
	}{{"mean", len(mean)}, {"variance", len(variance)}, {"gamma", len(gamma)}, {"beta", len(beta)}} {
		need("BatchNormForward", s.name, s.n, rows)
	}
	k := current.Load().ew
	for r := 0; r < rows; r++ {
		lo, hi := r*cols, (r+1)*cols
		k.bnNorm(y[lo:hi], xhat[lo:hi], x[lo:hi], mean[r], invStd(variance[r], eps), gamma[r], beta[r])
	}
}

// BatchNormBackward computes the gradients of BatchNormForward (batch statistics, so the mean and
// variance depend on x) in the standard closed form, per row with M = cols:
//
//	dbeta  = Σ dy
//	dgamma = Σ dy·xhat
//	dx     = gamma/√(variance+eps) · (dy − dbeta/M − xhat·dgamma/M)
//
// It overwrites dx, dgamma and dbeta. dx may be dy.
func BatchNormBackward(dx, dgamma, dbeta, dy, xhat, variance, gamma []float32, rows, cols int, eps float32) {
	checkMatrix("BatchNormBackward", "dy", len(dy), rows, cols)
	checkMatrix("BatchNormBackward", "dx", len(dx), rows, cols)
	checkMatrix("BatchNormBackward", "xhat", len(xhat), rows, cols)
	for _, s := range []struct {
		name string
		n    int
	}{{"dgamma", len(dgamma)}, {"dbeta", len(dbeta)}, {"variance", len(variance)}, {"gamma", len(gamma)}} {
		need("BatchNormBackward", s.name, s.n, rows)
	}
	k := current.Load().ew
	for r := 0; r < rows; r++ {
		lo, hi := r*cols, (r+1)*cols
		sdy, sdyx := k.sumDot(dy[lo:hi], xhat[lo:hi])
		dbeta[r], dgamma[r] = float32(sdy), float32(sdyx)
		m := float64(cols)
		k.bnBack(dx[lo:hi], dy[lo:hi], xhat[lo:hi], gamma[r]*invStd(variance[r], eps), float32(sdy/m), float32(sdyx/m))
	}
}

func invStd(variance, eps float32) float32 {
	return float32(1 / math.Sqrt(float64(variance)+float64(eps)))
}
