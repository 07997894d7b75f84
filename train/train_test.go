package train

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/simdnn/simdnn/dataset"
	"github.com/simdnn/simdnn/internal/datatest"
	"github.com/simdnn/simdnn/kernels"
	"github.com/simdnn/simdnn/nn"
)

// TestMain trains on the kit's SGEMM, as the train command does; gonum's pure-Go BLAS would make the
// real-data runs several times slower.
func TestMain(m *testing.M) {
	kernels.UseWithGonum()
	os.Exit(m.Run())
}

// TestPlateau follows PyTorch's ReduceLROnPlateau(mode="max", factor=0.5, patience=2,
// threshold=1e-4, threshold_mode="rel") step by step.
func TestPlateau(t *testing.T) {
	p := NewPlateau(0.001)
	steps := []struct {
		metric float64
		lr     float64 // after the step
	}{
		{0.80, 0.001},     // first value is always best
		{0.85, 0.001},     // better
		{0.850084, 0.001}, // +0.0084%: below the 0.01% relative threshold, bad 1
		{0.84, 0.001},     // bad 2
		{0.85, 0.0005},    // bad 3 > patience: halve, count restarts
		{0.85, 0.0005},    // bad 1 (best still 0.85)
		{0.86, 0.0005},    // better: count restarts
		{0.86, 0.0005},    // bad 1
		{0.86, 0.0005},    // bad 2
		{0.86, 0.00025},   // bad 3: halve again
	}
	for i, s := range steps {
		if got := p.Step(s.metric); math.Abs(got-s.lr) > 1e-15 {
			t.Fatalf("step %d (metric %v): lr %v, want %v", i+1, s.metric, got, s.lr)
		}
	}
	if p.LR() != 0.00025 {
		t.Fatalf("LR() = %v", p.LR())
	}
	// An improvement just above the relative threshold counts.
	q := NewPlateau(1)
	q.Step(0.5)
	q.Step(0.5)
	q.Step(0.5)
	q.Step(0.5 * (1 + 1.01e-4)) // better: resets the count that would otherwise reduce now
	if q.LR() != 1 {
		t.Fatalf("improvement above threshold still reduced the rate to %v", q.LR())
	}
}

func TestConfusionPerClass(t *testing.T) {
	// 3 classes. True 0: 0,0,1; true 1: 1,1,1,2; true 2: 0. Class 2 is never predicted right.
	labels := []uint8{0, 0, 0, 1, 1, 1, 1, 2}
	preds := []uint8{0, 0, 1, 1, 1, 1, 2, 0}
	c := Confusion(labels, preds, 3)
	want := [][]int{{2, 1, 0}, {0, 3, 1}, {1, 0, 0}}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("confusion %v, want %v", c, want)
	}
	s := PerClass(c, []string{"a", "b", "c"})
	// a: P = 2/3, R = 2/3; b: P = 3/4, R = 3/4; c: P = 0/1, R = 0/1, F1 = 0.
	exp := []ClassScore{
		{"a", 2.0 / 3, 2.0 / 3, 2.0 / 3, 3},
		{"b", 0.75, 0.75, 0.75, 4},
		{"c", 0, 0, 0, 1},
	}
	for i := range exp {
		g, e := s[i], exp[i]
		if g.Class != e.Class || g.Support != e.Support || math.Abs(g.Precision-e.Precision) > 1e-12 ||
			math.Abs(g.Recall-e.Recall) > 1e-12 || math.Abs(g.F1-e.F1) > 1e-12 {
			t.Fatalf("class %d: %+v, want %+v", i, g, e)
		}
	}
	// Unequal precision and recall: P = 1/2, R = 1/4, F1 = 2·(1/8)/(3/4) = 1/3.
	u := PerClass([][]int{{1, 3}, {1, 0}}, nil)
	if math.Abs(u[0].Precision-0.5) > 1e-12 || math.Abs(u[0].Recall-0.25) > 1e-12 || math.Abs(u[0].F1-1.0/3) > 1e-12 {
		t.Fatalf("unequal P/R: %+v", u[0])
	}
	// A class never predicted and never present scores 0, not NaN.
	z := PerClass([][]int{{0, 0}, {0, 5}}, nil)
	if z[0].Precision != 0 || z[0].Recall != 0 || z[0].F1 != 0 || z[1].F1 != 1 {
		t.Fatalf("empty class: %+v", z)
	}
}

func TestConfusedPairs(t *testing.T) {
	c := [][]int{
		{9, 1, 4, 0},
		{2, 9, 0, 0},
		{3, 0, 9, 5},
		{0, 0, 2, 9},
	}
	names := []string{"w", "x", "y", "z"}
	got := ConfusedPairs(c, names, 2)
	want := []Pair{
		{A: "w", B: "y", AIndex: 0, BIndex: 2, AasB: 4, BasA: 3, Count: 7},
		{A: "y", B: "z", AIndex: 2, BIndex: 3, AasB: 5, BasA: 2, Count: 7},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pairs %+v, want %+v", got, want)
	}
	if all := ConfusedPairs(c, names, 10); len(all) != 3 || all[2].Count != 3 {
		t.Fatalf("all pairs %+v: want the 3 confused ones, never-confused pairs left out", all)
	}
}

// smallData is the real data cut down so a test runs in seconds: the first n training images after
// the split, and the first v validation and test images.
func smallData(t *testing.T, seed int64, n, v int) Data {
	ds := datatest.Require(t)
	d := PrepareData(ds, seed, n)
	d.Val = d.Val.Head(v)
	d.Test = d.Test.Head(v)
	return d
}

func TestPrepareData(t *testing.T) {
	ds := datatest.Require(t)
	d := PrepareData(ds, 1, 0)
	if d.Train.Len() != 54000 || d.Val.Len() != 6000 || d.Test.Len() != 10000 {
		t.Fatalf("split %d/%d/%d", d.Train.Len(), d.Val.Len(), d.Test.Len())
	}
	if math.Abs(float64(d.Mean)-0.2860) > 2e-3 || math.Abs(float64(d.Std)-0.3530) > 2e-3 {
		t.Fatalf("mean/std %v/%v", d.Mean, d.Std)
	}
	if l := PrepareData(ds, 1, 5000); l.Train.Len() != 5000 || l.Mean != d.Mean || l.Val.Len() != 6000 {
		t.Fatalf("--limit 5000 gave %d train images, mean %v, %d val", l.Train.Len(), l.Mean, l.Val.Len())
	}
}

// TestShortRealRun trains each model on 5,000 real images for one epoch and checks it learned.
// Measured (seed 1, 2,000 validation and 2,000 test images, over several kernel versions): ANN
// 77.2–77.4% validation / 78.3% test, CNN 76.9–78.0% / 79.4–79.8%. The floor sits about three points
// under the lowest, so a change of summation order cannot trip it but a broken loop does.
func TestShortRealRun(t *testing.T) {
	datatest.Long(t)
	floors := map[string]float64{"ann": 0.74, "cnn": 0.74}
	for _, arch := range nn.Archs {
		t.Run(arch, func(t *testing.T) {
			d := smallData(t, 1, 5000, 2000)
			cfg := DefaultConfig(arch)
			cfg.Epochs, cfg.OutDir = 1, ""
			m, _, err := Run(cfg, d)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: train %.4f val %.4f test %.4f (loss %.4f), %.1f s", arch, m.Train.Acc, m.Val.Acc, m.Test.Acc, m.Test.Loss, m.WallSeconds)
			if m.Test.Acc < floors[arch] || m.Val.Acc < floors[arch] {
				t.Fatalf("%s: val %.4f / test %.4f below the floor %.2f", arch, m.Val.Acc, m.Test.Acc, floors[arch])
			}
			if m.Test.Images != 2000 || len(m.TestPredictions) != 2000 || len(m.History) != 1 {
				t.Fatalf("metrics incomplete: %+v", m.Test)
			}
			sum := 0
			for _, row := range m.Confusion {
				for _, v := range row {
					sum += v
				}
			}
			if sum != 2000 {
				t.Fatalf("confusion matrix counts %d images", sum)
			}
		})
	}
}

// TestSaveLoadExact: the file the trainer writes, loaded again, gives exactly the test accuracy in
// the metrics, and the metrics file reads back as written.
func TestSaveLoadExact(t *testing.T) {
	datatest.Long(t)
	for _, arch := range nn.Archs {
		t.Run(arch, func(t *testing.T) {
			d := smallData(t, 3, 500, 1000)
			cfg := DefaultConfig(arch)
			cfg.Epochs, cfg.Seed, cfg.OutDir = 1, 3, t.TempDir()
			m, _, err := Run(cfg, d)
			if err != nil {
				t.Fatal(err)
			}
			net, meta, err := nn.Load(filepath.Join(cfg.OutDir, arch+".safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			if meta.Arch != arch || meta.Mean != d.Mean || meta.Std != d.Std || len(meta.Classes) != 10 || meta.Extra["epochs"] != "1" {
				t.Fatalf("meta %+v", meta)
			}
			s, preds := Evaluate(net, d.Test, dataset.NewNormalizer(meta.Mean, meta.Std))
			if s.Correct != m.Test.Correct || s.Loss != m.Test.Loss || !reflect.DeepEqual(preds, m.TestPredictions) {
				t.Fatalf("reloaded: %d correct (loss %v), trainer reported %d (loss %v)", s.Correct, s.Loss, m.Test.Correct, m.Test.Loss)
			}
			back, err := ReadMetrics(filepath.Join(cfg.OutDir, arch+".metrics.json"))
			if err != nil {
				t.Fatal(err)
			}
			if back.Test != m.Test || !reflect.DeepEqual(back.Confusion, m.Confusion) || !reflect.DeepEqual(back.History, m.History) {
				t.Fatal("metrics file differs from the run's metrics")
			}
			ents, _ := os.ReadDir(cfg.OutDir)
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), ".tmp") {
					t.Fatalf("temporary file %s left", e.Name())
				}
			}
		})
	}
}

// TestReproducible: the same seed repeats a run bit for bit; another seed does not.
func TestReproducible(t *testing.T) {
	datatest.Long(t)
	run := func(arch string, seed int64) *Metrics {
		d := smallData(t, seed, 400, 200)
		cfg := DefaultConfig(arch)
		cfg.Epochs, cfg.Seed, cfg.OutDir = 2, seed, ""
		m, _, err := Run(cfg, d)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, arch := range nn.Archs {
		a, b, c := run(arch, 5), run(arch, 5), run(arch, 6)
		for i := range a.History {
			if a.History[i].TrainLoss != b.History[i].TrainLoss || a.History[i].ValLoss != b.History[i].ValLoss {
				t.Fatalf("%s epoch %d: same seed, losses %v/%v vs %v/%v", arch, i+1,
					a.History[i].TrainLoss, a.History[i].ValLoss, b.History[i].TrainLoss, b.History[i].ValLoss)
			}
		}
		if a.Test != b.Test || !reflect.DeepEqual(a.TestPredictions, b.TestPredictions) {
			t.Fatalf("%s: same seed, different test results", arch)
		}
		if a.History[0].TrainLoss == c.History[0].TrainLoss {
			t.Fatalf("%s: seeds 5 and 6 gave the same training loss", arch)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	d := Data{Train: dataset.Split{Images: make([]uint8, 4*dataset.ImageSize), Labels: make([]uint8, 4)}, Std: 1}
	d.Val, d.Test = d.Train, d.Train
	for _, c := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.Arch = "rnn" }, "unknown architecture"},
		{func(c *Config) { c.Epochs = 0 }, "epochs"},
		{func(c *Config) { c.Batch = 1 }, "batch"},
		{func(c *Config) { c.LR = math.NaN() }, "learning rate"},
		{func(c *Config) { c.LR = -1 }, "learning rate"},
		{func(c *Config) { c.Patience = -1 }, "patience"},
		{func(c *Config) { c.PreciseBN = -1 }, "precise-BN"},
		{func(c *Config) { c.WeightDecay = -0.1 }, "weight decay"},
		{func(c *Config) { c.WeightDecay = 1000 }, "weight decay"},
		{func(c *Config) { c.LabelSmoothing = 1 }, "label smoothing"},
		{func(c *Config) { c.Erase = math.NaN() }, "random-erasing"},
		{func(c *Config) { c.BlockDropout = 0.2 }, "block dropout is for the residual CNN"},
		{func(c *Config) { c.Init = "xavier" }, `init must be pytorch or kaiming, not "xavier"`},
		{func(c *Config) { c.Arch, c.Init = "ann", "kaiming" }, "kaiming init is for the convolutional networks"},
		{func(c *Config) { c.Arch, c.BlockDropout = "resnet", 1 }, "block dropout must be"},
		{func(c *Config) { c.Arch, c.ZeroInitResidual = "cnn", true }, "zero-init of the residual blocks is for the residual CNN (resnet, resnet-wide, resnet-deep), not cnn"},
	} {
		cfg := DefaultConfig("ann")
		cfg.OutDir = ""
		c.mod(&cfg)
		if _, _, err := Run(cfg, d); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err %v, want %q", err, c.want)
		}
	}
}

func TestSummaryTable(t *testing.T) {
	ms := []*Metrics{
		{Arch: "cnn", Params: 390858, Train: Score{Acc: 0.95}, Val: Score{Acc: 0.93}, Test: Score{Acc: 0.9304}, SecondsPerEpoch: 30, Threads: 2, Kernels: "avx512", History: []Epoch{{}}},
		{Arch: "ann", Params: 569226, Train: Score{Acc: 0.91}, Val: Score{Acc: 0.895}, Test: Score{Acc: 0.8967}, SecondsPerEpoch: 3, Threads: 2, Kernels: "avx512", History: []Epoch{{}}},
	}
	s := Summarize(ms)
	if len(s.Models) != 2 || s.Models[0].Arch != "ann" || s.ImprovementPts == nil || math.Abs(*s.ImprovementPts-3.37) > 1e-9 {
		t.Fatalf("summary %+v", s)
	}
	tab := s.Table()
	for _, want := range []string{
		"| Metric | ANN | CNN | Study ANN | Study CNN |",
		"| Test Accuracy | 89.67% | 93.04% | 88 – 89% | 92% |",
		"| Parameter Count | 569,226 | 390,858 | 592,000 | 438,000 |",
		"| Improvement | — | +3.37 pts | — | +3 – 4 pts |",
	} {
		if !strings.Contains(tab, want) {
			t.Errorf("table lacks %q:\n%s", want, tab)
		}
	}
	dir := t.TempDir()
	for _, m := range ms {
		if err := WriteMetrics(filepath.Join(dir, m.Arch+".metrics.json"), m); err != nil {
			t.Fatal(err)
		}
	}
	back, err := LoadSummary(dir)
	if err != nil || back.Table() != tab {
		t.Fatalf("LoadSummary: %v\n%s", err, back.Table())
	}
	if _, err := LoadSummary(t.TempDir()); err == nil {
		t.Fatal("LoadSummary of an empty directory succeeded")
	}
	one := Summarize(ms[:1])
	if one.ImprovementPts != nil || !strings.Contains(one.Table(), "| Metric | CNN | Study CNN |") {
		t.Fatalf("one-model table:\n%s", one.Table())
	}
}

// A model file names the options that changed its weights, and only those.
func TestRecipeMetaOptions(t *testing.T) {
	plain := recipeMeta(&Metrics{Recipe: Recipe{Epochs: 18, Batch: 128, LR: 1e-3}})
	for _, k := range []string{"augment", "weight_decay", "label_smoothing", "random_erasing", "block_dropout", "warmup_epochs", "early_stop_patience", "precise_bn_batches", "init", "zero_init_residual"} {
		if v, ok := plain[k]; ok {
			t.Errorf("study recipe: meta has %s=%q, want it absent", k, v)
		}
	}
	m := recipeMeta(&Metrics{Recipe: Recipe{Epochs: 66, Batch: 128, LR: 3e-3, Augment: true, Erase: 0.5,
		Smoothing: 0.1, WeightDecay: 0.05, BlockDrop: 0.2, Warmup: 1, Patience: 5, PreciseBN: 50, Init: "kaiming", ZeroInitRes: true}})
	want := map[string]string{"augment": "crop+flip", "random_erasing": "0.5", "label_smoothing": "0.1",
		"weight_decay": "0.05", "block_dropout": "0.2", "warmup_epochs": "1", "early_stop_patience": "5",
		"precise_bn_batches": "50", "init": "kaiming", "zero_init_residual": "true", "epochs": "66", "lr": "0.003"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("meta[%s] = %q, want %q", k, m[k], v)
		}
	}
}
