package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestMaxPool2x2(t *testing.T) {
	ewEachImpl(t, func(t *testing.T, k ewKernels) {
		r := rand.New(rand.NewPCG(31, 32))
		for _, hw := range [][2]int{{2, 2}, {1, 5}, {3, 3}, {4, 6}, {7, 7}, {14, 14}, {28, 28}, {5, 34}, {6, 66}, {3, 35}} {
			for _, planes := range []int{1, 3, 4} {
				h, w := hw[0], hw[1]
				src := ewRand(r, planes*h*w, 5, true)
				if planes == 4 {
					// Few distinct values, ±0 among them: ties everywhere decide the index.
					for i := range src {
						src[i] = []float32{-1, 0, float32(math.Copysign(0, -1)), 1, 2}[r.IntN(5)]
					}
				}
				if planes == 1 && h == 2 && w == 2 {
					src = []float32{1, 1, 1, 1} // ties: the first wins
				}
				out := planes * (h / 2) * (w / 2)
				want, wantIdx := make([]float32, out), make([]uint8, out)
				maxPool2x2Ref(want, wantIdx, src, planes, h, w)
				dst, check := ewOut(t, out, 1)
				ibuf := make([]uint8, out+ewGuard)
				for i := range ibuf {
					ibuf[i] = 0xee
				}
				k.maxPool(dst, ibuf[:out], src, planes, h, w)
				check()
				for _, b := range ibuf[out:] {
					if b != 0xee {
						t.Fatalf("%d×%d×%d: idx guard overwritten", planes, h, w)
					}
				}
				what := fmt.Sprintf("maxPool %d×%d×%d", planes, h, w)
				ewExact(t, what, dst, want)
				for i := range wantIdx {
					if ibuf[i] != wantIdx[i] {
						t.Fatalf("%s: idx[%d] = %d, want %d", what, i, ibuf[i], wantIdx[i])
					}
				}
				// Every output is one of its window's inputs, and the largest.
				ow := w / 2
				for p := 0; p < planes; p++ {
					for i := 0; i < (h/2)*ow; i++ {
						y, x := i/ow, i%ow
						at := wantIdx[p*(h/2)*ow+i]
						v := src[p*h*w+(2*y+int(at>>1))*w+2*x+int(at&1)]
						if math.Float32bits(v) != math.Float32bits(want[p*(h/2)*ow+i]) {
							t.Fatalf("%s: output %d is not its recorded input", what, i)
						}
						for d := 0; d < 4; d++ {
							if u := src[p*h*w+(2*y+d>>1)*w+2*x+d&1]; u > v {
								t.Fatalf("%s: output %d = %v < window element %v", what, i, v, u)
							}
						}
					}
				}

				dy := ewRand(r, out, 3, false)
				wantDx := make([]float32, planes*h*w)
				maxPool2x2BackRef(wantDx, dy, wantIdx, planes, h, w)
				dx, checkDx := ewOut(t, planes*h*w, 2)
				for i := range dx {
					dx[i] = 42 // must be overwritten, not accumulated into
				}
				k.maxPoolBack(dx, dy, wantIdx, planes, h, w)
				checkDx()
				ewExact(t, what+" backward", dx, wantDx)
				// Adjoint: <pool(x) routed, dy> = <x, back(dy)> on the recorded positions.
				var lhs, rhs float64
				for i := range dy {
					lhs += float64(dy[i]) * float64(want[i])
				}
				for i := range dx {
					if dx[i] != 0 {
						rhs += float64(dx[i]) * float64(src[i])
					}
				}
				if !ewClose(rhs, lhs, math.Abs(lhs)+1, 1e-9) {
					t.Fatalf("%s: adjoint %v != %v", what, rhs, lhs)
				}
			}
		}
	})
}

func TestMaxPool2x2Semantics(t *testing.T) {
	nan := float32(math.NaN())
	// One 4×4 plane: windows with a NaN, a tie, a negative max, and the max in each corner.
	src := []float32{
		1, 2, -5, -6,
		nan, 0, -7, -1,
		3, 3, 0, 0,
		3, 3, 0, 9,
	}
	for _, impl := range Available() {
		t.Run("impl="+impl.Name, func(t *testing.T) {
			ewWithImpl(t, impl.Name)
			dst, idx := make([]float32, 4), make([]uint8, 4)
			MaxPool2x2(dst, idx, src, 1, 4, 4)
			if !(dst[0] != dst[0]) || idx[0] != 2 || dst[1] != -1 || idx[1] != 3 || dst[2] != 3 || idx[2] != 0 || dst[3] != 9 || idx[3] != 3 {
				t.Fatalf("got %v %v", dst, idx)
			}
			dx := make([]float32, 16)
			MaxPool2x2Backward(dx, []float32{1, 2, 3, 4}, idx, 1, 4, 4)
			want := []float32{0, 0, 0, 0, 1, 0, 0, 2, 3, 0, 0, 0, 0, 0, 0, 4}
			ewExact(t, "backward", dx, want)
		})
	}
}
