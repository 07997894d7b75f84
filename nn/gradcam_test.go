package nn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// randomCNN is an untrained CNN whose BatchNorm running statistics are not the trivial 0/1, so the
// evaluation-mode network differs from one without BatchNorm.
func randomCNN(t *testing.T, seed int64) Network { return randomNet(t, "cnn", seed) }

func randomNet(t *testing.T, arch string, seed int64) Network {
	t.Helper()
	net, err := New(arch, seed)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 3))
	for _, b := range net.Buffers() {
		for i := range b.Value {
			if strings.HasSuffix(b.Name, "running_mean") {
				b.Value[i] = float32(rng.NormFloat64() * 0.1)
			} else {
				b.Value[i] = float32(0.5 + rng.Float64())
			}
		}
	}
	return net
}

// stageMaps returns StageFeatureMaps' maps after checking that its logits are GradCAM's.
func stageMaps(t *testing.T, net Network, x []float32, n int, logits []float32) [][]FeatureMap {
	t.Helper()
	maps, logits2, err := StageFeatureMaps(net, x, n)
	if err != nil {
		t.Fatal(err)
	}
	for i := range logits {
		if logits[i] != logits2[i] {
			t.Fatalf("logit %d differs between GradCAM (%g) and StageFeatureMaps (%g)", i, logits[i], logits2[i])
		}
	}
	return maps
}

func randomImages(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 5))
	x := make([]float32, n*ImageSize)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// paramByName returns a parameter or a BatchNorm buffer as float64.
func paramByName(t *testing.T, net Network, name string) []float64 {
	t.Helper()
	for _, p := range append(net.Params(), net.Buffers()...) {
		if p.Name == name {
			out := make([]float64, len(p.Value))
			for i, v := range p.Value {
				out[i] = float64(v)
			}
			return out
		}
	}
	t.Fatalf("no tensor %s", name)
	return nil
}

// cnnHead is an independent float64 evaluation of the CNN after relu3: max-pool 2×2 → flatten (C,H,W)
// → fc1 → ReLU → fc2 (dropout is the identity in evaluation). It is the function whose gradient
// Grad-CAM needs, written without any of nn's layers.
type cnnHead struct{ w1, b1, w2, b2 []float64 }

func (h cnnHead) logits(a []float64) []float64 {
	pooled := make([]float64, camC*3*3)
	for c := range camC {
		for i := range 3 {
			for j := range 3 {
				m := math.Inf(-1)
				for di := range 2 {
					for dj := range 2 {
						m = math.Max(m, a[c*49+(2*i+di)*7+2*j+dj])
					}
				}
				pooled[c*9+i*3+j] = m
			}
		}
	}
	hid := make([]float64, 256)
	for o := range 256 {
		s := h.b1[o]
		for k, v := range pooled {
			s += h.w1[o*1152+k] * v
		}
		hid[o] = math.Max(s, 0)
	}
	out := make([]float64, NumClasses)
	for o := range NumClasses {
		s := h.b2[o]
		for k, v := range hid {
			s += h.w2[o*256+k] * v
		}
		out[o] = s
	}
	return out
}

// TestGradCAMGradientFiniteDifferences checks ∂logit_class/∂A, read from the network's backward
// pass at relu3, against central differences of an independent float64 head, on positions where
// the max-pool's choice cannot flip within ±eps (a max-pool is not differentiable at ties).
func TestGradCAMGradientFiniteDifferences(t *testing.T) {
	net := randomCNN(t, 11)
	const n = 3
	x := randomImages(n, 1)
	class := []int{2, 7, 4}
	a, g, logits, err := gradCAMParts(net, x, n, class)
	if err != nil {
		t.Fatal(err)
	}
	head := cnnHead{paramByName(t, net, "fc1.weight"), paramByName(t, net, "fc1.bias"),
		paramByName(t, net, "fc2.weight"), paramByName(t, net, "fc2.bias")}
	const eps = 1e-3
	rng := rand.New(rand.NewPCG(9, 9))
	checked, nonzero := 0, 0
	for i := range n {
		a64 := make([]float64, len(a[i]))
		for k, v := range a[i] {
			a64[k] = float64(v)
		}
		// The head must reproduce the network's logits, or the check below would test another function.
		ref := head.logits(a64)
		for c := range NumClasses {
			got := float64(logits[i*NumClasses+c])
			if math.Abs(got-ref[c]) > 1e-4*(1+math.Abs(ref[c])) {
				t.Fatalf("image %d logit %d: network %g, float64 head %g", i, c, got, ref[c])
			}
		}
		for range 400 {
			k := rng.IntN(len(a64))
			ch, p := k/49, k%49
			r, col := p/7, p%7
			if r == 6 || col == 6 {
				continue // dropped by the floor pooling: gradient must be 0, covered below
			}
			// Skip positions whose window has a near-tie with another element.
			base := ch*49 + (r/2*2)*7 + col/2*2
			tie := false
			for _, o := range []int{base, base + 1, base + 7, base + 8} {
				if o != k && math.Abs(a64[o]-a64[k]) < 4*eps {
					tie = true
				}
			}
			if tie {
				continue
			}
			save := a64[k]
			a64[k] = save + eps
			up := head.logits(a64)[class[i]]
			a64[k] = save - eps
			down := head.logits(a64)[class[i]]
			a64[k] = save
			fd := (up - down) / (2 * eps)
			got := float64(g[i][k])
			if math.Abs(got-fd) > 2e-3*math.Abs(fd)+1e-5 {
				t.Errorf("image %d A[%d,%d,%d]: backward %.6g, finite difference %.6g", i, ch, r, col, got, fd)
			}
			checked++
			if fd != 0 {
				nonzero++
			}
		}
		for ch := range camC {
			for col := range 7 {
				if v := g[i][ch*49+6*7+col]; v != 0 {
					t.Fatalf("image %d: gradient %g at a row the pooling drops", i, v)
				}
			}
		}
	}
	if checked < 300 || nonzero < 100 {
		t.Fatalf("only %d positions checked (%d with a nonzero gradient): the check is too weak", checked, nonzero)
	}
	for _, p := range net.Params() {
		for _, v := range p.Grad {
			if v != 0 {
				t.Fatalf("GradCAM left a gradient in %s", p.Name)
			}
		}
	}
}

func TestGradCAMMapAndFeatureMaps(t *testing.T) {
	net := randomCNN(t, 4)
	const n = 2
	x := randomImages(n, 2)
	cams, logits, err := GradCAM(net, x, n, []int{0, 9})
	if err != nil {
		t.Fatal(err)
	}
	maps := stageMaps(t, net, x, n, logits)
	for i, cam := range cams {
		if len(cam) != ImageSize {
			t.Fatalf("map %d has %d values", i, len(cam))
		}
		top := float32(0)
		for _, v := range cam {
			if v < 0 || v > 1 {
				t.Fatalf("map %d value %g outside [0,1]", i, v)
			}
			top = max(top, v)
		}
		if top != 0 && top != 1 {
			t.Fatalf("map %d maximum %g: want 1 (or an all-zero map)", i, top)
		}
	}
	// Stage outputs are the network's own: pooling stage 3's map by hand from relu3 must match.
	a, _, _, err := gradCAMParts(net, x, n, []int{0, 0})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		want := []struct {
			c, h, w int
		}{{32, 14, 14}, {64, 7, 7}, {128, 3, 3}}
		for s, fm := range maps[i] {
			if fm.C != want[s].c || fm.H != want[s].h || fm.W != want[s].w || len(fm.Data) != fm.C*fm.H*fm.W {
				t.Fatalf("image %d stage %d: shape %d×%d×%d with %d values", i, s+1, fm.C, fm.H, fm.W, len(fm.Data))
			}
		}
		p3 := maps[i][2].Data
		for c := range camC {
			for r := range 3 {
				for q := range 3 {
					m := float32(math.Inf(-1))
					for _, o := range []int{0, 1, 7, 8} {
						m = max(m, a[i][c*49+(2*r)*7+2*q+o])
					}
					if p3[c*9+r*3+q] != m {
						t.Fatalf("image %d pool3[%d,%d,%d] = %g, max of its relu3 window = %g", i, c, r, q, p3[c*9+r*3+q], m)
					}
				}
			}
		}
	}
}

// TestCAMCombination checks the weighting on a hand-made case: two channels, the gradient's spatial
// mean 1 on the first and −48/49 on the second.
func TestCAMCombination(t *testing.T) {
	a := make([]float32, camC*49)
	g := make([]float32, camC*49)
	for p := range 49 {
		a[p] = float32(p % 7)       // ramp to the right
		a[49+p] = float32(p / 7)    // ramp downwards
		g[p] = 1                    // mean 1
		g[49+p] = -2 * float32(p%2) // 24 odd positions: mean −48/49
	}
	cam := camFrom(a, g)
	w1 := -48.0 / 49
	want := make([]float64, 49)
	top := 0.0
	for p := range 49 {
		want[p] = math.Max(float64(p%7)+w1*float64(p/7), 0)
		top = math.Max(top, want[p])
	}
	up := upsampleBilinear(want, 7, 7, 28, 28)
	for i := range up {
		if d := math.Abs(float64(cam[i]) - up[i]/top); d > 1e-6 {
			t.Fatalf("pixel %d: %g, want %g", i, cam[i], up[i]/top)
		}
	}
	// Upsampling preserves a constant and the corners.
	c := upsampleBilinear([]float64{3, 3, 3, 3}, 2, 2, 28, 28)
	for _, v := range c {
		if v != 3 {
			t.Fatalf("upsampled constant gave %g", v)
		}
	}
	ramp := upsampleBilinear([]float64{0, 1}, 1, 2, 1, 4)
	if ramp[0] != 0 || ramp[1] != 0.25 || ramp[2] != 0.75 || ramp[3] != 1 {
		t.Fatalf("1×2 → 1×4 gave %v, want [0 0.25 0.75 1] (half-pixel centres)", ramp)
	}
}

// TestGradCAMResNet checks Grad-CAM and the feature maps on every residual CNN against independent
// float64 arithmetic. The explained layer is the last block, which the head only averages (dropout is
// the identity in evaluation) before fc, so the logits must be fc(mean of A) and ∂logit_c/∂A[k,p] must
// be fc.weight[c,k]/49 at every position: that pins down both the layer read and the backward pass.
// The stem's feature map is recomputed from stem.conv and stem.bn (3×3, zero padding, running
// statistics, ReLU).
func TestGradCAMResNet(t *testing.T) {
	for _, arch := range ResNetArchs() {
		t.Run(arch, func(t *testing.T) {
			net := randomNet(t, arch, 6)
			const n = 3
			x := randomImages(n, 4)
			class := []int{3, 0, 9}
			a, g, logits, err := gradCAMParts(net, x, n, class)
			if err != nil {
				t.Fatal(err)
			}
			fw, fb := paramByName(t, net, "fc.weight"), paramByName(t, net, "fc.bias")
			for i := range n {
				for c := range NumClasses {
					ref := fb[c]
					for k := range camC {
						var m float64
						for _, v := range a[i][k*49 : (k+1)*49] {
							m += float64(v)
						}
						ref += fw[c*camC+k] * m / 49
					}
					if got := float64(logits[i*NumClasses+c]); math.Abs(got-ref) > 1e-4*(1+math.Abs(ref)) {
						t.Fatalf("image %d logit %d: network %g, fc(mean of the last block) %g", i, c, got, ref)
					}
				}
				for k := range camC {
					want := fw[class[i]*camC+k] / 49
					for p := range 49 {
						if got := float64(g[i][k*49+p]); math.Abs(got-want) > 1e-6*math.Abs(want)+1e-9 {
							t.Fatalf("image %d ∂logit/∂A[%d,%d] = %g, want fc.weight/49 = %g", i, k, p, got, want)
						}
					}
				}
			}
			for _, p := range net.Params() {
				for _, v := range p.Grad {
					if v != 0 {
						t.Fatalf("GradCAM left a gradient in %s", p.Name)
					}
				}
			}

			maps := stageMaps(t, net, x, n, logits)
			sp := resNetSpecs[arch]
			want := []FeatureMap{{Layer: "stem.relu", C: sp.stem, H: 28, W: 28}}
			h := 28
			for _, st := range sp.stages {
				if st.pool {
					h /= 2
				}
				want = append(want, FeatureMap{Layer: st.name, C: st.cout, H: h, W: h})
			}
			cw, cb := paramByName(t, net, "stem.conv.weight"), paramByName(t, net, "stem.conv.bias")
			gm, bt := paramByName(t, net, "stem.bn.weight"), paramByName(t, net, "stem.bn.bias")
			rm, rv := paramByName(t, net, "stem.bn.running_mean"), paramByName(t, net, "stem.bn.running_var")
			for i := range n {
				if len(maps[i]) != len(want) {
					t.Fatalf("image %d: %d stages, want %d", i, len(maps[i]), len(want))
				}
				for s, fm := range maps[i] {
					w := want[s]
					if fm.Layer != w.Layer || fm.C != w.C || fm.H != w.H || fm.W != w.W || len(fm.Data) != w.C*w.H*w.W {
						t.Fatalf("image %d stage %d: %s %d×%d×%d with %d values, want %s %d×%d×%d",
							i, s, fm.Layer, fm.C, fm.H, fm.W, len(fm.Data), w.Layer, w.C, w.H, w.W)
					}
				}
				last := maps[i][len(maps[i])-1].Data
				for k := range last {
					if last[k] != a[i][k] {
						t.Fatalf("image %d: last stage's map differs from the layer Grad-CAM explains at %d", i, k)
					}
				}
				img := x[i*ImageSize : (i+1)*ImageSize]
				for c := range sp.stem {
					for y := range 28 {
						for q := range 28 {
							v := cb[c]
							for dy := -1; dy <= 1; dy++ {
								for dx := -1; dx <= 1; dx++ {
									if yy, xx := y+dy, q+dx; yy >= 0 && yy < 28 && xx >= 0 && xx < 28 {
										v += cw[c*9+(dy+1)*3+dx+1] * float64(img[yy*28+xx])
									}
								}
							}
							v = math.Max(gm[c]*(v-rm[c])/math.Sqrt(rv[c]+batchNormEps)+bt[c], 0)
							if got := float64(maps[i][0].Data[c*784+y*28+q]); math.Abs(got-v) > 1e-4*(1+math.Abs(v)) {
								t.Fatalf("image %d stem[%d,%d,%d] = %g, float64 stem %g", i, c, y, q, got, v)
							}
						}
					}
				}
			}
		})
	}
}

func TestGradCAMErrors(t *testing.T) {
	x := randomImages(1, 3)
	if _, _, err := GradCAM(NewANN(1), x, 1, []int{0}); err == nil {
		t.Error("GradCAM accepted the ANN")
	}
	if _, _, err := GradCAM(NewCNN(1), x, 1, []int{10}); err == nil {
		t.Error("GradCAM accepted class 10")
	}
	if _, _, err := GradCAM(NewCNN(1), x[:100], 1, []int{0}); err == nil {
		t.Error("GradCAM accepted a short image")
	}
	if _, _, err := StageFeatureMaps(NewANN(1), x, 1); err == nil {
		t.Error("StageFeatureMaps accepted the ANN")
	}
}
