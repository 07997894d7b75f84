package nn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/simdnn/simdnn/internal/datatest"
)

// resnetForInference is a residual CNN (arch: one of its widths) whose BatchNorm parameters and running statistics are far
// from their initial values, so folding them is really tested, and whose activations stay alive (a
// running mean far above the convolutions' outputs would make every ReLU output 0, and a test of the
// blocks pass whatever they compute).
func resnetForInference(arch string, seed uint64) Network {
	net, _ := New(arch, int64(seed))
	rng := rand.New(rand.NewPCG(seed, 77))
	for _, p := range net.(stateDicter).stateDict() {
		if len(p.Shape) != 1 || !(strings.Contains(p.Name, ".bn") || strings.Contains(p.Name, "downsample.1")) {
			continue
		}
		lo, hi := 0.5, 1.5 // weight (γ), running_var
		switch {
		case strings.HasSuffix(p.Name, ".running_mean"), strings.HasSuffix(p.Name, ".bias"):
			lo, hi = -0.2, 0.2
		case strings.HasSuffix(p.Name, ".num_batches_tracked"):
			continue
		}
		for i := range p.Value {
			p.Value[i] = float32(lo + (hi-lo)*rng.Float64())
		}
	}
	return net
}

// TestInferenceResNet: the compiled graph (BN folded, fused convolutions, residual blocks, average
// pool) gives the training network's evaluation-mode logits, for batches below, at and above the
// graph's chunk, on one and two threads, without allocating.
func TestInferenceResNet(t *testing.T) {
	datatest.Long(t)
	for _, arch := range ResNetArchs() {
		t.Run(arch, func(t *testing.T) { testInferenceResNet(t, arch) })
	}
}

func testInferenceResNet(t *testing.T, arch string) {
	net := resnetForInference(arch, 3)
	g, err := NewInference(net)
	if err != nil {
		t.Fatal(err)
	}
	if g.Arch() != arch || g.FLOPs() <= 0 {
		t.Fatalf("arch %q, %d FLOPs", g.Arch(), g.FLOPs())
	}
	for _, n := range []int{1, 5, 16, 37} {
		x := randImages(n, uint64(n))
		want := append([]float32(nil), net.Forward(x, n, false)...)
		scale := 0.0
		for _, v := range want {
			scale = math.Max(scale, math.Abs(float64(v)))
		}
		for _, threads := range []int{1, 2} {
			g.SetThreads(threads)
			out := make([]float32, n*NumClasses)
			g.Forward(x, n, out)
			for i := range want {
				if d := math.Abs(float64(out[i] - want[i])); !(d <= 1e-4*scale+1e-5) {
					t.Fatalf("batch %d threads %d: logit %d = %v, the network gives %v", n, threads, i, out[i], want[i])
				}
			}
			if !raceEnabled {
				// Warm up: a second worker's workspace is made the first time two runs overlap.
				for k := 0; k < 10; k++ {
					g.Forward(x, n, out)
				}
				if a := testing.AllocsPerRun(5, func() { g.Forward(x, n, out) }); a != 0 {
					t.Errorf("batch %d threads %d: %v allocations per batch, want 0", n, threads, a)
				}
			}
		}
	}
}

func TestCompileInferenceResNetErrors(t *testing.T) {
	net := NewResNet(1)
	ps := append(append([]*Param(nil), net.Params()...), net.Buffers()...)
	if _, err := CompileInference("cnn", ps); err == nil {
		t.Error("resnet tensors compiled as a CNN")
	}
	extra := append(ps[:len(ps):len(ps)], &Param{Name: "layer3.0.conv1.weight", Shape: []int{1}, Value: []float32{0}})
	if _, err := CompileInference("resnet", extra); err == nil {
		t.Error("an unexpected tensor was accepted")
	}
	var noProj []*Param
	for _, p := range ps {
		if p.Name != "layer1.0.downsample.0.weight" {
			noProj = append(noProj, p)
		}
	}
	if _, err := CompileInference("resnet", noProj); err == nil {
		t.Error("a missing projection weight was accepted")
	}
	cnn := NewCNN(1)
	if _, err := CompileInference("resnet", append(cnn.Params(), cnn.Buffers()...)); err == nil {
		t.Error("CNN tensors compiled as a resnet")
	}
	// The variants share tensor names; the shapes and the set of names must still match the one
	// asked for.
	for _, other := range []string{"resnet-wide", "resnet-deep"} {
		if _, err := CompileInference(other, ps); err == nil {
			t.Errorf("resnet tensors compiled as a %s", other)
		}
	}
}
