package report

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/simdnn/simdnn/dataset"
	"github.com/simdnn/simdnn/nn"
	"github.com/simdnn/simdnn/train"
)

// Sizes of the per-image figures: enough examples to see patterns, few enough to stay legible.
const (
	mistakeCols, mistakeRows = 8, 4
	camExamples              = 8
	featureImages            = 3
	featureChannels          = 8
)

// prediction is a model's answer on one test image.
type prediction struct {
	pred  uint8
	probs [nn.NumClasses]float32
}

// imageSection holds what the per-image part of the report says, besides its figures.
type imageSection struct {
	dataDir  string
	mistakes map[string]int  // arch → number of misclassified test images
	agree    map[string]bool // arch → the recorded test predictions give the recorded confusion matrix
	// modelDiffers counts shown images where the model file's prediction is not the recorded one.
	modelDiffers map[string]int
	shown        map[string]int // arch → mistakes shown
	camShown     map[string]int // arch → mistakes Grad-CAM explains (convolutional networks only)
	featIdx      []int
	hasCNN       bool
	archOrder    []string
}

// testSet is the normalized test split for one model (the models may have different mean/std).
func normalize(s dataset.Split, mean, std float32) []float32 {
	x := make([]float32, len(s.Images))
	dataset.NewNormalizer(mean, std).Apply(x, s.Images)
	return x
}

// predictAll evaluates net on all images in batches, in evaluation mode.
func predictAll(net nn.Network, x []float32, n int) []prediction {
	const batch = 500
	out := make([]prediction, n)
	for lo := 0; lo < n; lo += batch {
		m := min(batch, n-lo)
		logits := net.Forward(x[lo*nn.ImageSize:(lo+m)*nn.ImageSize], m, false)
		for i := range m {
			out[lo+i] = softmaxPred(logits[i*nn.NumClasses : (i+1)*nn.NumClasses])
		}
	}
	return out
}

func softmaxPred(l []float32) prediction {
	var p prediction
	top := l[0]
	for _, v := range l {
		top = max(top, v)
	}
	var s float64
	for i, v := range l {
		e := math.Exp(float64(v - top))
		p.probs[i] = float32(e)
		s += e
	}
	best := 0
	for i := range p.probs {
		p.probs[i] = float32(float64(p.probs[i]) / s)
		if p.probs[i] > p.probs[best] {
			best = i
		}
	}
	p.pred = uint8(best)
	return p
}

// modelFile is where the trainer saves an architecture's weights.
func modelFile(outDir, arch string) string { return filepath.Join(outDir, arch+".safetensors") }

// buildImages draws every model's mistakes grid, the CNN's feature maps and the Grad-CAM maps of
// every convolutional network (the CNN and the residual CNNs). It needs the model files and the test
// set; when either is missing it returns a note saying what was skipped.
func (d *doc) buildImages(outDir, dataDir string, add func(name, alt, caption string, png []byte)) error {
	var archs []string
	for _, r := range d.order {
		if _, err := os.Stat(modelFile(outDir, r.Arch)); err == nil {
			archs = append(archs, r.Arch)
		} else {
			d.notes = append(d.notes, fmt.Sprintf("%s misclassified images%s: no model file %s in this directory.", archName(r.Arch),
				imageExtras(r.Arch), filepath.Base(modelFile(outDir, r.Arch))))
		}
	}
	if len(archs) == 0 {
		return nil
	}
	dir, err := dataset.FindDir(dataDir)
	if err != nil {
		d.notes = append(d.notes, "Misclassified images, feature maps and Grad-CAM: "+err.Error())
		return nil
	}
	data, err := dataset.Load(dir)
	if err != nil {
		return err
	}
	test := data.Test
	sec := &imageSection{dataDir: dir, mistakes: map[string]int{}, agree: map[string]bool{}, shown: map[string]int{},
		modelDiffers: map[string]int{}, camShown: map[string]int{}}
	for _, arch := range archs {
		r := d.runs[arch]
		net, meta, err := nn.LoadArch(modelFile(outDir, arch), arch)
		if err != nil {
			return err
		}
		if meta.Std == 0 {
			return fmt.Errorf("%s: no normalization mean/std in the model's metadata", modelFile(outDir, arch))
		}
		mean, std := r.Mean, r.Std
		if std == 0 {
			mean, std = meta.Mean, meta.Std
		}
		x := normalize(test, mean, std)
		// The trainer records every test prediction; use them, and run the model only on the images
		// shown. Without them (an older metrics file) the model predicts the whole test set.
		predLabels := r.TestPredictions
		if len(predLabels) != test.Len() {
			all := predictAll(net, x, test.Len())
			predLabels = make([]uint8, len(all))
			for i, p := range all {
				predLabels[i] = p.pred
			}
		}
		var wrong []int
		for i, p := range predLabels {
			if p != test.Labels[i] {
				wrong = append(wrong, i)
			}
		}
		sec.archOrder = append(sec.archOrder, arch)
		sec.mistakes[arch] = len(wrong)
		sec.agree[arch] = equalMatrix(train.Confusion(test.Labels, predLabels, len(r.Classes)), r.Confusion)
		preds := map[int]prediction{}
		predictSome := func(idx []int) {
			xs := make([]float32, 0, len(idx)*nn.ImageSize)
			for _, i := range idx {
				xs = append(xs, x[i*nn.ImageSize:(i+1)*nn.ImageSize]...)
			}
			for k, p := range predictAll(net, xs, len(idx)) {
				preds[idx[k]] = p
				if p.pred != predLabels[idx[k]] {
					sec.modelDiffers[arch]++
				}
			}
		}

		shown := wrong[:min(len(wrong), mistakeCols*mistakeRows)]
		sec.shown[arch] = len(shown)
		predictSome(shown)
		if len(shown) == 0 {
			d.notes = append(d.notes, fmt.Sprintf("%s misclassified images: the %s got every test image right.", archName(arch), archName(arch)))
		} else {
			png, err := mistakesFigure(r, test, shown, preds)
			if err != nil {
				return err
			}
			add("mistakes_"+arch+".png", archName(arch)+" misclassified test images",
				fmt.Sprintf("The first %d of the %s's %s misclassified test images, in test-set order: true label, prediction and the model's softmax confidence in it.",
					len(shown), archName(arch), groupInt(int64(len(wrong)))), png)
		}

		if arch == "ann" {
			continue
		}
		if arch == "cnn" {
			sec.hasCNN = true
			// Feature maps: the first test image of the first few classes.
			seen := map[uint8]bool{}
			for i, l := range test.Labels {
				if len(sec.featIdx) == featureImages {
					break
				}
				if !seen[l] {
					seen[l] = true
					sec.featIdx = append(sec.featIdx, i)
				}
			}
			predictSome(sec.featIdx)
			for k, idx := range sec.featIdx {
				maps, _, err := nn.StageFeatureMaps(net, x[idx*nn.ImageSize:(idx+1)*nn.ImageSize], 1)
				if err != nil {
					return err
				}
				png, err := featureFigure(r, test, idx, maps[0], preds[idx])
				if err != nil {
					return err
				}
				add(fmt.Sprintf("features_%d.png", k+1), "CNN feature maps for test image "+fmt.Sprint(idx), "", png)
			}
		}
		camIdx := camPicks(wrong, test.Labels, predLabels, r.Pairs)
		sec.camShown[arch] = len(camIdx)
		var missing []int
		for _, i := range camIdx {
			if _, ok := preds[i]; !ok {
				missing = append(missing, i)
			}
		}
		if len(missing) > 0 {
			predictSome(missing)
		}
		if len(camIdx) > 0 {
			xs := make([]float32, 0, len(camIdx)*nn.ImageSize)
			predCls, trueCls := make([]int, len(camIdx)), make([]int, len(camIdx))
			for j, idx := range camIdx {
				xs = append(xs, x[idx*nn.ImageSize:(idx+1)*nn.ImageSize]...)
				predCls[j], trueCls[j] = int(preds[idx].pred), int(test.Labels[idx])
			}
			camPred, _, err := nn.GradCAM(net, xs, len(camIdx), predCls)
			if err != nil {
				return err
			}
			camTrue, _, err := nn.GradCAM(net, xs, len(camIdx), trueCls)
			if err != nil {
				return err
			}
			png, err := gradCAMFigure(r, test, camIdx, preds, camPred, camTrue)
			if err != nil {
				return err
			}
			add("gradcam_"+arch+".png", "Grad-CAM of the "+archName(arch)+" on misclassified test images", "", png)
		}
	}
	d.images = sec
	return nil
}

// imageExtras names the per-image figures an architecture has besides its mistakes.
func imageExtras(arch string) string {
	switch arch {
	case "ann":
		return ""
	case "cnn":
		return ", feature maps and Grad-CAM"
	}
	return " and Grad-CAM"
}

// camPicks chooses the mistakes Grad-CAM explains: the first ones (in test-set order) within the
// model's three most confused pairs, where "what did it look at" matters most, then any others.
func camPicks(wrong []int, labels, preds []uint8, pairs []pairRow) []int {
	top := pairs[:min(3, len(pairs))]
	var in, out []int
	for _, i := range wrong {
		if pairRank(top, int(labels[i]), int(preds[i])) > 0 {
			in = append(in, i)
		} else {
			out = append(out, i)
		}
	}
	picks := append(in[:min(len(in), camExamples)], out...)
	return picks[:min(len(picks), camExamples)]
}

func equalMatrix(a, b [][]int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

// rawImage is test image i as 28×28 grey, white garment on black as in the dataset.
func rawImage(s dataset.Split, i int) []float32 {
	v := make([]float32, nn.ImageSize)
	for k, p := range s.Image(i) {
		v[k] = float32(p) / 255
	}
	return v
}

func shortClass(name string) string { return strings.TrimSuffix(name, "/top") }

func mistakesFigure(r *run, test dataset.Split, idx []int, preds map[int]prediction) ([]byte, error) {
	rows := (len(idx) + mistakeCols - 1) / mistakeCols
	plots := make([][]*plot.Plot, rows)
	for k, i := range idx {
		p := preds[i]
		title := fmt.Sprintf("true: %s\npred: %s %.0f%%", shortClass(r.Classes[test.Labels[i]]), shortClass(r.Classes[p.pred]), 100*p.probs[p.pred])
		plots[k/mistakeCols] = append(plots[k/mistakeCols], imagePlot(grayImage(rawImage(test, i), 28, 28, 0, 1), title))
	}
	title := fmt.Sprintf("%s: misclassified test images (true label, prediction and its confidence)", archName(r.Arch))
	return figure(title, plots, vg.Length(mistakeCols)*1.55*vg.Inch, vg.Length(rows)*1.95*vg.Inch+0.45*vg.Inch)
}

// featureFigure shows one test image and, for each stage, the channels with the largest mean
// activation on it (each channel scaled to its own range, brighter = stronger).
func featureFigure(r *run, test dataset.Split, idx int, maps []nn.FeatureMap, p prediction) ([]byte, error) {
	plots := make([][]*plot.Plot, len(maps))
	for s, fm := range maps {
		hw := fm.H * fm.W
		type chMean struct {
			c int
			m float64
		}
		means := make([]chMean, fm.C)
		for c := range fm.C {
			var sum float64
			for _, v := range fm.Data[c*hw : (c+1)*hw] {
				sum += float64(v)
			}
			means[c] = chMean{c, sum / float64(hw)}
		}
		sort.SliceStable(means, func(a, b int) bool { return means[a].m > means[b].m })
		row := []*plot.Plot{nil}
		if s == 0 {
			row[0] = imagePlot(grayImage(rawImage(test, idx), 28, 28, 0, 1),
				fmt.Sprintf("input #%d\n%s", idx, shortClass(r.Classes[test.Labels[idx]])))
		}
		for _, cm := range means[:min(featureChannels, fm.C)] {
			ch := fm.Data[cm.c*hw : (cm.c+1)*hw]
			lo, hi := ch[0], ch[0]
			for _, v := range ch {
				lo, hi = min(lo, v), max(hi, v)
			}
			row = append(row, imagePlot(grayImage(ch, fm.H, fm.W, lo, hi),
				fmt.Sprintf("stage %d ch %d\n%d×%d", s+1, cm.c, fm.H, fm.W)))
		}
		plots[s] = row
	}
	title := fmt.Sprintf("CNN feature maps after each stage (conv → BN → ReLU → pool), test image #%d\n%s, predicted %s (%.0f%%); the %d most active channels per stage",
		idx, shortClass(r.Classes[test.Labels[idx]]), shortClass(r.Classes[p.pred]), 100*p.probs[p.pred], featureChannels)
	cols := featureChannels + 1
	return figure(title, plots, vg.Length(cols)*1.35*vg.Inch, vg.Length(len(maps))*1.75*vg.Inch+0.45*vg.Inch)
}

// gradCAMFigure shows, per misclassified image: the image, the Grad-CAM map for the predicted class
// and the one for the true class; two examples per row.
func gradCAMFigure(r *run, test dataset.Split, idx []int, preds map[int]prediction, camPred, camTrue [][]float32) ([]byte, error) {
	const perRow = 2
	rows := (len(idx) + perRow - 1) / perRow
	plots := make([][]*plot.Plot, rows)
	for k, i := range idx {
		p := preds[i]
		t := test.Labels[i]
		g := grayImage(rawImage(test, i), 28, 28, 0, 1)
		plots[k/perRow] = append(plots[k/perRow],
			imagePlot(g, fmt.Sprintf("#%d true: %s\npred: %s %.0f%%", i, shortClass(r.Classes[t]), shortClass(r.Classes[p.pred]), 100*p.probs[p.pred])),
			imagePlot(overlay(g, camPred[k]), fmt.Sprintf("Grad-CAM for\n%s (predicted)", shortClass(r.Classes[p.pred]))),
			imagePlot(overlay(g, camTrue[k]), fmt.Sprintf("Grad-CAM for\n%s (true, %.0f%%)", shortClass(r.Classes[t]), 100*p.probs[t])),
		)
	}
	where, _ := camLayer(r.Arch)
	title := fmt.Sprintf("%s Grad-CAM on misclassified test images (%s, 7×7, upsampled; red = most evidence)", archName(r.Arch), where)
	return figure(title, plots, vg.Length(3*perRow)*1.7*vg.Inch, vg.Length(rows)*2.05*vg.Inch+0.45*vg.Inch)
}

// camLayer names the layer Grad-CAM explains in a convolutional network (nn.GradCAM): briefly for a
// figure title, and in full for the text.
func camLayer(arch string) (short, long string) {
	if nn.IsResNet(arch) {
		return "last residual block", "the last residual block's output (128 × 7×7, after the residual add and its ReLU)"
	}
	return "last conv stage", "the last stage's feature maps (128 × 7×7, after BatchNorm and ReLU, before pooling)"
}

func (s *imageSection) markdown(b *strings.Builder, d *doc) {
	fmt.Fprintf(b, "## Misclassified test images\n\n")
	for _, arch := range s.archOrder {
		d.figure(b, "mistakes_"+arch+".png")
		if !s.agree[arch] {
			fmt.Fprintf(b, "**Warning:** the %s test predictions recorded in %s.metrics.json do not give its confusion matrix on the test set in %s.\n\n", archName(arch), arch, s.dataDir)
		}
		if n := s.modelDiffers[arch]; n > 0 {
			fmt.Fprintf(b, "**Warning:** on %d of the images shown, %s.safetensors predicts another class than the run recorded: the model file is not the one that produced these metrics.\n\n", n, arch)
		}
	}
	if s.hasCNN {
		s.cnnFeatures(b, d)
	}
	for _, arch := range s.archOrder {
		if s.camShown[arch] == 0 {
			continue
		}
		fmt.Fprintf(b, "## Grad-CAM on the %s's mistakes\n\n", archName(arch))
		_, layer := camLayer(arch)
		fmt.Fprintf(b, "For each image: the gradient of the class score (logit) with respect to %s is averaged over space to weight each channel; the weighted sum, after a ReLU, is upsampled to 28×28 and overlaid. The middle map explains the wrong prediction, the right one the evidence for the true class. The images are the %s's first mistakes within its three most confused pairs.", layer, archName(arch))
		if nn.IsResNet(arch) {
			b.WriteString(" The head only averages these maps before its linear layer, so here Grad-CAM is the class activation map (CAM) up to scale: the positive part of what the logit sums over positions.")
		}
		b.WriteString("\n\n")
		d.figure(b, "gradcam_"+arch+".png")
	}
}

// cnnFeatures is the CNN's feature-map section.
func (s *imageSection) cnnFeatures(b *strings.Builder, d *doc) {
	fmt.Fprintf(b, "## What the CNN sees\n\n")
	b.WriteString("Feature maps after each of the three stages for the first test image of the first few classes. Each tile is one channel scaled to its own range; the channels shown are the most active ones for that image. Stage 1 maps (14×14) still show the garment's outline and texture; stage 3 (128 channels of 3×3) is all the classifier head sees.\n\n")
	for k := range s.featIdx {
		d.figure(b, fmt.Sprintf("features_%d.png", k+1))
	}
}
