package report

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/brewer"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

func plotterImage(img image.Image, w, h float64) plot.Plotter {
	return plotter.NewImage(img, 0, 0, w, h)
}

// Each model keeps one colour in every figure; train is solid and validation dashed.
var archColor = map[string]color.Color{
	"ann":         color.RGBA{R: 31, G: 119, B: 180, A: 255},
	"cnn":         color.RGBA{R: 214, G: 39, B: 40, A: 255},
	"resnet":      color.RGBA{R: 44, G: 160, B: 44, A: 255},
	"resnet-wide": color.RGBA{R: 148, G: 103, B: 189, A: 255},
	"resnet-deep": color.RGBA{R: 255, G: 127, B: 14, A: 255},
}

func colorOf(arch string) color.Color {
	if c, ok := archColor[arch]; ok {
		return c
	}
	return color.RGBA{R: 127, G: 127, B: 127, A: 255}
}

func archName(arch string) string {
	switch arch {
	case "ann":
		return "ANN"
	case "cnn":
		return "CNN"
	case "resnet":
		return "ResNet"
	case "resnet-wide":
		return "ResNet-wide"
	case "resnet-deep":
		return "ResNet-deep"
	}
	return arch
}

// steppedSchedule reports whether r's learning rate changes in discrete steps worth marking: the
// study's ReduceLROnPlateau. One-cycle and cosine schedules change it every batch.
func steppedSchedule(r *run) bool { return r.Schedule == "plateau" }

// scheduleName is how the report's text names a schedule.
var scheduleName = map[string]string{"plateau": "plateau", "cosine": "cosine", "onecycle": "one-cycle"}

// lrSteps are the epochs after which a stepped schedule lowered the learning rate, with the new rate
// (a warm-up's rises are not steps).
func lrSteps(r *run) (epochs []int, rates []float64) {
	if !steppedSchedule(r) {
		return nil, nil
	}
	for i := 1; i < len(r.Epochs); i++ {
		if r.Epochs[i].LR < r.Epochs[i-1].LR {
			epochs = append(epochs, r.Epochs[i].Epoch)
			rates = append(rates, r.Epochs[i].LR)
		}
	}
	return epochs, rates
}

// curvesFigure draws loss and accuracy per epoch, train and validation, for every run, with a
// dotted vertical line (in the model's colour) at each epoch whose learning rate was lowered.
func curvesFigure(runs []*run) ([]byte, error) {
	loss := newPlot("Cross-entropy loss per epoch", "epoch", "loss")
	acc := newPlot("Accuracy per epoch", "epoch", "accuracy (%)")
	for _, p := range []*plot.Plot{loss, acc} {
		p.Add(plotter.NewGrid())
		p.Legend.Top = true
		p.X.Tick.Marker = integerTicks{}
	}
	// Loss falls and accuracy rises, so these corners stay clear of the curves.
	acc.Legend.Top = false

	var lossMin, lossMax, accMin, accMax = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, r := range runs {
		for _, e := range r.Epochs {
			lossMin = math.Min(lossMin, math.Min(e.TrainLoss, e.ValLoss))
			lossMax = math.Max(lossMax, math.Max(e.TrainLoss, e.ValLoss))
			accMin = math.Min(accMin, 100*math.Min(e.TrainAcc, e.ValAcc))
			accMax = math.Max(accMax, 100*math.Max(e.TrainAcc, e.ValAcc))
		}
	}
	if math.IsInf(lossMin, 0) {
		return nil, fmt.Errorf("no epochs to plot")
	}
	type stepLabel struct {
		x, rate float64
		archs   []string
	}
	stepLabels := map[string]stepLabel{}
	var stepKeys []string
	for ri, r := range runs {
		c := colorOf(r.Arch)
		name := archName(r.Arch)
		series := []struct {
			p      *plot.Plot
			label  string
			dashed bool
			get    func(e epochRow) float64
		}{
			{loss, name + " train", false, func(e epochRow) float64 { return e.TrainLoss }},
			{loss, name + " validation", true, func(e epochRow) float64 { return e.ValLoss }},
			{acc, name + " train", false, func(e epochRow) float64 { return 100 * e.TrainAcc }},
			{acc, name + " validation", true, func(e epochRow) float64 { return 100 * e.ValAcc }},
		}
		for _, s := range series {
			xys := make(plotter.XYs, len(r.Epochs))
			for i, e := range r.Epochs {
				xys[i] = plotter.XY{X: float64(e.Epoch), Y: s.get(e)}
			}
			l, pts, err := plotter.NewLinePoints(xys)
			if err != nil {
				return nil, err
			}
			l.Color, l.Width = c, vg.Points(2)
			pts.Color, pts.Radius = c, vg.Points(2.5)
			if s.dashed {
				l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
				pts.Shape = draw.BoxGlyph{}
			} else {
				pts.Shape = draw.CircleGlyph{}
			}
			s.p.Add(l, pts)
			s.p.Legend.Add(s.label, l, pts)
		}
		steps, rates := lrSteps(r)
		for k, ep := range steps {
			// The step takes effect at epoch ep; mark it halfway between ep-1 and ep.
			// Models stepping at the same epoch get side-by-side lines rather than one hiding the other.
			x := float64(ep) - 0.5 + 0.12*(float64(ri)-float64(len(runs)-1)/2)
			for _, pp := range []struct {
				p      *plot.Plot
				lo, hi float64
			}{{loss, lossMin, lossMax}, {acc, accMin, accMax}} {
				l, err := plotter.NewLine(plotter.XYs{{X: x, Y: pp.lo}, {X: x, Y: pp.hi}})
				if err != nil {
					return nil, err
				}
				l.Color, l.Width = c, vg.Points(1.2)
				l.Dashes = []vg.Length{vg.Points(1.5), vg.Points(2.5)}
				pp.p.Add(l)
				if k == 0 {
					pp.p.Legend.Add(name+" learning rate lowered", l)
				}
			}
			key := fmt.Sprintf("%d|%g", ep, rates[k])
			if _, ok := stepLabels[key]; !ok {
				stepKeys = append(stepKeys, key)
			}
			sl := stepLabels[key]
			sl.x, sl.rate, sl.archs = x, rates[k], append(sl.archs, r.Arch)
			stepLabels[key] = sl
		}
	}
	// One label per step; a step both models took at the same epoch gets one grey label.
	for _, key := range stepKeys {
		sl := stepLabels[key]
		lab, err := plotter.NewLabels(plotter.XYLabels{
			XYs:    plotter.XYs{{X: sl.x, Y: (accMin + accMax) / 2}},
			Labels: []string{fmt.Sprintf("lr → %s", fmtLR(sl.rate))},
		})
		if err != nil {
			return nil, err
		}
		st := &lab.TextStyle[0]
		st.Color = color.Gray{Y: 60}
		if len(sl.archs) == 1 {
			st.Color = colorOf(sl.archs[0])
		}
		st.Font.Size = tickSize
		st.Rotation = math.Pi / 2
		st.XAlign, st.YAlign = draw.XCenter, draw.YBottom
		lab.Offset = vg.Point{X: -vg.Points(3)}
		acc.Add(lab)
	}
	return figure("", [][]*plot.Plot{{loss, acc}}, 15*vg.Inch, 6*vg.Inch)
}

// fmtLR keeps 4 significant digits: enough for every plateau step from 1e-3, and an annealed rate
// does not print 16.
func fmtLR(lr float64) string { return fmt.Sprintf("%.4g", lr) }

// integerTicks labels whole numbers only: epochs are integers.
type integerTicks struct{}

func (integerTicks) Ticks(lo, hi float64) []plot.Tick {
	step := math.Max(1, math.Ceil((hi-lo)/10))
	var ts []plot.Tick
	for v := math.Ceil(lo); v <= hi; v += step {
		ts = append(ts, plot.Tick{Value: v, Label: fmt.Sprintf("%d", int(v))})
	}
	return ts
}

// matGrid shows a [true][predicted] matrix with true class 0 at the top row.
type matGrid struct {
	z [][]float64
}

func (g matGrid) Dims() (c, r int)   { return len(g.z[0]), len(g.z) }
func (g matGrid) Z(c, r int) float64 { return g.z[len(g.z)-1-r][c] }
func (g matGrid) X(c int) float64    { return float64(c) }
func (g matGrid) Y(r int) float64    { return float64(r) }

// confusionPlot is one heat map with the value written in each cell. Colour follows √value so the
// off-diagonal mistakes (tens) stay visible next to the diagonal (about a thousand).
func confusionPlot(title string, vals [][]float64, cell func(v float64) string, classes []string) (*plot.Plot, error) {
	k := len(vals)
	colorZ := make([][]float64, k)
	hi := 0.0
	for i := range vals {
		colorZ[i] = make([]float64, k)
		for j, v := range vals[i] {
			colorZ[i][j] = math.Sqrt(math.Max(0, v))
			hi = math.Max(hi, colorZ[i][j])
		}
	}
	if hi == 0 {
		hi = 1
	}
	pal, err := brewer.GetPalette(brewer.TypeSequential, "Blues", 9)
	if err != nil {
		return nil, err
	}
	hm := plotter.NewHeatMap(matGrid{colorZ}, pal)
	hm.Min, hm.Max = 0, hi

	p := newPlot(title, "predicted class", "true class")
	p.Add(hm)
	var xys plotter.XYs
	var labels []string
	var dark []bool
	for i := range k {
		for j := range k {
			xys = append(xys, plotter.XY{X: float64(j), Y: float64(k - 1 - i)})
			labels = append(labels, cell(vals[i][j]))
			dark = append(dark, colorZ[i][j]/hi > 0.55)
		}
	}
	lab, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return nil, err
	}
	for i := range lab.TextStyle {
		lab.TextStyle[i] = textStyle(cellSize, color.Black)
		if dark[i] {
			lab.TextStyle[i].Color = color.White
		}
	}
	p.Add(lab)

	xt := make(plot.ConstantTicks, k)
	yt := make(plot.ConstantTicks, k)
	for i, name := range classes[:k] {
		xt[i] = plot.Tick{Value: float64(i), Label: name}
		yt[i] = plot.Tick{Value: float64(k - 1 - i), Label: name}
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = xt, yt
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YTop
	p.X.Min, p.X.Max = -0.5, float64(k)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(k)-0.5
	p.X.Padding, p.Y.Padding = 0, 0
	return p, nil
}

// confusionFigure draws a model's test confusion matrix twice: counts, and each row as a
// percentage of that true class (so the diagonal is recall).
func confusionFigure(r *run) ([]byte, error) {
	counts := make([][]float64, len(r.Confusion))
	total := 0
	for i, row := range r.Confusion {
		counts[i] = make([]float64, len(row))
		for j, v := range row {
			counts[i][j] = float64(v)
			total += v
		}
	}
	a, err := confusionPlot(fmt.Sprintf("%s test confusion matrix (counts, %s images)", archName(r.Arch), groupInt(int64(total))),
		counts, func(v float64) string { return fmt.Sprintf("%d", int(v)) }, r.Classes)
	if err != nil {
		return nil, err
	}
	norm := rowNormalize(r.Confusion)
	pct := make([][]float64, len(norm))
	for i := range norm {
		pct[i] = make([]float64, len(norm[i]))
		for j := range norm[i] {
			pct[i][j] = 100 * norm[i][j]
		}
	}
	b, err := confusionPlot(archName(r.Arch)+" row-normalized (% of each true class)",
		pct, func(v float64) string { return fmt.Sprintf("%.1f", v) }, r.Classes)
	if err != nil {
		return nil, err
	}
	return figure("", [][]*plot.Plot{{a, b}}, 16*vg.Inch, 7.5*vg.Inch)
}
