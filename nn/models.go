package nn

import (
	"math/rand/v2"
)

// seqNet is a chain of layers with the image-major boundary of Network: images in, logits out.
type seqNet struct {
	arch    string
	layers  []layer
	params  []*Param // trainable, state_dict order
	buffers []*Param // running statistics, state_dict order
	state   []*Param // everything in state_dict order: what a model file holds
	rng     *rand.Rand

	// flatInput: the ANN's first layer wants features × N, so images [n][784] are transposed;
	// the CNN's CNHW input with C = 1 is the image-major layout itself.
	flatInput bool
	inSize    int // per image: 784 for both networks (small ones in tests)
	outSize   int // classes: 10 for both networks
	n         int
	xT        []float32
	logits    []float32
	dlogitsT  []float32
	tr        transposer
}

func (s *seqNet) Arch() string        { return s.arch }
func (s *seqNet) Params() []*Param    { return s.params }
func (s *seqNet) Buffers() []*Param   { return s.buffers }
func (s *seqNet) ParamCount() int     { return countParams(s.params) }
func (s *seqNet) stateDict() []*Param { return s.state }

func (s *seqNet) Forward(x []float32, n int, training bool) []float32 {
	if len(x) < n*s.inSize {
		panic("nn: Forward input shorter than n images")
	}
	s.n = n
	if n == 0 {
		return s.logits[:0]
	}
	x = x[:n*s.inSize]
	if s.flatInput {
		s.xT = grow(s.xT, n*s.inSize)
		s.tr.do(s.xT, x, n, s.inSize)
		x = s.xT
	}
	for _, l := range s.layers {
		x = l.forward(x, n, training)
	}
	s.logits = grow(s.logits, n*s.outSize)
	s.tr.do(s.logits, x, s.outSize, n)
	return s.logits
}

func (s *seqNet) Backward(dlogits []float32) {
	n := s.n
	if n == 0 {
		return
	}
	s.dlogitsT = grow(s.dlogitsT, n*s.outSize)
	s.tr.do(s.dlogitsT, dlogits[:n*s.outSize], n, s.outSize)
	d := s.dlogitsT
	for i := len(s.layers) - 1; i >= 0 && d != nil; i-- {
		d = s.layers[i].backward(d)
	}
}

// layer returns the named layer (nil if absent); for introspection such as Grad-CAM.
func (s *seqNet) layer(name string) layer {
	for _, l := range s.layers {
		if l.name() == name {
			return l
		}
	}
	return nil
}

// builder collects layers and their tensors in PyTorch's registration order.
type builder struct {
	s   *seqNet
	rng *rand.Rand // initialization
}

func newBuilder(arch string, seed int64) *builder {
	// Two streams from one seed: initialization and dropout masks stay independent of each other.
	return &builder{
		s:   &seqNet{arch: arch, inSize: ImageSize, outSize: NumClasses, rng: rand.New(rand.NewPCG(uint64(seed), 0x6472_6f70_6f75_7421))},
		rng: rand.New(rand.NewPCG(uint64(seed), 0x696e_6974_6961_6c21)),
	}
}

func (b *builder) add(l layer, tensors ...*Param) {
	b.s.layers = append(b.s.layers, l)
	for _, p := range tensors {
		b.s.state = append(b.s.state, p)
		if p.Grad != nil {
			b.s.params = append(b.s.params, p)
		} else {
			b.s.buffers = append(b.s.buffers, p)
		}
	}
}

func (b *builder) linear(name string, in, out int) *linear {
	l := newLinear(name, in, out, b.rng)
	b.add(l, l.w, l.b)
	return l
}

func (b *builder) conv(name string, cin, cout, h, w int) *conv3x3 {
	c := newConv3x3(name, cin, cout, h, w, b.rng)
	b.add(c, c.wt, c.b)
	return c
}

func (b *builder) bn(name string, c, hw int) {
	l := newBatchNorm(name, c, hw)
	b.add(l, l.gamma, l.beta, l.runMean, l.runVar)
}

func (b *builder) relu(name string) { b.add(&relu{tap: tap{label: name}}) }

func (b *builder) dropout(name string, p float32) {
	b.add(&dropout{tap: tap{label: name}, p: p, rng: b.s.rng})
}

// NewANN builds the study's MLP: Flatten 784 → [Linear → BatchNorm1d → ReLU → Dropout 0.3] for 512,
// 256, 128 → Linear 10 (fc1..fc4, bn1..bn3; 569,226 parameters).
func NewANN(seed int64) Network {
	b := newBuilder("ann", seed)
	b.s.flatInput = true
	first := b.linear("fc1", ImageSize, 512)
	first.needDX = false
	b.bn("bn1", 512, 1)
	b.relu("relu1")
	b.dropout("drop1", 0.3)
	b.linear("fc2", 512, 256)
	b.bn("bn2", 256, 1)
	b.relu("relu2")
	b.dropout("drop2", 0.3)
	b.linear("fc3", 256, 128)
	b.bn("bn3", 128, 1)
	b.relu("relu3")
	b.dropout("drop3", 0.3)
	b.linear("fc4", 128, NumClasses)
	return b.s
}

// NewCNN builds the study's CNN: three stages of Conv 3×3 pad 1 → BatchNorm2d → ReLU → MaxPool 2×2
// with channels 1→32→64→128 (28→14→7→3), then Dropout 0.25 → Flatten 1152 → Linear 256 → ReLU →
// Dropout 0.3 → Linear 10 (conv1..conv3, bn1..bn3, fc1, fc2; 390,858 parameters).
//
// Layer names for introspection: conv1, bn1, relu1, pool1, … relu3 (the last stage's feature maps,
// 128 × N·7·7), pool3, drop1, flatten, fc1, relu4, drop2, fc2.
func NewCNN(seed int64) Network {
	b := newBuilder("cnn", seed)
	h, w, cin := ImageH, ImageW, 1
	for i, cout := range []int{32, 64, 128} {
		s := string(rune('1' + i))
		c := b.conv("conv"+s, cin, cout, h, w)
		if i == 0 {
			c.needDX = false
		}
		b.bn("bn"+s, cout, h*w)
		b.relu("relu" + s)
		b.add(&maxPool2{tap: tap{label: "pool" + s}, c: cout, h: h, w: w})
		h, w, cin = h/2, w/2, cout
	}
	b.dropout("drop1", 0.25)
	b.add(&flatten{tap: tap{label: "flatten"}, c: cin, hw: h * w})
	b.linear("fc1", cin*h*w, 256)
	b.relu("relu4")
	b.dropout("drop2", 0.3)
	b.linear("fc2", 256, NumClasses)
	return b.s
}
