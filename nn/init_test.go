package nn

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// Every convolution weight, and nothing else, is redrawn with torchvision ResNet's standard
// deviation √(2/fan_out); the draw depends on the seed only.
func TestInitKaimingFanOut(t *testing.T) {
	for _, arch := range []string{"cnn", "resnet"} {
		t.Run(arch, func(t *testing.T) {
			before, _ := New(arch, 1)
			net, _ := New(arch, 1)
			if err := InitKaimingFanOut(net, 7); err != nil {
				t.Fatal(err)
			}
			again, _ := New(arch, 1)
			if err := InitKaimingFanOut(again, 7); err != nil {
				t.Fatal(err)
			}
			other, _ := New(arch, 1)
			if err := InitKaimingFanOut(other, 8); err != nil {
				t.Fatal(err)
			}
			redrawn := 0
			for i, p := range net.Params() {
				old := before.Params()[i].Value
				isConv := len(p.Shape) == 4
				if !isConv {
					if !slices.Equal(p.Value, old) {
						t.Errorf("%s %v changed; only convolution weights may", p.Name, p.Shape)
					}
					continue
				}
				redrawn++
				if !slices.Equal(p.Value, again.Params()[i].Value) {
					t.Errorf("%s: the same seed drew different weights", p.Name)
				}
				if slices.Equal(p.Value, other.Params()[i].Value) {
					t.Errorf("%s: seeds 7 and 8 drew the same weights", p.Name)
				}
				var ss, sum float64
				for _, v := range p.Value {
					ss += float64(v) * float64(v)
					sum += float64(v)
				}
				n := float64(len(p.Value))
				std, mean := math.Sqrt(ss/n), sum/n
				want := math.Sqrt(2 / float64(p.Shape[0]*p.Shape[2]*p.Shape[3]))
				// The stem's 288 weights estimate the deviation to about ±4% (2σ ≈ 8%).
				if math.Abs(std/want-1) > 0.1 || math.Abs(mean) > 4*want/math.Sqrt(n) {
					t.Errorf("%s %v: std %.4f mean %.4f, want std %.4f mean 0", p.Name, p.Shape, std, mean, want)
				}
			}
			wantConvs := map[string]int{"cnn": 3, "resnet": 9}[arch]
			if redrawn != wantConvs {
				t.Errorf("%d convolution weights, want %d", redrawn, wantConvs)
			}
		})
	}
	ann, _ := New("ann", 1)
	if err := InitKaimingFanOut(ann, 1); err == nil || !strings.Contains(err.Error(), "no convolutions") {
		t.Errorf("ann: err %v, want one saying it has no convolutions", err)
	}
}

// With γ = 0 in each block's last BatchNorm every block starts as its shortcut: nothing flows back
// into a residual branch except γ's and β's own gradients, and no other tensor is touched.
func TestZeroInitResidual(t *testing.T) {
	before, _ := New("resnet", 1)
	net, _ := New("resnet", 1)
	if err := ZeroInitResidual(net); err != nil {
		t.Fatal(err)
	}
	zeroed := 0
	for i, p := range net.Params() {
		if strings.HasSuffix(p.Name, ".bn2.weight") {
			zeroed++
			if slices.ContainsFunc(p.Value, func(v float32) bool { return v != 0 }) {
				t.Errorf("%s not zeroed", p.Name)
			}
		} else if !slices.Equal(p.Value, before.Params()[i].Value) {
			t.Errorf("%s changed; only the blocks' bn2.weight may", p.Name)
		}
	}
	if zeroed != 3 {
		t.Fatalf("zeroed %d bn2.weight tensors, want the 3 blocks'", zeroed)
	}

	const n = 4
	x := make([]float32, n*ImageSize)
	for i := range x {
		x[i] = float32(math.Sin(float64(i) * 0.37))
	}
	net.Forward(x, n, true)
	dl := make([]float32, n*NumClasses)
	for i := range dl {
		dl[i] = float32(math.Cos(float64(i) * 0.91))
	}
	net.Backward(dl)
	for _, p := range net.Params() {
		inBranch := strings.Contains(p.Name, ".conv") || strings.Contains(p.Name, ".bn1.")
		nonzero := slices.ContainsFunc(p.Grad, func(v float32) bool { return v != 0 })
		switch {
		case strings.HasPrefix(p.Name, "layer") && inBranch && nonzero:
			t.Errorf("%s has a gradient; a zero-initialized block's branch must have none", p.Name)
		case strings.Contains(p.Name, ".bn2.") && !nonzero:
			t.Errorf("%s has no gradient; the branch could never start learning", p.Name)
		case strings.HasPrefix(p.Name, "stem.conv") && !nonzero:
			t.Errorf("%s has no gradient; the shortcuts must carry it", p.Name)
		}
	}

	ann, _ := New("ann", 1)
	if err := ZeroInitResidual(ann); err == nil || !strings.Contains(err.Error(), "no residual blocks") {
		t.Errorf("ann: err %v, want one saying it has no residual blocks", err)
	}
}
