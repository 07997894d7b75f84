// Package simdnn classifies 28×28 grey images (Fashion-MNIST) with a model trained by the `train`
// command: load the model file, predict a batch, read classes and probabilities.
//
//	m, err := simdnn.Load("out/cnn.safetensors")
//	if err != nil { … }
//	preds, err := m.Predict(images) // images [][784]byte, row-major pixels 0..255
//	fmt.Println(m.Classes()[preds[0].Class], preds[0].Prob[preds[0].Class])
//
// Prediction runs on the kit's inference graph (nn.Inference): BatchNorm folded into the weights,
// fused convolution and linear kernels on the best instruction set of this CPU, a batch split over
// the cores. A Model is safe for concurrent use, and a steady stream of batches through PredictPixels
// or PredictNormalized with a reused result slice allocates nothing.
package simdnn

import (
	"fmt"
	"math"
	"sync"

	"github.com/simdnn/simdnn/nn"
)

// ImageSize is the number of pixels of one image (28×28), NumClasses the number of classes.
const (
	ImageSize  = 28 * 28
	NumClasses = 10
)

// fashionClasses are Fashion-MNIST's labels, used when a model file does not name its classes.
var fashionClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// Prediction is the result for one image: the most probable class and the softmax probabilities.
type Prediction struct {
	Class int
	Prob  [NumClasses]float32
}

// Model is a trained network ready for prediction.
type Model struct {
	path    string
	arch    string
	classes []string
	mean    float32
	std     float32
	g       *nn.Inference
	lut     [256]float32 // normalized value of each pixel byte

	mu   sync.Mutex
	bufs []*buffers // idle per-call buffers: a call borrows one, so concurrent calls never share
}

type buffers struct {
	x, logits []float32
}

// Load reads a model file written by `train` (or by PyTorch with the same tensor names; see nn.Load)
// and compiles it for prediction. A damaged file, one of an unknown architecture or with tensors of
// the wrong shape is an error naming the file.
func Load(path string) (*Model, error) {
	net, meta, err := nn.Load(path)
	if err != nil {
		return nil, err
	}
	m, err := New(net, meta)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.path = path
	return m, nil
}

// New compiles a network in memory (for example one just trained) for prediction. meta gives the
// input normalization; a zero Std means the pixels are only scaled to [0, 1].
func New(net nn.Network, meta nn.Meta) (*Model, error) {
	g, err := nn.NewInference(net)
	if err != nil {
		return nil, err
	}
	m := &Model{arch: net.Arch(), g: g, mean: meta.Mean, std: meta.Std, classes: meta.Classes}
	if len(m.classes) != NumClasses {
		m.classes = fashionClasses
	}
	if !(m.std > 0) || math.IsInf(float64(m.std), 0) || math.IsNaN(float64(m.mean)) {
		if m.std != 0 {
			return nil, fmt.Errorf("normalization mean %v std %v: std must be positive and finite", m.mean, m.std)
		}
		m.mean, m.std = 0, 1
	}
	for i := range m.lut {
		m.lut[i] = (float32(i)/255 - m.mean) / m.std
	}
	return m, nil
}

// Arch returns the network's architecture, "ann" or "cnn".
func (m *Model) Arch() string { return m.arch }

// Classes returns the class names, indexed by Prediction.Class.
func (m *Model) Classes() []string { return append([]string(nil), m.classes...) }

// Normalization returns the mean and standard deviation the pixels are normalized with:
// x = (pixel/255 − mean)/std.
func (m *Model) Normalization() (mean, std float32) { return m.mean, m.std }

// Inference returns the compiled graph, for benchmarks and per-layer profiling.
func (m *Model) Inference() *nn.Inference { return m.g }

// SetThreads sets how many cores a batch is split over (default: all of them).
func (m *Model) SetThreads(n int) { m.g.SetThreads(n) }

// Predict classifies images given as 28×28 pixel arrays (row-major, 0 = black, 255 = white).
func (m *Model) Predict(images [][ImageSize]byte) ([]Prediction, error) {
	out := make([]Prediction, 0, len(images))
	b := m.getBuffers(len(images))
	defer m.putBuffers(b)
	for i := range images {
		m.normalize(b.x[i*ImageSize:(i+1)*ImageSize], images[i][:])
	}
	return m.finish(out, b.x, b, len(images)), nil
}

// PredictPixels classifies n images given as n×784 bytes (images one after the other, each 28×28
// row-major), appending the results to dst and returning the extended slice.
func (m *Model) PredictPixels(dst []Prediction, pixels []byte) ([]Prediction, error) {
	n, err := imageCount(len(pixels), "bytes")
	if err != nil {
		return dst, err
	}
	b := m.getBuffers(n)
	defer m.putBuffers(b)
	m.normalize(b.x[:n*ImageSize], pixels)
	return m.finish(dst, b.x, b, n), nil
}

// PredictNormalized classifies n images already normalized ((pixel/255 − mean)/std, see
// Normalization), given as n×784 floats, appending the results to dst.
func (m *Model) PredictNormalized(dst []Prediction, x []float32) ([]Prediction, error) {
	n, err := imageCount(len(x), "floats")
	if err != nil {
		return dst, err
	}
	b := m.getBuffers(0)
	defer m.putBuffers(b)
	return m.finish(dst, x, b, n), nil
}

// Logits computes the raw scores (before softmax) of n normalized images x (n×784) into out (n×10).
func (m *Model) Logits(out, x []float32) error {
	n, err := imageCount(len(x), "floats")
	if err != nil {
		return err
	}
	if len(out) != n*NumClasses {
		return fmt.Errorf("simdnn: %d images give %d logits, out has room for %d", n, n*NumClasses, len(out))
	}
	m.g.Forward(x, n, out)
	return nil
}

func imageCount(length int, unit string) (int, error) {
	if length == 0 || length%ImageSize != 0 {
		return 0, fmt.Errorf("simdnn: %d %s is not a whole number of 28×28 images (%d %s each)", length, unit, ImageSize, unit)
	}
	return length / ImageSize, nil
}

func (m *Model) normalize(dst []float32, src []byte) {
	for i, p := range src {
		dst[i] = m.lut[p]
	}
}

// finish runs the graph on the n normalized images x and appends their predictions to dst.
func (m *Model) finish(dst []Prediction, x []float32, b *buffers, n int) []Prediction {
	if n == 0 {
		return dst
	}
	if cap(b.logits) < n*NumClasses {
		b.logits = make([]float32, n*NumClasses)
	}
	logits := b.logits[:n*NumClasses]
	m.g.Forward(x[:n*ImageSize], n, logits)
	for i := 0; i < n; i++ {
		dst = append(dst, softmax(logits[i*NumClasses:(i+1)*NumClasses]))
	}
	return dst
}

// softmax picks the largest logit (the first on ties, NaN never wins) and the probabilities,
// computed stably by subtracting the maximum.
func softmax(z []float32) Prediction {
	var p Prediction
	best := z[0]
	for i, v := range z {
		if v > best || best != best {
			best, p.Class = v, i
		}
	}
	var sum float64
	for i, v := range z {
		e := math.Exp(float64(v - best))
		p.Prob[i] = float32(e)
		sum += e
	}
	for i := range p.Prob {
		p.Prob[i] = float32(float64(p.Prob[i]) / sum)
	}
	return p
}

func (m *Model) getBuffers(n int) *buffers {
	m.mu.Lock()
	var b *buffers
	if k := len(m.bufs); k > 0 {
		b = m.bufs[k-1]
		m.bufs = m.bufs[:k-1]
	}
	m.mu.Unlock()
	if b == nil {
		b = new(buffers)
	}
	if cap(b.x) < n*ImageSize {
		b.x = make([]float32, n*ImageSize)
	}
	b.x = b.x[:cap(b.x)]
	return b
}

func (m *Model) putBuffers(b *buffers) {
	m.mu.Lock()
	m.bufs = append(m.bufs, b)
	m.mu.Unlock()
}
