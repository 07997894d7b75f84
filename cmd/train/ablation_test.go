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
	if code, _, errOut = runCmd(t, "ablation", "-h"); code != 0 || !strings.Contains(errOut, "usage: train ablation [--out DIR] [--epoch-cost FILE] [DIR...]") {
		t.Errorf("-h: code %d, stderr %q", code, errOut)
	}
}

// TestEpochCostCommand: `train epoch-cost` turns runs into benchmark lines that `train ablation
// --epoch-cost` prices the table with; a file that is not one is named and nothing is written.
func TestEpochCostCommand(t *testing.T) {
	runs, abl := t.TempDir(), t.TempDir()
	put := func(dir, run string, r train.Recipe, epochs int, seconds float64) {
		if err := os.MkdirAll(filepath.Join(dir, run), 0o755); err != nil {
			t.Fatal(err)
		}
		m := &train.Metrics{Arch: "cnn", Recipe: r, Threads: 2, Kernels: "avx512", Platform: "linux/amd64", Test: train.Score{Acc: 0.9}}
		for i := 0; i < epochs; i++ {
			m.History = append(m.History, train.Epoch{Epoch: i + 1, Seconds: seconds})
		}
		if err := train.WriteMetrics(filepath.Join(dir, run, "cnn.metrics.json"), m); err != nil {
			t.Fatal(err)
		}
	}
	study := train.Recipe{Epochs: 18, Batch: 128, LR: 0.001, Seed: 1, TrainImages: 54000, Scheduler: "ReduceLROnPlateau(…)"}
	aug := study
	aug.Augment = true
	put(runs, "r1-cnn-none", study, 1, 20)
	put(runs, "r1-cnn-augment", aug, 1, 22)
	put(abl, "01-cnn-study", study, 18, 99)
	put(abl, "15-cnn-augment", aug, 18, 99)

	code, out, errOut := runCmd(t, "epoch-cost", runs)
	if code != 0 || errOut != "" || !strings.Contains(out, "BenchmarkEpoch/model=cnn/changes=augment 1 2.2e+10 ns/op") {
		t.Fatalf("epoch-cost: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	costs := filepath.Join(t.TempDir(), "epoch-cost.txt")
	if err := os.WriteFile(costs, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCmd(t, "ablation", "--epoch-cost", costs, abl)
	if code != 0 || errOut != "" || !strings.Contains(out, "| 15-cnn-augment | cnn | crop+flip augmentation | 18/18 | 90.00% | +0.00 pts | 0.00% | 6m36s | 1.10 |") ||
		!strings.Contains(out, "priced from "+costs) {
		t.Fatalf("ablation --epoch-cost: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	if a, err := train.ReadAblation(abl); err != nil || a.Pricing == nil || a.Pricing.File != costs {
		t.Errorf("ablation.json's pricing: %v %+v", err, a)
	}

	os.Remove(filepath.Join(abl, "ablation.json"))
	code, out, errOut = runCmd(t, "ablation", "--epoch-cost", filepath.Join(abl, "01-cnn-study", "cnn.metrics.json"), abl)
	if code != 1 || out != "" || !strings.Contains(errOut, "cnn.metrics.json") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("a metrics file as epoch costs: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(abl, "ablation.json")); err == nil {
		t.Error("a table was written despite the bad epoch costs")
	}
	if code, out, errOut = runCmd(t, "epoch-cost"); code != 1 || out != "" || !strings.Contains(errOut, "usage: train epoch-cost DIR...") {
		t.Errorf("no directory: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, out, errOut = runCmd(t, "epoch-cost", abl); code != 0 || !strings.Contains(out, "BenchmarkEpoch/model=cnn/changes=none 1 9.9e+10 ns/op") {
		t.Errorf("ablation runs as epoch costs: code %d, stdout %q, stderr %q", code, out, errOut)
	}
}
