package nn

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// resNetBlocks is each variant's blocks as a PyTorch module of its layout would name them, written
// out here rather than read from resNetSpecs so the test checks the table.
var resNetBlocks = map[string][]struct {
	p       string
	in, out int
}{
	"resnet":      {{"layer1.0", 32, 64}, {"layer1.1", 64, 64}, {"layer2.0", 64, 128}},
	"resnet-wide": {{"layer1.0", 32, 80}, {"layer1.1", 80, 80}, {"layer2.0", 80, 128}},
	"resnet-deep": {{"layer1.0", 32, 32}, {"layer2.0", 32, 64}, {"layer2.1", 64, 64}, {"layer3.0", 64, 128}},
}

func TestResNetParamsAndNames(t *testing.T) {
	params := map[string]int{"resnet": ResNetParams, "resnet-wide": ResNetWideParams, "resnet-deep": ResNetDeepParams}
	if got := ResNetArchs(); !slices.Equal(got, []string{"resnet", "resnet-wide", "resnet-deep"}) {
		t.Fatalf("ResNetArchs() = %v", got)
	}
	for _, arch := range ResNetArchs() {
		t.Run(arch, func(t *testing.T) { testResNetParamsAndNames(t, arch, params[arch]) })
	}
}

func testResNetParamsAndNames(t *testing.T, arch string, params int) {
	net, err := New(arch, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := net.ParamCount(); got != params {
		t.Errorf("%s: %d trainable parameters, want %d", arch, got, params)
	}
	if params > 500_000 {
		t.Errorf("%s: %d parameters, over issue 6's budget of about 500k", arch, params)
	}
	// The names and shapes a PyTorch module of the same layout has in its state_dict, in its order.
	type ts struct {
		name  string
		shape []int
	}
	var want []ts
	conv := func(p string, o, i, k int) {
		want = append(want, ts{p + ".weight", []int{o, i, k, k}}, ts{p + ".bias", []int{o}})
	}
	bn := func(p string, c int) {
		for _, s := range []string{".weight", ".bias", ".running_mean", ".running_var"} {
			want = append(want, ts{p + s, []int{c}})
		}
	}
	conv("stem.conv", 32, 1, 3)
	bn("stem.bn", 32)
	for _, b := range resNetBlocks[arch] {
		conv(b.p+".conv1", b.out, b.in, 3)
		bn(b.p+".bn1", b.out)
		conv(b.p+".conv2", b.out, b.out, 3)
		bn(b.p+".bn2", b.out)
		if b.in != b.out {
			conv(b.p+".downsample.0", b.out, b.in, 1)
			bn(b.p+".downsample.1", b.out)
		}
	}
	want = append(want, ts{"fc.weight", []int{10, 128}}, ts{"fc.bias", []int{10}})
	sd := net.(stateDicter).stateDict()
	if len(sd) != len(want) {
		t.Fatalf("%d tensors, want %d", len(sd), len(want))
	}
	total := 0
	for i, p := range sd {
		if p.Name != want[i].name || !slices.Equal(p.Shape, want[i].shape) {
			t.Errorf("tensor %d is %s %v, want %s %v", i, p.Name, p.Shape, want[i].name, want[i].shape)
		}
		if p.Grad != nil {
			total += len(p.Value)
		}
	}
	if total != params {
		t.Errorf("trainable tensors hold %d values, want %d", total, params)
	}
}

func TestGradResBlock(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in, out int
		train   bool
		drop    bool // with SetBlockDropout's dropout, on a fixed mask
	}{{"projection", 2, 3, true, false}, {"identity", 3, 3, true, false}, {"identity-eval", 3, 3, false, false},
		{"projection-dropout", 2, 3, true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			// The block's two ReLUs act on sums the test cannot steer away from zero the way the
			// single-layer checks do, so draw setups until every ReLU input is at least `margin` from
			// the kink: then a step of h cannot cross one.
			const h, margin = 1e-3, 0.03
			for seed := uint64(0); seed < 500; seed++ {
				rng := rand.New(rand.NewPCG(61, seed))
				b := newBuilder("t", int64(seed))
				r := b.block("blk", tc.in, tc.out, 2, 3)
				if tc.drop {
					mask := make([]float32, tc.out*2*2*3)
					for i := range mask {
						if i%3 != 1 {
							mask[i] = 1 / (1 - 0.3)
						}
					}
					r.drop = &dropout{tap: tap{label: "blk.drop"}, p: 0.3, fixedMask: mask}
				}
				if (r.down != nil) != (tc.in != tc.out) {
					t.Fatalf("projection shortcut present = %v for %d→%d", r.down != nil, tc.in, tc.out)
				}
				// Non-trivial BatchNorm parameters and running statistics, so every term is exercised.
				for _, p := range b.s.state {
					if p.Grad == nil || len(p.Shape) == 1 {
						for i := range p.Value {
							p.Value[i] = float32(0.5 + rng.Float64())
						}
					}
				}
				x := randVec(tc.in*2*2*3, rng)
				r.forward(x, 2, tc.train)
				short := x
				if r.down != nil {
					short = r.downBN.y
				}
				ok := true
				for i, v := range r.bn2.y {
					ok = ok && math.Abs(float64(v+short[i])) > margin && math.Abs(float64(r.bn1.y[i])) > margin
				}
				if !ok {
					continue
				}
				checkLayerStep(t, r, b.s.params, x, 2, tc.train, rng, h)
				return
			}
			t.Fatal("no setup kept every ReLU input away from zero")
		})
	}
}

// checkLayerStep is checkLayer with a smaller step h. A block's output ReLU acts on conv+BN output
// plus the (unnormalized) shortcut, so its inputs cannot be kept away from the kink the way single
// layers' are; h = 1e-3 makes crossing one unlikely. The objective sums ~50 float32 outputs of size ~1
// in float64, so float32 rounding moves the quotient by about 1e-7·50/h ≈ 5e-3 at worst and far less
// typically; the tolerance is checkLayer's.
func checkLayerStep(t *testing.T, l layer, params []*Param, x []float32, n int, training bool, rng *rand.Rand, h float32) {
	t.Helper()
	y := l.forward(x, n, training)
	r := randVec(len(y), rng)
	for _, p := range params {
		clear(p.Grad)
	}
	dx := append([]float32(nil), l.backward(r)...)
	grads := make([][]float32, len(params))
	for i, p := range params {
		grads[i] = append([]float32(nil), p.Grad...)
	}
	probe := func(what string, v []float32, i int, ana float64) {
		t.Helper()
		old := v[i]
		v[i] = old + h
		lp := dot64(l.forward(x, n, training), r)
		v[i] = old - h
		lm := dot64(l.forward(x, n, training), r)
		v[i] = old
		num := (lp - lm) / float64(2*h)
		if !fdClose(num, ana) {
			t.Errorf("%s %s[%d]: analytic %.6g, numeric %.6g", l.name(), what, i, ana, num)
		}
	}
	for i := range x {
		probe("input", x, i, float64(dx[i]))
	}
	for pi, p := range params {
		for i := range p.Value {
			probe(p.Name, p.Value, i, float64(grads[pi][i]))
		}
	}
}

func TestGradConv1x1AndAvgPool(t *testing.T) {
	rng := rand.New(rand.NewPCG(62, 1))
	c := newConv1x1("down", 3, 2, 5, rng)
	checkLayer(t, c, []*Param{c.w, c.b}, randVec(3*2*5, rng), 2, true, rng)
	g := &globalAvgPool{tap: tap{label: "avg"}, c: 3, hw: 5}
	checkLayer(t, g, nil, randVec(3*2*5, rng), 2, true, rng)
}

// TestConv1x1MatchesDirect checks the 1×1 convolution's layout against the definition
// y[o][img][p] = Σ_i W[o][i]·x[i][img][p] + b[o].
func TestConv1x1MatchesDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(63, 1))
	cin, cout, n, hw := 3, 4, 2, 6
	c := newConv1x1("down", cin, cout, hw, rng)
	x := randVec(cin*n*hw, rng)
	y := c.forward(x, n, true)
	for o := 0; o < cout; o++ {
		for m := 0; m < n*hw; m++ {
			s := float64(c.b.Value[o])
			for i := 0; i < cin; i++ {
				s += float64(c.w.Value[o*cin+i]) * float64(x[i*n*hw+m])
			}
			if math.Abs(s-float64(y[o*n*hw+m])) > 1e-5 {
				t.Fatalf("y[%d][%d] = %v, want %v", o, m, y[o*n*hw+m], s)
			}
		}
	}
}

func TestResNetTrainsAndRoundTrips(t *testing.T) {
	for _, arch := range ResNetArchs() {
		t.Run(arch, func(t *testing.T) { testResNetTrainsAndRoundTrips(t, arch) })
	}
}

func testResNetTrainsAndRoundTrips(t *testing.T, arch string) {
	net := trainedNet(t, arch)
	x := randImages(6, 13)
	want := append([]float32(nil), net.Forward(x, 6, false)...)
	for _, v := range want {
		if math.IsNaN(float64(v)) {
			t.Fatal("NaN logit after two training steps")
		}
	}
	path := filepath.Join(t.TempDir(), "resnet.safetensors")
	if err := Save(path, net, Meta{Mean: 0.286, Std: 0.353}); err != nil {
		t.Fatal(err)
	}
	got, meta, err := LoadArch(path, arch)
	if err != nil {
		t.Fatal(err)
	}
	if meta.Arch != arch || got.Arch() != arch {
		t.Errorf("loaded arch %q / %q", meta.Arch, got.Arch())
	}
	logits := got.Forward(x, 6, false)
	for i := range want {
		if logits[i] != want[i] {
			t.Fatalf("logit %d is %v after the round trip, was %v", i, logits[i], want[i])
		}
	}
	for _, other := range AllArchs {
		if _, _, err := LoadArch(path, other); other != arch && err == nil {
			t.Errorf("a %s file loaded as a %s", arch, other)
		}
	}
	// The variants share tensor names: a file without an arch in its metadata (a PyTorch export) is
	// told apart by its shapes, and metadata naming another variant is caught.
	bare := filepath.Join(t.TempDir(), "bare.safetensors")
	rewriteHeader(t, path, bare, func(h map[string]any) { delete(h["__metadata__"].(map[string]any), "arch") })
	if n, _, err := Load(bare); err != nil || n.Arch() != arch {
		t.Errorf("without arch metadata: %v, err %v; want a %s", n, err, arch)
	}
	for _, other := range ResNetArchs() {
		if other == arch {
			continue
		}
		lies := filepath.Join(t.TempDir(), "lies.safetensors")
		rewriteHeader(t, path, lies, func(h map[string]any) { h["__metadata__"].(map[string]any)["arch"] = other })
		if _, _, err := Load(lies); err == nil || !strings.Contains(err.Error(), "metadata says "+other+" but the tensors are those of a "+arch) {
			t.Errorf("a %s file whose metadata says %s: err %v", arch, other, err)
		}
	}
}

// TestResNetOverfitsSmallBatch: the whole residual network (every block's backward composed, the
// shortcut gradients summed) drives the loss of a small fixed batch down.
func TestResNetOverfitsSmallBatch(t *testing.T) {
	net, _ := New("resnet", 3)
	n := 8
	x := randImages(n, 21)
	labels := make([]uint8, n)
	for i := range labels {
		labels[i] = uint8(i % NumClasses)
	}
	opt := NewAdam(net.Params(), 3e-3)
	d := make([]float32, n*NumClasses)
	first, loss := 0.0, 0.0
	for step := 0; step < 20; step++ {
		loss, _ = SoftmaxCrossEntropy(net.Forward(x, n, true), labels, n, d)
		if step == 0 {
			first = loss
		}
		opt.ZeroGrad()
		net.Backward(d)
		opt.Step()
	}
	if !(loss < 0.2*first) {
		t.Errorf("loss went from %.4f to %.4f in 20 steps, want below a fifth", first, loss)
	}
}
