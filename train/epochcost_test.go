package train

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRecipeWork: only what changes an epoch's work names it; schedules, rates, seeds,
// initializations and early stopping do not.
func TestRecipeWork(t *testing.T) {
	study := Recipe{Epochs: 18, Batch: 128, LR: 0.001, Seed: 1, TrainImages: 54000, Scheduler: "ReduceLROnPlateau(…)"}
	free := study
	free.Epochs, free.LR, free.Seed, free.Scheduler, free.Warmup = 66, 0.003, 3, "OneCycleLR(…)", 2
	free.Patience, free.KeepLast, free.Init, free.ZeroInitRes = 3, true, "kaiming", true
	reg := study
	reg.Augment, reg.Erase, reg.Smoothing, reg.WeightDecay = true, 0.5, 0.1, 0.05
	all := reg
	all.Batch, all.TrainImages, all.EMA, all.PreciseBN, all.BlockDrop = 64, 2000, 0.999, 50, 0.2
	for _, c := range []struct {
		r    Recipe
		want string
	}{
		{study, "none"},
		{free, "none"},
		{reg, "augment+erase0.5+smoothing+decay"},
		{all, "batch64+images2000+augment+erase0.5+smoothing+decay+ema+pbn50+blockdrop"},
	} {
		if got := c.r.Work(); got != c.want {
			t.Errorf("%s: Work %q, want %q", c.r.Changes(), got, c.want)
		}
	}
	// The README's table is priced from its Changes cells (readmeWork): they must name the same work
	// for every change its rows use.
	table := reg
	table.EMA, table.PreciseBN, table.BlockDrop = 0.999, 50, 0.2
	for _, r := range []Recipe{study, free, reg, table} {
		if got, want := readmeWork(r.Changes()), r.Work(); got != want {
			t.Errorf("%s: read back as work %q, want %q", r.Changes(), got, want)
		}
	}
}

// costRun writes one epoch-cost run: a metrics file whose epochs took the given seconds.
func costRun(t *testing.T, dir, run, arch string, r Recipe, threads int, seconds ...float64) string {
	t.Helper()
	m := &Metrics{Arch: arch, Recipe: r, Threads: threads, Kernels: "avx512", Platform: "linux/amd64", GoVersion: "go1.26"}
	for i, s := range seconds {
		m.History = append(m.History, Epoch{Epoch: i + 1, Seconds: s})
	}
	if err := os.MkdirAll(filepath.Join(dir, run), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, run, arch+".metrics.json")
	if err := WriteMetrics(path, m); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestEpochCosts: runs are grouped by model and work in a fixed order, written as benchmark lines
// and read back unchanged; runs measured otherwise, and files that are not epoch costs, are refused
// by name.
func TestEpochCosts(t *testing.T) {
	study := Recipe{Epochs: 1, Batch: 128, LR: 0.001, Seed: 1, TrainImages: 54000}
	aug := study
	aug.Augment = true
	d1, d2 := t.TempDir(), t.TempDir()
	costRun(t, d1, "r1-resnet-augment", "resnet", aug, 2, 66.5)
	costRun(t, d1, "r1-resnet-none", "resnet", study, 2, 60.25)
	costRun(t, d1, "r1-cnn-none", "cnn", study, 2, 20.5)
	costRun(t, d2, "r2-resnet-none", "resnet", study, 2, 61.75, 59.5) // two epochs: two samples
	costRun(t, d2, "r2-resnet-deep-none", "resnet-deep", study, 2, 90)
	costs, env, err := EpochCostRuns(d1, d2)
	if err != nil {
		t.Fatal(err)
	}
	want := []EpochCost{
		{"cnn", "none", []float64{20.5}},
		{"resnet", "none", []float64{60.25, 61.75, 59.5}},
		{"resnet", "augment", []float64{66.5}},
		{"resnet-deep", "none", []float64{90}},
	}
	same := func(got []EpochCost) bool {
		return slices.EqualFunc(got, want, func(a, b EpochCost) bool {
			return a.Arch == b.Arch && a.Work == b.Work && slices.Equal(a.Seconds, b.Seconds)
		})
	}
	if !same(costs) {
		t.Fatalf("costs %+v, want %+v", costs, want)
	}
	if m := costs[1].Median(); m != 60.25 {
		t.Errorf("median of %v: %v, want 60.25", costs[1].Seconds, m)
	}
	var buf bytes.Buffer
	if err := WriteEpochCosts(&buf, costs, env); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"goarch: amd64", "kernels: avx512", "threads: 2", "BenchmarkEpoch/model=resnet/changes=augment 1 6.65e+10 ns/op"} {
		if !strings.Contains(buf.String(), line) {
			t.Errorf("benchmark lines lack %q:\n%s", line, buf.String())
		}
	}
	file := filepath.Join(t.TempDir(), "epoch-cost.txt")
	os.WriteFile(file, buf.Bytes(), 0o644)
	back, err := ReadEpochCosts(file)
	if err != nil || !same(back) {
		t.Fatalf("read back: %v %+v", err, back)
	}

	// Refused runs.
	tested := costRun(t, t.TempDir(), "r1-cnn-none", "cnn", study, 2, 20)
	m, _ := ReadMetrics(tested)
	m.History[0].TestAcc = 0.9
	WriteMetrics(tested, m)
	if _, _, err := EpochCostRuns(filepath.Dir(filepath.Dir(tested))); err == nil || !strings.Contains(err.Error(), tested) ||
		!strings.Contains(err.Error(), "--test-each-epoch") {
		t.Errorf("a run that tested every epoch: %v", err)
	}
	one := costRun(t, d2, "r3-cnn-none", "cnn", study, 1, 30)
	if _, _, err := EpochCostRuns(d1, d2); err == nil || !strings.Contains(err.Error(), one) || !strings.Contains(err.Error(), "1 threads") {
		t.Errorf("runs on 2 threads and 1: %v", err)
	}
	if _, _, err := EpochCostRuns(t.TempDir()); err == nil || !strings.Contains(err.Error(), "scripts/epoch-cost.sh") {
		t.Errorf("no runs: %v", err)
	}

	// Refused files.
	for _, c := range []struct{ text, want string }{
		{"BenchmarkTrainStep/model=resnet 1 100 ns/op\n", ":1: want BenchmarkEpoch/model=<arch>/changes=<work>"},
		{"BenchmarkEpoch/model=resnet/changes=none 1 -5 ns/op\n", ":1: want"},
		{"BenchmarkEpoch/model=resnet/changes=none 1 5 MB/s\n", ":1: want"},
		{"BenchmarkEpoch/model=resnet 1 5 ns/op\n", ":1: want"},
		{"goos: linux\nBenchmarkEpoch/model=resnet/changes=none 1 x ns/op\n", ":2:"},
		{"goos: linux\n", "no Epoch/model="},
	} {
		f := filepath.Join(t.TempDir(), "bad.txt")
		os.WriteFile(f, []byte(c.text), 0o644)
		if _, err := ReadEpochCosts(f); err == nil || !strings.Contains(err.Error(), f) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want an error naming %s and %q", c.text, err, f, c.want)
		}
	}
	missing := filepath.Join(t.TempDir(), "none.txt")
	if _, err := ReadEpochCosts(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: %v", err)
	}
}

// TestPriceEpochs: a row costs its epochs at its model and work's median epoch, against 18 plain
// epochs of its model (the resnet's for a variant); a row whose work was not measured gets no price.
func TestPriceEpochs(t *testing.T) {
	dir := t.TempDir()
	put := func(run, arch string, r Recipe, epochs int) {
		if err := os.MkdirAll(filepath.Join(dir, run), 0o755); err != nil {
			t.Fatal(err)
		}
		m := &Metrics{Arch: arch, Recipe: r, History: make([]Epoch, epochs), Test: Score{Acc: 0.9}, WallSeconds: 1}
		if err := WriteMetrics(filepath.Join(dir, run, arch+".metrics.json"), m); err != nil {
			t.Fatal(err)
		}
	}
	study := Recipe{Epochs: 18, Batch: 128, LR: 0.001, Seed: 1, TrainImages: 54000, Scheduler: "ReduceLROnPlateau(…)"}
	early := study
	early.Patience = 3
	best := study
	best.Epochs, best.Augment, best.Scheduler, best.LR = 30, true, "OneCycleLR(…)", 0.003
	pbn := study
	pbn.PreciseBN = 50
	put("01-cnn-study", "cnn", study, 18)
	put("02-resnet-study", "resnet", study, 18)
	put("03-resnet-early", "resnet", early, 11)
	put("08-resnet-best", "resnet", best, 30)
	put("16-resnet-pbn", "resnet", pbn, 18)
	put("32-resnet-wide", "resnet-wide", study, 18)
	a, err := BuildAblation(dir)
	if err != nil {
		t.Fatal(err)
	}
	a.PriceEpochs("costs.txt", []EpochCost{
		{"cnn", "none", []float64{20}},
		{"resnet", "none", []float64{62, 60, 61}},
		{"resnet", "augment", []float64{67.1}},
		{"resnet-wide", "none", []float64{80}},
	})
	for _, w := range []struct {
		run         string
		wall, ratio float64 // 0: no price
	}{
		{"01-cnn-study", 18 * 20, 1},
		{"02-resnet-study", 18 * 61, 1},
		{"03-resnet-early", 11 * 61, 11.0 / 18},
		{"08-resnet-best", 30 * 67.1, 30 * 67.1 / (18 * 61)},
		{"16-resnet-pbn", 0, 0},
		{"32-resnet-wide", 18 * 80, 80.0 / 61},
	} {
		i := slices.IndexFunc(a.Rows, func(r AblationRow) bool { return r.Name == w.run })
		r := a.Rows[i]
		if w.wall == 0 {
			if r.PricedWallSeconds != nil || r.PricedWallRatio != nil {
				t.Errorf("%s (work %s, not measured) priced", w.run, r.Work)
			}
			continue
		}
		if r.PricedWallSeconds == nil || r.PricedWallRatio == nil || !near(*r.PricedWallSeconds, w.wall) || !near(*r.PricedWallRatio, w.ratio) {
			t.Errorf("%s: priced %v s, × %v; want %v s, × %.4f", w.run, r.PricedWallSeconds, r.PricedWallRatio, w.wall, w.ratio)
		}
	}
	md := a.Markdown()
	for _, want := range []string{
		"| 03-resnet-early | resnet | early stopping (patience 3) | 11/18 | 90.00% | +0.00 pts | 0.00% | 11m11s | 0.61 |",
		"| 16-resnet-pbn | resnet | precise BN (50 batches) | 18/18 | 90.00% | +0.00 pts | 0.00% | – | – |",
		"priced from costs.txt",
		"| resnet | augment | 1 | 67.1 s | 1.100 |",
		"| resnet-wide | none | 1 | 80.0 s | 1.311 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("table lacks %q:\n%s", want, md)
		}
	}
}

var updateReadme = flag.Bool("update-readme", false, "rewrite the README ablation table's Wall time and × wall from docs/ablation/epoch-cost.txt")

// readmeWork is Recipe.Work read back from the README's "Changes vs the study's recipe" cell: the
// table's rows ran on machines whose run directories are gone, so their recipes are only there.
func readmeWork(changes string) string {
	var w []string
	for _, p := range []struct{ phrase, work string }{
		{"crop+flip augmentation", "augment"}, {"random erasing (p 0.5)", "erase0.5"}, {"label smoothing", "smoothing"},
		{"AdamW weight decay", "decay"}, {"weights averaged", "ema"}, {"precise BN (50 batches)", "pbn50"}, {"in the blocks", "blockdrop"},
	} {
		if strings.Contains(changes, p.phrase) {
			w = append(w, p.work)
		}
	}
	if len(w) == 0 {
		return "none"
	}
	return strings.Join(w, "+")
}

// TestAblationPricesInReadme: every row of the README's ablation table is priced as PriceEpochs
// prices it from the committed epoch costs, or shows – where its setting was not measured. With
// -update-readme it rewrites those two cells instead.
func TestAblationPricesInReadme(t *testing.T) {
	costs, err := ReadEpochCosts(filepath.Join("..", "docs", "ablation", "epoch-cost.txt"))
	if err != nil {
		t.Fatal(err)
	}
	prices := pricesOf(costs)
	readmePath := filepath.Join("..", "README.md")
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(readme), "\n")
	rows, priced := 0, 0
	for li, line := range lines {
		cells := strings.Split(line, " | ")
		if len(cells) != 9 || !strings.HasPrefix(line, "| ") || !strings.Contains(cells[3], "/") || strings.HasPrefix(cells[1], "Model") {
			continue
		}
		rows++
		arch, work := cells[1], readmeWork(cells[2])
		var run, planned int
		if _, err := fmt.Sscanf(cells[3], "%d/%d", &run, &planned); err != nil {
			t.Fatalf("%s: epochs %q: %v", line, cells[3], err)
		}
		wantWall, wantRatio := "–", "–"
		if sec, ratio, ok, hasRatio := prices.price(arch, work, run); ok && hasRatio {
			priced++
			wantWall, wantRatio = wallString(sec), fmt.Sprintf("%.2f", ratio)
		}
		if *updateReadme {
			cells[7], cells[8] = wantWall, wantRatio+" |"
			lines[li] = strings.Join(cells, " | ")
			continue
		}
		if wall, ratio := cells[7], strings.TrimSuffix(cells[8], " |"); wall != wantWall || ratio != wantRatio {
			t.Errorf("%s: wall %s, × %s; the epoch costs give %s, × %s (%d epochs of %s, work %s; go test ./train -run %s -update-readme rewrites them)",
				cells[0], wall, ratio, wantWall, wantRatio, run, arch, work, t.Name())
		}
	}
	if rows < 40 || priced < 30 {
		t.Errorf("found %d ablation rows in the README, %d priced: the table's layout changed?", rows, priced)
	}
	if *updateReadme {
		tmp := readmePath + ".tmp"
		if err := os.WriteFile(tmp, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, readmePath); err != nil {
			t.Fatal(err)
		}
	}
}
