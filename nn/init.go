package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// InitKaimingFanOut redraws every convolution weight of net (3×3 and 1×1, the stem's included) from
// N(0, 2/fan_out), fan_out = out channels × kernel area: torchvision's ResNet initialization
// (kaiming_normal_(mode="fan_out", nonlinearity="relu")). Biases, BatchNorm and linear layers keep
// PyTorch's defaults. The draws come from their own generator, seeded by seed, so the rest of a run
// (shuffles, dropout masks) is unchanged.
//
// Why it matters here: every convolution of these networks feeds a BatchNorm, so its output does not
// depend on the weights' scale, while Adam's step per weight does not either. A weight tensor that
// starts √(6·fan_in/fan_out) ≈ 2.4× larger (cin = cout) than PyTorch's default uniform draw (standard
// deviation 1/√(3·fan_in)) therefore turns ≈ 2.4× less per step: a smaller effective learning rate
// at the same lr, until the weights' norm has grown by itself.
func InitKaimingFanOut(net Network, seed int64) error {
	s, ok := net.(*seqNet)
	if !ok {
		return fmt.Errorf("network type %T is not one of this package's", net)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6b61_696d_696e_6721))
	draw := func(w []float32, fanOut int) {
		std := math.Sqrt(2 / float64(fanOut))
		for i := range w {
			w[i] = float32(std * rng.NormFloat64())
		}
	}
	convs := 0
	conv3 := func(c *conv3x3) { draw(c.wt.Value, c.cout*9); convs++ }
	for _, l := range s.layers {
		switch l := l.(type) {
		case *conv3x3:
			conv3(l)
		case *resBlock:
			conv3(l.conv1)
			conv3(l.conv2)
			if l.down != nil {
				draw(l.down.w.Value, l.down.out)
				convs++
			}
		}
	}
	if convs == 0 {
		return fmt.Errorf("%s has no convolutions to initialize", s.arch)
	}
	return nil
}

// ZeroInitResidual sets the scale γ of every residual block's last BatchNorm to zero, so each block
// starts as its shortcut alone (identity, or the projection) and the network as a shallower one:
// torchvision's ResNet(zero_init_residual=True), from Goyal et al. 2017 ("Accurate, Large Minibatch
// SGD", §5.1). The residual branches still learn, through γ's gradient first.
func ZeroInitResidual(net Network) error {
	s, ok := net.(*seqNet)
	if !ok {
		return fmt.Errorf("network type %T is not one of this package's", net)
	}
	blocks := 0
	for _, l := range s.layers {
		if r, ok := l.(*resBlock); ok {
			clear(r.bn2.gamma.Value)
			blocks++
		}
	}
	if blocks == 0 {
		return fmt.Errorf("%s has no residual blocks", s.arch)
	}
	return nil
}
