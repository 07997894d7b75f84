package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/simdnn/simdnn/train"
)

// runAblation is `train ablation [DIR]`: it gathers the runs scripts/ablation.sh made under DIR
// (default out/ablation) into DIR/ablation.json and DIR/ablation.md and prints the table.
func runAblation(args []string, stdout, stderr io.Writer) int {
	if len(args) > 1 || len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fmt.Fprintln(stderr, "usage: train ablation [DIR]   (gathers DIR/<run>/<model>.metrics.json into DIR/ablation.json and .md; DIR defaults to out/ablation)")
		if len(args) == 1 {
			return 0
		}
		return 1
	}
	dir := filepath.Join("out", "ablation")
	if len(args) == 1 {
		dir = args[0]
	}
	a, err := train.BuildAblation(dir)
	if err == nil {
		err = train.WriteAblation(dir, a)
	}
	if err != nil {
		fmt.Fprintf(stderr, "train ablation: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s\nwritten: %s, %s\n", a.Markdown(), filepath.Join(dir, "ablation.json"), filepath.Join(dir, "ablation.md"))
	return 0
}
