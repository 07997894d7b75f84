package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

var convShapes = [][5]int{ // n, cin, cout, h, w
	{1, 1, 1, 1, 1}, {1, 1, 2, 2, 2}, {2, 1, 3, 3, 5}, {1, 2, 4, 4, 4}, {3, 3, 5, 7, 7},
	{2, 4, 17, 6, 9}, {2, 1, 32, 28, 28}, {2, 0, 3, 2, 3}, {5, 3, 4, 5, 3},
	{3, 1, 8, 5, 17}, {1, 1, 16, 1, 1}, {2, 1, 8, 3, 16}, {1, 1, 24, 4, 33}, {20, 1, 8, 1, 3}, {6, 1, 8, 2, 2}, // cin = 1: the direct kernel
	{1, 2, 3, 70, 3}, // taller than col2im's stack buffer
	{1, 5, 3, 1, 9}, {1, 2, 2, 9, 1}, {4, 8, 16, 14, 14},
	{2, 2, 3, 4, 32}, {3, 2, 3, 5, 31}, {2, 3, 3, 3, 15}, // im2col's tap kernel: one and two vectors a row
}

// TestIm2colKernels checks every set's chunk kernels against their definitions, on cin channels of
// a run of contiguous images, the channels further apart than the run (as a chunk of a batch is):
// im2col bit for bit, with NaN and Inf in the input; col2im bit for bit against single adds in row
// order, leaving every float it must not add to as it was. Guard bands surround the outputs; the
// widths go up to 35, the planes up to 28×28 and one past the AVX-512 kernels' table limit, and the
// runs cross the mask tables' periods.
func TestIm2colKernels(t *testing.T) {
	forEachImpl(t, func(t *testing.T, impl Impl) {
		unfold, fold := impl.ew.im2col, impl.ew.col2im
		if unfold == nil {
			unfold = im2colRef
		}
		if fold == nil {
			fold = func(dx, col []float32, cin, cstride, nimg, h, w int) {
				col2imRows(dx, col, cin, cstride, nimg, h, w, impl.ew.add)
			}
		}
		r := rand.New(rand.NewPCG(43, 44))
		type shape struct{ cin, nimg, h, w int }
		var shapes []shape
		for w := 1; w <= 35; w++ {
			for _, h := range []int{1, 2, 3, 7} {
				for _, nimg := range []int{1, 3} {
					shapes = append(shapes, shape{1 + w%2, nimg, h, w})
				}
			}
		}
		shapes = append(shapes, shape{3, 5, 7, 7}, shape{2, 3, 14, 14}, shape{1, 2, 28, 28}, shape{2, 17, 4, 4}, shape{1, 2, 65, 64})
		for _, s := range shapes {
			cin, nimg, h, w := s.cin, s.nimg, s.h, s.w
			m := nimg * h * w
			cstride := m + r.IntN(3)*h*w
			in := ewRand(r, (cin-1)*cstride+m, 1, true)
			g := ewRand(r, cin*9*m, 1, true)
			col, check := ewOut(t, cin*9*m, 1+r.IntN(3))
			unfold(col, ewAt(in, r.IntN(3)), cin, cstride, nimg, h, w)
			check()
			dx, checkDx := ewOut(t, (cin-1)*cstride+m, 1+r.IntN(3))
			copy(dx, ewRand(r, len(dx), 1, false))
			want := append([]float32(nil), dx...)
			fold(dx, ewAt(g, r.IntN(3)), cin, cstride, nimg, h, w)
			checkDx()
			for ci := 0; ci < cin; ci++ {
				for tap := 0; tap < 9; tap++ {
					kh, kw := tap/3, tap%3
					row := (ci*9 + tap) * m
					for img := 0; img < nimg; img++ {
						for y := 0; y < h; y++ {
							for x := 0; x < w; x++ {
								p := (img*h+y)*w + x
								v := float32(0)
								if sy, sx := y+kh-1, x+kw-1; sy >= 0 && sy < h && sx >= 0 && sx < w {
									q := ci*cstride + (img*h+sy)*w + sx
									v = in[q]
									want[q] += g[row+p]
								}
								if math.Float32bits(col[row+p]) != math.Float32bits(v) {
									t.Fatalf("%+v kh=%d kw=%d: im2col col[%d][%d][%d][%d] = %v, want %v",
										s, kh, kw, ci, img, y, x, col[row+p], v)
								}
							}
						}
					}
				}
			}
			for i := range dx {
				if math.Float32bits(dx[i]) != math.Float32bits(want[i]) && !(dx[i] != dx[i] && want[i] != want[i]) {
					t.Fatalf("%+v: col2im dx[%d] = %v, want %v", s, i, dx[i], want[i])
				}
			}
		}
	})
}

func TestIm2colCol2imAdjoint(t *testing.T) {
	for _, impl := range Available() {
		t.Run("impl="+impl.Name, func(t *testing.T) {
			ewWithImpl(t, impl.Name)
			r := rand.New(rand.NewPCG(41, 42))
			for _, s := range convShapes {
				n, cin, h, w := s[0], s[1], s[3], s[4]
				m := n * h * w
				x := ewRand(r, cin*m, 1, false)
				y := ewRand(r, cin*9*m, 1, false)
				col, check := ewOut(t, cin*9*m, 1)
				Im2col3x3(col, x, n, cin, h, w)
				check()
				dx, checkDx := ewOut(t, cin*m, 3)
				clear(dx)
				Col2im3x3(dx, y, n, cin, h, w)
				checkDx()
				var lhs, rhs, scale float64
				for i := range col {
					lhs += float64(col[i]) * float64(y[i])
					scale += math.Abs(float64(col[i]) * float64(y[i]))
				}
				for i := range x {
					rhs += float64(x[i]) * float64(dx[i])
				}
				if math.Abs(lhs-rhs) > 1e-5*scale+1e-9 {
					t.Fatalf("%v: <im2col(x), y> = %v, <x, col2im(y)> = %v", s, lhs, rhs)
				}
				// Spot-check im2col against its definition.
				for row := 0; row < cin*9; row++ {
					ci, kh, kw := row/9, row%9/3, row%3
					for pos := 0; pos < m; pos++ {
						img, y, xx := pos/(h*w), pos/w%h, pos%w
						sy, sx := y+kh-1, xx+kw-1
						want := float32(0)
						if sy >= 0 && sy < h && sx >= 0 && sx < w {
							want = x[((ci*n+img)*h+sy)*w+sx]
						}
						if col[row*m+pos] != want {
							t.Fatalf("%v: col[%d][%d] = %v, want %v", s, row, pos, col[row*m+pos], want)
						}
					}
				}
				// A chunk of the batch unfolds to the same columns as the whole batch did.
				if n >= 2 && cin > 0 {
					i0, i1 := 1, max(2, n-1) // images on both sides stay outside the chunk when n > 2
					mc := (i1 - i0) * h * w
					part, checkPart := ewOut(t, cin*9*mc, 2)
					Im2col3x3Images(part, x, n, cin, h, w, i0, i1)
					checkPart()
					for row := 0; row < cin*9; row++ {
						for j := 0; j < mc; j++ {
							if got, want := part[row*mc+j], col[row*m+i0*h*w+j]; got != want {
								t.Fatalf("%v: Im2col3x3Images [%d, %d): col[%d][%d] = %v, want %v", s, i0, i1, row, j, got, want)
							}
						}
					}
					// Folding the chunk's part of y back in place gives the whole batch's dx on those
					// images, bit for bit (the same adds in the same order), and leaves the other images alone.
					ypart := make([]float32, cin*9*mc)
					for row := 0; row < cin*9; row++ {
						copy(ypart[row*mc:(row+1)*mc], y[row*m+i0*h*w:])
					}
					dxp, checkDxp := ewOut(t, cin*m, 1)
					for i := range dxp {
						dxp[i] = 7
					}
					for ci := 0; ci < cin; ci++ {
						clear(dxp[(ci*n+i0)*h*w : (ci*n+i1)*h*w])
					}
					Col2im3x3Images(dxp, ypart, n, cin, h, w, i0, i1)
					checkDxp()
					for i := range dxp {
						want := dx[i]
						if img := i / (h * w) % n; img < i0 || img >= i1 {
							want = 7
						}
						if math.Float32bits(dxp[i]) != math.Float32bits(want) {
							t.Fatalf("%v: Col2im3x3Images [%d, %d): dx[%d] = %v, want %v", s, i0, i1, i, dxp[i], want)
						}
					}
				}
				// Col2im accumulates.
				acc := make([]float32, cin*m)
				for i := range acc {
					acc[i] = 1
				}
				Col2im3x3(acc, y, n, cin, h, w)
				for i := range acc {
					if math.Abs(float64(acc[i]-1-dx[i])) > 1e-5 {
						t.Fatalf("%v: Col2im3x3 does not accumulate at %d", s, i)
					}
				}
			}
		})
	}
}

func TestConv3x3BiasReLU(t *testing.T) {
	for _, impl := range Available() {
		t.Run("impl="+impl.Name, func(t *testing.T) {
			ewWithImpl(t, impl.Name)
			r := rand.New(rand.NewPCG(43, 44))
			for _, s := range convShapes {
				n, cin, cout, h, w := s[0], s[1], s[2], s[3], s[4]
				m := n * h * w
				src := ewRand(r, cin*m, 1, false)
				weight := ewRand(r, cout*cin*9, 0.5, false)
				bias := ewRand(r, cout, 0.5, false)
				for _, relu := range []bool{false, true} {
					// Whole batch in one chunk, one image per chunk, and two per chunk (a ragged last one).
					for _, chunkBytes := range []int{convChunkBytes, 1, 2 * cin * 9 * h * w * 4} {
						saved := convChunkBytes
						convChunkBytes = chunkBytes
						scratch := make([]float32, Conv3x3ScratchSize(n, cin, h, w))
						want := make([]float32, cout*m)
						conv3x3Naive(want, src, weight, bias, n, cin, cout, h, w, relu)
						dst, check := ewOut(t, cout*m, 1)
						Conv3x3BiasReLU(dst, src, weight, bias, n, cin, cout, h, w, relu, scratch)
						convChunkBytes = saved
						check()
						tol := 1e-5 * float64(cin*9)
						for i := range want {
							if !ewClose(float64(dst[i]), float64(want[i]), 1, tol) {
								t.Fatalf("%v relu=%v chunk=%dB: dst[%d] = %v, want %v", s, relu, chunkBytes, i, dst[i], want[i])
							}
						}
					}
				}
			}
			// NaN in the input reaches exactly the outputs whose window covers it.
			for _, cin := range []int{1, 2} {
				n, cout, h, w := 1, 8, 5, 6
				src := make([]float32, cin*n*h*w)
				src[(cin-1)*h*w+2*w+4] = float32(math.NaN()) // last channel, y=2, x=4
				dst := make([]float32, cout*h*w)
				Conv3x3BiasReLU(dst, src, ewRand(r, cout*cin*9, 1, false), make([]float32, cout), n, cin, cout, h, w, true,
					make([]float32, Conv3x3ScratchSize(n, cin, h, w)))
				for co := 0; co < cout; co++ {
					for y := 0; y < h; y++ {
						for x := 0; x < w; x++ {
							isNaN := dst[(co*h+y)*w+x] != dst[(co*h+y)*w+x]
							if inWindow := y >= 1 && y <= 3 && x >= 3 && x <= 5; isNaN != inWindow {
								t.Fatalf("cin=%d: NaN at co=%d y=%d x=%d: %v, want %v", cin, co, y, x, isNaN, inWindow)
							}
						}
					}
				}
			}
		})
	}
}

func FuzzConv3x3(f *testing.F) {
	f.Add(uint8(1), uint8(1), uint8(2), uint8(3), uint8(3), uint64(1))
	f.Add(uint8(2), uint8(3), uint8(5), uint8(7), uint8(4), uint64(2))
	f.Add(uint8(1), uint8(2), uint8(13), uint8(5), uint8(29), uint64(4))
	f.Fuzz(func(t *testing.T, n, cin, cout, h, w uint8, seed uint64) {
		// Widths to 36 reach the two-vector rows of the AVX-512 im2col and the reference past 32.
		N, Cin, Cout, H, W := int(n%3)+1, int(cin%4)+1, int(cout%9)+1, int(h%12)+1, int(w%36)+1
		r := rand.New(rand.NewPCG(seed, 7))
		src := ewRand(r, Cin*N*H*W, 2, false)
		weight, bias := ewRand(r, Cout*Cin*9, 1, false), ewRand(r, Cout, 1, false)
		want := make([]float32, Cout*N*H*W)
		conv3x3Naive(want, src, weight, bias, N, Cin, Cout, H, W, seed%2 == 0)
		for _, impl := range Available() {
			ewWithImpl(t, impl.Name)
			dst := make([]float32, len(want))
			Conv3x3BiasReLU(dst, src, weight, bias, N, Cin, Cout, H, W, seed%2 == 0, make([]float32, Conv3x3ScratchSize(N, Cin, H, W)))
			for i := range want {
				if math.Abs(float64(dst[i]-want[i])) > 1e-4 {
					t.Fatal(fmt.Sprintf("%s: dst[%d] = %v, want %v", impl.Name, i, dst[i], want[i]))
				}
			}
		}
	})
}

// conv3x3Naive is the direct definition of Conv3x3BiasReLU, the spec its tests check against.
func conv3x3Naive(dst, src, weight, bias []float32, n, cin, cout, h, w int, relu bool) {
	for co := 0; co < cout; co++ {
		for img := 0; img < n; img++ {
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					s := float64(bias[co])
					for ci := 0; ci < cin; ci++ {
						for kh := 0; kh < 3; kh++ {
							for kw := 0; kw < 3; kw++ {
								sy, sx := y+kh-1, x+kw-1
								if sy < 0 || sy >= h || sx < 0 || sx >= w {
									continue
								}
								s += float64(weight[((co*cin+ci)*3+kh)*3+kw]) * float64(src[((ci*n+img)*h+sy)*w+sx])
							}
						}
					}
					v := float32(s)
					if relu && !(v > 0) && v == v {
						v = 0
					}
					dst[((co*n+img)*h+y)*w+x] = v
				}
			}
		}
	}
}

// TestNoAllocs: the inference path allocates nothing per call once the caller holds its buffers.
func TestNoAllocs(t *testing.T) {
	for _, impl := range Available() {
		t.Run("impl="+impl.Name, func(t *testing.T) {
			ewWithImpl(t, impl.Name)
			r := rand.New(rand.NewPCG(51, 52))
			for _, l := range convBenchLayers {
				n := 4
				src := ewRand(r, l.cin*n*l.h*l.w, 1, false)
				weight, bias := ewRand(r, l.cout*l.cin*9, 1, false), ewRand(r, l.cout, 1, false)
				dst := make([]float32, l.cout*n*l.h*l.w)
				scratch := make([]float32, Conv3x3ScratchSize(n, l.cin, l.h, l.w))
				pooled, idx := make([]float32, l.cout*n*(l.h/2)*(l.w/2)), make([]uint8, l.cout*n*(l.h/2)*(l.w/2))
				dx, col := make([]float32, l.cin*n*l.h*l.w), make([]float32, l.cin*9*n*l.h*l.w)
				allocs := testing.AllocsPerRun(5, func() {
					Conv3x3BiasReLU(dst, src, weight, bias, n, l.cin, l.cout, l.h, l.w, true, scratch)
					ScaleShiftRows(dst, dst, weight[:l.cout], bias, l.cout, n*l.h*l.w, true)
					MaxPool2x2(pooled, idx, dst, l.cout*n, l.h, l.w)
					MaxPool2x2Backward(dst, pooled, idx, l.cout*n, l.h, l.w)
					Im2col3x3(col, src, n, l.cin, l.h, l.w)
					Col2im3x3(dx, col, n, l.cin, l.h, l.w)
				})
				if allocs != 0 {
					t.Fatalf("%s: %v allocations per call", l.name, allocs)
				}
			}
		})
	}
}
