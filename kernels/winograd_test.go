package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

var winogradShapes = [][5]int{ // n, cin, cout, h, w
	{1, 1, 1, 1, 1}, {1, 1, 2, 2, 2}, {2, 1, 3, 3, 5}, {1, 2, 4, 4, 4}, {3, 3, 5, 7, 7},
	{2, 4, 17, 6, 9}, {1, 2, 3, 70, 3}, {1, 5, 3, 1, 9}, {1, 2, 2, 9, 1}, {4, 8, 16, 14, 14},
	{2, 2, 3, 4, 32}, {3, 2, 3, 5, 31}, {2, 3, 3, 3, 15}, {1, 3, 2, 2, 30}, {2, 2, 2, 3, 29},
	{1, 32, 64, 14, 14}, {2, 64, 13, 7, 7}, {1, 3, 2, 5, 40},
}

// TestWinogradF2x3 checks Forward against the direct definition for every kernel set (the reference
// transforms where a set has none), for odd and even sizes, widths past the assembly's limit, channel
// ranges, ragged chunks and ReLU on and off. Winograd rounds differently from a direct sum, so the
// bound scales with the sum of the magnitudes of the terms (the same convolution on |src|, |weight|).
func TestWinogradF2x3(t *testing.T) {
	forEachImpl(t, func(t *testing.T, impl Impl) {
		r := rand.New(rand.NewPCG(61, 62))
		for _, s := range winogradShapes {
			n, cin, cout, h, w := s[0], s[1], s[2], s[3], s[4]
			m := n * h * w
			src := ewRand(r, cin*m, 1, false)
			weight := ewRand(r, cout*cin*9, 0.5, false)
			bias := ewRand(r, cout, 0.5, false)
			mag := make([]float32, cout*m)
			abs := func(x []float32) []float32 {
				y := make([]float32, len(x))
				for i, v := range x {
					y[i] = float32(math.Abs(float64(v)))
				}
				return y
			}
			conv3x3Naive(mag, abs(src), abs(weight), abs(bias), n, cin, cout, h, w, false)
			c := NewWinogradF2x3(weight, cin, cout)
			ranges := [][2]int{{0, cout}, {0, cout / 2}, {cout / 2, cout}, {cout / 3, cout - cout/3}}
			for _, relu := range []bool{false, true} {
				want := make([]float32, cout*m)
				conv3x3Naive(want, src, weight, bias, n, cin, cout, h, w, relu)
				// The whole batch in one chunk, one image per chunk, and two (a ragged last one).
				th, tw := winogradTiles(h, w)
				// The whole output, the even region a floor 2×2 pool reads, and an arbitrary smaller one.
				regions := [][2]int{{h, w}, {max(1, h-h%2), max(1, w-w%2)}, {max(1, h-3), max(1, w/2)}}
				for _, chunkBytes := range []int{winogradChunkBytes, 1, 2 * 16 * (cin + cout) * th * tw * 4} {
					for _, rg := range ranges {
						for _, reg := range regions {
							lo, hi, oh, ow := rg[0], rg[1], reg[0], reg[1]
							saved := winogradChunkBytes
							winogradChunkBytes = chunkBytes
							scratch := make([]float32, c.ScratchSize(n, oh, ow))
							dst, check := ewOut(t, (hi-lo)*m, 1)
							c.Forward(dst, src, bias[lo:hi], n, h, w, oh, ow, lo, hi, relu, scratch)
							winogradChunkBytes = saved
							check()
							for i := range dst {
								j := lo*m + i
								if y, x := i%(h*w)/w, i%w; y >= oh || x >= ow {
									if math.Float32bits(dst[i]) != math.Float32bits(ewSentinel) {
										t.Fatalf("%v region %d×%d: dst[%d] (y=%d x=%d) outside the region written", s, oh, ow, i, y, x)
									}
									continue
								}
								if d := math.Abs(float64(dst[i] - want[j])); !(d <= 3e-6*float64(mag[j])+1e-30) {
									t.Fatalf("%v relu=%v chunk=%dB channels [%d,%d) region %d×%d: dst[%d] = %v, want %v (|terms| %v)",
										s, relu, chunkBytes, lo, hi, oh, ow, i, dst[i], want[j], mag[j])
								}
							}
						}
					}
				}
			}
		}
	})
}

// TestWinogradF2x3NaN: a NaN in the input reaches exactly the outputs whose 3×3 window covers it, as in
// the direct convolution: F(2×2, 3×3)'s transforms combine for an output only the input rows and
// columns of its window (y[r][·] uses s_r, built from m rows 0–2 or 1–3, from d rows 0–2 or 1–3).
func TestWinogradF2x3NaN(t *testing.T) {
	forEachImpl(t, func(t *testing.T, impl Impl) {
		r := rand.New(rand.NewPCG(63, 64))
		n, cin, cout, h, w := 1, 2, 3, 7, 8
		src := make([]float32, cin*n*h*w)
		ny, nx := 3, 4
		src[(cin-1)*h*w+ny*w+nx] = float32(math.NaN())
		c := NewWinogradF2x3(ewRand(r, cout*cin*9, 1, false), cin, cout)
		dst := make([]float32, cout*h*w)
		c.Forward(dst, src, make([]float32, cout), n, h, w, h, w, 0, cout, true, make([]float32, c.ScratchSize(n, h, w)))
		for co := 0; co < cout; co++ {
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					isNaN := math.IsNaN(float64(dst[(co*h+y)*w+x]))
					if inWindow := ny >= y-1 && ny <= y+1 && nx >= x-1 && nx <= x+1; isNaN != inWindow {
						t.Fatalf("NaN at co=%d y=%d x=%d: %v, want %v", co, y, x, isNaN, inWindow)
					}
				}
			}
		}
	})
}

// TestWinogradF2x3Pays: the CNN's conv2 (14×14) and conv3 (its 6×6 region) run Winograd on every set
// with transform kernels, the sets without never do (their Go transforms cost more than the
// multiplications saved), and a whole 7×7 output only where measured faster (AVX2, not AVX-512).
func TestWinogradF2x3Pays(t *testing.T) {
	forEachImpl(t, func(t *testing.T, impl Impl) {
		c := NewWinogradF2x3(make([]float32, 64*32*9), 32, 64)
		has := impl.ew.winogradIn != nil && impl.ew.winogradOut != nil
		if (impl.Name == "avx512" || impl.Name == "avx2") && !has {
			t.Fatalf("%s has no Winograd transforms", impl.Name)
		}
		if got := c.Pays(1, 14, 14); got != has {
			t.Errorf("Pays(1, 14, 14) = %v with transform kernels %v", got, has)
		}
		if got := c.Pays(32, 14, 14); got != has {
			t.Errorf("Pays(32, 14, 14) = %v with transform kernels %v", got, has)
		}
		want7 := impl.Name == "avx2"
		for _, n := range []int{1, 32} {
			if got := c.Pays(n, 7, 7); got != want7 {
				t.Errorf("Pays(%d, 7, 7) = %v, want %v", n, got, want7)
			}
		}
		if got := c.Pays(8, 6, 6); got != has { // the CNN's conv3: the 6×6 region a 3×3 pool reads
			t.Errorf("Pays(8, 6, 6) = %v with transform kernels %v", got, has)
		}
		if got, want := c.Pays(1, 6, 6), impl.Name == "avx2"; got != want { // 9 tiles: only AVX2 gains
			t.Errorf("Pays(1, 6, 6) = %v, want %v", got, want)
		}
		if c.Pays(1, 2, 2) {
			t.Errorf("Pays(1, 2, 2) = true: one tile")
		}
	})
}

// FuzzWinogradF2x3 checks Forward on every set against the direct definition for random shapes,
// channel ranges and values, past the assembly's width limits (31 and 15 floats) too.
func FuzzWinogradF2x3(f *testing.F) {
	f.Add(uint8(1), uint8(2), uint8(3), uint8(7), uint8(7), uint8(0), uint64(1))
	f.Add(uint8(2), uint8(5), uint8(9), uint8(14), uint8(14), uint8(3), uint64(2))
	f.Add(uint8(1), uint8(3), uint8(4), uint8(5), uint8(33), uint8(1), uint64(3))
	f.Fuzz(func(t *testing.T, n, cin, cout, h, w, cut uint8, seed uint64) {
		N, Cin, Cout, H, W := int(n%3)+1, int(cin%6)+1, int(cout%9)+1, int(h%16)+1, int(w%36)+1
		lo := int(cut) % Cout
		hi := lo + 1 + int(cut/16)%(Cout-lo)
		r := rand.New(rand.NewPCG(seed, 9))
		src := ewRand(r, Cin*N*H*W, 2, false)
		weight, bias := ewRand(r, Cout*Cin*9, 1, false), ewRand(r, Cout, 1, false)
		relu := seed%2 == 0
		want := make([]float32, Cout*N*H*W)
		conv3x3Naive(want, src, weight, bias, N, Cin, Cout, H, W, relu)
		c := NewWinogradF2x3(weight, Cin, Cout)
		m := N * H * W
		prev := Current().Name
		defer Use(prev)
		for _, impl := range Available() {
			if err := Use(impl.Name); err != nil {
				t.Fatal(err)
			}
			oh, ow := H, W
			if seed%3 == 0 { // the even region a floor 2×2 pool reads
				oh, ow = max(1, H-H%2), max(1, W-W%2)
			}
			dst := make([]float32, (hi-lo)*m)
			c.Forward(dst, src, bias[lo:hi], N, H, W, oh, ow, lo, hi, relu, make([]float32, c.ScratchSize(N, oh, ow)))
			for i := range dst {
				if i%(H*W)/W >= oh || i%W >= ow {
					continue
				}
				if d := math.Abs(float64(dst[i] - want[lo*m+i])); !(d <= 1e-4*float64(Cin*9)) {
					t.Fatalf("%s: channels [%d,%d): dst[%d] = %v, want %v", impl.Name, lo, hi, i, dst[i], want[lo*m+i])
				}
			}
		}
	})
}

func TestWinogradF2x3NoAllocs(t *testing.T) {
	forEachImpl(t, func(t *testing.T, impl Impl) {
		r := rand.New(rand.NewPCG(65, 66))
		n, cin, cout, h, w := 3, 32, 64, 14, 14
		c := NewWinogradF2x3(ewRand(r, cout*cin*9, 1, false), cin, cout)
		src, bias := ewRand(r, cin*n*h*w, 1, false), ewRand(r, cout, 1, false)
		dst, scratch := make([]float32, cout*n*h*w), make([]float32, c.ScratchSize(n, h, w))
		if a := testing.AllocsPerRun(5, func() { c.Forward(dst, src, bias, n, h, w, h, w, 0, cout, true, scratch) }); a != 0 {
			t.Fatalf("%v allocations per call", a)
		}
	})
}

func TestWinogradF2x3Panics(t *testing.T) {
	c := NewWinogradF2x3(make([]float32, 2*3*9), 3, 2)
	for name, f := range map[string]func(){
		"range": func() {
			c.Forward(make([]float32, 100), make([]float32, 100), make([]float32, 3), 1, 3, 3, 3, 3, 0, 3, false, make([]float32, 1000))
		},
		"region": func() {
			c.Forward(make([]float32, 100), make([]float32, 100), make([]float32, 2), 1, 3, 3, 4, 3, 0, 2, false, make([]float32, 1000))
		},
		"scratch": func() {
			c.Forward(make([]float32, 100), make([]float32, 100), make([]float32, 2), 1, 3, 3, 3, 3, 0, 2, false, nil)
		},
		"src": func() {
			c.Forward(make([]float32, 100), make([]float32, 5), make([]float32, 2), 1, 3, 3, 3, 3, 0, 2, false, make([]float32, 1000))
		},
		"weight": func() { NewWinogradF2x3(make([]float32, 5), 3, 2) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// BenchmarkConv3x3Winograd compares Winograd with im2col + GEMM on the CNN's layers, one thread.
// Winograd computes the region the following 2×2 pool reads (6×6 of conv3's 7×7), as in the model;
// im2col + GEMM computes the whole output.
func BenchmarkConv3x3Winograd(b *testing.B) {
	r := rand.New(rand.NewPCG(67, 68))
	for _, l := range convBenchLayers {
		if l.cin == 1 {
			continue
		}
		for _, n := range []int{1, 32} {
			src := ewRand(r, l.cin*n*l.h*l.w, 1, false)
			weight, bias := ewRand(r, l.cout*l.cin*9, 1, false), ewRand(r, l.cout, 1, false)
			dst := make([]float32, l.cout*n*l.h*l.w)
			c := NewWinogradF2x3(weight, l.cin, l.cout)
			flops := float64(2*l.cout*l.cin*9*l.h*l.w*n) * 1e-9
			prev := SetMaxThreads(1)
			b.Run(fmt.Sprintf("layer=%s/batch=%d/path=im2col", l.name, n), func(b *testing.B) {
				scratch := make([]float32, Conv3x3ScratchSize(n, l.cin, l.h, l.w))
				for i := 0; i < b.N; i++ {
					Conv3x3BiasReLU(dst, src, weight, bias, n, l.cin, l.cout, l.h, l.w, true, scratch)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
			})
			b.Run(fmt.Sprintf("layer=%s/batch=%d/path=winograd", l.name, n), func(b *testing.B) {
				scratch := make([]float32, c.ScratchSize(n, l.h-l.h%2, l.w-l.w%2))
				for i := 0; i < b.N; i++ {
					c.Forward(dst, src, bias, n, l.h, l.w, l.h-l.h%2, l.w-l.w%2, 0, l.cout, true, scratch)
				}
				// Effective: the direct convolution's FLOPs over Winograd's time.
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
			})
			SetMaxThreads(prev)
		}
	}
}
