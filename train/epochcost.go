package train

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/simdnn/simdnn/nn"

	"golang.org/x/perf/benchfmt"
)

// Epoch costs price the ablation's rows alike. The rows ran over two weeks on several machines and
// builds, so their own wall times do not compare; what one epoch of each model and setting costs is
// measured instead on one build in one sitting (scripts/epoch-cost.sh), and a row's wall time is its
// epochs at that price.

// EpochCost is the measured epochs of one model and setting.
type EpochCost struct {
	Arch    string    `json:"arch"`
	Work    string    `json:"work"`    // Recipe.Work
	Seconds []float64 `json:"seconds"` // one per epoch measured: training, precise BN, validation
}

// Median is the median of the measured epochs' seconds.
func (c EpochCost) Median() float64 {
	s := slices.Clone(c.Seconds)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Work names the changes in r that alter the work of an epoch, joined by "+" in a fixed order, or
// "none" for the study's: the batch, the training images, the augmentations, the loss, weight decay,
// the weight average, precise BN and dropout in the blocks. A schedule, a warm-up, the learning rate,
// an initialization and the seed change no step's work, and early stopping only how many epochs run,
// so rows that differ only in those cost the same per epoch. Values that do not change the work (the
// average's decay, the smoothing, the decay rate, the dropout probability) are left out of the name.
func (r Recipe) Work() string {
	var w []string
	if r.Batch != 128 {
		w = append(w, fmt.Sprintf("batch%d", r.Batch))
	}
	if r.TrainImages != 54000 {
		w = append(w, fmt.Sprintf("images%d", r.TrainImages))
	}
	if r.Augment {
		w = append(w, "augment")
	}
	if r.Erase > 0 {
		w = append(w, fmt.Sprintf("erase%g", r.Erase))
	}
	if r.Smoothing > 0 {
		w = append(w, "smoothing")
	}
	if r.WeightDecay > 0 {
		w = append(w, "decay")
	}
	if r.EMA > 0 {
		w = append(w, "ema")
	}
	if r.PreciseBN > 0 {
		w = append(w, fmt.Sprintf("pbn%d", r.PreciseBN))
	}
	if r.BlockDrop > 0 {
		w = append(w, "blockdrop")
	}
	if len(w) == 0 {
		return "none"
	}
	return strings.Join(w, "+")
}

// costGroups gathers epochs by model and Work in the order first seen.
type costGroups struct {
	costs []EpochCost
	at    map[[2]string]int
}

func (g *costGroups) add(arch, work string, seconds ...float64) {
	key := [2]string{arch, work}
	i, ok := g.at[key]
	if !ok {
		if g.at == nil {
			g.at = map[[2]string]int{}
		}
		i = len(g.costs)
		g.at[key] = i
		g.costs = append(g.costs, EpochCost{Arch: arch, Work: work})
	}
	g.costs[i].Seconds = append(g.costs[i].Seconds, seconds...)
}

// EpochCostRuns reads the runs under the directories (<dir>/<run>/<arch>.metrics.json, one run of
// scripts/epoch-cost.sh each) and groups their epochs by model and Work, in the order ann, cnn,
// resnet variants, each model's "none" first. All runs must have measured the same way (threads,
// kernels, platform); a run that also tested every epoch is refused, since its epochs include the
// test pass.
func EpochCostRuns(dirs ...string) (costs []EpochCost, env []benchfmt.Config, err error) {
	var g costGroups
	var first *Metrics
	var firstPath string
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*", "*.metrics.json"))
		if err != nil {
			return nil, nil, err
		}
		for _, f := range files {
			m, err := ReadMetrics(f)
			if err != nil {
				return nil, nil, fmt.Errorf("epoch cost: %v", err)
			}
			if m.History[0].TestAcc != 0 {
				return nil, nil, fmt.Errorf("epoch cost: %s: the run tested every epoch (--test-each-epoch), so its epochs include the test pass", f)
			}
			if first == nil {
				first, firstPath = m, f
			} else if m.Threads != first.Threads || m.Kernels != first.Kernels || m.Platform != first.Platform {
				return nil, nil, fmt.Errorf("epoch cost: %s ran with %d threads, %s kernels on %s, but %s with %d, %s on %s: measure one setting of one machine",
					f, m.Threads, m.Kernels, m.Platform, firstPath, first.Threads, first.Kernels, first.Platform)
			}
			for _, e := range m.History {
				g.add(m.Arch, m.Recipe.Work(), e.Seconds)
			}
		}
	}
	if first == nil {
		return nil, nil, fmt.Errorf("epoch cost: no <run>/<model>.metrics.json under %s (run scripts/epoch-cost.sh first)", strings.Join(dirs, ", "))
	}
	costs = g.costs
	sortEpochCosts(costs)
	goos, goarch, _ := strings.Cut(first.Platform, "/")
	env = []benchfmt.Config{
		{Key: "goos", Value: []byte(goos), File: true},
		{Key: "goarch", Value: []byte(goarch), File: true},
		{Key: "pkg", Value: []byte("github.com/simdnn/simdnn/cmd/train"), File: true},
		{Key: "kernels", Value: []byte(first.Kernels), File: true},
		{Key: "threads", Value: []byte(fmt.Sprint(first.Threads)), File: true},
		{Key: "go", Value: []byte(first.GoVersion), File: true},
	}
	return costs, env, nil
}

var archOrder = []string{"ann", "cnn", "resnet", "resnet-wide", "resnet-deep"}

func sortEpochCosts(costs []EpochCost) {
	rank := func(arch string) int {
		if i := slices.Index(archOrder, arch); i >= 0 {
			return i
		}
		return len(archOrder)
	}
	sort.SliceStable(costs, func(i, j int) bool {
		a, b := costs[i], costs[j]
		if a.Arch != b.Arch {
			if ra, rb := rank(a.Arch), rank(b.Arch); ra != rb {
				return ra < rb
			}
			return a.Arch < b.Arch
		}
		if (a.Work == "none") != (b.Work == "none") {
			return a.Work == "none"
		}
		return a.Work < b.Work
	})
}

// WriteEpochCosts writes one Go benchmark line per measured epoch, Epoch/model=<arch>/changes=<work>
// in ns/op, so benchstat compares the settings (-row /model -col /changes).
func WriteEpochCosts(w io.Writer, costs []EpochCost, env []benchfmt.Config) error {
	bw := benchfmt.NewWriter(w)
	for _, c := range costs {
		for _, s := range c.Seconds {
			res := &benchfmt.Result{
				Config: env,
				Name:   benchfmt.Name("Epoch/model=" + c.Arch + "/changes=" + c.Work),
				Iters:  1,
				Values: []benchfmt.Value{{Value: s * 1e9, Unit: "ns/op"}},
			}
			if err := bw.Write(res); err != nil {
				return err
			}
		}
	}
	return nil
}

// nsPerOp is a result's ns/op in seconds. The reader tidies ns/op into sec/op by multiplying with
// 1e-9, which is inexact; dividing the original by 1e9 reads back what WriteEpochCosts wrote.
func nsPerOp(r *benchfmt.Result) (float64, bool) {
	for _, v := range r.Values {
		if v.OrigUnit == "ns/op" {
			return v.OrigValue / 1e9, true
		}
	}
	return 0, false
}

// epochCostName splits Epoch/model=<arch>/changes=<work>.
func epochCostName(n benchfmt.Name) (arch, work string, ok bool) {
	base, parts := n.Parts()
	if string(base) != "Epoch" || len(parts) != 2 {
		return "", "", false
	}
	a, ok1 := bytes.CutPrefix(parts[0], []byte("/model="))
	w, ok2 := bytes.CutPrefix(parts[1], []byte("/changes="))
	if !ok1 || !ok2 || len(a) == 0 || len(w) == 0 {
		return "", "", false
	}
	return string(a), string(w), true
}

// ReadEpochCosts reads a file WriteEpochCosts wrote (lines of other benchmarks are an error, so a
// wrong file is not taken for an empty one).
func ReadEpochCosts(path string) ([]EpochCost, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("epoch costs: %v", err)
	}
	defer f.Close()
	var g costGroups
	r := benchfmt.NewReader(f, path)
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.SyntaxError:
			return nil, fmt.Errorf("epoch costs: %v", rec)
		case *benchfmt.Result:
			file, line := rec.Pos()
			arch, work, ok := epochCostName(rec.Name)
			sec, okv := nsPerOp(rec)
			if !ok || !okv || !(sec > 0) || math.IsInf(sec, 0) {
				return nil, fmt.Errorf("epoch costs: %s:%d: want BenchmarkEpoch/model=<arch>/changes=<work> with a positive ns/op, got Benchmark%s",
					file, line, rec.Name)
			}
			g.add(arch, work, sec)
		}
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("epoch costs: %s: %v", path, err)
	}
	if len(g.costs) == 0 {
		return nil, fmt.Errorf("epoch costs: %s: no Epoch/model=…/changes=… lines", path)
	}
	return g.costs, nil
}

// studyEpochs is the study's budget, the reference every priced row is measured against.
const studyEpochs = 18

// EpochPricing says what priced an ablation's wall times.
type EpochPricing struct {
	File  string        `json:"file"`
	Costs []PricedEpoch `json:"costs"`
}

// PricedEpoch is one model and setting's measured epoch.
type PricedEpoch struct {
	Arch    string  `json:"arch"`
	Work    string  `json:"work"`
	Epochs  int     `json:"epochs_measured"`
	Seconds float64 `json:"median_seconds"`
	// Ratio is against its reference model's plain epoch (the resnet's for the resnet's variants);
	// nil when that was not measured.
	Ratio *float64 `json:"ratio,omitempty"`
}

// refArch is the model a row's wall time is measured against: its own study-recipe run, or the
// resnet's for the resnet's variants, which have none (as BuildAblation's deltas).
func refArch(arch string) string {
	if nn.IsResNet(arch) {
		return "resnet"
	}
	return arch
}

// epochPrices is the median measured epoch of each model and Work.
type epochPrices map[[2]string]float64

func pricesOf(costs []EpochCost) epochPrices {
	med := epochPrices{}
	for _, c := range costs {
		med[[2]string{c.Arch, c.Work}] = c.Median()
	}
	return med
}

// price is what epochs of arch with work cost, and that against studyEpochs plain epochs of its
// reference model; ok is false when work was not measured, hasRatio when the reference was not.
func (p epochPrices) price(arch, work string, epochs int) (seconds, ratio float64, ok, hasRatio bool) {
	m, ok := p[[2]string{arch, work}]
	if !ok {
		return 0, 0, false, false
	}
	seconds = float64(epochs) * m
	ref, hasRatio := p[[2]string{refArch(arch), "none"}]
	if hasRatio {
		ratio = seconds / (studyEpochs * ref)
	}
	return seconds, ratio, true, hasRatio
}

// PriceEpochs prices every row whose model and Work were measured: its epochs run × the median
// measured epoch, and that against studyEpochs plain epochs of its reference model. Rows of a
// setting not measured keep no price. The final evaluation after the last epoch is not priced.
func (a *Ablation) PriceEpochs(file string, costs []EpochCost) {
	prices := pricesOf(costs)
	p := &EpochPricing{File: file}
	for _, c := range costs {
		pe := PricedEpoch{Arch: c.Arch, Work: c.Work, Epochs: len(c.Seconds), Seconds: prices[[2]string{c.Arch, c.Work}]}
		if ref, ok := prices[[2]string{refArch(c.Arch), "none"}]; ok {
			r := pe.Seconds / ref
			pe.Ratio = &r
		}
		p.Costs = append(p.Costs, pe)
	}
	a.Pricing = p
	for i := range a.Rows {
		r := &a.Rows[i]
		r.PricedWallSeconds, r.PricedWallRatio = nil, nil
		w, x, ok, hasRatio := prices.price(r.Arch, r.Work, r.EpochsRun)
		if ok {
			r.PricedWallSeconds = &w
		}
		if hasRatio {
			r.PricedWallRatio = &x
		}
	}
}
