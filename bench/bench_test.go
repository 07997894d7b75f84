package bench

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/perf/benchfmt"

	"github.com/simdnn/simdnn"
	"github.com/simdnn/simdnn/dataset"
	"github.com/simdnn/simdnn/nn"
	"github.com/simdnn/simdnn/train"
)

func quickConfig(out string) Config {
	return Config{Models: []string{"ann", "cnn"}, OutDir: out, Threads: 2, Batches: []int{1, 3},
		Count: 2, Benchtime: time.Millisecond}
}

// TestRandomWeights runs the whole harness in miniature and checks every output: the report, the
// atomically written bench.json, the table and the benchfmt lines (read back with benchfmt.Reader).
func TestRandomWeights(t *testing.T) {
	out := t.TempDir()
	cfg := quickConfig(out)
	cfg.RandomWeights = true
	rep, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Models) != 2 || len(rep.Peak) != 2 || rep.Peak[0].GFLOPS <= 0 {
		t.Fatalf("report: %d models, peak %v", len(rep.Models), rep.Peak)
	}
	for _, m := range rep.Models {
		wantParams, wantFLOPs := map[string]int{"ann": 569226, "cnn": 390858}[m.Arch], map[string]int64{"ann": 1133056, "cnn": 15497216}[m.Arch]
		if m.Params != wantParams || m.FLOPsPerImage != wantFLOPs {
			t.Errorf("%s: %d params and %d FLOPs per image, want %d and %d", m.Arch, m.Params, m.FLOPsPerImage, wantParams, wantFLOPs)
		}
		if len(m.Throughput) != 4 || m.LatencyP50 <= 0 || m.LatencyP99 < m.LatencyP50 {
			t.Errorf("%s: %d throughput points, latency p50 %v p99 %v", m.Arch, len(m.Throughput), m.LatencyP50, m.LatencyP99)
		}
		var pct float64
		for _, l := range m.Layers {
			pct += l.Percent
		}
		if len(m.Layers) == 0 || pct < 99 || pct > 101 {
			t.Errorf("%s: layer shares sum to %v%% over %d layers", m.Arch, pct, len(m.Layers))
		}
	}
	if _, err := os.Stat(filepath.Join(out, "bench.json")); err == nil {
		t.Error("random weights wrote bench.json, where a trained model's figures belong")
	}
	raw, err := os.ReadFile(filepath.Join(out, "bench-random-weights.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(raw, &back); err != nil || len(back.Models) != 2 {
		t.Fatalf("bench.json: %v, %d models", err, len(back.Models))
	}
	if left, _ := filepath.Glob(filepath.Join(out, "*.tmp*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}

	var table bytes.Buffer
	if err := WriteTable(&table, rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"== ANN", "== CNN", "batch-1 latency", "conv2+bn+relu", "% of peak"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q", want)
		}
	}

	var bf bytes.Buffer
	if err := WriteBenchfmt(&bf, rep); err != nil {
		t.Fatal(err)
	}
	r := benchfmt.NewReader(&bf, "bench.txt")
	names := map[string]int{}
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.Result:
			names[string(rec.Name)]++
			if _, ok := rec.Value("images/s"); !ok && strings.HasPrefix(string(rec.Name), "Infer/") {
				t.Errorf("%s has no images/s", rec.Name)
			}
		case *benchfmt.SyntaxError:
			t.Errorf("benchfmt output does not parse: %v", rec)
		}
	}
	if n := names["Infer/model=cnn/batch=3/threads=2"]; n != 2 {
		t.Errorf("Infer/model=cnn/batch=3/threads=2 appears %d times, want 2 (one per run); names %v", n, names)
	}
}

// TestRandomWeightsResNets: every variant of the residual CNN goes through the harness, with its exact
// parameter count and its extra work in its FLOPs.
func TestRandomWeightsResNets(t *testing.T) {
	cfg := quickConfig(t.TempDir())
	cfg.Models, cfg.Batches, cfg.Count, cfg.RandomWeights = nn.ResNetArchs(), []int{2}, 1, true
	rep, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Models) != 3 {
		t.Fatalf("%d models", len(rep.Models))
	}
	base := rep.Models[0]
	for i, want := range []struct {
		arch   string
		params int
		ratio  float64 // multiply-adds per image against the resnet's
	}{
		{"resnet", nn.ResNetParams, 1},
		// layer1 goes from 64 to 80 channels at 14×14.
		{"resnet-wide", nn.ResNetWideParams, 1.38},
		// two more 32→32 convolutions at 28×28: 2·784·32·32·9 multiply-adds.
		{"resnet-deep", nn.ResNetDeepParams, 1.39},
	} {
		m := rep.Models[i]
		if m.Arch != want.arch || m.Params != want.params {
			t.Errorf("model %d: %s with %d params, want %s with %d", i, m.Arch, m.Params, want.arch, want.params)
		}
		if r := float64(m.FLOPsPerImage) / float64(base.FLOPsPerImage); math.Abs(r-want.ratio) > 0.02 {
			t.Errorf("%s does %.3f× the resnet's FLOPs per image, want about %.2f", m.Arch, r, want.ratio)
		}
	}
	if _, err := Run(Config{Models: []string{"resnet-narrow"}, OutDir: t.TempDir(), RandomWeights: true}); err == nil ||
		!strings.Contains(err.Error(), "resnet-deep") {
		t.Errorf("unknown model: err %v, want one listing the models", err)
	}
}

func TestMissingModel(t *testing.T) {
	out := t.TempDir()
	_, err := Run(quickConfig(out))
	if err == nil {
		t.Fatal("no error without a model file")
	}
	for _, want := range []string{filepath.Join(out, "ann.safetensors"), "train --model ann --out " + out} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q should mention %q", err, want)
		}
	}
}

// TestAccuracyCheck: bench recomputes the test accuracy and refuses a model whose metrics disagree.
// It needs the real test set.
func TestAccuracyCheck(t *testing.T) {
	if _, err := dataset.FindDir(""); err != nil {
		if os.Getenv("SIMDNN_SKIP_DATA") == "1" {
			t.Skip("SKIPPED: Fashion-MNIST not installed and SIMDNN_SKIP_DATA=1: the accuracy check is untested")
		}
		t.Fatalf("this test needs Fashion-MNIST (apt-get install dataset-fashion-mnist, or set SIMDNN_SKIP_DATA=1 to skip): %v", err)
	}
	out := t.TempDir()
	model, err := os.ReadFile(filepath.Join("..", "testdata", "golden_ann.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "ann.safetensors"), model, 0o644); err != nil {
		t.Fatal(err)
	}
	// The true figure, computed independently of the harness.
	m, err := simdnn.Load(filepath.Join(out, "ann.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := dataset.FindDir("")
	ds, err := dataset.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	preds, err := m.PredictPixels(nil, ds.Test.Images)
	if err != nil {
		t.Fatal(err)
	}
	correct := 0
	for i, p := range preds {
		if uint8(p.Class) == ds.Test.Labels[i] {
			correct++
		}
	}
	cfg := quickConfig(out)
	cfg.Models = []string{"ann"}
	cfg.Batches = []int{2}
	cfg.Threads = 1
	for _, delta := range []int{0, 1} {
		rec := &train.Metrics{Arch: "ann", History: []train.Epoch{{}}, Test: train.Score{Correct: correct + delta, Images: ds.Test.Len(),
			Acc: float64(correct+delta) / float64(ds.Test.Len())}}
		if err := train.WriteMetrics(filepath.Join(out, "ann.metrics.json"), rec); err != nil {
			t.Fatal(err)
		}
		rep, err := Run(cfg)
		if delta == 0 {
			if err != nil {
				t.Fatalf("matching metrics: %v", err)
			}
			if got := rep.Models[0].TestCorrect; got != correct {
				t.Errorf("harness counted %d correct, direct prediction %d", got, correct)
			}
		} else if err == nil || !strings.Contains(err.Error(), "differs from") {
			t.Errorf("metrics off by %d: err = %v, want a mismatch error", delta, err)
		}
	}
}

// TestReportMerge: benchmarking one model keeps the other model's figures from an earlier run.
func TestReportMerge(t *testing.T) {
	out := t.TempDir()
	for _, arch := range []string{"cnn", "ann"} {
		cfg := quickConfig(out)
		cfg.RandomWeights, cfg.Models, cfg.Threads, cfg.Count = true, []string{arch}, 1, 1
		if _, err := Run(cfg); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(filepath.Join(out, "bench-random-weights.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Models) != 2 || rep.Models[0].Arch != "ann" || rep.Models[1].Arch != "cnn" {
		t.Errorf("after cnn then ann: %d models", len(rep.Models))
	}
}
