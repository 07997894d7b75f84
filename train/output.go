package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/simdnn/simdnn/internal/atomicfile"

	"github.com/simdnn/simdnn/nn"
)

// WriteMetrics writes m as indented JSON, atomically.
func WriteMetrics(path string, m *Metrics) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, append(b, '\n'))
}

// ReadMetrics reads a file written by WriteMetrics.
func ReadMetrics(path string) (*Metrics, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Metrics
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: not a metrics file: %v", path, err)
	}
	if m.Arch == "" || len(m.History) == 0 {
		return nil, fmt.Errorf("%s: not a metrics file (no arch or history)", path)
	}
	return &m, nil
}

// Summary is the study's "Key Findings" table from our runs: one entry per model found in the output
// directory, and the CNN's test-accuracy gain over the ANN when both are there.
type Summary struct {
	Models []ModelSummary `json:"models"`
	// ImprovementPts is CNN test accuracy minus ANN test accuracy, in percentage points (nil unless
	// both models are present).
	ImprovementPts *float64  `json:"cnn_improvement_pts,omitempty"`
	Written        time.Time `json:"written"`
}

// ModelSummary is one model's row of the Key Findings table.
type ModelSummary struct {
	Arch            string  `json:"arch"`
	TrainAcc        float64 `json:"train_acc"`
	ValAcc          float64 `json:"val_acc"`
	TestAcc         float64 `json:"test_acc"`
	Params          int     `json:"params"`
	Epochs          int     `json:"epochs"`
	TrainImages     int     `json:"train_images"`
	SecondsPerEpoch float64 `json:"seconds_per_epoch"`
	Threads         int     `json:"threads"`
	Kernels         string  `json:"kernels"`
	Started         string  `json:"started"`
}

// Summarize builds the summary from the models' metrics, in nn.Archs order.
func Summarize(ms []*Metrics) Summary {
	s := Summary{Written: time.Now().UTC()}
	acc := map[string]float64{}
	for _, arch := range nn.Archs {
		for _, m := range ms {
			if m == nil || m.Arch != arch {
				continue
			}
			s.Models = append(s.Models, ModelSummary{
				Arch: m.Arch, TrainAcc: m.Train.Acc, ValAcc: m.Val.Acc, TestAcc: m.Test.Acc, Params: m.Params,
				Epochs: m.Recipe.Epochs, TrainImages: m.Recipe.TrainImages, SecondsPerEpoch: m.SecondsPerEpoch,
				Threads: m.Threads, Kernels: m.Kernels, Started: m.Started.Format(time.RFC3339),
			})
			acc[arch] = m.Test.Acc
			break
		}
	}
	a, okA := acc["ann"]
	c, okC := acc["cnn"]
	if okA && okC {
		d := 100 * (c - a)
		s.ImprovementPts = &d
	}
	return s
}

// LoadSummary reads every <arch>.metrics.json in dir (missing ones are skipped) and summarizes them.
func LoadSummary(dir string) (Summary, error) {
	var ms []*Metrics
	for _, arch := range nn.Archs {
		m, err := ReadMetrics(filepath.Join(dir, arch+".metrics.json"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Summary{}, err
		}
		ms = append(ms, m)
	}
	if len(ms) == 0 {
		return Summary{}, fmt.Errorf("%s: no metrics files (ann.metrics.json, cnn.metrics.json)", dir)
	}
	return Summarize(ms), nil
}

// WriteSummary writes summary.json and summary.md (the table) into dir, atomically.
func WriteSummary(dir string, s Summary) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "summary.json"), append(b, '\n')); err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, "summary.md"), []byte(s.Table()))
}

// Table renders the Key Findings table as Markdown, with the study's figures alongside ours.
func (s Summary) Table() string {
	var b bytes.Buffer
	study := map[string]map[string]string{
		"ann": {"train": "89%", "val": "88%", "test": "88 – 89%", "params": "592,000", "improvement": "—"},
		"cnn": {"train": "94%", "val": "92%", "test": "92%", "params": "438,000", "improvement": "+3 – 4 pts"},
	}
	head := []string{"Metric"}
	sep := []string{"---"}
	for _, m := range s.Models {
		head = append(head, strings.ToUpper(m.Arch))
		sep = append(sep, "---:")
	}
	for _, m := range s.Models {
		head = append(head, "Study "+strings.ToUpper(m.Arch))
		sep = append(sep, "---:")
	}
	row := func(name string, ours func(ModelSummary) string, key string) {
		cells := []string{name}
		for _, m := range s.Models {
			cells = append(cells, ours(m))
		}
		for _, m := range s.Models {
			v := study[m.Arch][key]
			if v == "" {
				v = "—"
			}
			cells = append(cells, v)
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
	}
	pct := func(v float64) string { return fmt.Sprintf("%.2f%%", 100*v) }
	fmt.Fprintf(&b, "| %s |\n| %s |\n", strings.Join(head, " | "), strings.Join(sep, " | "))
	row("Train Accuracy", func(m ModelSummary) string { return pct(m.TrainAcc) }, "train")
	row("Validation Accuracy", func(m ModelSummary) string { return pct(m.ValAcc) }, "val")
	row("Test Accuracy", func(m ModelSummary) string { return pct(m.TestAcc) }, "test")
	row("Parameter Count", func(m ModelSummary) string { return commas(m.Params) }, "params")
	row("Improvement", func(m ModelSummary) string {
		if m.Arch == "cnn" && s.ImprovementPts != nil {
			return fmt.Sprintf("%+.2f pts", *s.ImprovementPts)
		}
		return "—"
	}, "improvement")
	row("Seconds per Epoch", func(m ModelSummary) string {
		return fmt.Sprintf("%.1f s (%d threads, %s)", m.SecondsPerEpoch, m.Threads, m.Kernels)
	}, "")
	return b.String()
}

// commas formats n with thousands separators, as the study writes parameter counts.
func commas(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
