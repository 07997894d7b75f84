package nn

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goldenArchs are the networks testdata/gen_golden.py records: the study's two and the residual CNN.
var goldenArchs = []string{"ann", "cnn", "resnet"}

// golden is what testdata/gen_golden.py recorded from PyTorch 1.13 for the weights in
// testdata/golden_<arch>.safetensors.
type golden struct {
	Arch   string    `json:"arch"`
	N      int       `json:"n"`
	Inputs []float32 `json:"inputs"`
	Logits []float32 `json:"logits"`
	Train  struct {
		Labels []uint8   `json:"labels"`
		Logits []float32 `json:"logits"`
		Loss   float64   `json:"loss"`
		Grads  map[string]struct {
			First  []float32 `json:"first"`
			SumAbs float64   `json:"sum_abs"`
		} `json:"grads"`
		Running map[string][]float32 `json:"running"`
	} `json:"train"`
}

func loadGolden(t *testing.T, arch string) (Network, Meta, *golden) {
	t.Helper()
	net, meta, err := Load(filepath.Join("..", "testdata", "golden_"+arch+".safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "golden_"+arch+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if g.Arch != arch || len(g.Inputs) != g.N*ImageSize || len(g.Logits) != g.N*NumClasses {
		t.Fatalf("golden_%s.json is inconsistent", arch)
	}
	return net, meta, &g
}

// closeRel reports whether got matches want to tol relative to the largest |want|, the scale of the
// whole vector (a single logit near zero is not compared relative to itself).
func closeRel(got, want []float32, tol float64) (int, bool) {
	scale := 0.0
	for _, v := range want {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	for i := range want {
		if math.Abs(float64(got[i])-float64(want[i])) > tol*scale {
			return i, false
		}
	}
	return -1, true
}

// TestGoldenPyTorchEval: the same weights give the same evaluation logits as PyTorch, to 1e-4
// relative to the largest logit.
func TestGoldenPyTorchEval(t *testing.T) {
	for _, arch := range goldenArchs {
		t.Run(arch, func(t *testing.T) {
			net, meta, g := loadGolden(t, arch)
			if meta.Arch != arch || math.Abs(float64(meta.Mean)-0.286) > 1e-6 || len(meta.Classes) != 10 {
				t.Errorf("metadata %+v", meta)
			}
			got := net.Forward(g.Inputs, g.N, false)
			if i, ok := closeRel(got, g.Logits, 1e-4); !ok {
				t.Errorf("logit %d: %v, PyTorch %v", i, got[i], g.Logits[i])
			}
		})
	}
}

// TestGoldenPyTorchTrainStep: one training-mode step (dropout off) against PyTorch: logits with batch
// statistics, loss, parameter gradients and the updated running statistics.
func TestGoldenPyTorchTrainStep(t *testing.T) {
	for _, arch := range goldenArchs {
		t.Run(arch, func(t *testing.T) {
			net, _, g := loadGolden(t, arch)
			for _, l := range net.(*seqNet).layers {
				if d, ok := l.(*dropout); ok {
					d.p = 0
				}
			}
			logits := net.Forward(g.Inputs, g.N, true)
			if i, ok := closeRel(logits, g.Train.Logits, 1e-4); !ok {
				t.Errorf("train-mode logit %d: %v, PyTorch %v", i, logits[i], g.Train.Logits[i])
			}
			d := make([]float32, g.N*NumClasses)
			loss, _ := SoftmaxCrossEntropy(logits, g.Train.Labels, g.N, d)
			if math.Abs(loss-g.Train.Loss) > 1e-4*g.Train.Loss {
				t.Errorf("loss %v, PyTorch %v", loss, g.Train.Loss)
			}
			net.Backward(d)
			// A bias right before a training-mode BatchNorm has a zero gradient in exact arithmetic (the
			// batch mean removes it); both sides hold rounding noise there, so only its size is checked.
			// In the CNN and the resnet every convolution feeds a BatchNorm.
			preBN := map[string]string{"fc1.bias": "fc1.weight", "fc2.bias": "fc2.weight", "fc3.bias": "fc3.weight"}
			if arch != "ann" {
				preBN = map[string]string{}
				for _, p := range net.Params() {
					if name, ok := strings.CutSuffix(p.Name, ".bias"); ok && (strings.Contains(name, "conv") || strings.HasSuffix(name, "downsample.0")) {
						preBN[p.Name] = name + ".weight"
					}
				}
			}
			for _, p := range net.Params() {
				want, ok := g.Train.Grads[p.Name]
				if !ok {
					t.Fatalf("no golden gradient for %s", p.Name)
				}
				var sumAbs float64
				for _, v := range p.Grad {
					sumAbs += math.Abs(float64(v))
				}
				if w, ok := preBN[p.Name]; ok {
					if ref := g.Train.Grads[w].SumAbs; sumAbs > 1e-4*ref || want.SumAbs > 1e-4*ref {
						t.Errorf("%s: Σ|grad| %v (PyTorch %v), want ≈ 0 next to %s's %v", p.Name, sumAbs, want.SumAbs, w, ref)
					}
					continue
				}
				// Gradients through batch statistics of 4 images lose more digits than logits.
				if math.Abs(sumAbs-want.SumAbs) > 1e-3*want.SumAbs {
					t.Errorf("%s: Σ|grad| %v, PyTorch %v", p.Name, sumAbs, want.SumAbs)
				}
				mean := want.SumAbs / float64(len(p.Grad))
				for i, w := range want.First {
					if math.Abs(float64(p.Grad[i]-w)) > 1e-3*math.Max(math.Abs(float64(w)), mean) {
						t.Errorf("%s.grad[%d] = %v, PyTorch %v", p.Name, i, p.Grad[i], w)
					}
				}
			}
			for _, b := range net.Buffers() {
				want := g.Train.Running[b.Name]
				if len(want) == 0 {
					t.Fatalf("no golden running statistic for %s", b.Name)
				}
				if i, ok := closeRel(b.Value[:len(want)], want, 1e-5); !ok {
					t.Errorf("%s[%d] = %v, PyTorch %v", b.Name, i, b.Value[i], want[i])
				}
			}
		})
	}
}

func ExampleLoad() {
	net, meta, err := Load("../testdata/golden_cnn.safetensors")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(net.Arch(), net.ParamCount(), meta.Classes[0])
	// Output: cnn 390858 T-shirt/top
}
