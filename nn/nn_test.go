package nn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"

	"github.com/simdnn/simdnn/kernels"
)

func TestParamCounts(t *testing.T) {
	for _, tc := range []struct {
		arch string
		want int
	}{{"ann", 569226}, {"cnn", 390858}} {
		net, err := New(tc.arch, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := net.ParamCount(); got != tc.want {
			t.Errorf("%s: %d trainable parameters, want %d", tc.arch, got, tc.want)
		}
		if net.Arch() != tc.arch {
			t.Errorf("Arch() = %q, want %q", net.Arch(), tc.arch)
		}
	}
	if _, err := New("rnn", 1); err == nil {
		t.Error("New(rnn) did not fail")
	}
}

func TestStateDictNames(t *testing.T) {
	want := map[string][]string{
		"ann": {"fc1.weight", "fc1.bias", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
			"fc2.weight", "fc2.bias", "bn2.weight", "bn2.bias", "bn2.running_mean", "bn2.running_var",
			"fc3.weight", "fc3.bias", "bn3.weight", "bn3.bias", "bn3.running_mean", "bn3.running_var",
			"fc4.weight", "fc4.bias"},
		"cnn": {"conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
			"conv2.weight", "conv2.bias", "bn2.weight", "bn2.bias", "bn2.running_mean", "bn2.running_var",
			"conv3.weight", "conv3.bias", "bn3.weight", "bn3.bias", "bn3.running_mean", "bn3.running_var",
			"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"},
	}
	for arch, names := range want {
		net, _ := New(arch, 1)
		sd := net.(stateDicter).stateDict()
		if len(sd) != len(names) {
			t.Fatalf("%s: %d tensors, want %d", arch, len(sd), len(names))
		}
		for i, p := range sd {
			if p.Name != names[i] {
				t.Errorf("%s: tensor %d is %q, want %q", arch, i, p.Name, names[i])
			}
		}
		if len(net.Buffers()) != 6 {
			t.Errorf("%s: %d buffers, want 6", arch, len(net.Buffers()))
		}
		for _, p := range net.Buffers() {
			if p.Grad != nil {
				t.Errorf("%s: buffer %s has a gradient", arch, p.Name)
			}
		}
	}
}

// TestInitMatchesPyTorchBounds checks the default initialization: weights and biases inside
// ±1/√fan_in and spread across it, BatchNorm γ=1, β=0, running mean 0, var 1.
func TestInitMatchesPyTorchBounds(t *testing.T) {
	net := NewCNN(3)
	fanIn := map[string]int{"conv1": 9, "conv2": 288, "conv3": 576, "fc1": 1152, "fc2": 256}
	for _, p := range net.(stateDicter).stateDict() {
		dot := strings.LastIndexByte(p.Name, '.')
		layer, kind := p.Name[:dot], p.Name[dot+1:]
		if f, ok := fanIn[layer]; ok {
			bound := float32(1 / math.Sqrt(float64(f)))
			var mx float32
			for _, v := range p.Value {
				if v < -bound || v > bound {
					t.Fatalf("%s: %v outside ±%v", p.Name, v, bound)
				}
				mx = max(mx, float32(math.Abs(float64(v))))
			}
			if len(p.Value) > 30 && mx < 0.8*bound {
				t.Errorf("%s: max |w| %v, expected close to %v", p.Name, mx, bound)
			}
			continue
		}
		want := float32(0)
		if kind == "weight" || kind == "running_var" {
			want = 1
		}
		for _, v := range p.Value {
			if v != want {
				t.Fatalf("%s: %v, want %v", p.Name, v, want)
			}
		}
	}
}

func randImages(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n*ImageSize)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

func TestSeedReproducesTraining(t *testing.T) {
	run := func() []float32 {
		net := NewANN(7)
		x := randImages(16, 1)
		labels := make([]uint8, 16)
		for i := range labels {
			labels[i] = uint8(i % 10)
		}
		opt := NewAdam(net.Params(), 1e-3)
		d := make([]float32, 16*NumClasses)
		for step := 0; step < 3; step++ {
			opt.ZeroGrad()
			SoftmaxCrossEntropy(net.Forward(x, 16, true), labels, 16, d)
			net.Backward(d)
			opt.Step()
		}
		return append([]float32(nil), net.Forward(x, 16, false)...)
	}
	a, b := run(), run()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different logits at %d: %v vs %v", i, a[i], b[i])
		}
	}
}

func TestEmptyBatch(t *testing.T) {
	for _, arch := range Archs {
		net, _ := New(arch, 1)
		if out := net.Forward(nil, 0, true); len(out) != 0 {
			t.Errorf("%s: %d logits for no images", arch, len(out))
		}
		net.Backward(nil)
	}
}

// TestOverfitsSmallBatch: the whole training loop (forward, loss, backward, Adam) drives the loss of
// a small fixed batch with arbitrary labels towards zero, as any correct implementation must.
func TestOverfitsSmallBatch(t *testing.T) {
	// On the kernels' BLAS, which the commands use (gonum's pure-Go one makes this test slow).
	defer blas32.Use(blas32.Implementation())
	kernels.UseWithGonum()
	for _, tc := range []struct {
		arch  string
		n     int
		steps int
	}{{"ann", 32, 60}, {"cnn", 8, 30}} {
		net, _ := New(tc.arch, 4)
		x := randImages(tc.n, 9)
		labels := make([]uint8, tc.n)
		for i := range labels {
			labels[i] = uint8((i * 7) % NumClasses)
		}
		opt := NewAdam(net.Params(), 1e-3)
		d := make([]float32, tc.n*NumClasses)
		first := 0.0
		for s := 0; s < tc.steps; s++ {
			opt.ZeroGrad()
			loss, _ := SoftmaxCrossEntropy(net.Forward(x, tc.n, true), labels, tc.n, d)
			if s == 0 {
				first = loss
			}
			net.Backward(d)
			opt.Step()
		}
		loss, correct := SoftmaxCrossEntropy(net.Forward(x, tc.n, false), labels, tc.n, nil)
		if correct != tc.n || loss > first/4 {
			t.Errorf("%s: after %d steps loss %.3f (from %.3f), %d/%d right", tc.arch, tc.steps, loss, first, correct, tc.n)
		}
	}
}

// TestNoGarbagePerStep: after the first batch, nn itself allocates nothing per training step or
// forward pass (buffers are kept per batch size, parallel loops are bound once). It runs on the
// kernels' BLAS, since gonum's own parallel Sgemm allocates per call.
func TestNoGarbagePerStep(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector (it allocates itself)")
	}
	defer blas32.Use(blas32.Implementation())
	kernels.UseWithGonum()
	const n = 32
	x := randImages(n, 1)
	labels := make([]uint8, n)
	d := make([]float32, n*NumClasses)
	ann := NewANN(1)
	opt := NewAdam(ann.Params(), 1e-3)
	annStep := func() {
		opt.ZeroGrad()
		SoftmaxCrossEntropy(ann.Forward(x, n, true), labels, n, d)
		ann.Backward(d)
		opt.Step()
	}
	annStep()
	if a := testing.AllocsPerRun(5, annStep); a != 0 {
		t.Errorf("ANN training step: %v allocations", a)
	}
	// Eight images are enough for the CNN's loops to split over the cores.
	const nc = 8
	cnn := NewCNN(1)
	cnnOpt := NewAdam(cnn.Params(), 1e-3)
	cnnStep := func() {
		cnnOpt.ZeroGrad()
		SoftmaxCrossEntropy(cnn.Forward(x, nc, true), labels, nc, d)
		cnn.Backward(d[:nc*NumClasses])
		cnnOpt.Step()
	}
	cnnStep()
	if a := testing.AllocsPerRun(3, cnnStep); a != 0 {
		t.Errorf("CNN training step: %v allocations", a)
	}
	eval := func() { cnn.Forward(x, nc, false) }
	eval()
	if a := testing.AllocsPerRun(3, eval); a != 0 {
		t.Errorf("CNN evaluation forward: %v allocations", a)
	}
}
