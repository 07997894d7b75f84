package nn

import (
	"fmt"
	"math"
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

// cnnStages are the CNN layers whose outputs are "the feature maps after each stage", with their
// shapes per image.
var cnnStages = []struct {
	layer   string
	c, h, w int
}{{"pool1", 32, 14, 14}, {"pool2", 64, 7, 7}, {"pool3", 128, 3, 3}}

// gradCAMLayer is the last convolution stage's feature maps (after BatchNorm and ReLU, before the
// pooling that would cut them to 3×3), the layer Grad-CAM conventionally explains.
const gradCAMLayer = "relu3"

const camC, camH, camW = 128, 7, 7

func cnnOf(net Network) (*seqNet, error) {
	s, ok := net.(*seqNet)
	if !ok || s.arch != "cnn" || s.layer(gradCAMLayer) == nil {
		return nil, fmt.Errorf("nn: feature maps and Grad-CAM need the CNN, got %q", net.Arch())
	}
	return s, nil
}

// planeOf copies image i's [C][H·W] slice out of a channel-major C × (N·H·W) activation.
func planeOf(act []float32, i, n, c, hw int) []float32 {
	out := make([]float32, c*hw)
	for ch := range c {
		copy(out[ch*hw:(ch+1)*hw], act[(ch*n+i)*hw:(ch*n+i+1)*hw])
	}
	return out
}

// StageFeatureMaps runs the CNN in evaluation mode on n normalized images x [n][784] and returns each
// image's feature maps after every stage (conv → BatchNorm → ReLU → max-pool): [image][stage], 32×14×14,
// 64×7×7 and 128×3×3, plus the logits [n][10].
func StageFeatureMaps(net Network, x []float32, n int) ([][]FeatureMap, []float32, error) {
	s, err := cnnOf(net)
	if err != nil {
		return nil, nil, err
	}
	if n <= 0 || len(x) < n*ImageSize {
		return nil, nil, fmt.Errorf("nn: StageFeatureMaps needs %d×%d values, got %d", n, ImageSize, len(x))
	}
	logits := append([]float32(nil), s.Forward(x, n, false)...)
	maps := make([][]FeatureMap, n)
	for i := range n {
		for _, st := range cnnStages {
			t := s.layer(st.layer).(tapped).probe()
			maps[i] = append(maps[i], FeatureMap{Layer: st.layer, C: st.c, H: st.h, W: st.w,
				Data: planeOf(t.out, i, n, st.c, st.h*st.w)})
		}
	}
	return maps, logits, nil
}

// GradCAM explains the CNN's score for class[i] on image i (x holds n normalized images [n][784]):
// with A the last stage's feature maps (128×7×7 after ReLU) and g = ∂logit_class/∂A (through the
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
	s, err := cnnOf(net)
	if err != nil {
		return nil, nil, nil, err
	}
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
	t := s.layer(gradCAMLayer).(tapped).probe()
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
