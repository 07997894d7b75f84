package nn

import (
	"fmt"
	"math"
	"math/rand"
	"runtime"
	"sync"
	"testing"

	"github.com/simdnn/simdnn/kernels"
)

// inferTestTensors returns random tensors for arch in state_dict naming, with non-trivial BatchNorm
// statistics so that folding is exercised.
func inferTestTensors(arch string, seed int64) []*Param {
	rng := rand.New(rand.NewSource(seed))
	var ps []*Param
	add := func(name string, lo, hi float64, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		p := &Param{Name: name, Shape: shape, Value: make([]float32, n)}
		for i := range p.Value {
			p.Value[i] = float32(lo + (hi-lo)*rng.Float64())
		}
		ps = append(ps, p)
	}
	bn := func(name string, c int) {
		add(name+".weight", 0.5, 1.5, c)
		add(name+".bias", -0.2, 0.2, c)
		add(name+".running_mean", -0.3, 0.3, c)
		add(name+".running_var", 0.2, 2, c)
	}
	switch arch {
	case "cnn":
		c := 1
		for i, co := range []int{32, 64, 128} {
			s := 1 / math.Sqrt(float64(c*9))
			add(fmt.Sprintf("conv%d.weight", i+1), -s, s, co, c, 3, 3)
			add(fmt.Sprintf("conv%d.bias", i+1), -s, s, co)
			bn(fmt.Sprintf("bn%d", i+1), co)
			c = co
		}
		add("fc1.weight", -1/math.Sqrt(1152), 1/math.Sqrt(1152), 256, 1152)
		add("fc1.bias", -0.03, 0.03, 256)
		add("fc2.weight", -1/16.0, 1/16.0, 10, 256)
		add("fc2.bias", -1/16.0, 1/16.0, 10)
	case "ann":
		in := 784
		for i, out := range []int{512, 256, 128, 10} {
			s := 1 / math.Sqrt(float64(in))
			add(fmt.Sprintf("fc%d.weight", i+1), -s, s, out, in)
			add(fmt.Sprintf("fc%d.bias", i+1), -s, s, out)
			if i < 3 {
				bn(fmt.Sprintf("bn%d", i+1), out)
			}
			in = out
		}
	}
	return ps
}

// naiveForward is the specification: PyTorch's evaluation-mode forward pass written out directly,
// image by image, in float64, with BatchNorm unfolded.
func naiveForward(arch string, ps []*Param, x []float32, n int) []float64 {
	t := map[string][]float32{}
	for _, p := range ps {
		t[p.Name] = p.Value
	}
	bnApply := func(v []float64, name string, c, hw int) {
		g, b, m, va := t[name+".weight"], t[name+".bias"], t[name+".running_mean"], t[name+".running_var"]
		for ci := 0; ci < c; ci++ {
			s := float64(g[ci]) / math.Sqrt(float64(va[ci])+1e-5)
			for p := 0; p < hw; p++ {
				v[ci*hw+p] = (v[ci*hw+p]-float64(m[ci]))*s + float64(b[ci])
			}
		}
	}
	relu := func(v []float64) {
		for i := range v {
			v[i] = math.Max(v[i], 0)
		}
	}
	linear := func(v []float64, name string, out int) []float64 {
		w, b := t[name+".weight"], t[name+".bias"]
		in := len(v)
		y := make([]float64, out)
		for o := range y {
			s := float64(b[o])
			for i := 0; i < in; i++ {
				s += float64(w[o*in+i]) * v[i]
			}
			y[o] = s
		}
		return y
	}
	logits := make([]float64, 0, n*10)
	for img := 0; img < n; img++ {
		v := make([]float64, 784)
		for i := range v {
			v[i] = float64(x[img*784+i])
		}
		if arch == "cnn" {
			c, h, w := 1, 28, 28
			for li, co := range []int{32, 64, 128} {
				wt, b := t[fmt.Sprintf("conv%d.weight", li+1)], t[fmt.Sprintf("conv%d.bias", li+1)]
				y := make([]float64, co*h*w)
				for o := 0; o < co; o++ {
					for yy := 0; yy < h; yy++ {
						for xx := 0; xx < w; xx++ {
							s := float64(b[o])
							for ci := 0; ci < c; ci++ {
								for kh := 0; kh < 3; kh++ {
									for kw := 0; kw < 3; kw++ {
										sy, sx := yy+kh-1, xx+kw-1
										if sy >= 0 && sy < h && sx >= 0 && sx < w {
											s += float64(wt[((o*c+ci)*3+kh)*3+kw]) * v[(ci*h+sy)*w+sx]
										}
									}
								}
							}
							y[(o*h+yy)*w+xx] = s
						}
					}
				}
				bnApply(y, fmt.Sprintf("bn%d", li+1), co, h*w)
				relu(y)
				oh, ow := h/2, w/2
				p := make([]float64, co*oh*ow)
				for o := 0; o < co; o++ {
					for yy := 0; yy < oh; yy++ {
						for xx := 0; xx < ow; xx++ {
							at := func(dy, dx int) float64 { return y[(o*h+2*yy+dy)*w+2*xx+dx] }
							p[(o*oh+yy)*ow+xx] = math.Max(math.Max(at(0, 0), at(0, 1)), math.Max(at(1, 0), at(1, 1)))
						}
					}
				}
				v, c, h, w = p, co, oh, ow
			}
			v = linear(v, "fc1", 256)
			relu(v)
			v = linear(v, "fc2", 10)
		} else {
			for i, out := range []int{512, 256, 128, 10} {
				v = linear(v, fmt.Sprintf("fc%d", i+1), out)
				if i < 3 {
					bnApply(v, fmt.Sprintf("bn%d", i+1), out, 1)
					relu(v)
				}
			}
		}
		logits = append(logits, v...)
	}
	return logits
}

func inferTestImages(n int, seed int64) []float32 {
	rng := rand.New(rand.NewSource(seed))
	x := make([]float32, n*784)
	for i := range x {
		x[i] = float32((rng.Float64() - 0.286) / 0.353)
	}
	return x
}

// checkLogits compares got with want to a relative tolerance of tol of the largest |logit| of each image.
func checkLogits(t *testing.T, got []float32, want []float64, tol float64) {
	t.Helper()
	for img := 0; img < len(want)/10; img++ {
		scale := 1e-3
		for _, v := range want[img*10 : img*10+10] {
			scale = math.Max(scale, math.Abs(v))
		}
		for o := 0; o < 10; o++ {
			g, w := float64(got[img*10+o]), want[img*10+o]
			if !(math.Abs(g-w) <= tol*scale) {
				t.Fatalf("image %d logit %d: got %v, want %v (|diff|/scale = %.3g > %g)", img, o, g, w, math.Abs(g-w)/scale, tol)
			}
		}
	}
}

// forEachImpl runs f once per kernel set this CPU can run, as named subtests.
func forEachImpl(t *testing.T, f func(t *testing.T)) {
	prev := kernels.Current().Name
	defer kernels.Use(prev)
	for _, impl := range kernels.Available() {
		t.Run("impl="+impl.Name, func(t *testing.T) {
			if err := kernels.Use(impl.Name); err != nil {
				t.Fatal(err)
			}
			f(t)
		})
	}
}

func TestInferenceMatchesNaive(t *testing.T) {
	for _, arch := range []string{"ann", "cnn"} {
		ps := inferTestTensors(arch, 1)
		g, err := CompileInference(arch, ps)
		if err != nil {
			t.Fatal(err)
		}
		// 1 is the latency path, 17 and 37 cross the chunk size with ragged tails; the ANN splits a
		// batch between workers from 2·64 images on.
		sizes := []int{1, 2, 17, 37}
		if arch == "ann" {
			sizes = append(sizes, 130)
		}
		maxN := sizes[len(sizes)-1]
		x := inferTestImages(maxN, 2)
		want := naiveForward(arch, ps, x, maxN)
		t.Run("arch="+arch, func(t *testing.T) {
			forEachImpl(t, func(t *testing.T) {
				for _, threads := range []int{1, 2, 3} {
					g.SetThreads(threads)
					for _, n := range sizes {
						out := make([]float32, n*10)
						g.Forward(x, n, out)
						checkLogits(t, out, want[:n*10], 1e-4)
					}
				}
			})
		})
	}
}

func TestInferenceZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector (sync.Pool drops items on purpose)")
	}
	for _, arch := range []string{"ann", "cnn"} {
		g, err := CompileInference(arch, inferTestTensors(arch, 3))
		if err != nil {
			t.Fatal(err)
		}
		for _, threads := range []int{1, 2} {
			for _, n := range []int{1, 40, 130} { // 130: the ANN splits its batch
				g.SetThreads(threads)
				x := inferTestImages(n, 4)
				out := make([]float32, n*10)
				g.Forward(x, n, out) // warm-up: workspaces, worker goroutines
				if a := testing.AllocsPerRun(20, func() { g.Forward(x, n, out) }); a != 0 {
					t.Errorf("%s threads=%d batch=%d: %v allocations per batch, want 0", arch, threads, n, a)
				}
			}
		}
	}
}

// TestInferenceConcurrent runs one Inference from many goroutines at once (run it under -race) and
// requires every result to equal the serial one bit for bit.
func TestInferenceConcurrent(t *testing.T) {
	for _, arch := range []string{"ann", "cnn"} {
		g, err := CompileInference(arch, inferTestTensors(arch, 5))
		if err != nil {
			t.Fatal(err)
		}
		g.SetThreads(2)
		// Bit-identical results need the same split, so the serial reference uses the same batch sizes.
		sizes := []int{1, 2, 3, 6}
		if arch == "ann" {
			sizes = append(sizes, 130) // split between the workers
		}
		n := sizes[len(sizes)-1]
		x := inferTestImages(n, 6)
		want := make([][]float32, len(sizes))
		for i, s := range sizes {
			want[i] = make([]float32, s*10)
			g.Forward(x, s, want[i])
		}
		var wg sync.WaitGroup
		errs := make(chan string, 64)
		for gr := 0; gr < 6; gr++ {
			wg.Add(1)
			go func(gr int) {
				defer wg.Done()
				for it := 0; it < 3; it++ {
					i := (gr + it) % len(sizes)
					out := make([]float32, sizes[i]*10)
					g.Forward(x, sizes[i], out)
					for j := range out {
						if out[j] != want[i][j] {
							errs <- fmt.Sprintf("%s goroutine %d batch %d: logit %d = %v, serial gave %v", arch, gr, sizes[i], j, out[j], want[i][j])
							return
						}
					}
				}
			}(gr)
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
	}
}

func TestCompileInferenceErrors(t *testing.T) {
	cnn := inferTestTensors("cnn", 1)
	if _, err := CompileInference("ann", cnn); err == nil {
		t.Error("CNN tensors compiled as an ANN")
	} else {
		t.Log(err)
	}
	if _, err := CompileInference("cnn", inferTestTensors("ann", 1)); err == nil {
		t.Error("ANN tensors compiled as a CNN")
	} else {
		t.Log(err)
	}
	if _, err := CompileInference("rnn", cnn); err == nil {
		t.Error("unknown architecture accepted")
	}
	bad := inferTestTensors("cnn", 1)
	bad[0] = &Param{Name: bad[0].Name, Shape: []int{32, 1, 5, 5}, Value: make([]float32, 32*25)}
	if _, err := CompileInference("cnn", bad); err == nil {
		t.Error("a 5×5 conv1.weight was accepted")
	} else {
		t.Log(err)
	}
	short := inferTestTensors("ann", 1)
	short[1].Value = short[1].Value[:3]
	if _, err := CompileInference("ann", short); err == nil {
		t.Error("a tensor shorter than its shape was accepted")
	}
	missing := inferTestTensors("ann", 1)[1:]
	if _, err := CompileInference("ann", missing); err == nil {
		t.Error("a missing fc1.weight was accepted")
	}
	negvar := inferTestTensors("ann", 1)
	for _, p := range negvar {
		if p.Name == "bn2.running_var" {
			p.Value[3] = -1
		}
	}
	if _, err := CompileInference("ann", negvar); err == nil {
		t.Error("a negative running variance was accepted")
	}
}

// TestInferenceOneImageTwoCores: a single image divided between the caller and the helper by
// channels gives the serial logits bit for bit, whoever runs which ticket: the helper alone, the
// caller alone (the helper busy elsewhere), and as they meet in Forward.
func TestInferenceOneImageTwoCores(t *testing.T) {
	for _, arch := range AllArchs {
		g := testInference(t, arch, 7)
		if g.plan1 == nil {
			t.Fatalf("%s: no plan for one image on two cores", arch)
		}
		x := inferTestImages(1, 8)
		g.SetThreads(1)
		want := make([]float32, 10)
		g.Forward(x, 1, want)

		for _, who := range []string{"caller alone", "helper first"} {
			r := &oneRun{g: g, x: x, ws: g.getWorkspace()}
			r.refs.Store(2)
			done := make(chan struct{})
			if who == "helper first" {
				// The helper claims its first ticket before the caller starts, so it runs at least
				// that one; the rest is a race, which must not change the logits.
				first := -1
				for t, p := range g.plan1 {
					if p.part == 1 {
						first = t
						break
					}
				}
				go func() { r.help(); close(done) }()
				for !r.claimed[first].Load() {
					runtime.Gosched()
				}
			} else {
				close(done) // the helper never comes: the caller claims every ticket
			}
			r.work(r.ws, false)
			for r.done.Load() < int32(len(g.plan1)) {
				runtime.Gosched()
			}
			<-done
			got := g.oneLogits(r.ws)
			for j := range want {
				if got[j] != want[j] {
					t.Fatalf("%s, %s: logit %d = %v, serial gave %v", arch, who, j, got[j], want[j])
				}
			}
			g.putWorkspace(r.ws)
		}

		g.SetThreads(2)
		out := make([]float32, 10)
		for it := 0; it < 50; it++ {
			g.Forward(x, 1, out)
			for j := range want {
				if out[j] != want[j] {
					t.Fatalf("%s, two cores, call %d: logit %d = %v, serial gave %v", arch, it, j, out[j], want[j])
				}
			}
		}
	}
}

// TestInferenceLayerKernels: the names bench prints follow the paths the kernels take: Winograd for the
// CNN's conv2 (14×14) and conv3 (the 6×6 region of its 7×7 that pool3 reads) on the sets with its
// transforms (conv3 of a single image on AVX2 only), a single image's other convolutions transposed
// with their pool, and the matrix-vector kernel for the linear layers of a single image.
func TestInferenceLayerKernels(t *testing.T) {
	g, err := CompileInference("cnn", inferTestTensors("cnn", 1))
	if err != nil {
		t.Fatal(err)
	}
	forEachImpl(t, func(t *testing.T) {
		wantConv := "im2col+sgemm"
		switch kernels.Current().Name {
		case "avx512", "avx2":
			wantConv = "winograd-f2x3"
		}
		for _, n := range []int{1, 128} {
			got := g.LayerKernels(n)
			fc := "sgemm"
			if n == 1 {
				fc = "sgemv"
			}
			wantConv2, wantConv3 := wantConv, wantConv
			pool2, pool3 := "maxpool-2x2", "maxpool-2x2"
			// A single image whose convolution takes no Winograd path runs it transposed over the
			// pool's region, the pool fused (runPooled).
			const pooled = "im2col-region+sgemm-t+maxpool"
			if n == 1 && kernels.Current().Name == "avx512" {
				wantConv3, pool3 = pooled, "(in conv3+bn+relu)" // 9 tiles: too few for Winograd
			}
			if n == 1 && wantConv == "im2col+sgemm" {
				wantConv2, wantConv3, pool2, pool3 = pooled, pooled, "(in conv2+bn+relu)", "(in conv3+bn+relu)"
			}
			want := map[string]string{"conv2+bn+relu": wantConv2, "conv3+bn+relu": wantConv3, "pool1": "maxpool-2x2",
				"pool2": pool2, "pool3": pool3, "fc1+relu": fc, "flatten": "copy"}
			for i, l := range g.layers {
				if w, ok := want[l.name]; ok && got[i] != w {
					t.Errorf("batch %d: %s runs %q, want %q", n, l.name, got[i], w)
				}
			}
		}
	})
}

// TestOnePlanTickets pins the one-image plans' sizes (onePlanMax bounds them) and the fused steps: no
// ticket of the CNN runs a pool on its own.
func TestOnePlanTickets(t *testing.T) {
	for arch, want := range map[string]int{"ann": 8, "cnn": 10, "resnet": 18, "resnet-wide": 18, "resnet-deep": 24} {
		g := testInference(t, arch, 1)
		if len(g.plan1) != want {
			t.Errorf("%s: %d tickets, want %d", arch, len(g.plan1), want)
		}
		for _, p := range g.plan1 {
			if arch == "cnn" && g.layers[p.layer].kind == infPoolK {
				t.Errorf("cnn: a ticket of %s runs alone", g.layers[p.layer].name)
			}
		}
	}
}

// testInference compiles arch with random weights drawn from seed: the test network for the residual
// CNN (its BatchNorm statistics keep the activations alive), random tensors for the others.
func testInference(t *testing.T, arch string, seed int64) *Inference {
	t.Helper()
	var g *Inference
	var err error
	if IsResNet(arch) {
		g, err = NewInference(resnetForInference(arch, uint64(seed)))
	} else {
		g, err = CompileInference(arch, inferTestTensors(arch, seed))
	}
	if err != nil {
		t.Fatal(err)
	}
	return g
}
