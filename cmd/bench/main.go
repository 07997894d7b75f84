// Command bench measures the kit's inference on the models `train` wrote: it first checks each
// model's test accuracy against train's record, then measures batch-1 latency, throughput over batch
// sizes and thread counts, GFLOP/s against this CPU's FMA peak, and a per-layer breakdown.
//
//	bench                          # both models from ./out, readable tables
//	bench --model cnn --isa avx2   # one model on a forced kernel set
//	bench --format benchfmt > b.txt; bench --isa generic --format benchfmt > a.txt; benchstat a.txt b.txt
//	bench --random-weights         # no trained model needed (no accuracy check)
//
// It also writes <out>/bench.json (bench-random-weights.json with --random-weights).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/simdnn/simdnn/bench"
	"github.com/simdnn/simdnn/kernels"
	"github.com/simdnn/simdnn/nn"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "all", "model to benchmark: ann, cnn, resnet, resnet-wide, resnet-deep (issue 6's residual CNN, three variants) or all (ann and cnn)")
	out := fs.String("out", "out", "directory with train's <model>.safetensors and <model>.metrics.json; bench.json is written here")
	data := fs.String("data", "", "Fashion-MNIST directory (default: $FASHION_MNIST, /usr/share/datasets/fashion-mnist, ./data)")
	isa := fs.String("isa", "", "force a kernel set (default: the best this CPU runs)")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "measure 1..N threads")
	format := fs.String("format", "table", "output: table or benchfmt (Go benchmark format, for benchstat)")
	random := fs.Bool("random-weights", false, "benchmark freshly initialized models (no model file, no accuracy check)")
	count := fs.Int("count", 1, "runs of each benchmark (like go test -count; benchstat wants several)")
	benchtime := fs.Duration("benchtime", time.Second, "duration of each run")
	batches := fs.String("batch", "1,8,32,128,512", "comma-separated batch sizes for the throughput")
	quiet := fs.Bool("quiet", false, "no progress bars")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: bench [flags]\n\nMeasures inference speed of the models train wrote (see `train`).\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var models []string
	switch {
	case *model == "all":
		models = slices.Clone(nn.Archs)
	case slices.Contains(nn.AllArchs, *model):
		models = []string{*model}
	default:
		return fmt.Errorf("--model %q: want %s or all", *model, strings.Join(nn.AllArchs, ", "))
	}
	if *format != "table" && *format != "benchfmt" {
		return fmt.Errorf("--format %q: want table or benchfmt", *format)
	}
	if *threads < 1 || *count < 1 || *benchtime <= 0 {
		return fmt.Errorf("--threads, --count and --benchtime must be positive")
	}
	var bs []int
	for _, f := range strings.Split(*batches, ",") {
		b, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || b < 1 || b > 1<<16 {
			return fmt.Errorf("--batch %q: want batch sizes between 1 and 65536, comma-separated", *batches)
		}
		bs = append(bs, b)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	kernels.UseWithGonum()
	cfg := bench.Config{Models: models, OutDir: *out, DataDir: *data, ISA: *isa, Threads: *threads,
		RandomWeights: *random, Count: *count, Benchtime: *benchtime, Batches: bs}
	if !*quiet {
		cfg.Progress = stderr
	}
	rep, err := bench.Run(cfg)
	if err != nil {
		return err
	}
	if *format == "benchfmt" {
		return bench.WriteBenchfmt(stdout, rep)
	}
	return bench.WriteTable(stdout, rep)
}
