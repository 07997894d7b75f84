package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdnn/simdnn/train"
)

// TestBuildWithAblation: an out/ablation/ablation.json (train ablation) becomes a section of the report
// with its rows; a damaged one is an error naming the file, and none leaves the report without it.
func TestBuildWithAblation(t *testing.T) {
	out := t.TempDir()
	if err := train.WriteMetrics(metricsFile(out, "cnn"), synthMetrics("cnn", 3)); err != nil {
		t.Fatal(err)
	}
	opt := Options{DataDir: filepath.Join(out, "none")}
	if err := BuildWith(out, opt); err != nil {
		t.Fatal(err)
	}
	if md := readReport(t, out); strings.Contains(md, "recommendations, measured") {
		t.Error("report has an ablation section without an ablation")
	}

	abl := filepath.Join(out, "ablation")
	m := synthMetrics("cnn", 4)
	m.Arch, m.Recipe.Patience, m.BestEpoch = "resnet", 3, 2
	os.MkdirAll(filepath.Join(abl, "03-resnet-early"), 0o755)
	if err := train.WriteMetrics(filepath.Join(abl, "03-resnet-early", "resnet.metrics.json"), m); err != nil {
		t.Fatal(err)
	}
	a, err := train.BuildAblation(abl)
	if err != nil {
		t.Fatal(err)
	}
	if err := train.WriteAblation(abl, a); err != nil {
		t.Fatal(err)
	}
	if err := BuildWith(out, opt); err != nil {
		t.Fatal(err)
	}
	md := readReport(t, out)
	for _, want := range []string{"## The study's recommendations, measured", "| 03-resnet-early | resnet |", "early stopping (patience 3)"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(md, "output directories") {
		t.Error("a one-directory ablation warns about several directories")
	}

	// Runs gathered from two output directories: the section says wall times compare only within one.
	other := t.TempDir()
	os.MkdirAll(filepath.Join(other, "04-resnet-warmup"), 0o755)
	m.Recipe.Patience, m.BestEpoch, m.Recipe.Warmup = 0, 0, 2
	if err := train.WriteMetrics(filepath.Join(other, "04-resnet-warmup", "resnet.metrics.json"), m); err != nil {
		t.Fatal(err)
	}
	if a, err = train.BuildAblation(abl, other); err != nil {
		t.Fatal(err)
	}
	if err := train.WriteAblation(abl, a); err != nil {
		t.Fatal(err)
	}
	if err := BuildWith(out, opt); err != nil {
		t.Fatal(err)
	}
	md = readReport(t, out)
	for _, want := range []string{"| 04-resnet-warmup | resnet |", "The runs come from 2 output directories (" + abl + ", " + other + ")", "compare wall times only between runs of one directory"} {
		if !strings.Contains(md, want) {
			t.Errorf("merged ablation: report lacks %q", want)
		}
	}

	// Priced from one sitting's epoch costs, the rows' wall times compare across directories.
	a.PriceEpochs("epoch-cost.txt", []train.EpochCost{{Arch: "resnet", Work: "none", Seconds: []float64{60}}})
	if err := train.WriteAblation(abl, a); err != nil {
		t.Fatal(err)
	}
	if err := BuildWith(out, opt); err != nil {
		t.Fatal(err)
	}
	md = readReport(t, out)
	if !strings.Contains(md, "priced from epoch costs measured in one sitting") || !strings.Contains(md, "priced from epoch-cost.txt") ||
		strings.Contains(md, "compare wall times only between runs of one directory") {
		t.Errorf("priced ablation: the report's section is\n%s", md[strings.Index(md, "## The study's recommendations"):])
	}

	os.WriteFile(filepath.Join(abl, "ablation.json"), []byte("{"), 0o644)
	if err := BuildWith(out, opt); err == nil || !strings.Contains(err.Error(), filepath.Join(abl, "ablation.json")) {
		t.Errorf("damaged ablation.json: %v", err)
	}
}
