// Package nn holds the two Fashion-MNIST networks of the study (an MLP "ann" and a CNN "cnn"), their
// layers with forward and backward passes, softmax cross-entropy, Adam and the safetensors model file.
//
// Activations are channel-major inside the networks: a tensor of C channels over M positions is [C][M]
// row-major (a dense layer's is features × batch, a convolution's C × (N·H·W)). That turns Linear into
// one GEMM Y = W·X and BatchNorm into per-row statistics. The public boundary stays image-major:
// Forward takes [n][1][28][28] images and returns [n][10] logits. Every matrix product goes through
// gonum's blas32, so a faster blas.Float32 registered with blas32.Use speeds nn up unchanged.
package nn

import (
	"fmt"
	"strings"
)

// Image geometry and class count shared by both networks.
const (
	ImageH     = 28
	ImageW     = 28
	ImageSize  = ImageH * ImageW
	NumClasses = 10
)

// Param is one named tensor of a network: a trainable weight (Grad has the same length as Value) or a
// BatchNorm running statistic (Grad is nil). Name is the PyTorch state_dict name and Shape the
// PyTorch layout (Linear [out,in], Conv [out,in,kh,kw]).
type Param struct {
	Name  string
	Shape []int
	Value []float32
	Grad  []float32
}

func newParam(name string, shape []int, trainable bool) *Param {
	n := 1
	for _, d := range shape {
		n *= d
	}
	p := &Param{Name: name, Shape: append([]int(nil), shape...), Value: make([]float32, n)}
	if trainable {
		p.Grad = make([]float32, n)
	}
	return p
}

// Network is a classifier over 28×28 grey images with 10 classes.
type Network interface {
	// Arch is "ann" or "cnn".
	Arch() string
	// Forward takes n normalized images [n][1][28][28] (image-major, as stored) and returns logits
	// [n][10], image-major. The slice is owned by the network and valid until the next Forward.
	// training selects batch statistics in BatchNorm and active Dropout.
	Forward(x []float32, n int, training bool) []float32
	// Backward takes dLoss/dlogits [n][10] for the last Forward and ACCUMULATES the parameter
	// gradients into Param.Grad. After an evaluation-mode Forward it differentiates the evaluation
	// function (running statistics, no dropout), which is what Grad-CAM wants.
	Backward(dlogits []float32)
	// Params returns the trainable tensors in state_dict order.
	Params() []*Param
	// Buffers returns the BatchNorm running_mean / running_var tensors (Grad nil) in state_dict order.
	Buffers() []*Param
	// ParamCount is the number of trainable scalars.
	ParamCount() int
}

// Archs lists the study's two architectures (what `train` trains by default and the Key Findings
// table compares).
var Archs = []string{"ann", "cnn"}

// AllArchs lists every architecture New and Load accept: the study's two and issue 6's residual CNN
// in its three variants.
var AllArchs = []string{"ann", "cnn", "resnet", "resnet-wide", "resnet-deep"}

// archList is AllArchs for error messages: "ann, cnn, resnet, resnet-wide or resnet-deep".
func archList() string {
	return strings.Join(AllArchs[:len(AllArchs)-1], ", ") + " or " + AllArchs[len(AllArchs)-1]
}

// New builds the named architecture with PyTorch's default initialization drawn from seed.
func New(arch string, seed int64) (Network, error) {
	switch arch {
	case "ann":
		return NewANN(seed), nil
	case "cnn":
		return NewCNN(seed), nil
	}
	if IsResNet(arch) {
		return newResNet(arch, seed), nil
	}
	return nil, fmt.Errorf("unknown architecture %q (want %s)", arch, archList())
}

func countParams(ps []*Param) int {
	n := 0
	for _, p := range ps {
		n += len(p.Value)
	}
	return n
}

// grow returns buf resliced to n, reallocating only when its capacity is short, so a network that
// alternates between a full batch and a smaller last batch allocates once.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}
