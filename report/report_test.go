package report

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/simdnn/simdnn/bench"
	"github.com/simdnn/simdnn/dataset"
	"github.com/simdnn/simdnn/nn"
	"github.com/simdnn/simdnn/train"
)

// writeIDX writes a raw (uncompressed) IDX file of unsigned bytes.
func writeIDX(t *testing.T, path string, dims []int, data []uint8) {
	t.Helper()
	hdr := []byte{0, 0, 8, byte(len(dims))}
	for _, d := range dims {
		hdr = binary.BigEndian.AppendUint32(hdr, uint32(d))
	}
	if err := os.WriteFile(path, append(hdr, data...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tinySplit is n synthetic 28×28 images whose class shows as a bright bar at a class-dependent row,
// so a model learns them in a couple of epochs, but not perfectly (noise).
func tinySplit(n int, seed uint64) dataset.Split {
	rng := rand.New(rand.NewPCG(seed, 1))
	s := dataset.Split{Images: make([]uint8, n*dataset.ImageSize), Labels: make([]uint8, n)}
	for i := range n {
		c := i % dataset.NumClasses
		s.Labels[i] = uint8(c)
		img := s.Images[i*dataset.ImageSize : (i+1)*dataset.ImageSize]
		for p := range img {
			img[p] = uint8(rng.IntN(90))
		}
		// One label in five is wrong and the bars are faint, so both models make mistakes.
		if rng.IntN(5) == 0 {
			s.Labels[i] = uint8(rng.IntN(dataset.NumClasses))
		}
		row := 3 + 2*c
		for x := 4; x < 24; x++ {
			img[row*28+x] = uint8(60 + rng.IntN(100))
		}
	}
	return s
}

func writeTinyData(t *testing.T, dir string, tr, te dataset.Split) {
	t.Helper()
	writeIDX(t, filepath.Join(dir, dataset.TrainImagesFile), []int{tr.Len(), 28, 28}, tr.Images)
	writeIDX(t, filepath.Join(dir, dataset.TrainLabelsFile), []int{tr.Len()}, tr.Labels)
	writeIDX(t, filepath.Join(dir, dataset.TestImagesFile), []int{te.Len(), 28, 28}, te.Images)
	writeIDX(t, filepath.Join(dir, dataset.TestLabelsFile), []int{te.Len()}, te.Labels)
}

// TestBuildEndToEnd builds the report from an output directory as the trainer leaves it, with the
// study's two networks and a residual CNN: model files (random weights, saved with nn.Save) and metrics whose test predictions, confusion matrix,
// per-class scores and pairs come from evaluating those models on a tiny synthetic test set with the
// trainer's own functions. Every figure must be there and be a sensible PNG, every number must come
// from the metrics, and the model files must reproduce the recorded predictions (no warning).
func TestBuildEndToEnd(t *testing.T) {
	out, data := t.TempDir(), t.TempDir()
	// REPORT_KEEP=DIR keeps the output there, to look at the figures.
	if k := os.Getenv("REPORT_KEEP"); k != "" {
		out, data = k, filepath.Join(k, "data")
		os.MkdirAll(data, 0o755)
	}
	tr, te := tinySplit(60, 1), tinySplit(200, 2)
	writeTinyData(t, data, tr, te)
	for i, arch := range []string{"ann", "cnn", "resnet"} {
		net, err := nn.New(arch, int64(i+5))
		if err != nil {
			t.Fatal(err)
		}
		m := synthMetrics(arch, uint64(i+1))
		if err := nn.Save(modelFile(out, arch), net, nn.Meta{Arch: arch, Mean: m.Mean, Std: m.Std, Classes: m.Classes}); err != nil {
			t.Fatal(err)
		}
		var preds []uint8
		m.Test, preds = train.Evaluate(net, te, dataset.NewNormalizer(m.Mean, m.Std))
		m.TestPredictions = preds
		m.Confusion = train.Confusion(te.Labels, preds, len(m.Classes))
		m.PerClass = train.PerClass(m.Confusion, m.Classes)
		m.ConfusedPairs = train.ConfusedPairs(m.Confusion, m.Classes, 5)
		if err := train.WriteMetrics(metricsFile(out, arch), m); err != nil {
			t.Fatal(err)
		}
	}
	if err := BuildWith(out, Options{DataDir: data}); err != nil {
		t.Fatal(err)
	}
	md := readReport(t, out)
	checkFigures(t, out, md, "curves.png", "confusion_ann.png", "confusion_cnn.png", "confusion_resnet.png", "mistakes_ann.png",
		"mistakes_cnn.png", "mistakes_resnet.png", "features_1.png", "features_2.png", "features_3.png", "gradcam_cnn.png",
		"gradcam_resnet.png")
	for _, want := range []string{"## Grad-CAM on the CNN's mistakes", "## Grad-CAM on the ResNet's mistakes", "last residual block"} {
		if !strings.Contains(md, want) {
			t.Errorf("report does not say %q", want)
		}
	}
	checkNumbers(t, out, md)
	if strings.Contains(md, "Warning") || strings.Contains(md, "Not in this report") {
		t.Errorf("report has warnings or omissions:\n%s", md)
	}
	// Rebuilding is deterministic: the same directory gives the same document.
	if err := BuildWith(out, Options{DataDir: data}); err != nil {
		t.Fatal(err)
	}
	if again := readReport(t, out); again != md {
		t.Error("a second build gave a different report.md")
	}
}

// TestBuildMetricsOnly builds from synthetic metrics alone (no model files, no data): the figures
// that need only the metrics are drawn, the others are listed as left out, and the numbers match.
// A residual CNN variant's hyphenated name must work in figure names too.
func TestBuildMetricsOnly(t *testing.T) {
	out := t.TempDir()
	for i, arch := range []string{"ann", "cnn", "resnet-wide"} {
		if err := train.WriteMetrics(metricsFile(out, arch), synthMetrics(arch, uint64(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	if err := BuildWith(out, Options{DataDir: filepath.Join(out, "no-data")}); err != nil {
		t.Fatal(err)
	}
	md := readReport(t, out)
	checkFigures(t, out, md, "curves.png", "confusion_ann.png", "confusion_cnn.png", "confusion_resnet-wide.png")
	checkNumbers(t, out, md)
	for _, want := range []string{"## Not in this report", "no model file", "ann.safetensors", "cnn.safetensors",
		"ResNet-wide misclassified images and Grad-CAM: no model file resnet-wide.safetensors"} {
		if !strings.Contains(md, want) {
			t.Errorf("report does not say %q", want)
		}
	}
	if strings.Contains(md, "mistakes_") || strings.Contains(md, "gradcam") {
		t.Error("report links figures it could not draw")
	}
	// A figure left from an earlier build that this one did not draw goes; other files stay.
	for _, name := range []string{"gradcam_cnn.png", "mistakes_resnet-wide.png", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(out, "report", name), []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := BuildWith(out, Options{DataDir: filepath.Join(out, "no-data")}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"gradcam_cnn.png", "mistakes_resnet-wide.png"} {
		if _, err := os.Stat(filepath.Join(out, "report", name)); err == nil {
			t.Errorf("a stale %s survived the rebuild", name)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "report", "notes.txt")); err != nil {
		t.Error("the rebuild removed a file that is not one of its figures")
	}
}

// TestBuildWithBench: with bench.json in the directory the efficiency table quotes its throughput
// at batch 128 on the most threads, its GFLOP/s and its batch-1 latency.
func TestBuildWithBench(t *testing.T) {
	out := t.TempDir()
	for i, arch := range []string{"ann", "cnn"} {
		if err := train.WriteMetrics(metricsFile(out, arch), synthMetrics(arch, uint64(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	rep := bench.Report{Kernels: "avx512", CPU: "AMD Ryzen 9 9950X 16-Core Processor", MaxProcs: 2}
	for i, arch := range []string{"ann", "cnn"} {
		m := &bench.ModelReport{Arch: arch, Source: "out/" + arch + ".safetensors", FLOPsPerImage: int64(1000003 * (i + 1)),
			LatencyP50: 41234.5 * float64(i+1)}
		for _, b := range []int{1, 128, 512} {
			for th := 1; th <= 2; th++ {
				m.Throughput = append(m.Throughput, bench.Point{Batch: b, Threads: th,
					ImagesPerSec: float64(1000*b*th) + 0.4 + float64(i), GFLOPS: 12.34 * float64(b*th), PctPeak: 1.23 * float64(b*th)})
			}
		}
		rep.Models = append(rep.Models, m)
	}
	raw, err := json.Marshal(&rep)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "bench.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := BuildWith(out, Options{DataDir: filepath.Join(out, "none")}); err != nil {
		t.Fatal(err)
	}
	md := readReport(t, out)
	checkNumbers(t, out, md)
	if !strings.Contains(md, "256,001 (batch 128, 2 threads)") || !strings.Contains(md, "| 41.2 |") {
		t.Errorf("efficiency table does not quote batch 128 on 2 threads and the latency:\n%s", md)
	}
	os.WriteFile(filepath.Join(out, "bench.json"), []byte("[1,2"), 0o644)
	if err := BuildWith(out, Options{DataDir: filepath.Join(out, "none")}); err == nil || !strings.Contains(err.Error(), "bench.json") {
		t.Errorf("broken bench.json: %v", err)
	}
}

func TestBuildOneModel(t *testing.T) {
	out := t.TempDir()
	if err := train.WriteMetrics(metricsFile(out, "cnn"), synthMetrics("cnn", 3)); err != nil {
		t.Fatal(err)
	}
	if err := BuildWith(out, Options{DataDir: filepath.Join(out, "none")}); err != nil {
		t.Fatal(err)
	}
	md := readReport(t, out)
	checkNumbers(t, out, md)
	checkFigures(t, out, md, "curves.png", "confusion_cnn.png")
	if !strings.Contains(md, "ANN: no ann.metrics.json") {
		t.Error("report does not say the ANN's metrics are missing")
	}
}

func TestBuildErrors(t *testing.T) {
	out := t.TempDir()
	err := Build(out)
	if err == nil || !strings.Contains(err.Error(), "ann.metrics.json") {
		t.Errorf("empty directory: %v", err)
	}
	os.WriteFile(metricsFile(out, "ann"), []byte("{not json"), 0o644)
	if err := Build(out); err == nil || !strings.Contains(err.Error(), "ann.metrics.json") {
		t.Errorf("broken JSON: %v", err)
	}
	m := synthMetrics("ann", 1)
	m.Confusion = m.Confusion[:9]
	if err := train.WriteMetrics(metricsFile(out, "ann"), m); err != nil {
		t.Fatal(err)
	}
	if err := Build(out); err == nil || !strings.Contains(err.Error(), "confusion") || !strings.Contains(err.Error(), "ann.metrics.json") {
		t.Errorf("9-row confusion matrix: %v", err)
	}
	m = synthMetrics("ann", 1)
	m.ConfusedPairs[0].BIndex = 12
	train.WriteMetrics(metricsFile(out, "ann"), m)
	if err := Build(out); err == nil || !strings.Contains(err.Error(), "pair") {
		t.Errorf("pair index 12: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "report.md")); err == nil {
		t.Error("a failed build wrote report.md")
	}
	if _, err := os.Stat(filepath.Join(out, "report")); err == nil {
		t.Error("a failed build created the figure directory")
	}
}

func readReport(t *testing.T, out string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkFigures requires each named figure to be linked from the report and to be a PNG of a
// readable size (at least 6 inches wide and 2 tall at 96 dpi), and no other file in report/.
func checkFigures(t *testing.T, out, md string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(out, "report"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(names) {
		var got []string
		for _, e := range entries {
			got = append(got, e.Name())
		}
		t.Errorf("report/ holds %v, want %v", got, names)
	}
	for _, name := range names {
		if !strings.Contains(md, "](report/"+name+")") {
			t.Errorf("report.md does not show %s", name)
		}
		f, err := os.Open(filepath.Join(out, "report", name))
		if err != nil {
			t.Error(err)
			continue
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if cfg.Width < 6*96 || cfg.Height < 2*96 || cfg.Width > 20*96 || cfg.Height > 14*96 {
			t.Errorf("%s is %d×%d pixels", name, cfg.Width, cfg.Height)
		}
	}
}

// table returns the cells of the first Markdown table after the line containing marker (header
// and separator rows dropped).
func table(t *testing.T, md, marker string) [][]string {
	t.Helper()
	_, rows := tableWithHeader(t, md, marker)
	return rows
}

// tableWithHeader returns the first Markdown table after the line containing marker: its header
// cells, and the cells of its rows after the separator.
func tableWithHeader(t *testing.T, md, marker string) (header []string, rows [][]string) {
	t.Helper()
	i := strings.Index(md, marker)
	if i < 0 {
		t.Fatalf("report has no %q", marker)
	}
	started := false
	for _, line := range strings.Split(md[i:], "\n")[1:] {
		if !strings.HasPrefix(line, "|") {
			if started {
				break
			}
			continue
		}
		started = true
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for k := range cells {
			cells[k] = strings.TrimSpace(cells[k])
		}
		rows = append(rows, cells)
	}
	if len(rows) < 2 {
		t.Fatalf("no table after %q", marker)
	}
	return rows[0], rows[2:]
}

// checkNumbers reads the metrics files back with the trainer's own reader and checks every table
// cell of the report against them, formatting independently of the report's code; then it checks
// that no other number appears in the document, apart from the study's published figures and the
// fixed numbers of the text.
func checkNumbers(t *testing.T, out, md string) {
	t.Helper()
	ms := map[string]*train.Metrics{}
	for _, arch := range nn.AllArchs {
		if m, err := train.ReadMetrics(metricsFile(out, arch)); err == nil {
			ms[arch] = m
		}
	}
	allowed := map[string]bool{}
	allow := func(s string) string { allowed[s] = true; return s }
	pct := func(v float64) string { return allow(fmt.Sprintf("%.2f%%", 100*v)) }
	sc := func(v float64) string { return allow(fmt.Sprintf("%.3f", v)) }
	dl := func(v float64) string { return allow(fmt.Sprintf("%+.3f", v)) }
	in := func(v int) string { return allow(fmt.Sprint(v)) }
	grouped := func(v int) string {
		s := fmt.Sprint(v)
		for i := len(s) - 3; i > 0; i -= 3 {
			s = s[:i] + "," + s[i:]
		}
		return allow(s)
	}
	dash := func(m *train.Metrics, f func(*train.Metrics) string) string {
		if m == nil {
			return "—"
		}
		return f(m)
	}
	ann, cnn := ms["ann"], ms["cnn"]
	name := map[string]string{"ann": "ANN", "cnn": "CNN", "resnet": "ResNet", "resnet-wide": "ResNet-wide", "resnet-deep": "ResNet-deep"}

	// Key findings: the study's columns are its published text, ours come from the metrics: our ANN
	// and CNN always (— when absent), then one column per residual CNN run, in nn.AllArchs order.
	head, kf := tableWithHeader(t, md, "## Key findings")
	cols := []string{"ann", "cnn"}
	for _, arch := range nn.AllArchs {
		if arch != "ann" && arch != "cnn" && ms[arch] != nil {
			cols = append(cols, arch)
		}
	}
	if want := 3 + len(cols); len(head) != want {
		t.Errorf("key findings header %v: %d columns, want %d", head, len(head), want)
	}
	for i, arch := range cols[2:] {
		if i+5 < len(head) && head[i+5] != "Our "+name[arch] {
			t.Errorf("key findings column %d is %q, want %q", i+5, head[i+5], "Our "+name[arch])
		}
	}
	metric := map[string]func(*train.Metrics) string{
		"Train accuracy":      func(m *train.Metrics) string { return pct(m.Train.Acc) },
		"Validation accuracy": func(m *train.Metrics) string { return pct(m.Val.Acc) },
		"Test accuracy":       func(m *train.Metrics) string { return pct(m.Test.Acc) },
		"Parameter count":     func(m *train.Metrics) string { return grouped(m.Params) },
		"Improvement (test)": func(m *train.Metrics) string {
			if m == ann || ann == nil {
				return "—"
			}
			return allow(fmt.Sprintf("%+.2f", 100*(m.Test.Acc-ann.Test.Acc))) + " pts"
		},
	}
	if len(kf) != len(metric) {
		t.Errorf("key findings has %d rows, want %d", len(kf), len(metric))
	}
	for _, row := range kf {
		f, ok := metric[row[0]]
		if !ok || len(row) != len(head) {
			t.Errorf("key findings row %v: unknown metric or %d cells", row, len(row))
			continue
		}
		for i, arch := range cols {
			if want := dash(ms[arch], f); row[3+i] != want {
				t.Errorf("key findings %s, our %s: %q, want %q", row[0], arch, row[3+i], want)
			}
		}
	}

	// Training table.
	for _, row := range table(t, md, "## Training") {
		var m *train.Metrics
		for arch, mm := range ms {
			if name[arch] == row[0] {
				m = mm
			}
		}
		if m == nil {
			t.Fatalf("training row for unknown model %q", row[0])
		}
		var s float64
		for _, e := range m.History {
			s += e.Seconds
		}
		exp := []string{row[0], in(len(m.History)), allow(fmt.Sprintf("%.4g", m.History[len(m.History)-1].LR)),
			allow(fmt.Sprintf("%.4f", m.Train.Loss)), allow(fmt.Sprintf("%.4f", m.Val.Loss)), allow(fmt.Sprintf("%.4f", m.Test.Loss)),
			allow(fmt.Sprintf("%.1f", m.WallSeconds)), allow(fmt.Sprintf("%.1f", s/float64(len(m.History)))), in(m.Threads), m.Kernels}
		if strings.Join(row, "|") != strings.Join(exp, "|") {
			t.Errorf("training row\n got %v\nwant %v", row, exp)
		}
		for _, e := range m.History { // learning rates label the curves' steps
			allow(fmt.Sprintf("%.4g", e.LR))
		}
	}

	// Per-class table: each model's P/R/F1, then CNN − ANN.
	var order []*train.Metrics
	for _, arch := range nn.AllArchs {
		if ms[arch] != nil {
			order = append(order, ms[arch])
		}
	}
	pc := table(t, md, "## Per-class precision")
	if len(pc) != len(order[0].Classes) {
		t.Fatalf("per-class table has %d rows", len(pc))
	}
	for c, row := range pc {
		exp := []string{order[0].Classes[c]}
		for _, m := range order {
			s := m.PerClass[c]
			exp = append(exp, sc(s.Precision), sc(s.Recall), sc(s.F1))
		}
		if ann != nil && cnn != nil {
			a, b := ann.PerClass[c], cnn.PerClass[c]
			exp = append(exp, dl(b.Precision-a.Precision), dl(b.Recall-a.Recall), dl(b.F1-a.F1))
		}
		if strings.Join(row, "|") != strings.Join(exp, "|") {
			t.Errorf("per-class row\n got %v\nwant %v", row, exp)
		}
	}

	// Confused pairs, as the trainer ranked them, with both directions from the confusion matrix.
	for _, m := range order {
		rows := table(t, md, "**"+name[m.Arch]+"**")
		if len(rows) != len(m.ConfusedPairs) {
			t.Errorf("%s pairs table has %d rows, want %d", m.Arch, len(rows), len(m.ConfusedPairs))
			continue
		}
		for i, p := range m.ConfusedPairs {
			exp := []string{in(i + 1), p.A + " ↔ " + p.B, in(p.Count), in(p.AasB), in(p.BasA)}
			if strings.Join(rows[i], "|") != strings.Join(exp, "|") {
				t.Errorf("%s pair row\n got %v\nwant %v", m.Arch, rows[i], exp)
			}
		}
	}

	// Efficiency: parameters from the metrics, FLOPs from the architecture (checked by hand in
	// TestFLOPs) unless bench.json gives them, throughput and latency only from bench.json.
	flops := map[string]int{"ann": 1133056, "cnn": 15497216, "resnet": 74313216, "resnet-wide": 102712832, "resnet-deep": 103214592}
	measured := map[string][3]string{}
	tokens := regexp.MustCompile(`[+-]?\d[\d,]*(?:\.\d+)?%?`)
	if raw, err := os.ReadFile(filepath.Join(out, "bench.json")); err == nil {
		var rep bench.Report
		if err := json.Unmarshal(raw, &rep); err != nil {
			t.Fatal(err)
		}
		for _, tok := range tokens.FindAllString(rep.CPU+" "+rep.Kernels, -1) {
			allow(tok)
		}
		for _, m := range rep.Models {
			flops[m.Arch] = int(m.FLOPsPerImage)
			for _, tok := range tokens.FindAllString(m.Source, -1) {
				allow(tok)
			}
			// The quoted point: batch 128 on the most threads.
			var p *bench.Point
			for i := range m.Throughput {
				q := &m.Throughput[i]
				if q.Batch == 128 && (p == nil || q.Threads > p.Threads) {
					p = q
				}
			}
			if p == nil {
				t.Fatalf("test bench.json has no batch-128 point for %s", m.Arch)
			}
			measured[m.Arch] = [3]string{
				fmt.Sprintf("%s (batch %s, %s threads)", grouped(int(math.Round(p.ImagesPerSec))), in(p.Batch), in(p.Threads)),
				fmt.Sprintf("%s (%s)", allow(fmt.Sprintf("%.1f", p.GFLOPS)), allow(fmt.Sprintf("%.1f%%", p.PctPeak))),
				allow(fmt.Sprintf("%.1f", m.LatencyP50/1e3)),
			}
		}
	}
	for _, row := range table(t, md, "## Efficiency") {
		for _, m := range order {
			if row[0] == name[m.Arch] {
				meas, ok := measured[m.Arch]
				if !ok {
					meas = [3]string{"—", "—", "—"}
				}
				exp := []string{row[0], grouped(m.Params), grouped(int(math.Round(float64(4*m.Params) / 1024))), grouped(flops[m.Arch]), meas[0], meas[1], meas[2]}
				if strings.Join(row, "|") != strings.Join(exp, "|") {
					t.Errorf("efficiency row\n got %v\nwant %v", row, exp)
				}
			}
		}
	}

	// A residual CNN gets one sentence: its recipe's changes, test accuracy and epochs, and against
	// our CNN the difference and both parameter counts.
	for _, m := range order {
		if m.Arch == "ann" || m.Arch == "cnn" {
			continue
		}
		var line string
		for _, l := range strings.Split(md, "\n") {
			if strings.HasPrefix(l, "- "+name[m.Arch]+" (a compact residual CNN, which the study recommends") {
				line = l
			}
		}
		want := []string{"changes to the study's recipe: " + m.Recipe.Changes() + ")", "reaches " + pct(m.Test.Acc) + " test accuracy after " + in(len(m.History)) + " epochs"}
		if cnn != nil {
			want = append(want, allow(fmt.Sprintf("%+.2f", 100*(m.Test.Acc-cnn.Test.Acc)))+" points against our CNN", "with "+grouped(m.Params)+" parameters to its "+grouped(cnn.Params))
		}
		for _, w := range want {
			if !strings.Contains(line, w) {
				t.Errorf("%s's sentence %q does not say %q", m.Arch, line, w)
			}
		}
		for _, tok := range tokens.FindAllString(m.Recipe.Changes(), -1) {
			allow(tok)
		}
	}

	// Sentences of the comparison and the figure notes quote the same values.
	for _, m := range order {
		if len(m.ConfusedPairs) > 0 {
			in(m.ConfusedPairs[0].Count)
		}
		in(len(m.ConfusedPairs)) // "not in our top N"
		for _, p := range m.ConfusedPairs {
			in(p.Count)
		}
		wrong := 0
		for i, c := range m.Confusion {
			for j, v := range c {
				if i != j {
					wrong += v
				}
			}
		}
		grouped(wrong)
		in(min(wrong, mistakeCols*mistakeRows))
		for r := range len(m.ConfusedPairs) + 1 {
			in(r) // ranks "our #k"
		}
	}
	// The study's published numbers and the fixed numbers of the text.
	for _, s := range []string{"89%", "94%", "88%", "92%", "88", "89", "592,000", "438,000", "+3", "3", "4", "4%",
		"10,000", "28", "7", "128", "0.02", "1", "2", "6", "8", "32", "64", "14", "512", "256", "10"} {
		allow(s)
	}
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "![") {
			continue // figure links: file names
		}
		for _, tok := range tokens.FindAllString(line, -1) {
			tok = strings.TrimRight(tok, ",")
			if !allowed[tok] && !allowed[strings.TrimPrefix(tok, "+")] {
				t.Errorf("number %q in line %q does not come from the metrics", tok, line)
			}
		}
	}
}
