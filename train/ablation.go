package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/simdnn/simdnn/internal/atomicfile"
	"github.com/simdnn/simdnn/nn"
)

// The ablation of issue 6: runs of the study's recommendations, one per subdirectory of a directory
// (scripts/ablation.sh makes them), gathered into one table against the study's recipe.

// AblationRow is one run of the ablation.
type AblationRow struct {
	Name    string `json:"name"`    // the subdirectory
	Arch    string `json:"arch"`    // "resnet", "cnn", …
	Changes string `json:"changes"` // what differs from the study's recipe
	Seed    int64  `json:"seed"`
	// Setting is Changes without the seed: the rows of one setting are samples of the same recipe.
	Setting         string   `json:"setting"`
	Epochs          int      `json:"epochs"` // planned
	EpochsRun       int      `json:"epochs_run"`
	BestEpoch       int      `json:"best_epoch,omitempty"` // early stopping's kept epoch (Metrics.Kept)
	TestAcc         float64  `json:"test_acc"`
	ValAcc          float64  `json:"val_acc"`
	DeltaTestPts    *float64 `json:"delta_test_pts,omitempty"` // vs the baseline, in percentage points
	WallSeconds     float64  `json:"wall_seconds"`
	SecondsPerEpoch float64  `json:"seconds_per_epoch"`
	WallRatio       *float64 `json:"wall_ratio,omitempty"` // wall time / the baseline's
	// Work is Recipe.Work: the rows of one model and Work cost the same per epoch.
	Work string `json:"work"`
	// PricedWallSeconds is the row's epochs at the price of its model and Work measured in one
	// sitting (Ablation.PriceEpochs), and PricedWallRatio that against the study's 18 epochs of its
	// reference model: unlike WallSeconds, comparable between rows run on other machines and builds.
	PricedWallSeconds *float64 `json:"priced_wall_seconds,omitempty"`
	PricedWallRatio   *float64 `json:"priced_wall_ratio,omitempty"`
	TrainImages       int      `json:"train_images"`
	Threads           int      `json:"threads"`
	Kernels           string   `json:"kernels"`
	// EarlyStop replays early stopping on the run's history, for runs without it that recorded the
	// test accuracy of every epoch (train --test-each-epoch).
	EarlyStop []EarlyStopReplay `json:"early_stop_replay,omitempty"`
}

// EarlyStopReplay is what early stopping with Patience would have done to a run (ReplayEarlyStop).
type EarlyStopReplay struct {
	Patience     int     `json:"patience"`
	StoppedEpoch int     `json:"stopped_epoch"`
	BestEpoch    int     `json:"best_epoch"`
	TestAcc      float64 `json:"test_acc"`       // the kept epoch's
	DeltaTestPts float64 `json:"delta_test_pts"` // against the full run, in percentage points
	// LastTestAcc is the stopped epoch's: what stopping at the same epoch would have scored keeping
	// the last weights instead of restoring the best.
	LastTestAcc float64 `json:"last_test_acc"`
}

// replayPatiences are the patiences the ablation replays: the study's plateau schedule lowers the rate
// after 3 epochs without a better validation accuracy, so patience 3 stops exactly when it first would;
// 5, 8 and 10 leave the lowered rate 2, 5 and 7 epochs to show; 15 and 20 span 5 and 6 halvings.
var replayPatiences = []int{3, 5, 8, 10, 15, 20}

// Ablation is the table; it is written as ablation.json and ablation.md.
type Ablation struct {
	Baseline string        `json:"baseline"` // the runs the deltas refer to, one per model ("" if none)
	Dirs     []string      `json:"dirs"`     // the output directories the runs were gathered from
	Rows     []AblationRow `json:"rows"`
	// Seeds summarizes every setting run on more than one seed: one seed's difference between two
	// settings means little when the seeds of one setting differ by as much.
	Seeds []SeedSpread `json:"seeds,omitempty"`
	// Pricing, when set, priced the rows' wall times (PriceEpochs).
	Pricing *EpochPricing `json:"pricing,omitempty"`
	Written time.Time     `json:"written"`
}

// wallString is a wall time as the ablation table shows it, to the second.
func wallString(seconds float64) string {
	return (time.Duration(seconds) * time.Second).String()
}

// SeedSpread is the test accuracy of one model and setting over the seeds it ran with.
type SeedSpread struct {
	Arch    string   `json:"arch"`
	Setting string   `json:"setting"` // the changes besides the seed, "none" for the study's recipe
	Runs    []string `json:"runs"`
	Seeds   []int64  `json:"seeds"`
	Mean    float64  `json:"mean_test_acc"`
	SD      float64  `json:"sd_test_acc"` // sample standard deviation (n−1)
	Min     float64  `json:"min_test_acc"`
	Max     float64  `json:"max_test_acc"`
}

// seedSpreads groups rows by model and setting, keeping the groups with at least two seeds, in the
// order of their first row. A seed run twice (a repeated run) counts once, at its first row.
func seedSpreads(rows []AblationRow) []SeedSpread {
	var out []SeedSpread
	at := map[string]int{}
	for _, r := range rows {
		key := r.Arch + "\x00" + r.Setting
		i, ok := at[key]
		if !ok {
			i = len(out)
			at[key] = i
			out = append(out, SeedSpread{Arch: r.Arch, Setting: r.Setting})
		}
		g := &out[i]
		if slices.Contains(g.Seeds, r.Seed) {
			continue
		}
		g.Runs, g.Seeds = append(g.Runs, r.Name), append(g.Seeds, r.Seed)
		g.Mean += r.TestAcc // a sum until the end
		if len(g.Seeds) == 1 || r.TestAcc < g.Min {
			g.Min = r.TestAcc
		}
		if len(g.Seeds) == 1 || r.TestAcc > g.Max {
			g.Max = r.TestAcc
		}
	}
	kept := out[:0]
	for _, g := range out {
		n := len(g.Seeds)
		if n < 2 {
			continue
		}
		g.Mean /= float64(n)
		var ss float64
		for _, r := range rows {
			if r.Arch == g.Arch && r.Setting == g.Setting && slices.Contains(g.Runs, r.Name) {
				ss += (r.TestAcc - g.Mean) * (r.TestAcc - g.Mean)
			}
		}
		g.SD = math.Sqrt(ss / float64(n-1))
		kept = append(kept, g)
	}
	return kept
}

// BuildAblation reads every <dir>/<run>/<arch>.metrics.json of the directories, in the runs' name
// order: the runs of one ablation may be spread over several output directories (one a session or
// a machine), and the seed spreads and deltas need them together. A run name in two directories is
// refused, since the table names each run once. Each row's deltas are against its model's
// study-recipe run, the one named "<n>-<arch>-study" (for resnet-wide without one, the resnet's).
func BuildAblation(dirs ...string) (*Ablation, error) {
	if len(dirs) == 0 {
		return nil, errors.New("ablation: no directory")
	}
	a := &Ablation{Dirs: dirs, Written: time.Now().UTC()}
	from := map[string]string{} // run name → its directory
	for _, dir := range dirs {
		if err := a.addRuns(dir, from); err != nil {
			return nil, err
		}
	}
	if len(a.Rows) == 0 {
		return nil, fmt.Errorf("ablation: no <run>/<model>.metrics.json under %s (run scripts/ablation.sh first)", strings.Join(dirs, ", "))
	}
	// Stable: one run's models keep their file order.
	sort.SliceStable(a.Rows, func(i, j int) bool { return a.Rows[i].Name < a.Rows[j].Name })
	// Each row compares with its own model's study-recipe run ("<n>-<arch>-study").
	base := map[string]AblationRow{}
	for _, r := range a.Rows {
		if _, ok := base[r.Arch]; !ok && strings.HasSuffix(r.Name, r.Arch+"-study") {
			base[r.Arch] = r
		}
	}
	var names []string
	for _, arch := range []string{"ann", "cnn", "resnet"} {
		if b, ok := base[arch]; ok {
			names = append(names, b.Name)
		}
	}
	a.Baseline = strings.Join(names, ", ")
	a.Seeds = seedSpreads(a.Rows)
	for i := range a.Rows {
		r := &a.Rows[i]
		b, ok := base[r.Arch]
		if !ok && nn.IsResNet(r.Arch) {
			// A width without a study run of its own is measured against the residual CNN's.
			b, ok = base["resnet"]
		}
		if !ok {
			continue
		}
		d := 100 * (r.TestAcc - b.TestAcc)
		r.DeltaTestPts = &d
		if b.WallSeconds > 0 {
			w := r.WallSeconds / b.WallSeconds
			r.WallRatio = &w
		}
	}
	return a, nil
}

// addRuns appends a row for every <dir>/<run>/<arch>.metrics.json, refusing a run already in from.
func (a *Ablation) addRuns(dir string, from map[string]string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("ablation: %v", err)
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(dir, e.Name(), "*.metrics.json"))
		if len(files) == 0 {
			continue
		}
		if d, ok := from[e.Name()]; ok {
			return fmt.Errorf("ablation: run %s is in both %s and %s; keep one", e.Name(), d, dir)
		}
		from[e.Name()] = dir
		sort.Strings(files)
		for _, f := range files {
			m, err := ReadMetrics(f)
			if err != nil {
				return fmt.Errorf("ablation: %v", err)
			}
			a.Rows = append(a.Rows, rowOf(e.Name(), m))
		}
	}
	return nil
}

// Schedule is the learning-rate schedule's --schedule name, "plateau", "cosine" or "onecycle", read
// from the trainer's description of it (Scheduler); metrics from before the flag say "plateau".
func (r Recipe) Schedule() string {
	switch {
	case strings.HasPrefix(r.Scheduler, "OneCycleLR"):
		return "onecycle"
	case strings.Contains(r.Scheduler, "cosine"):
		return "cosine"
	}
	return "plateau"
}

// Changes says what in r differs from the study's recipe (Adam 1e-3, batch 128, 18 epochs, plateau
// schedule, seed 1, 54,000 training images, no regularization beyond the model's dropout), or "none".
func (r Recipe) Changes() string {
	ch, _ := r.changeList()
	if len(ch) == 0 {
		return "none"
	}
	return strings.Join(ch, ", ")
}

// changeList is Changes as a list; seedAt is the index of the seed in it, or -1.
func (r Recipe) changeList() (ch []string, seedAt int) {
	if r.Epochs != 18 {
		ch = append(ch, fmt.Sprintf("%d epochs", r.Epochs))
	}
	if r.LR != 0.001 {
		ch = append(ch, fmt.Sprintf("lr %g", r.LR))
	}
	if r.Batch != 128 {
		ch = append(ch, fmt.Sprintf("batch %d", r.Batch))
	}
	seedAt = -1
	if r.Seed != 1 { // the study's recipe on another seed measures seed noise, not a change
		seedAt = len(ch)
		ch = append(ch, fmt.Sprintf("seed %d", r.Seed))
	}
	switch r.Schedule() {
	case "onecycle":
		ch = append(ch, "one-cycle schedule")
	case "cosine":
		ch = append(ch, "cosine schedule")
	}
	if r.Warmup > 0 && r.Schedule() != "onecycle" {
		ch = append(ch, fmt.Sprintf("%d-epoch warm-up", r.Warmup))
	}
	if r.Patience > 0 {
		if r.KeepLast {
			ch = append(ch, fmt.Sprintf("early stopping (patience %d, keeping the last epoch)", r.Patience))
		} else {
			ch = append(ch, fmt.Sprintf("early stopping (patience %d)", r.Patience))
		}
	}
	if r.Augment {
		ch = append(ch, "crop+flip augmentation")
	}
	if r.PreciseBN > 0 {
		ch = append(ch, fmt.Sprintf("precise BN (%d batches)", r.PreciseBN))
	}
	if r.Init == "kaiming" {
		ch = append(ch, "kaiming (fan-out) init")
	}
	if r.ZeroInitRes {
		ch = append(ch, "blocks zero-initialized")
	}
	if r.BlockDrop > 0 {
		ch = append(ch, fmt.Sprintf("dropout %g in the blocks", r.BlockDrop))
	}
	if r.EMA > 0 {
		ch = append(ch, fmt.Sprintf("weights averaged (EMA %g)", r.EMA))
	}
	if r.Erase > 0 {
		ch = append(ch, fmt.Sprintf("random erasing (p %g)", r.Erase))
	}
	if r.Smoothing > 0 {
		ch = append(ch, fmt.Sprintf("label smoothing %g", r.Smoothing))
	}
	if r.WeightDecay > 0 {
		ch = append(ch, fmt.Sprintf("AdamW weight decay %g", r.WeightDecay))
	}
	if r.TrainImages != 54000 {
		ch = append(ch, fmt.Sprintf("%d training images", r.TrainImages))
	}
	return ch, seedAt
}

func rowOf(name string, m *Metrics) AblationRow {
	r := m.Recipe
	changes := r.Changes()
	ch, seedAt := r.changeList()
	setting := "none"
	if seedAt >= 0 {
		ch = slices.Delete(ch, seedAt, seedAt+1)
	}
	if len(ch) > 0 {
		setting = strings.Join(ch, ", ")
	}
	row := AblationRow{Name: name, Arch: m.Arch, Changes: changes, Seed: r.Seed, Setting: setting, Work: r.Work(), Epochs: r.Epochs, EpochsRun: len(m.History),
		BestEpoch: m.Kept(), TestAcc: m.Test.Acc, ValAcc: m.Val.Acc, WallSeconds: m.WallSeconds,
		SecondsPerEpoch: m.SecondsPerEpoch, TrainImages: r.TrainImages, Threads: m.Threads, Kernels: m.Kernels}
	if r.Patience == 0 && len(m.History) == r.Epochs && everyEpochTested(m.History) {
		for _, p := range replayPatiences {
			if p >= r.Epochs {
				break
			}
			stopped, kept := ReplayEarlyStop(m.History, p)
			acc := m.History[kept-1].TestAcc
			row.EarlyStop = append(row.EarlyStop, EarlyStopReplay{Patience: p, StoppedEpoch: stopped, BestEpoch: kept,
				TestAcc: acc, DeltaTestPts: 100 * (acc - m.Test.Acc), LastTestAcc: m.History[stopped-1].TestAcc})
		}
	}
	return row
}

func everyEpochTested(h []Epoch) bool {
	for _, e := range h {
		if e.TestAcc == 0 {
			return false
		}
	}
	return len(h) > 0
}

// Markdown renders the table.
func (a *Ablation) Markdown() string {
	var b strings.Builder
	b.WriteString("| Run | Model | Changes vs the study's recipe | Epochs run | Test acc | Δ test | Val acc | Wall time | × wall |\n")
	b.WriteString("|---|---|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range a.Rows {
		epochs := fmt.Sprintf("%d/%d", r.EpochsRun, r.Epochs)
		if r.BestEpoch > 0 {
			epochs += fmt.Sprintf(" (kept %d)", r.BestEpoch)
		}
		delta, ratio := "–", "–"
		if r.DeltaTestPts != nil {
			delta = fmt.Sprintf("%+.2f pts", *r.DeltaTestPts)
		}
		wall := wallString(r.WallSeconds)
		if a.Pricing != nil {
			wall, ratio = "–", "–"
			if r.PricedWallSeconds != nil {
				wall = wallString(*r.PricedWallSeconds)
			}
			if r.PricedWallRatio != nil {
				ratio = fmt.Sprintf("%.2f", *r.PricedWallRatio)
			}
		} else if r.WallRatio != nil {
			ratio = fmt.Sprintf("%.2f", *r.WallRatio)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %.2f%% | %s | %.2f%% | %s | %s |\n", r.Name, r.Arch, r.Changes, epochs,
			100*r.TestAcc, delta, 100*r.ValAcc, wall, ratio)
	}
	if p := a.Pricing; p != nil {
		fmt.Fprintf(&b, "\nWall time and × wall are priced from %s, one build's epochs measured in one sitting: the row's epochs × the median epoch of its model and setting there, against %d plain epochs of its model (the resnet's for its variants). The final evaluation is not priced; – where the setting was not measured. Epochs measured:\n\n", p.File, studyEpochs)
		b.WriteString("| Model | Work of an epoch beyond the study's | Epochs measured | Median epoch | × its model's plain epoch |\n")
		b.WriteString("|---|---|---:|---:|---:|\n")
		for _, c := range p.Costs {
			ratio := "–"
			if c.Ratio != nil {
				ratio = fmt.Sprintf("%.3f", *c.Ratio)
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %.1f s | %s |\n", c.Arch, c.Work, c.Epochs, c.Seconds, ratio)
		}
	}
	if len(a.Seeds) > 0 {
		b.WriteString("\nSettings run on more than one seed (test accuracy over the seeds; the standard deviation is the sample one):\n\n")
		b.WriteString("| Model | Changes besides the seed | Seeds | Runs | Mean test acc | SD | Min | Max |\n")
		b.WriteString("|---|---|---|---|---:|---:|---:|---:|\n")
		for _, g := range a.Seeds {
			seeds := make([]string, len(g.Seeds))
			for i, s := range g.Seeds {
				seeds[i] = strconv.FormatInt(s, 10)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %.2f%% | %.2f pts | %.2f%% | %.2f%% |\n", g.Arch, g.Setting,
				strings.Join(seeds, ", "), strings.Join(g.Runs, ", "), 100*g.Mean, 100*g.SD, 100*g.Min, 100*g.Max)
		}
	}
	head := false
	for _, r := range a.Rows {
		if len(r.EarlyStop) == 0 {
			continue
		}
		if !head {
			b.WriteString("\nEarly stopping replayed on the runs that recorded every epoch's test accuracy (an early-stopped run is the full run up to its stop, so these are the results it would report):\n\n")
			b.WriteString("| Run | Patience | Stopped after | Kept epoch | Test acc | Δ vs the full run | Epochs saved | Test acc keeping the last epoch instead |\n")
			b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|\n")
			head = true
		}
		for _, e := range r.EarlyStop {
			fmt.Fprintf(&b, "| %s | %d | %d/%d | %d | %.2f%% | %+.2f pts | %d (%.0f%%) | %.2f%% |\n", r.Name, e.Patience, e.StoppedEpoch, r.Epochs,
				e.BestEpoch, 100*e.TestAcc, e.DeltaTestPts, r.Epochs-e.StoppedEpoch, 100*float64(r.Epochs-e.StoppedEpoch)/float64(r.Epochs), 100*e.LastTestAcc)
		}
	}
	return b.String()
}

// WriteAblation writes dir/ablation.json and dir/ablation.md atomically.
func WriteAblation(dir string, a *Ablation) error {
	j, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "ablation.json"), append(j, '\n')); err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, "ablation.md"), []byte(a.Markdown()))
}

// ReadAblation reads dir/ablation.json.
func ReadAblation(dir string) (*Ablation, error) {
	b, err := os.ReadFile(filepath.Join(dir, "ablation.json"))
	if err != nil {
		return nil, err
	}
	var a Ablation
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(dir, "ablation.json"), err)
	}
	if len(a.Rows) == 0 {
		return nil, errors.New(filepath.Join(dir, "ablation.json") + ": no rows")
	}
	return &a, nil
}
