package report

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/simdnn/simdnn/train"
)

// The ablation of issue 6 (scripts/ablation.sh, `train ablation`), when the output directory holds
// one: ablation.json directly in it or in its ablation/ subdirectory.

func loadAblation(outDir string) (*train.Ablation, error) {
	for _, dir := range []string{outDir, filepath.Join(outDir, "ablation")} {
		a, err := train.ReadAblation(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		return a, err
	}
	return nil, nil
}

// ablationSection is the report's Markdown section for the ablation in outDir ("" if there is none).
func ablationSection(outDir string) (string, error) {
	a, err := loadAblation(outDir)
	if a == nil || err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("## The study's recommendations, measured\n\n")
	b.WriteString("Each row is one run of `scripts/ablation.sh` (seed 1 unless the changes name another), " +
		"changing only what the third column names; Δ test is in test-accuracy points against the same model's run of the study's recipe (`*-study`). ")
	if a.Pricing != nil {
		b.WriteString("Wall time and × wall are priced from epoch costs measured in one sitting (see below the table), against 18 plain epochs of the row's model. ")
	} else {
		b.WriteString("× wall is the wall time relative to that run's. ")
	}
	b.WriteString("Early stopping keeps the weights of the epoch in parentheses.")
	if len(a.Dirs) > 1 && a.Pricing == nil {
		// Runs gathered from several output directories may come from different machines.
		fmt.Fprintf(&b, " The runs come from %d output directories (%s), possibly made on different machines: compare wall times only between runs of one directory.", len(a.Dirs), strings.Join(a.Dirs, ", "))
	}
	b.WriteString("\n\n")
	b.WriteString(a.Markdown())
	b.WriteString("\n")
	return b.String(), nil
}
