package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestBatchNormStats(t *testing.T) {
	for _, impl := range Available() {
		t.Run("impl="+impl.Name, func(t *testing.T) {
			ewWithImpl(t, impl.Name)
			r := rand.New(rand.NewPCG(21, 22))
			for _, cols := range []int{1, 2, 7, 16, 33, 65, 1000} {
				rows := 3
				x := ewRand(r, rows*cols, 1, false)
				for i := range x {
					x[i] = 1e4 + x[i] // mean 1e4, variance 1/3: a one-pass float32 formula loses it all
				}
				mean, variance := make([]float32, rows), make([]float32, rows)
				BatchNormStats(mean, variance, x, rows, cols)
				for rr := 0; rr < rows; rr++ {
					var s, s2 float64
					for _, v := range x[rr*cols : (rr+1)*cols] {
						s += float64(v)
					}
					m := s / float64(cols)
					for _, v := range x[rr*cols : (rr+1)*cols] {
						s2 += (float64(v) - m) * (float64(v) - m)
					}
					wv := s2 / float64(cols)
					if math.Abs(float64(mean[rr])-m) > 1e-3 || math.Abs(float64(variance[rr])-wv) > 1e-6*(1+wv) {
						t.Fatalf("cols=%d row %d: mean %v var %v, want %v %v", cols, rr, mean[rr], variance[rr], m, wv)
					}
				}
			}
		})
	}
}

// bnLoss is L = Σ c·y for y = BatchNormForward(x) with batch statistics, computed in float64 from
// scratch, so its finite differences check BatchNormBackward independently of the kernels.
func bnLoss(x, gamma, beta, c []float64, rows, cols int, eps float64) float64 {
	var loss float64
	for r := 0; r < rows; r++ {
		row := x[r*cols : (r+1)*cols]
		var m, v float64
		for _, e := range row {
			m += e
		}
		m /= float64(cols)
		for _, e := range row {
			v += (e - m) * (e - m)
		}
		v /= float64(cols)
		for j, e := range row {
			loss += c[r*cols+j] * (gamma[r]*(e-m)/math.Sqrt(v+eps) + beta[r])
		}
	}
	return loss
}

func TestBatchNormBackwardFiniteDifferences(t *testing.T) {
	for _, impl := range Available() {
		t.Run("impl="+impl.Name, func(t *testing.T) {
			ewWithImpl(t, impl.Name)
			r := rand.New(rand.NewPCG(23, 24))
			const eps = 1e-5
			for _, shape := range [][2]int{{1, 2}, {2, 5}, {3, 17}, {2, 40}} {
				rows, cols := shape[0], shape[1]
				n := rows * cols
				x32, dy := ewRand(r, n, 2, false), ewRand(r, n, 1, false)
				gamma, beta := ewRand(r, rows, 1.5, false), ewRand(r, rows, 1, false)
				mean, variance := make([]float32, rows), make([]float32, rows)
				BatchNormStats(mean, variance, x32, rows, cols)
				y, xhat := make([]float32, n), make([]float32, n)
				BatchNormForward(y, xhat, x32, mean, variance, gamma, beta, rows, cols, eps)
				dx, dg, db := make([]float32, n), make([]float32, rows), make([]float32, rows)
				BatchNormBackward(dx, dg, db, dy, xhat, variance, gamma, rows, cols, eps)

				f64 := func(v []float32) []float64 {
					o := make([]float64, len(v))
					for i, e := range v {
						o[i] = float64(e)
					}
					return o
				}
				x, g, b, c := f64(x32), f64(gamma), f64(beta), f64(dy)
				// y itself against the float64 definition.
				for rr := 0; rr < rows; rr++ {
					for j := 0; j < cols; j++ {
						one := make([]float64, n)
						one[rr*cols+j] = 1
						if want := bnLoss(x, g, b, one, rows, cols, eps); math.Abs(float64(y[rr*cols+j])-want) > 1e-4*(1+math.Abs(want)) {
							t.Fatalf("%v: y[%d][%d] = %v, want %v", shape, rr, j, y[rr*cols+j], want)
						}
					}
				}
				const h = 1e-6
				fd := func(v []float64, i int) float64 {
					old := v[i]
					v[i] = old + h
					lp := bnLoss(x, g, b, c, rows, cols, eps)
					v[i] = old - h
					lm := bnLoss(x, g, b, c, rows, cols, eps)
					v[i] = old
					return (lp - lm) / (2 * h)
				}
				check := func(what string, got float32, want float64) {
					t.Helper()
					if math.Abs(float64(got)-want) > 2e-3*(1+math.Abs(want)) {
						t.Fatalf("%v: %s = %v, finite differences give %v", shape, what, got, want)
					}
				}
				for i := range x {
					check(fmt.Sprintf("dx[%d]", i), dx[i], fd(x, i))
				}
				for rr := 0; rr < rows; rr++ {
					check(fmt.Sprintf("dgamma[%d]", rr), dg[rr], fd(g, rr))
					check(fmt.Sprintf("dbeta[%d]", rr), db[rr], fd(b, rr))
				}
			}
		})
	}
}
