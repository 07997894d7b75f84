// Command train reproduces the study: it trains the ANN and the CNN on Fashion-MNIST with the
// study's recipe, writes each model (safetensors) and its metrics into the output directory and
// prints the study's Key Findings table from our measurements.
//
//	train [--model ann|cnn|resnet|resnet-wide|resnet-deep|all] [--epochs 18] [--batch 128] [--lr 0.001] [--seed 1]
//	      [--data DIR] [--out out] [--limit N] [--threads N] [--download] [--cpuprofile FILE]
//	      [--schedule plateau|cosine|onecycle] [--warmup N] [--patience N [--keep best|last]] [--augment] [--precise-bn N]
//	      [--weight-decay W] [--label-smoothing E] [--erase P] [--block-dropout P] [--ema D] [--test-each-epoch] [--resume]
//
// --model resnet trains issue 6's compact residual CNN, --model resnet-wide and resnet-deep its wider
// and deeper variants (none is part of "all", the study's two models).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/simdnn/simdnn/dataset"
	"github.com/simdnn/simdnn/kernels"
	"github.com/simdnn/simdnn/nn"
	"github.com/simdnn/simdnn/train"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	model    string
	epochs   int
	batch    int
	lr       float64
	seed     int64
	data     string
	out      string
	limit    int
	threads  int
	download bool
	schedule string
	warmup   int
	patience int
	keep     string
	augment  bool
	bnStats  int
	decay    float64
	smooth   float64
	erase    float64
	blkDrop  float64
	ema      float64
	init     string
	zeroRes  bool
	testEach bool
	resume   bool
	isa      string
	blas     string
	cpuprof  string
}

// run is the whole command; it returns the exit code. Every error is one line on stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		// A bug must still end as one line and exit code 1, not a stack dump.
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "train: internal error: %v\n", r)
			code = 1
		}
	}()
	if len(args) > 0 && args[0] == "report" {
		return runReport(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "ablation" {
		return runAblation(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "epoch-cost" {
		return runEpochCost(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "tta" {
		return runTTA(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "precise-bn" {
		return runPreciseBN(args[1:], stdout, stderr)
	}
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "train: %v\n", err)
		return 1
	}
	if o.cpuprof != "" {
		stop, err := startCPUProfile(o.cpuprof)
		if err != nil {
			fmt.Fprintf(stderr, "train: %v\n", err)
			return 1
		}
		defer func() {
			if err := stop(); err != nil {
				fmt.Fprintf(stderr, "train: %v\n", err)
				code = 1
			}
		}()
	}
	if err := train1(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "train: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.StringVar(&o.model, "model", "all", "model to train: ann, cnn, resnet, resnet-wide (resnet with an 80-channel 14×14 stage), resnet-deep (resnet with one more block at 28×28), or all (ann and cnn)")
	fs.IntVar(&o.epochs, "epochs", 18, "training epochs")
	fs.IntVar(&o.batch, "batch", 128, "mini-batch size")
	fs.Float64Var(&o.lr, "lr", 0.001, "Adam's initial learning rate")
	fs.Int64Var(&o.seed, "seed", 1, "seed of initialization, dropout, split and shuffling")
	fs.StringVar(&o.data, "data", "", dataDirHelp)
	fs.StringVar(&o.out, "out", "out", "output directory for models, metrics and the summary")
	fs.IntVar(&o.limit, "limit", 0, "train on only the first N training images (0: all 54,000), for quick runs")
	fs.IntVar(&o.threads, "threads", 0, "threads (GOMAXPROCS); 0: all cores")
	fs.BoolVar(&o.download, "download", false, "download the dataset from the official mirror into --data (default ./"+dataset.LocalDir+") first")
	fs.StringVar(&o.schedule, "schedule", "plateau", "learning-rate schedule: plateau (the study's ReduceLROnPlateau), cosine or onecycle")
	fs.IntVar(&o.warmup, "warmup", 0, "epochs of linear learning-rate warm-up")
	fs.IntVar(&o.patience, "patience", 0, "early stopping: stop after N epochs without a better validation accuracy and keep the best epoch's weights (--keep last: the stopped epoch's; 0: off)")
	fs.StringVar(&o.keep, "keep", "best", "with --patience, the weights the run ends with: best (the best validation epoch's, restored) or last (the epoch it stopped after)")
	fs.BoolVar(&o.augment, "augment", false, "augment the training images: random crops with 2-pixel padding and horizontal flips")
	fs.IntVar(&o.bnStats, "precise-bn", 0, "before every validation, recompute the BatchNorm statistics as the average over N batches of training images (precise BN; 0: the moving average, as PyTorch)")
	fs.Float64Var(&o.decay, "weight-decay", 0, "decoupled weight decay: the optimizer becomes PyTorch's AdamW with this weight_decay (0: Adam, the study's)")
	fs.Float64Var(&o.smooth, "label-smoothing", 0, "label smoothing of the cross-entropy's targets, as PyTorch's CrossEntropyLoss(label_smoothing=…) (0: off)")
	fs.Float64Var(&o.erase, "erase", 0, "random erasing: the probability that a training image gets a rectangle of random pixels (0: off; 0.5 is the paper's)")
	fs.Float64Var(&o.ema, "ema", 0, "evaluate, early-stop on and save an exponential moving average of the weights with this decay per step, e.g. 0.999 (0: off, the last step's weights)")
	fs.Float64Var(&o.blkDrop, "block-dropout", 0, "resnet: dropout with this probability between each residual block's two convolutions (training only; 0: off)")
	fs.BoolVar(&o.zeroRes, "zero-init-residual", false, "resnet: start each residual block as its shortcut (its last BatchNorm's scale zero), as torchvision's zero_init_residual")
	fs.StringVar(&o.init, "init", "pytorch", "convolution weights' initialization: pytorch (the layers' defaults, the study's) or kaiming (torchvision ResNet's kaiming_normal_, fan_out)")
	fs.BoolVar(&o.testEach, "test-each-epoch", false, "also record the test accuracy after every epoch (for measuring early stopping; the run never reads it)")
	fs.StringVar(&o.isa, "isa", "", "force a kernel set (avx512, avx2, neon, generic; default: the best this CPU runs)")
	fs.StringVar(&o.blas, "blas", "kernels", "matrix products on: kernels (this kit's SGEMM) or gonum (gonum's pure-Go BLAS, for comparison)")
	fs.StringVar(&o.cpuprof, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof reads it)")
	fs.BoolVar(&o.resume, "resume", false, "continue an interrupted run from the checkpoint in --out (written after every epoch)")
	// The flag package's own messages span lines (error plus usage); print one line instead, and the
	// usage only when asked for.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stderr)
			fmt.Fprintln(stderr, "usage: train [flags]")
			fs.PrintDefaults()
		}
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q (flags only; see train -h)", fs.Arg(0))
	}
	switch {
	case o.model != "all" && !slices.Contains(nn.AllArchs, o.model):
		return o, fmt.Errorf("--model %q: want %s or all", o.model, strings.Join(nn.AllArchs, ", "))
	case !slices.Contains(train.Schedules, o.schedule):
		return o, fmt.Errorf("--schedule %q: want plateau, cosine or onecycle", o.schedule)
	case o.warmup < 0 || o.warmup >= o.epochs && o.warmup > 0:
		return o, fmt.Errorf("--warmup %d: want 0 to %d (fewer than --epochs)", o.warmup, o.epochs-1)
	case o.patience < 0:
		return o, fmt.Errorf("--patience %d: want 0 (off) or a positive count", o.patience)
	case o.keep != "best" && o.keep != "last":
		return o, fmt.Errorf("--keep %q: want best or last", o.keep)
	case o.keep == "last" && o.patience == 0:
		return o, errors.New("--keep last: it says which weights early stopping keeps, so it needs --patience N")
	case o.bnStats < 0:
		return o, fmt.Errorf("--precise-bn %d: want 0 (off) or a positive count of batches", o.bnStats)
	case !(o.decay >= 0) || o.decay*o.lr >= 1 || math.IsInf(o.decay, 0):
		return o, fmt.Errorf("--weight-decay %v: want 0 (off) or a positive number with --lr × it below 1", o.decay)
	case !(o.smooth >= 0 && o.smooth < 1):
		return o, fmt.Errorf("--label-smoothing %v: want a number in [0, 1)", o.smooth)
	case !(o.erase >= 0 && o.erase <= 1):
		return o, fmt.Errorf("--erase %v: want a probability in [0, 1]", o.erase)
	case !(o.ema >= 0 && o.ema < 1):
		return o, fmt.Errorf("--ema %v: want a decay in [0, 1)", o.ema)
	case !(o.blkDrop >= 0 && o.blkDrop < 1):
		return o, fmt.Errorf("--block-dropout %v: want a probability in [0, 1)", o.blkDrop)
	case o.init != "pytorch" && o.init != "kaiming":
		return o, fmt.Errorf("--init %q: want pytorch or kaiming", o.init)
	case o.init == "kaiming" && o.model == "ann":
		return o, errors.New("--init kaiming is for the convolutional networks (--model cnn or resnet), not ann")
	case o.zeroRes && !nn.IsResNet(o.model):
		return o, fmt.Errorf("--zero-init-residual is for the residual CNN (--model %s), not %s", strings.Join(nn.ResNetArchs(), ", "), o.model)
	case o.blkDrop > 0 && !nn.IsResNet(o.model):
		return o, fmt.Errorf("--block-dropout is for the residual CNN (--model %s), not %s", strings.Join(nn.ResNetArchs(), ", "), o.model)
	case o.epochs < 1:
		return o, fmt.Errorf("--epochs %d: want at least 1", o.epochs)
	case o.batch < 2:
		return o, fmt.Errorf("--batch %d: want at least 2 (BatchNorm needs two images)", o.batch)
	case !(o.lr > 0) || math.IsInf(o.lr, 0):
		return o, fmt.Errorf("--lr %v: want a positive number", o.lr)
	case o.limit < 0:
		return o, fmt.Errorf("--limit %d: want 0 (all) or a positive count", o.limit)
	case o.threads < 0:
		return o, fmt.Errorf("--threads %d: want 0 (all cores) or a positive count", o.threads)
	case o.blas != "kernels" && o.blas != "gonum":
		return o, fmt.Errorf("--blas %q: want kernels or gonum", o.blas)
	case o.out == "":
		return o, errors.New("--out must name a directory")
	}
	return o, nil
}

func train1(ctx context.Context, o options, stdout, stderr io.Writer) error {
	if o.threads > 0 {
		runtime.GOMAXPROCS(o.threads)
	}
	if o.isa != "" {
		if err := kernels.Use(o.isa); err != nil {
			return fmt.Errorf("--isa: %w", err)
		}
	}
	if o.blas == "kernels" {
		kernels.UseWithGonum() // all of nn's GEMMs on our SGEMM
	}

	dir := o.data
	if o.download {
		if dir == "" {
			dir = dataset.LocalDir
		}
		fmt.Fprintf(stderr, "downloading Fashion-MNIST from %s into %s\n", dataset.MirrorURL, dir)
		if err := dataset.Download(ctx, dir, dataset.MirrorURL); err != nil {
			return err
		}
	}
	dir, err := dataset.FindDir(dir)
	if err != nil {
		return err
	}
	ds, err := dataset.Load(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	data := train.PrepareData(ds, o.seed, o.limit)
	archs := nn.Archs
	if o.model != "all" {
		archs = []string{o.model}
	}
	fmt.Fprintf(stdout, "Fashion-MNIST from %s: %d train / %d validation / %d test images; mean %.4f std %.4f; %d threads, kernels %s\n",
		dir, data.Train.Len(), data.Val.Len(), data.Test.Len(), data.Mean, data.Std, runtime.GOMAXPROCS(0), kernels.Current().Name)

	var ran []*train.Metrics
	for _, arch := range archs {
		if err := ctx.Err(); err != nil {
			return errors.New("interrupted")
		}
		cfg := train.Config{Arch: arch, Epochs: o.epochs, Batch: o.batch, LR: o.lr, Seed: o.seed, OutDir: o.out,
			Observer: newProgress(stdout, stderr),
			Schedule: o.schedule, Warmup: o.warmup, Patience: o.patience, KeepLast: o.keep == "last", Augment: o.augment, PreciseBN: o.bnStats,
			WeightDecay: o.decay, LabelSmoothing: o.smooth, Erase: o.erase, BlockDropout: o.blkDrop, EMA: o.ema, Init: o.init, ZeroInitResidual: o.zeroRes, TestEachEpoch: o.testEach,
			Resume: o.resume}
		m, _, err := train.Run(cfg, data)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: train %.2f%%  val %.2f%%  test %.2f%% (loss %.4f)  %d parameters  %.1f s/epoch  → %s\n",
			arch, 100*m.Train.Acc, 100*m.Val.Acc, 100*m.Test.Acc, m.Test.Loss, m.Params, m.SecondsPerEpoch,
			filepath.Join(o.out, m.ModelFile))
		if m.ResumedAfter != nil {
			fmt.Fprintf(stdout, "%s: resumed from the checkpoint after epoch %d\n", arch, m.ResumedAfter[len(m.ResumedAfter)-1])
		}
		if o.patience > 0 {
			fmt.Fprintf(stdout, "%s: early stopping ran %d of %d epochs and kept epoch %d's weights (best validation accuracy at epoch %d)\n",
				arch, m.StoppedEpoch, o.epochs, m.Kept(), m.BestEpoch)
		}
		ran = append(ran, m)
	}

	// The table covers this run's models and, when only one was trained, the other model's latest
	// metrics in the output directory, so `--model cnn` after `--model ann` still compares them.
	all := ran
	for _, arch := range nn.Archs {
		if hasArch(ran, arch) {
			continue
		}
		m, err := train.ReadMetrics(filepath.Join(o.out, arch+".metrics.json"))
		if err != nil {
			continue
		}
		fmt.Fprintf(stdout, "(the %s column is from the earlier run in %s, started %s)\n", strings.ToUpper(arch), o.out, m.Started.Format("2006-01-02 15:04"))
		all = append(all, m)
	}
	if !hasArch(all, "ann") && !hasArch(all, "cnn") {
		// A residual-CNN-only run: no Key Findings table, which compares the study's two models with
		// the study, but the report covers the residual CNN.
		return writeReport(o.out, dir, stdout)
	}
	s := train.Summarize(all)
	if err := train.WriteSummary(o.out, s); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nKey Findings (ours vs the study's)\n\n%s", s.Table())
	return writeReport(o.out, dir, stdout)
}

func hasArch(ms []*train.Metrics, arch string) bool {
	for _, m := range ms {
		if m.Arch == arch {
			return true
		}
	}
	return false
}
