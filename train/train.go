// Package train is the study's training loop: Adam, cross-entropy, shuffled mini-batches,
// ReduceLROnPlateau on validation accuracy, evaluation, metrics and the files a run leaves behind
// (<arch>.safetensors, <arch>.metrics.json, summary.json, summary.md).
package train

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/gonum/blas/blas32"

	"github.com/simdnn/simdnn/dataset"
	"github.com/simdnn/simdnn/kernels"
	"github.com/simdnn/simdnn/nn"
)

// Config is one training run. DefaultConfig gives the study's recipe.
type Config struct {
	Arch   string  // "ann" or "cnn"
	Epochs int     // 18
	Batch  int     // 128
	LR     float64 // Adam's initial learning rate, 0.001
	Seed   int64   // initialization, dropout, split and shuffling all derive from it
	OutDir string  // where the model and metrics go; "" writes nothing
	// Observer, if not nil, hears about progress (the command draws its progress bar from it).
	Observer Observer

	// Issue 6's options; the zero values are the study's recipe.
	Schedule string // "plateau" (""), "cosine" or "onecycle" (see NewSchedule)
	Warmup   int    // epochs of linear learning-rate warm-up
	Patience int    // early stopping: stop after Patience epochs without a better val acc and restore the best epoch's weights; 0: off
	// KeepLast makes early stopping keep the weights of the epoch it stopped after instead of
	// restoring the best epoch's. With EMA the stopped epoch's average is as good as the best epoch's
	// on the resnet's seeds and less tuned to the validation set (README, "Early stopping with EMA").
	KeepLast bool
	Augment  bool // random 2-pixel-padded crops and horizontal flips of the training images
	// PreciseBN > 0 recomputes the BatchNorm running statistics before every validation as the
	// average over PreciseBN batches of training images, drawn anew each epoch (nn.RecomputeBNStats).
	PreciseBN int
	// Regularization beyond the study's recipe (zero: off). WeightDecay makes the optimizer PyTorch's
	// AdamW with that decoupled decay; LabelSmoothing is CrossEntropyLoss's label_smoothing; Erase is
	// the probability of random erasing (see eraseImage), independent of Augment.
	WeightDecay    float64
	LabelSmoothing float64
	Erase          float64
	// BlockDropout is the residual CNN's dropout between each block's two convolutions
	// (nn.SetBlockDropout); training only, so the model file is the same network.
	BlockDropout float64
	// Init "kaiming" redraws the convolutions' weights as torchvision's ResNet does
	// (nn.InitKaimingFanOut); "" or "pytorch" keeps PyTorch's layer defaults, the study's.
	Init string
	// ZeroInitResidual starts each residual block as its shortcut alone (nn.ZeroInitResidual:
	// torchvision's zero_init_residual=True).
	ZeroInitResidual bool
	// EMA > 0 evaluates, early-stops on and saves an exponential moving average of the weights with
	// this decay per optimizer step (see emaWeights) instead of the last step's weights; training itself
	// is unchanged, but the plateau schedule reacts to the average's validation accuracy.
	EMA float64
	// TestEachEpoch also evaluates the test set after every epoch, into the history. It is for
	// measuring (what early stopping with any patience would have kept and scored, replayed from one
	// run: ReplayEarlyStop); nothing in the run reads it.
	TestEachEpoch bool
	// Resume continues from OutDir's checkpoint of the same settings, if there is one. Checkpoints
	// are written after every epoch whenever OutDir is set.
	Resume bool

	haltAfter int // tests: stop after this epoch's checkpoint as if killed (errHalted)
}

// errHalted is what Run returns when Config.haltAfter stops it.
var errHalted = errors.New("halted after checkpoint")

// DefaultConfig is the study's recipe for arch.
func DefaultConfig(arch string) Config {
	return Config{Arch: arch, Epochs: 18, Batch: 128, LR: 0.001, Seed: 1, OutDir: "out"}
}

// Observer hears about a run's progress. Calls come from the training goroutine.
type Observer interface {
	// EpochStart is called before an epoch of images training images.
	EpochStart(arch string, epoch, epochs, images int)
	// Batch is called after each batch with the images done this epoch and the running mean loss
	// and accuracy over them.
	Batch(done int, loss, acc float64)
	// EpochEnd is called after the epoch's validation.
	EpochEnd(arch string, e Epoch)
	// Phase announces slower non-training work ("final evaluation", "saving").
	Phase(arch, what string)
}

// ValFraction is the share of the 60,000 training images held out for validation.
const ValFraction = 0.1

// Data is what a run trains and evaluates on, with the normalization computed from Train.
type Data struct {
	Train, Val, Test dataset.Split
	Mean, Std        float32
}

// PrepareData splits the training set 90/10 by seed, computes mean and std over the 90% part (so the
// validation images do not leak into the normalization), and then keeps only the first limit
// training images if limit > 0. Validation and test sets stay whole.
func PrepareData(ds *dataset.FashionMNIST, seed int64, limit int) Data {
	tr, va := dataset.TrainValIndices(ds.Train.Len(), ValFraction, seed)
	train := ds.Train.Subset(tr)
	mean, std := dataset.MeanStd(train.Images)
	return Data{Train: train.Head(limit), Val: ds.Train.Subset(va), Test: ds.Test, Mean: mean, Std: std}
}

// Epoch is one line of the training history. Train figures are the running means over the epoch's
// batches in training mode (dropout on, batch statistics), as PyTorch scripts usually report them;
// Val figures are in evaluation mode. LR is the rate the epoch trained with.
type Epoch struct {
	Epoch     int     `json:"epoch"`
	TrainLoss float64 `json:"train_loss"`
	TrainAcc  float64 `json:"train_acc"`
	ValLoss   float64 `json:"val_loss"`
	ValAcc    float64 `json:"val_acc"`
	LR        float64 `json:"lr"`
	Seconds   float64 `json:"seconds"`
	ImagesPS  float64 `json:"train_images_per_second"`
	TestAcc   float64 `json:"test_acc,omitempty"` // Config.TestEachEpoch only
}

// Score is a loss and accuracy over a whole split, in evaluation mode.
type Score struct {
	Loss    float64 `json:"loss"`
	Acc     float64 `json:"acc"`
	Correct int     `json:"correct"`
	Images  int     `json:"images"`
}

// Recipe records the settings a run used.
type Recipe struct {
	Epochs      int     `json:"epochs"`
	Batch       int     `json:"batch"`
	LR          float64 `json:"lr"`
	Seed        int64   `json:"seed"`
	TrainImages int     `json:"train_images"`
	ValFraction float64 `json:"val_fraction"`
	Optimizer   string  `json:"optimizer"`
	Scheduler   string  `json:"scheduler"`
	Loss        string  `json:"loss"`
	Warmup      int     `json:"warmup_epochs,omitempty"`
	Patience    int     `json:"early_stop_patience,omitempty"`
	KeepLast    bool    `json:"early_stop_keep_last,omitempty"`
	Augment     bool    `json:"augment,omitempty"`
	PreciseBN   int     `json:"precise_bn_batches,omitempty"`
	WeightDecay float64 `json:"weight_decay,omitempty"`
	Smoothing   float64 `json:"label_smoothing,omitempty"`
	Erase       float64 `json:"random_erasing,omitempty"`
	BlockDrop   float64 `json:"block_dropout,omitempty"`
	Init        string  `json:"init,omitempty"` // "kaiming"; empty: PyTorch's defaults
	ZeroInitRes bool    `json:"zero_init_residual,omitempty"`
	EMA         float64 `json:"ema_decay,omitempty"`
}

// Metrics is everything a run measured; it is written as <arch>.metrics.json.
type Metrics struct {
	Arch          string       `json:"arch"`
	Params        int          `json:"params"`
	Recipe        Recipe       `json:"recipe"`
	Mean          float32      `json:"mean"`
	Std           float32      `json:"std"`
	Classes       []string     `json:"classes"`
	History       []Epoch      `json:"history"`
	Train         Score        `json:"train"` // final, evaluation mode, over the training images used
	Val           Score        `json:"val"`
	Test          Score        `json:"test"`
	Confusion     [][]int      `json:"confusion"` // test set, [true][predicted]
	PerClass      []ClassScore `json:"per_class"` // test set
	ConfusedPairs []Pair       `json:"confused_pairs"`
	// TestPredictions holds the predicted class of every test image, in file order, so the report
	// can pick mistakes without running the model again.
	TestPredictions []uint8   `json:"test_predictions"`
	SecondsPerEpoch float64   `json:"seconds_per_epoch"` // mean training+validation time of an epoch
	WallSeconds     float64   `json:"wall_seconds"`      // the whole run, final evaluation included
	Threads         int       `json:"threads"`           // GOMAXPROCS
	Kernels         string    `json:"kernels"`           // kernels.Current().Name
	BLAS            string    `json:"blas"`              // the blas32 implementation's Go type
	GoVersion       string    `json:"go_version"`
	Platform        string    `json:"platform"`
	Started         time.Time `json:"started"`
	ModelFile       string    `json:"model_file,omitempty"`
	// Early stopping (Recipe.Patience > 0): the epoch of the best validation accuracy, the epoch the
	// run stopped after (Recipe.Epochs when it ran them all), and the epoch whose weights the model
	// holds: the best one, or with Recipe.KeepLast the stopped one. Files written before KeptEpoch
	// existed kept the best epoch (see Metrics.Kept).
	BestEpoch    int `json:"best_epoch,omitempty"`
	StoppedEpoch int `json:"stopped_epoch,omitempty"`
	KeptEpoch    int `json:"kept_epoch,omitempty"`
	// ResumedAfter lists the epochs after which the run was interrupted and resumed from a checkpoint.
	ResumedAfter []int `json:"resumed_after,omitempty"`
}

// Kept is the epoch whose weights an early-stopped run's model holds (0 without early stopping).
func (m *Metrics) Kept() int {
	if m.KeptEpoch > 0 {
		return m.KeptEpoch
	}
	return m.BestEpoch
}

// evalBatch is the batch size of evaluation: large enough for efficient GEMMs, small enough that the
// CNN's activations stay around a hundred MB. It is fixed so that an evaluation of a reloaded model
// repeats the trainer's arithmetic exactly.
const evalBatch = 500

// Run trains cfg.Arch on d, evaluates it and, if cfg.OutDir is set, writes the model and metrics.
func Run(cfg Config, d Data) (*Metrics, nn.Network, error) {
	if err := cfg.validate(d); err != nil {
		return nil, nil, err
	}
	start := time.Now()
	net, err := nn.New(cfg.Arch, cfg.Seed)
	if err != nil {
		return nil, nil, err
	}
	obs := cfg.Observer
	if obs == nil {
		obs = nopObserver{}
	}
	norm := dataset.NewNormalizer(d.Mean, d.Std)
	sched, err := NewSchedule(cfg.Schedule, cfg.LR, cfg.Epochs, cfg.Warmup)
	if err != nil {
		return nil, nil, err
	}
	recipeInit := cfg.Init // only a change from the study's defaults is recorded
	if recipeInit == "pytorch" {
		recipeInit = ""
	}
	m := &Metrics{
		Arch:   cfg.Arch,
		Params: net.ParamCount(),
		Recipe: Recipe{
			Epochs: cfg.Epochs, Batch: cfg.Batch, LR: cfg.LR, Seed: cfg.Seed, TrainImages: d.Train.Len(),
			ValFraction: ValFraction,
			Optimizer:   "Adam(betas=0.9/0.999, eps=1e-8)",
			Scheduler:   sched.String(),
			Loss:        "softmax cross-entropy",
			Warmup:      cfg.Warmup, Patience: cfg.Patience, KeepLast: cfg.KeepLast, Augment: cfg.Augment, PreciseBN: cfg.PreciseBN,
			WeightDecay: cfg.WeightDecay, Smoothing: cfg.LabelSmoothing, Erase: cfg.Erase,
			BlockDrop: cfg.BlockDropout, Init: recipeInit, ZeroInitRes: cfg.ZeroInitResidual, EMA: cfg.EMA,
		},
		Mean: d.Mean, Std: d.Std, Classes: dataset.ClassNames(),
		Threads: runtime.GOMAXPROCS(0), Kernels: kernels.Current().Name,
		BLAS:      fmt.Sprintf("%T", blas32.Implementation()),
		GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, Started: start.UTC(),
	}

	if cfg.WeightDecay > 0 {
		m.Recipe.Optimizer = fmt.Sprintf("AdamW(betas=0.9/0.999, eps=1e-8, weight_decay=%g)", cfg.WeightDecay)
	}
	if cfg.LabelSmoothing > 0 {
		m.Recipe.Loss = fmt.Sprintf("softmax cross-entropy, label smoothing %g", cfg.LabelSmoothing)
	}
	opt := nn.NewAdam(net.Params(), cfg.LR)
	opt.SetWeightDecay(cfg.WeightDecay)
	shuffleSrc := rand.NewPCG(uint64(cfg.Seed), 0x7368_7566_666c_6521)
	shuffle := rand.New(shuffleSrc)
	dropSrc := nn.DropoutSource(cfg.Seed)
	if err := nn.SetDropoutSource(net, dropSrc); err != nil {
		return nil, nil, err
	}
	if cfg.Init == "kaiming" {
		if err := nn.InitKaimingFanOut(net, cfg.Seed); err != nil {
			return nil, nil, err
		}
	}
	if cfg.ZeroInitResidual {
		if err := nn.ZeroInitResidual(net); err != nil {
			return nil, nil, err
		}
	}
	if cfg.BlockDropout > 0 {
		if err := nn.SetBlockDropout(net, float32(cfg.BlockDropout)); err != nil {
			return nil, nil, err
		}
	}
	// evalNet is the network evaluated, early-stopped on and saved: net itself, or with EMA the
	// average of its weights.
	evalNet := net
	var ema *emaWeights
	if cfg.EMA > 0 {
		avg, err := nn.New(cfg.Arch, cfg.Seed)
		if err != nil {
			return nil, nil, err
		}
		if ema, err = newEMA(cfg.EMA, netState(avg), netState(net)); err != nil {
			return nil, nil, err
		}
		evalNet = avg
	}
	var early *EarlyStop
	if cfg.Patience > 0 {
		early = NewEarlyStop(cfg.Patience)
	}
	x := make([]float32, cfg.Batch*dataset.ImageSize)
	labels := make([]uint8, cfg.Batch)
	dlogits := make([]float32, cfg.Batch*nn.NumClasses)
	aug := make([]uint8, dataset.ImageSize)
	n := d.Train.Len()
	// Steps per epoch: a last batch of one image is dropped (see below).
	spe := (n + cfg.Batch - 1) / cfg.Batch
	if n%cfg.Batch == 1 {
		spe--
	}
	var trainSeconds, wallBefore float64
	first, stopped := 1, false
	ckptPath := ""
	if cfg.OutDir != "" {
		ckptPath = CheckpointPath(cfg.OutDir, cfg.Arch)
	}
	if cfg.Resume && ckptPath != "" {
		c, err := readCheckpoint(ckptPath)
		switch {
		case errors.Is(err, errNoCheckpoint):
			// Nothing to resume: a fresh run.
		case err != nil:
			return nil, nil, err
		default:
			if c.Fingerprint != cfg.fingerprint(d) {
				return nil, nil, fmt.Errorf("checkpoint %s is of another run (%s), not of this one (%s); remove it or change --out", ckptPath, c.Fingerprint, cfg.fingerprint(d))
			}
			if err := c.restoreState(ckptPath, netState(net), netState(evalNet)); err != nil {
				return nil, nil, err
			}
			if ema != nil {
				if c.EMA == nil {
					return nil, nil, fmt.Errorf("checkpoint %s: no weight average to resume", ckptPath)
				}
				for i, p := range ema.avg {
					copy(p.Value, c.EMA[i])
				}
				ema.steps = c.EMASteps
			}
			if err := opt.SetState(c.Adam); err != nil {
				return nil, nil, fmt.Errorf("checkpoint %s: %v", ckptPath, err)
			}
			if err := shuffleSrc.UnmarshalBinary(c.ShuffleRNG); err != nil {
				return nil, nil, fmt.Errorf("checkpoint %s: shuffling generator: %v", ckptPath, err)
			}
			if err := dropSrc.UnmarshalBinary(c.DropoutRNG); err != nil {
				return nil, nil, fmt.Errorf("checkpoint %s: dropout generator: %v", ckptPath, err)
			}
			if c.Early != nil && early != nil {
				early = c.Early
			}
			for _, e := range c.History {
				sched.EpochEnd(e.ValAcc)
			}
			m.History = c.History
			trainSeconds, wallBefore = c.TrainSeconds, c.WallSeconds
			m.ResumedAfter = append(c.Resumes, c.Epoch)
			first, stopped = c.Epoch+1, c.Stopped
		}
	}

	for ep := first; ep <= cfg.Epochs && !stopped; ep++ {
		t0 := time.Now()
		obs.EpochStart(cfg.Arch, ep, cfg.Epochs, n)
		perm := shuffle.Perm(n)
		var augRNG, eraseRNGep *rand.Rand
		if cfg.Augment {
			augRNG = augmentRNG(cfg.Seed, ep)
		}
		if cfg.Erase > 0 {
			eraseRNGep = eraseRNG(cfg.Seed, ep)
		}
		var lossSum float64
		var correct, done int
		step := (ep - 1) * spe
		lr := sched.LR(step, spe)
		for b := 0; b < n; b += cfg.Batch {
			nb := min(cfg.Batch, n-b)
			if nb == 1 && b > 0 {
				// BatchNorm cannot normalize a batch of one (PyTorch refuses it); drop such a tail.
				break
			}
			for j := 0; j < nb; j++ {
				i := perm[b+j]
				img := d.Train.Image(i)
				if augRNG != nil {
					dx, dy, flip := augmentDraw(augRNG)
					augmentImage(aug, img, dx, dy, flip)
					img = aug
				}
				if eraseRNGep != nil {
					if augRNG == nil {
						copy(aug, img)
						img = aug
					}
					eraseImage(aug, cfg.Erase, eraseRNGep)
				}
				norm.Apply(x[j*dataset.ImageSize:(j+1)*dataset.ImageSize], img)
				labels[j] = d.Train.Labels[i]
			}
			logits := net.Forward(x[:nb*dataset.ImageSize], nb, true)
			loss, c := nn.SmoothedCrossEntropy(logits, labels[:nb], nb, cfg.LabelSmoothing, dlogits[:nb*nn.NumClasses])
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return nil, nil, fmt.Errorf("%s: training diverged (loss %v) in epoch %d", cfg.Arch, loss, ep)
			}
			lr = sched.LR(step, spe)
			opt.SetLR(lr)
			opt.ZeroGrad()
			net.Backward(dlogits[:nb*nn.NumClasses])
			opt.Step()
			if ema != nil {
				ema.update()
			}
			step++
			lossSum += loss * float64(nb)
			correct += c
			done += nb
			obs.Batch(done, lossSum/float64(done), float64(correct)/float64(done))
		}
		trainDur := time.Since(t0).Seconds()
		if cfg.PreciseBN > 0 {
			obs.Phase(cfg.Arch, "recomputing BatchNorm statistics")
			if err := PreciseBN(evalNet, d.Train, norm, cfg.PreciseBN, cfg.Batch, cfg.Seed, ep); err != nil {
				return nil, nil, err
			}
		}
		val, _ := Evaluate(evalNet, d.Val, norm)
		e := Epoch{
			Epoch: ep, TrainLoss: lossSum / float64(done), TrainAcc: float64(correct) / float64(done),
			ValLoss: val.Loss, ValAcc: val.Acc, LR: lr, Seconds: time.Since(t0).Seconds(),
			ImagesPS: float64(done) / trainDur,
		}
		if cfg.TestEachEpoch {
			test, _ := Evaluate(evalNet, d.Test, norm)
			e.TestAcc = test.Acc
			e.Seconds = time.Since(t0).Seconds()
		}
		trainSeconds += e.Seconds
		m.History = append(m.History, e)
		obs.EpochEnd(cfg.Arch, e)
		sched.EpochEnd(val.Acc)
		if early != nil && early.Observe(ep, val.Acc, netState(evalNet)) {
			stopped = true
		}
		if ckptPath != "" {
			if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
				return nil, nil, err
			}
			c := &checkpoint{Fingerprint: cfg.fingerprint(d), Epoch: ep, Stopped: stopped, Adam: opt.State(),
				History: m.History, Early: early, TrainSeconds: trainSeconds,
				WallSeconds: wallBefore + time.Since(start).Seconds(), Resumes: m.ResumedAfter}
			for _, p := range netState(net) {
				c.Names = append(c.Names, p.Name)
				c.State = append(c.State, p.Value)
			}
			if ema != nil {
				for _, p := range ema.avg {
					c.EMA = append(c.EMA, p.Value)
				}
				c.EMASteps = ema.steps
			}
			c.ShuffleRNG, _ = shuffleSrc.MarshalBinary()
			c.DropoutRNG, _ = dropSrc.MarshalBinary()
			if err := writeCheckpoint(ckptPath, c); err != nil {
				return nil, nil, err
			}
			if cfg.haltAfter == ep {
				return nil, nil, errHalted
			}
		}
	}
	m.SecondsPerEpoch = trainSeconds / float64(max(1, len(m.History)))
	if early != nil {
		m.BestEpoch, m.StoppedEpoch, m.KeptEpoch = early.BestEpoch, len(m.History), early.BestEpoch
		if cfg.KeepLast {
			m.KeptEpoch = m.StoppedEpoch
		} else {
			early.Restore(netState(evalNet))
		}
	}

	obs.Phase(cfg.Arch, "final evaluation")
	m.Train, _ = Evaluate(evalNet, d.Train, norm)
	m.Val, _ = Evaluate(evalNet, d.Val, norm)
	var preds []uint8
	m.Test, preds = Evaluate(evalNet, d.Test, norm)
	m.TestPredictions = preds
	m.Confusion = Confusion(d.Test.Labels, preds, nn.NumClasses)
	m.PerClass = PerClass(m.Confusion, m.Classes)
	m.ConfusedPairs = ConfusedPairs(m.Confusion, m.Classes, 5)

	if cfg.OutDir != "" {
		obs.Phase(cfg.Arch, "saving")
		if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
			return nil, nil, err
		}
		m.ModelFile = cfg.Arch + ".safetensors"
		meta := nn.Meta{Arch: cfg.Arch, Mean: d.Mean, Std: d.Std, Classes: m.Classes, Extra: recipeMeta(m)}
		if err := nn.Save(filepath.Join(cfg.OutDir, m.ModelFile), evalNet, meta); err != nil {
			return nil, nil, err
		}
		m.WallSeconds = wallBefore + time.Since(start).Seconds()
		if err := WriteMetrics(filepath.Join(cfg.OutDir, cfg.Arch+".metrics.json"), m); err != nil {
			return nil, nil, err
		}
	} else {
		m.WallSeconds = wallBefore + time.Since(start).Seconds()
	}
	return m, evalNet, nil
}

func recipeMeta(m *Metrics) map[string]string {
	r := m.Recipe
	meta := map[string]string{
		"epochs": strconv.Itoa(r.Epochs), "batch": strconv.Itoa(r.Batch),
		"lr": strconv.FormatFloat(r.LR, 'g', -1, 64), "seed": strconv.FormatInt(r.Seed, 10),
		"train_images": strconv.Itoa(r.TrainImages), "optimizer": r.Optimizer, "scheduler": r.Scheduler,
		"loss": r.Loss, "test_acc": strconv.FormatFloat(m.Test.Acc, 'f', 6, 64),
	}
	// The options that change the weights, under the metrics file's names, only when set: a model
	// file should say how it was trained without the metrics file beside it.
	opt := func(k string, v float64) {
		if v != 0 {
			meta[k] = strconv.FormatFloat(v, 'g', -1, 64)
		}
	}
	opt("warmup_epochs", float64(r.Warmup))
	opt("early_stop_patience", float64(r.Patience))
	if r.KeepLast {
		meta["early_stop_keep"] = "last"
	}
	opt("precise_bn_batches", float64(r.PreciseBN))
	opt("weight_decay", r.WeightDecay)
	opt("label_smoothing", r.Smoothing)
	opt("random_erasing", r.Erase)
	opt("block_dropout", r.BlockDrop)
	opt("ema_decay", r.EMA)
	if r.Init != "" {
		meta["init"] = r.Init
	}
	if r.ZeroInitRes {
		meta["zero_init_residual"] = "true"
	}
	if r.Augment {
		meta["augment"] = "crop+flip"
	}
	return meta
}

func (cfg Config) validate(d Data) error {
	switch {
	case cfg.Epochs < 1:
		return fmt.Errorf("epochs must be at least 1, not %d", cfg.Epochs)
	case cfg.Batch < 2:
		return fmt.Errorf("batch must be at least 2 (BatchNorm needs two images), not %d", cfg.Batch)
	case !(cfg.LR > 0) || math.IsInf(cfg.LR, 0):
		return fmt.Errorf("learning rate must be a positive number, not %v", cfg.LR)
	case d.Train.Len() < 2:
		return fmt.Errorf("need at least 2 training images, have %d", d.Train.Len())
	case d.Val.Len() < 1 || d.Test.Len() < 1:
		return errors.New("validation and test sets must not be empty")
	case !(d.Std > 0):
		return fmt.Errorf("normalization std must be positive, not %v", d.Std)
	case cfg.Patience < 0:
		return fmt.Errorf("early-stopping patience must be 0 (off) or positive, not %d", cfg.Patience)
	case cfg.KeepLast && cfg.Patience == 0:
		return errors.New("keeping the last epoch's weights is an early-stopping choice: it needs a patience")
	case cfg.PreciseBN < 0:
		return fmt.Errorf("precise-BN batches must be 0 (off) or positive, not %d", cfg.PreciseBN)
	case !(cfg.WeightDecay >= 0) || cfg.WeightDecay*cfg.LR >= 1 || math.IsInf(cfg.WeightDecay, 0):
		return fmt.Errorf("weight decay must be 0 (off) or positive with lr·decay < 1, not %v", cfg.WeightDecay)
	case !(cfg.LabelSmoothing >= 0 && cfg.LabelSmoothing < 1):
		return fmt.Errorf("label smoothing must be in [0, 1), not %v", cfg.LabelSmoothing)
	case !(cfg.Erase >= 0 && cfg.Erase <= 1):
		return fmt.Errorf("random-erasing probability must be in [0, 1], not %v", cfg.Erase)
	case !(cfg.EMA >= 0 && cfg.EMA < 1):
		return fmt.Errorf("EMA decay must be in [0, 1) (0: off), not %v", cfg.EMA)
	case !(cfg.BlockDropout >= 0 && cfg.BlockDropout < 1):
		return fmt.Errorf("block dropout must be in [0, 1), not %v", cfg.BlockDropout)
	case cfg.Init != "" && cfg.Init != "pytorch" && cfg.Init != "kaiming":
		return fmt.Errorf("init must be pytorch or kaiming, not %q", cfg.Init)
	case cfg.Init == "kaiming" && cfg.Arch == "ann":
		return errors.New("kaiming init is for the convolutional networks (cnn, resnet), not ann")
	case cfg.ZeroInitResidual && !nn.IsResNet(cfg.Arch):
		return fmt.Errorf("zero-init of the residual blocks is for the residual CNN (%s), not %s", strings.Join(nn.ResNetArchs(), ", "), cfg.Arch)
	case cfg.BlockDropout > 0 && !nn.IsResNet(cfg.Arch):
		return fmt.Errorf("block dropout is for the residual CNN (%s), not %s", strings.Join(nn.ResNetArchs(), ", "), cfg.Arch)
	}
	return nil
}

// fingerprint names the settings a checkpoint must share with a run that resumes it.
func (cfg Config) fingerprint(d Data) string {
	if cfg.Schedule == "" {
		cfg.Schedule = "plateau"
	}
	fp := fmt.Sprintf("arch=%s epochs=%d batch=%d lr=%g seed=%d schedule=%s warmup=%d patience=%d augment=%v train=%d val=%d mean=%g std=%g",
		cfg.Arch, cfg.Epochs, cfg.Batch, cfg.LR, cfg.Seed, cfg.Schedule, cfg.Warmup, cfg.Patience, cfg.Augment,
		d.Train.Len(), d.Val.Len(), d.Mean, d.Std)
	if cfg.PreciseBN > 0 {
		// Appended only when set, so checkpoints written before the option existed still resume.
		fp += fmt.Sprintf(" precise_bn=%d", cfg.PreciseBN)
	}
	if cfg.WeightDecay > 0 {
		fp += fmt.Sprintf(" weight_decay=%g", cfg.WeightDecay)
	}
	if cfg.LabelSmoothing > 0 {
		fp += fmt.Sprintf(" label_smoothing=%g", cfg.LabelSmoothing)
	}
	if cfg.Erase > 0 {
		fp += fmt.Sprintf(" erase=%g", cfg.Erase)
	}
	if cfg.Init == "kaiming" {
		fp += " init=kaiming"
	}
	if cfg.ZeroInitResidual {
		fp += " zero_init_residual"
	}
	if cfg.BlockDropout > 0 {
		fp += fmt.Sprintf(" block_dropout=%g", cfg.BlockDropout)
	}
	if cfg.KeepLast {
		fp += " keep_last"
	}
	if cfg.EMA > 0 {
		fp += fmt.Sprintf(" ema=%g", cfg.EMA)
	}
	return fp
}

// Evaluate runs net in evaluation mode over s and returns the mean loss, the accuracy and every
// prediction. Its fixed batch size makes the result reproducible bit for bit.
func Evaluate(net nn.Network, s dataset.Split, norm *dataset.Normalizer) (Score, []uint8) {
	n := s.Len()
	x := make([]float32, min(evalBatch, n)*dataset.ImageSize)
	preds := make([]uint8, n)
	var lossSum float64
	var correct int
	for b := 0; b < n; b += evalBatch {
		nb := min(evalBatch, n-b)
		norm.Apply(x, s.Images[b*dataset.ImageSize:(b+nb)*dataset.ImageSize])
		logits := net.Forward(x[:nb*dataset.ImageSize], nb, false)
		loss, c := nn.SoftmaxCrossEntropy(logits, s.Labels[b:b+nb], nb, nil)
		lossSum += loss * float64(nb)
		correct += c
		for j := 0; j < nb; j++ {
			preds[b+j] = uint8(argmax(logits[j*nn.NumClasses : (j+1)*nn.NumClasses]))
		}
	}
	if n == 0 {
		return Score{}, preds
	}
	return Score{Loss: lossSum / float64(n), Acc: float64(correct) / float64(n), Correct: correct, Images: n}, preds
}

// argmax picks the first maximum, as SoftmaxCrossEntropy and torch.argmax do.
func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

type nopObserver struct{}

func (nopObserver) EpochStart(string, int, int, int) {}
func (nopObserver) Batch(int, float64, float64)      {}
func (nopObserver) EpochEnd(string, Epoch)           {}
func (nopObserver) Phase(string, string)             {}

// PreciseBN recomputes net's BatchNorm running statistics as the average over batches batches of
// batch training images (nn.RecomputeBNStats), all of s if it holds fewer. The images are a random
// choice without repeats drawn from seed and draw alone (training passes the epoch, so a resumed run
// draws the same ones), unaugmented: the statistics are for evaluating unaugmented images.
func PreciseBN(net nn.Network, s dataset.Split, norm *dataset.Normalizer, batches, batch int, seed int64, draw int) error {
	if batches < 1 || batch < 2 {
		return fmt.Errorf("precise BN: %d batches of %d images, want at least 1 of 2", batches, batch)
	}
	k := min(batches*batch, s.Len())
	x := make([]float32, k*dataset.ImageSize)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6273_7461_7473_0000+uint64(draw)))
	for j, i := range rng.Perm(s.Len())[:k] {
		norm.Apply(x[j*dataset.ImageSize:(j+1)*dataset.ImageSize], s.Image(i))
	}
	return nn.RecomputeBNStats(net, x, k, batch)
}
