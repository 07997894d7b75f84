// Package bench is the benchmark harness behind the `bench` command: it loads the models `train`
// wrote, checks their test accuracy against what `train` recorded, then measures batch-1 latency,
// throughput over batch sizes and thread counts, GFLOP/s against this CPU's measured FMA peak and a
// per-layer breakdown, and writes a readable table or Go benchmark format (for benchstat) plus
// <out>/bench.json.
package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/cpuid/v2"
	"github.com/schollz/progressbar/v3"
	"github.com/simdnn/simdnn"
	"github.com/simdnn/simdnn/dataset"
	"github.com/simdnn/simdnn/kernels"
	"github.com/simdnn/simdnn/nn"
	"github.com/simdnn/simdnn/train"
)

// Config is what to measure and how.
type Config struct {
	Models        []string      // nn.AllArchs: "ann", "cnn", "resnet", "resnet-wide"
	OutDir        string        // where train wrote <arch>.safetensors and <arch>.metrics.json; bench.json goes here
	DataDir       string        // Fashion-MNIST directory (see dataset.FindDir); "" searches the defaults
	ISA           string        // kernel set to force ("" keeps the best)
	Threads       int           // measure 1..Threads threads; 0 means GOMAXPROCS
	Batches       []int         // batch sizes for throughput; nil means 1, 8, 32, 128, 512
	RandomWeights bool          // benchmark freshly initialized models: no model file, no accuracy check
	Count         int           // runs of each benchmark (like go test -count); 0 means 1
	Benchtime     time.Duration // target duration of each run; 0 means 1s
	Progress      io.Writer     // progress bars go here (stderr); nil for none
}

// DefaultBatches are the batch sizes the throughput is measured at.
var DefaultBatches = []int{1, 8, 32, 128, 512}

// Report is everything one bench run measured; it is written as <out>/bench.json.
type Report struct {
	Started   time.Time       `json:"started"`
	Kernels   string          `json:"kernels"`   // the kernel set measured
	Available []string        `json:"available"` // every set this CPU runs, best first
	CPU       string          `json:"cpu"`
	GoVersion string          `json:"go_version"`
	Platform  string          `json:"platform"`
	MaxProcs  int             `json:"gomaxprocs"`
	Benchtime float64         `json:"benchtime_seconds"`
	Count     int             `json:"count"`
	Peak      []Peak          `json:"peak"` // the kernel set's FMA peak at each thread count
	Models    []*ModelReport  `json:"models"`
	peakByT   map[int]float64 // threads → GFLOP/s
}

// Peak is the measured FMA throughput of the kernel set on Threads threads.
type Peak struct {
	Threads int     `json:"threads"`
	GFLOPS  float64 `json:"gflops"`
}

// ModelReport is one model's results.
type ModelReport struct {
	Arch          string  `json:"arch"`
	Source        string  `json:"source"` // the model file, or "random weights"
	Params        int     `json:"params"`
	FLOPsPerImage int64   `json:"flops_per_image"`
	ModelBytes    int64   `json:"model_bytes"`      // compiled weights and biases (BatchNorm folded)
	FileBytes     int64   `json:"file_bytes"`       // the safetensors file, 0 with random weights
	ActBytes      []Bytes `json:"activation_bytes"` // per worker workspace, by batch size

	// The accuracy check: our inference graph on the 10,000 test images against train's record.
	TestCorrect     int     `json:"test_correct"`
	TestImages      int     `json:"test_images"`
	TestAcc         float64 `json:"test_acc"`
	RecordedCorrect int     `json:"recorded_correct"`
	RecordedAcc     float64 `json:"recorded_acc"`
	Disagreements   int     `json:"disagreements"` // test images where our class differs from train's

	LatencyP50   float64 `json:"latency_p50_ns"` // batch 1, one Predict call
	LatencyP99   float64 `json:"latency_p99_ns"`
	LatencyMean  float64 `json:"latency_mean_ns"`
	LatencyCalls int     `json:"latency_calls"`

	Throughput []Point `json:"throughput"`
	Layers     []Layer `json:"layers"` // breakdown at batch 128, one thread
}

// Bytes is a memory figure at a batch size.
type Bytes struct {
	Batch int   `json:"batch"`
	Bytes int64 `json:"bytes"`
}

// Point is one throughput measurement: the best of Count runs (Runs holds every run's ns/op).
type Point struct {
	Batch        int       `json:"batch"`
	Threads      int       `json:"threads"`
	NsPerOp      float64   `json:"ns_per_op"` // one batch
	ImagesPerSec float64   `json:"images_per_sec"`
	GFLOPS       float64   `json:"gflops"`
	PctPeak      float64   `json:"pct_peak"` // of the kernel set's FMA peak on Threads threads
	Runs         []float64 `json:"runs_ns_per_op"`
	Iters        []int     `json:"runs_iters"`
}

// Layer is one layer's share of the forward pass.
type Layer struct {
	Name       string  `json:"name"`
	Kernel     string  `json:"kernel"` // the kernel path at batch 128 (nn.Inference.LayerKernels)
	NsPerImage float64 `json:"ns_per_image"`
	Percent    float64 `json:"percent"`
	FLOPs      int64   `json:"flops_per_image"`
	GFLOPS     float64 `json:"gflops"`
}

// Run performs the whole benchmark and writes <OutDir>/bench.json.
func Run(cfg Config) (*Report, error) {
	if cfg.Threads <= 0 {
		cfg.Threads = runtime.GOMAXPROCS(0)
	}
	if len(cfg.Batches) == 0 {
		cfg.Batches = DefaultBatches
	}
	if cfg.Count <= 0 {
		cfg.Count = 1
	}
	if cfg.Benchtime <= 0 {
		cfg.Benchtime = time.Second
	}
	if cfg.ISA != "" {
		if err := kernels.Use(cfg.ISA); err != nil {
			return nil, err
		}
	}
	for _, a := range cfg.Models {
		if !slices.Contains(nn.AllArchs, a) {
			return nil, fmt.Errorf("unknown model %q (want %s or all)", a, strings.Join(nn.AllArchs, ", "))
		}
	}
	// Load everything first: a missing file is reported before minutes of measuring.
	models := make([]*simdnn.Model, len(cfg.Models))
	reports := make([]*ModelReport, len(cfg.Models))
	for i, arch := range cfg.Models {
		m, r, err := loadModel(cfg, arch)
		if err != nil {
			return nil, err
		}
		models[i], reports[i] = m, r
	}
	rep := &Report{
		Started: time.Now().UTC(), Kernels: kernels.Current().Name, CPU: cpuName(),
		GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
		MaxProcs: runtime.GOMAXPROCS(0), Benchtime: cfg.Benchtime.Seconds(), Count: cfg.Count,
		peakByT: map[int]float64{},
	}
	for _, impl := range kernels.Available() {
		rep.Available = append(rep.Available, impl.Name)
	}
	if !cfg.RandomWeights {
		if err := checkAccuracy(cfg, models, reports); err != nil {
			return nil, err
		}
	}
	prevKT := kernels.SetMaxThreads(0)
	defer kernels.SetMaxThreads(prevKT)
	for t := 1; t <= cfg.Threads; t++ {
		kernels.SetMaxThreads(t)
		g, err := kernels.MeasurePeakGFLOPS(rep.Kernels, t, 300*time.Millisecond)
		if err != nil {
			return nil, err
		}
		rep.Peak = append(rep.Peak, Peak{Threads: t, GFLOPS: g})
		rep.peakByT[t] = g
	}
	steps := len(models) * (1 + len(cfg.Batches)*cfg.Threads*cfg.Count + 1)
	bar := newBar(cfg.Progress, steps, "benchmark")
	for i, m := range models {
		measureModel(cfg, rep, m, reports[i], bar)
		rep.Models = append(rep.Models, reports[i])
	}
	bar.Finish()
	if err := writeReport(cfg, rep); err != nil {
		return rep, err
	}
	return rep, nil
}

// writeReport writes <out>/bench.json, keeping the models of an earlier run that this one did not
// measure (so `bench --model ann` after `bench --model cnn` leaves both). Random weights go to
// bench-random-weights.json instead: they must not pass for a trained model's figures.
func writeReport(cfg Config, rep *Report) error {
	name := "bench.json"
	if cfg.RandomWeights {
		name = "bench-random-weights.json"
	}
	path := filepath.Join(cfg.OutDir, name)
	out := *rep
	if b, err := os.ReadFile(path); err == nil {
		var old Report
		if json.Unmarshal(b, &old) == nil {
			measured := map[string]bool{}
			for _, m := range rep.Models {
				measured[m.Arch] = true
			}
			out.Models = append([]*ModelReport(nil), rep.Models...)
			for _, m := range old.Models {
				if m != nil && !measured[m.Arch] {
					out.Models = append(out.Models, m)
				}
			}
			sort.Slice(out.Models, func(i, j int) bool { return out.Models[i].Arch < out.Models[j].Arch })
		}
	}
	return writeJSON(path, &out)
}

// loadModel loads <out>/<arch>.safetensors, or makes a freshly initialized model.
func loadModel(cfg Config, arch string) (*simdnn.Model, *ModelReport, error) {
	r := &ModelReport{Arch: arch}
	var m *simdnn.Model
	var net nn.Network
	if cfg.RandomWeights {
		var err error
		net, err = nn.New(arch, 1)
		if err != nil {
			return nil, nil, err
		}
		m, err = simdnn.New(net, nn.Meta{Arch: arch, Mean: 0.2860, Std: 0.3530})
		if err != nil {
			return nil, nil, err
		}
		r.Source = "random weights"
	} else {
		path := filepath.Join(cfg.OutDir, arch+".safetensors")
		st, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("%s: no trained %s model; run `train --model %s --out %s` first (or bench --random-weights)", path, arch, arch, cfg.OutDir)
		}
		if err != nil {
			return nil, nil, err
		}
		r.FileBytes = st.Size()
		net, _, err = nn.Load(path)
		if err != nil {
			return nil, nil, err
		}
		if m, err = simdnn.Load(path); err != nil {
			return nil, nil, err
		}
		r.Source = path
	}
	g := m.Inference()
	r.Params = net.ParamCount()
	r.FLOPsPerImage = g.FLOPs()
	r.ModelBytes = g.ParamBytes()
	for _, b := range cfg.Batches {
		r.ActBytes = append(r.ActBytes, Bytes{Batch: b, Bytes: g.ActivationBytes(b)})
	}
	return m, r, nil
}

// checkAccuracy evaluates every model on the test set and requires exactly the accuracy train
// recorded in <arch>.metrics.json.
func checkAccuracy(cfg Config, models []*simdnn.Model, reports []*ModelReport) error {
	dir, err := dataset.FindDir(cfg.DataDir)
	if err != nil {
		return err
	}
	ds, err := dataset.Load(dir)
	if err != nil {
		return err
	}
	test := ds.Test
	for i, m := range models {
		r := reports[i]
		mpath := filepath.Join(cfg.OutDir, r.Arch+".metrics.json")
		rec, err := train.ReadMetrics(mpath)
		if err != nil {
			return fmt.Errorf("%w (train writes it beside the model: `train --model %s --out %s`)", err, r.Arch, cfg.OutDir)
		}
		bar := newBar(cfg.Progress, test.Len(), "test set "+r.Arch)
		preds := make([]simdnn.Prediction, 0, 500)
		ours := make([]uint8, 0, test.Len())
		for s := 0; s < test.Len(); s += 500 {
			e := min(s+500, test.Len())
			preds, err = m.PredictPixels(preds[:0], test.Images[s*dataset.ImageSize:e*dataset.ImageSize])
			if err != nil {
				return err
			}
			for j, p := range preds {
				ours = append(ours, uint8(p.Class))
				if uint8(p.Class) == test.Labels[s+j] {
					r.TestCorrect++
				}
			}
			bar.Add(e - s)
		}
		bar.Finish()
		r.TestImages = test.Len()
		r.TestAcc = float64(r.TestCorrect) / float64(r.TestImages)
		r.RecordedCorrect, r.RecordedAcc = rec.Test.Correct, rec.Test.Acc
		if len(rec.TestPredictions) == len(ours) {
			for j := range ours {
				if ours[j] != rec.TestPredictions[j] {
					r.Disagreements++
				}
			}
		}
		if rec.Test.Images != r.TestImages || rec.Test.Correct != r.TestCorrect {
			return fmt.Errorf("%s: test accuracy %.2f%% (%d/%d) differs from the %.2f%% (%d/%d) train recorded in %s (%d images classified differently)",
				r.Source, 100*r.TestAcc, r.TestCorrect, r.TestImages, 100*rec.Test.Acc, rec.Test.Correct, rec.Test.Images, mpath, r.Disagreements)
		}
	}
	return nil
}

// measureModel fills r's latency, throughput and layer breakdown.
func measureModel(cfg Config, rep *Report, m *simdnn.Model, r *ModelReport, bar *progressbar.ProgressBar) {
	g := m.Inference()
	maxB := 0
	for _, b := range cfg.Batches {
		maxB = max(maxB, b)
	}
	maxB = max(maxB, 128)
	x := benchImages(maxB)
	out := make([]float32, maxB*10)

	// Latency: one image per call, every call timed.
	bar.Describe(r.Arch + " latency")
	g.SetThreads(cfg.Threads)
	kernels.SetMaxThreads(cfg.Threads)
	lat := latency(func() { g.Forward(x[:784], 1, out[:10]) }, cfg.Benchtime*time.Duration(cfg.Count))
	sort.Float64s(lat)
	r.LatencyCalls = len(lat)
	r.LatencyP50 = lat[len(lat)/2]
	r.LatencyP99 = lat[min(len(lat)-1, len(lat)*99/100)]
	var sum float64
	for _, v := range lat {
		sum += v
	}
	r.LatencyMean = sum / float64(len(lat))
	bar.Add(1)

	for _, b := range cfg.Batches {
		for t := 1; t <= cfg.Threads; t++ {
			bar.Describe(fmt.Sprintf("%s batch=%d threads=%d", r.Arch, b, t))
			g.SetThreads(t)
			kernels.SetMaxThreads(t)
			p := Point{Batch: b, Threads: t}
			for c := 0; c < cfg.Count; c++ {
				iters, el := timeIt(func() { g.Forward(x[:b*784], b, out[:b*10]) }, cfg.Benchtime)
				ns := float64(el.Nanoseconds()) / float64(iters)
				p.Runs = append(p.Runs, ns)
				p.Iters = append(p.Iters, iters)
				if p.NsPerOp == 0 || ns < p.NsPerOp {
					p.NsPerOp = ns
				}
				bar.Add(1)
			}
			p.ImagesPerSec = float64(b) * 1e9 / p.NsPerOp
			p.GFLOPS = p.ImagesPerSec * float64(r.FLOPsPerImage) / 1e9
			if pk := rep.peakByT[t]; pk > 0 {
				p.PctPeak = 100 * p.GFLOPS / pk
			}
			r.Throughput = append(r.Throughput, p)
		}
	}

	// Per-layer breakdown at batch 128 on one thread, so the times add up to the wall time.
	bar.Describe(r.Arch + " layers")
	g.SetThreads(1)
	kernels.SetMaxThreads(1)
	g.Forward(x[:128*784], 128, out[:128*10])
	g.LayerTimes() // reset
	g.SetProfile(true)
	timeIt(func() { g.Forward(x[:128*784], 128, out[:128*10]) }, cfg.Benchtime)
	g.SetProfile(false)
	lts := g.LayerTimes()
	var total time.Duration
	for _, l := range lts {
		total += l.Time
	}
	paths := g.LayerKernels(128)
	for i, l := range lts {
		if l.Images == 0 {
			continue
		}
		ly := Layer{Name: l.Name, Kernel: paths[i], NsPerImage: float64(l.Time.Nanoseconds()) / float64(l.Images),
			Percent: 100 * float64(l.Time) / float64(max(total, 1)), FLOPs: l.FLOPs / l.Images}
		if l.Time > 0 {
			ly.GFLOPS = float64(l.FLOPs) / l.Time.Seconds() / 1e9
		}
		r.Layers = append(r.Layers, ly)
	}
	g.SetThreads(cfg.Threads)
	kernels.SetMaxThreads(0)
	bar.Add(1)
}

// benchImages returns n deterministic normalized images (the timing does not depend on the values
// beyond avoiding denormals and NaN).
func benchImages(n int) []float32 {
	x := make([]float32, n*784)
	s := uint32(12345)
	for i := range x {
		s = s*1664525 + 1013904223
		x[i] = (float32(s>>8)/(1<<24) - 0.286) / 0.353
	}
	return x
}

// timeIt runs f in a loop like testing.B: it grows the iteration count until a run lasts d.
func timeIt(f func(), d time.Duration) (int, time.Duration) {
	f() // warm-up: workspaces, worker goroutines, caches
	n := 1
	for {
		t0 := time.Now()
		for i := 0; i < n; i++ {
			f()
		}
		el := time.Since(t0)
		if el >= d || n >= 1e9 {
			return n, el
		}
		next := int(1.2 * float64(n) * float64(d) / float64(max(el, time.Microsecond)))
		n = min(max(next, n+1), 100*n)
	}
}

// latency times single calls of f for about d and returns each call's nanoseconds.
func latency(f func(), d time.Duration) []float64 {
	for i := 0; i < 10; i++ {
		f()
	}
	var lat []float64
	start := time.Now()
	for len(lat) < 1000 || (time.Since(start) < d && len(lat) < 1e6) {
		t0 := time.Now()
		f()
		lat = append(lat, float64(time.Since(t0).Nanoseconds()))
	}
	return lat
}

func newBar(w io.Writer, total int, desc string) *progressbar.ProgressBar {
	if w == nil {
		return progressbar.NewOptions(total, progressbar.OptionSetVisibility(false))
	}
	return progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetWidth(30),
	)
}

func cpuName() string { return cpuid.CPU.BrandName }
