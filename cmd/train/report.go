package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/simdnn/simdnn/report"
)

// runReport is `train report [--data DIR] [OUTDIR]`: it rebuilds OUTDIR/report.md and its figures
// from a finished run (default OUTDIR: out) without training.
func runReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("train report", flag.ContinueOnError)
	data := fs.String("data", "", "for the per-image figures: "+dataDirHelp)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stderr)
			fmt.Fprintln(stderr, "usage: train report [--data DIR] [OUTDIR]   (rebuilds OUTDIR/report.md; OUTDIR defaults to out)")
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintf(stderr, "train report: %v\n", err)
		return 1
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(stderr, "train report: one output directory, not %d arguments\n", fs.NArg())
		return 1
	}
	dir := "out"
	if fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	if err := writeReport(dir, *data, stdout); err != nil {
		fmt.Fprintf(stderr, "train report: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		return 1
	}
	return 0
}

// writeReport builds the report of the run in outDir and says where it is.
func writeReport(outDir, dataDir string, stdout io.Writer) error {
	if err := report.BuildWith(outDir, report.Options{DataDir: dataDir}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "report: %s (figures in %s)\n", filepath.Join(outDir, "report.md"), filepath.Join(outDir, "report")+string(filepath.Separator))
	return nil
}
