package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/simdnn/simdnn/train"
)

// runAblation is `train ablation [--out DIR] [--epoch-cost FILE] [DIR...]`: it gathers the runs scripts/ablation.sh made
// under the directories (default out/ablation) into ablation.json and ablation.md and prints the
// table. The files go into --out, which defaults to the directory when there is one.
func runAblation(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("train ablation", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "directory for ablation.json and ablation.md (default: DIR when there is one)")
	costs := fs.String("epoch-cost", "", "price the rows' wall times from `FILE`, epoch costs written by train epoch-cost (scripts/epoch-cost.sh), instead of their own")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: train ablation [--out DIR] [--epoch-cost FILE] [DIR...]   (gathers DIR/<run>/<model>.metrics.json of every DIR into ablation.json and .md; DIR defaults to out/ablation)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 1
	}
	dirs := fs.Args()
	if len(dirs) == 0 {
		dirs = []string{filepath.Join("out", "ablation")}
	}
	if *out == "" {
		if len(dirs) > 1 {
			fmt.Fprintf(stderr, "train ablation: %d directories: --out DIR says where ablation.json and .md go\n", len(dirs))
			return 1
		}
		*out = dirs[0]
	}
	a, err := train.BuildAblation(dirs...)
	if err == nil && *costs != "" {
		var c []train.EpochCost
		if c, err = train.ReadEpochCosts(*costs); err == nil {
			a.PriceEpochs(*costs, c)
		}
	}
	if err == nil {
		err = os.MkdirAll(*out, 0o755)
	}
	if err == nil {
		err = train.WriteAblation(*out, a)
	}
	if err != nil {
		fmt.Fprintf(stderr, "train ablation: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s\nwritten: %s, %s\n", a.Markdown(), filepath.Join(*out, "ablation.json"), filepath.Join(*out, "ablation.md"))
	return 0
}

// runEpochCost is `train epoch-cost DIR...`: the epochs of the runs under the directories
// (scripts/epoch-cost.sh makes them), grouped by model and setting, as Go benchmark lines on stdout.
func runEpochCost(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("train epoch-cost", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: train epoch-cost DIR...   (every epoch of DIR/<run>/<model>.metrics.json as BenchmarkEpoch/model=…/changes=… lines, for benchstat and train ablation --epoch-cost)")
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 1
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 1
	}
	costs, env, err := train.EpochCostRuns(fs.Args()...)
	if err == nil {
		err = train.WriteEpochCosts(stdout, costs, env)
	}
	if err != nil {
		fmt.Fprintf(stderr, "train epoch-cost: %v\n", err)
		return 1
	}
	return 0
}
