package nn

import (
	"fmt"
	"math"
	"strings"
)

// FeatureMap is one image's activations at one point of a network: C channels of H×W, [C][H][W].
type FeatureMap struct {
	Layer   string
	C, H, W int
	Data    []float32
}

// tapped is any layer (they all embed tap); the method is promoted from the embedded tap.
type tapped interface{ probe() *tap }

func (t *tap) probe() *tap { return t }

// stage is a layer whose output is one of a network's feature maps, with its shape per image.
type stage struct {
	layer   string
	c, h, w int
}

// explained is what feature maps and Grad-CAM read from a network: its stages in order, and the
// layer Grad-CAM explains, the last convolution stage at 7×7 after its ReLU (before any pooling
// that would cut it further), as Grad-CAM conventionally does.
type explained struct {
	s      *seqNet
	stages []stage
	cam    stage
}

// The study's CNN: each stage is conv → BatchNorm → ReLU → max-pool; Grad-CAM reads relu3, the
// third stage before its pool.
var cnnStages = []stage{{"pool1", 32, 14, 14}, {"pool2", 64, 7, 7}, {"pool3", 128, 3, 3}}

// camC is the channels of the layer Grad-CAM explains in every network it supports.
const camC, camH, camW = 128, 7, 7

// explain finds the stages of the CNN or a residual CNN. A residual CNN's stages are the stem (after
// its ReLU, before the pool) and every block's output; Grad-CAM explains the last block, whose
// output the head only averages, so there Grad-CAM is the class activation map of Zhou et al. (2016).
func explain(net Network) (*explained, error) {
	s, ok := net.(*seqNet)
	if ok && s.arch == "cnn" && s.layer("relu3") != nil {
		return &explained{s, cnnStages, stage{"relu3", camC, camH, camW}}, nil
	}
	if sp, known := resNetSpecs[net.Arch()]; ok && known {
		h, w := ImageH, ImageW
		e := &explained{s: s, stages: []stage{{"stem.relu", sp.stem, h, w}}}
		for _, st := range sp.stages {
			if st.pool {
				h, w = h/2, w/2
			}
			e.stages = append(e.stages, stage{st.name, st.cout, h, w})
		}
		e.cam = e.stages[len(e.stages)-1]
		for _, st := range e.stages {
			if s.layer(st.layer) == nil {
				return nil, fmt.Errorf("nn: %s has no layer %s", net.Arch(), st.layer)
			}
		}
		if e.cam.c != camC || e.cam.h != camH || e.cam.w != camW {
			return nil, fmt.Errorf("nn: %s's last stage is %d×%d×%d, Grad-CAM wants %d×%d×%d", net.Arch(), e.cam.c, e.cam.h, e.cam.w, camC, camH, camW)
		}
		return e, nil
	}
	return nil, fmt.Errorf("nn: feature maps and Grad-CAM need the CNN or a residual CNN (%s), got %q",
		strings.Join(ResNetArchs(), ", "), net.Arch())
}

// planeOf copies image i's [C][H·W] slice out of a channel-major C × (N·H·W) activation.
func planeOf(act []float32, i, n, c, hw int) []float32 {
	out := make([]float32, c*hw)
	for ch := range c {
		copy(out[ch*hw:(ch+1)*hw], act[(ch*n+i)*hw:(ch*n+i+1)*hw])
	}
	return out
}

// StageFeatureMaps runs a convolutional network in evaluation mode on n normalized images x [n][784]
// and returns each image's feature maps after every stage, [image][stage], plus the logits [n][10].
// For the CNN a stage is conv → BatchNorm → ReLU → max-pool (32×14×14, 64×7×7 and 128×3×3); for a
// residual CNN the stem (before its pool) and each block's output (for "resnet": 32×28×28, 64×14×14
// twice and 128×7×7).
func StageFeatureMaps(net Network, x []float32, n int) ([][]FeatureMap, []float32, error) {
	e, err := explain(net)
	if err != nil {
		return nil, nil, err
	}
	if n <= 0 || len(x) < n*ImageSize {
		return nil, nil, fmt.Errorf("nn: StageFeatureMaps needs %d×%d values, got %d", n, ImageSize, len(x))
	}
	s := e.s
	logits := append([]float32(nil), s.Forward(x, n, false)...)
	maps := make([][]FeatureMap, n)
	for i := range n {
		for _, st := range e.stages {
			t := s.layer(st.layer).(tapped).probe()
			maps[i] = append(maps[i], FeatureMap{Layer: st.layer, C: st.c, H: st.h, W: st.w,
				Data: planeOf(t.out, i, n, st.c, st.h*st.w)})
		}
	}
	return maps, logits, nil
}

// GradCAM explains a convolutional network's score for class[i] on image i (x holds n normalized
// images [n][784]): with A the last convolution stage's feature maps (128×7×7 after ReLU: the CNN's
// relu3, a residual CNN's last block) and g = ∂logit_class/∂A (through the
// evaluation-mode network: running BatchNorm statistics, no dropout), each channel's weight is the
// spatial mean of g, and the map is ReLU(Σ_k w_k A_k), upsampled bilinearly to 28×28 and divided by
// its maximum (an all-zero map stays zero). It returns the maps [n][784] and the logits [n][10].
// The parameters' gradients are left at zero.
func GradCAM(net Network, x []float32, n int, class []int) ([][]float32, []float32, error) {
	a, g, logits, err := gradCAMParts(net, x, n, class)
	if err != nil {
		return nil, nil, err
	}
	cams := make([][]float32, n)
	for i := range n {
		cams[i] = camFrom(a[i], g[i])
	}
	return cams, logits, nil
}

// gradCAMParts returns per image the feature maps A [128·7·7] and ∂logit_class/∂A, and the logits.
func gradCAMParts(net Network, x []float32, n int, class []int) (a, g [][]float32, logits []float32, err error) {
	e, err := explain(net)
	if err != nil {
		return nil, nil, nil, err
	}
	s := e.s
	if n <= 0 || len(x) < n*ImageSize || len(class) < n {
		return nil, nil, nil, fmt.Errorf("nn: GradCAM needs %d images of %d values and %d classes, got %d values and %d classes",
			n, ImageSize, n, len(x), len(class))
	}
	for _, c := range class[:n] {
		if c < 0 || c >= NumClasses {
			return nil, nil, nil, fmt.Errorf("nn: GradCAM class %d out of range 0..%d", c, NumClasses-1)
		}
	}
	logits = append([]float32(nil), s.Forward(x, n, false)...)
	t := s.layer(e.cam.layer).(tapped).probe()
	a = make([][]float32, n)
	for i := range n {
		a[i] = planeOf(t.out, i, n, camC, camH*camW)
	}
	// Images do not interact in evaluation mode, so one backward of Σ_i logit[i][class_i] gives each
	// image's own gradient.
	d := make([]float32, n*NumClasses)
	for i := range n {
		d[i*NumClasses+class[i]] = 1
	}
	s.Backward(d)
	g = make([][]float32, n)
	for i := range n {
		g[i] = planeOf(t.dout, i, n, camC, camH*camW)
	}
	for _, p := range s.params {
		clear(p.Grad)
	}
	return a, g, logits, nil
}

// camFrom is Grad-CAM's combination of one image's feature maps and gradients, upsampled to 28×28.
func camFrom(a, g []float32) []float32 {
	const hw = camH * camW
	cam := make([]float64, hw)
	for k := range camC {
		var w float64
		for _, v := range g[k*hw : (k+1)*hw] {
			w += float64(v)
		}
		w /= hw
		for p, v := range a[k*hw : (k+1)*hw] {
			cam[p] += w * float64(v)
		}
	}
	for p := range cam {
		cam[p] = math.Max(cam[p], 0)
	}
	up := upsampleBilinear(cam, camH, camW, ImageH, ImageW)
	var top float64
	for _, v := range up {
		top = math.Max(top, v)
	}
	out := make([]float32, len(up))
	if top > 0 {
		for i, v := range up {
			out[i] = float32(v / top)
		}
	}
	return out
}

// upsampleBilinear resizes h×w to H×W with half-pixel centres and edge clamping, as PyTorch's
// interpolate(mode="bilinear", align_corners=False) and OpenCV's resize do.
func upsampleBilinear(src []float64, h, w, H, W int) []float64 {
	dst := make([]float64, H*W)
	sy, sx := float64(h)/float64(H), float64(w)/float64(W)
	for y := range H {
		fy := math.Max((float64(y)+0.5)*sy-0.5, 0)
		y0 := min(int(fy), h-1)
		y1 := min(y0+1, h-1)
		ty := fy - float64(y0)
		for x := range W {
			fx := math.Max((float64(x)+0.5)*sx-0.5, 0)
			x0 := min(int(fx), w-1)
			x1 := min(x0+1, w-1)
			tx := fx - float64(x0)
			top := src[y0*w+x0]*(1-tx) + src[y0*w+x1]*tx
			bot := src[y1*w+x0]*(1-tx) + src[y1*w+x1]*tx
			dst[y*W+x] = top*(1-ty) + bot*ty
		}
	}
	return dst
}
