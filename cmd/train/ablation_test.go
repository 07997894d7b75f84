package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdnn/simdnn/train"
)

// TestAblationCommand: `train ablation` over one directory writes into it; over several it needs
// --out, and a directory that is not there is named.
func TestAblationCommand(t *testing.T) {
	put := func(dir, run string, seed int64, acc float64) {
		r := train.Recipe{Epochs: 18, Batch: 128, LR: 0.001, Seed: seed, TrainImages: 54000, Scheduler: "ReduceLROnPlateau(…)"}
		if err := os.MkdirAll(filepath.Join(dir, run), 0o755); err != nil {
			t.Fatal(err)
		}
		m := &train.Metrics{Arch: "cnn", Recipe: r, History: make([]train.Epoch, 18), Test: train.Score{Acc: acc}}
		if err := train.WriteMetrics(filepath.Join(dir, run, "cnn.metrics.json"), m); err != nil {
			t.Fatal(err)
		}
	}
	d1, d2 := t.TempDir(), t.TempDir()
	put(d1, "01-cnn-study", 1, 0.92)
	put(d2, "43-cnn-seed2", 2, 0.93)

	code, out, errOut := runCmd(t, "ablation", d1)
	if code != 0 || !strings.Contains(out, "| 01-cnn-study | cnn | none |") || errOut != "" {
		t.Fatalf("one directory: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	if _, err := train.ReadAblation(d1); err != nil {
		t.Errorf("one directory: %v", err)
	}

	code, out, errOut = runCmd(t, "ablation", d1, d2)
	if code != 1 || out != "" || !strings.Contains(errOut, "2 directories: --out DIR says where") {
		t.Errorf("two directories without --out: code %d, stdout %q, stderr %q", code, out, errOut)
	}

	dst := filepath.Join(t.TempDir(), "merged")
	code, out, errOut = runCmd(t, "ablation", "--out", dst, d1, d2)
	if code != 0 || errOut != "" || !strings.Contains(out, "| cnn | none | 1, 2 | 01-cnn-study, 43-cnn-seed2 | 92.50% |") {
		t.Fatalf("two directories: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	if a, err := train.ReadAblation(dst); err != nil || len(a.Rows) != 2 || len(a.Seeds) != 1 {
		t.Errorf("merged table: %v %+v", err, a)
	}

	missing := filepath.Join(t.TempDir(), "nowhere")
	code, out, errOut = runCmd(t, "ablation", missing)
	if code != 1 || out != "" || !strings.Contains(errOut, missing) || strings.Count(errOut, "\n") != 1 {
		t.Errorf("missing directory: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(missing, "ablation.json")); err == nil {
		t.Error("missing directory: a table was written into it")
	}
	if code, _, errOut = runCmd(t, "ablation", "-h"); code != 0 || !strings.Contains(errOut, "usage: train ablation [--out DIR] [DIR...]") {
		t.Errorf("-h: code %d, stderr %q", code, errOut)
	}
}
