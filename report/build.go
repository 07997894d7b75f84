// Package report turns a finished training run's output directory into a Markdown report with PNG
// figures: loss and accuracy curves, confusion matrices, per-class precision/recall/F1 of the models
// side by side, the most confused pairs against the study's, misclassified test images, the CNN's
// feature maps, Grad-CAM maps of the convolutional networks, the efficiency table and the study's
// "Key Findings" with our numbers. The study's ANN and CNN are compared with it; a residual CNN
// (issue 6) in the same directory joins every table and figure as a third model.
//
// Every number in report.md is printed from the metrics JSON the trainer wrote (or bench.json), so
// rebuilding the report from the same directory gives the same document.
package report

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"github.com/simdnn/simdnn/internal/atomicfile"
	"github.com/simdnn/simdnn/nn"
)

// Options tune Build. The zero value is the default.
type Options struct {
	// DataDir is where Fashion-MNIST lives, resolved as the trainer does (empty: $FASHION_MNIST,
	// then /usr/share/datasets/fashion-mnist, then ./data). Without the data the per-image figures
	// are left out and the report says so.
	DataDir string
}

// Build writes outDir/report.md and its figures in outDir/report/ from the metrics (and, when
// present, model files and bench.json) in outDir. Nothing is written unless every part was built;
// each file is replaced atomically.
func Build(outDir string) error { return BuildWith(outDir, Options{}) }

// BuildWith is Build with options.
func BuildWith(outDir string, opt Options) error {
	runs, err := loadRuns(outDir)
	if err != nil {
		return err
	}
	d := &doc{runs: runs, bench: map[string]benchRow{}}
	for _, arch := range nn.AllArchs {
		if r, ok := runs[arch]; ok {
			d.order = append(d.order, r)
		}
	}
	for _, arch := range nn.Archs {
		if _, ok := runs[arch]; !ok {
			d.notes = append(d.notes, fmt.Sprintf("%s: no %s.metrics.json in this directory (`train --model %s --out DIR` writes it).", archName(arch), arch, arch))
		}
	}
	if d.bench, err = loadBench(outDir); err != nil {
		return err
	}
	if d.ablation, err = ablationSection(outDir); err != nil {
		return fmt.Errorf("report: %w", err)
	}

	files := map[string][]byte{}
	var names []string
	add := func(name, alt, caption string, png []byte) {
		files[name] = png
		names = append(names, name)
		d.figures = append(d.figures, figureRef{file: name, alt: alt, caption: caption})
	}
	png, err := curvesFigure(d.order)
	if err != nil {
		return fmt.Errorf("report: curves: %w", err)
	}
	caption := "Solid: training (running average over the epoch's batches, dropout on); dashed: validation (evaluation mode). Dotted verticals: ReduceLROnPlateau lowered the learning rate before that epoch."
	for _, r := range d.order {
		if !steppedSchedule(r) {
			caption += fmt.Sprintf(" The %s's %s schedule changes the rate every batch, so it has no such lines.", archName(r.Arch), scheduleName[r.Schedule])
		}
	}
	add("curves.png", "Loss and accuracy per epoch", caption, png)
	for _, r := range d.order {
		png, err := confusionFigure(r)
		if err != nil {
			return fmt.Errorf("report: %s confusion matrix: %w", r.Arch, err)
		}
		add("confusion_"+r.Arch+".png", archName(r.Arch)+" confusion matrix", "", png)
	}
	if err := d.buildImages(outDir, opt.DataDir, add); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	md := d.markdown()

	figDir := filepath.Join(outDir, "report")
	if err := os.MkdirAll(figDir, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := atomicfile.WriteBytes(filepath.Join(figDir, name), files[name]); err != nil {
			return err
		}
	}
	if err := atomicfile.WriteBytes(filepath.Join(outDir, "report.md"), []byte(md)); err != nil {
		return err
	}
	removeStale(figDir, files)
	return nil
}

// ourFigure matches the names Build gives its figures, so that only those are ever removed.
var ourFigure = regexp.MustCompile(`^(curves|confusion_[a-z-]+|mistakes_[a-z-]+|features_[0-9]+|gradcam_[a-z-]+)\.png$`)

// removeStale deletes figures an earlier build drew that this one did not (say, Grad-CAM after the
// model file went away), so report/ matches report.md. Failures only leave an unused file behind.
func removeStale(figDir string, keep map[string][]byte) {
	entries, err := os.ReadDir(figDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if _, ok := keep[e.Name()]; !ok && ourFigure.MatchString(e.Name()) {
			os.Remove(filepath.Join(figDir, e.Name()))
		}
	}
}

var errNoMetrics = errors.New("no metrics")
