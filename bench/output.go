package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/simdnn/simdnn/internal/atomicfile"

	"golang.org/x/perf/benchfmt"
)

// WriteBenchfmt writes every throughput run in Go benchmark format, one line per run, named
// Infer/model=<arch>/batch=<b>/threads=<t> with ns/op, ns/image, images/s and GFLOP/s, plus the
// batch-1 latency percentiles, so that benchstat compares two bench runs (say --isa generic against
// the default) exactly as it compares two `go test -bench` runs.
func WriteBenchfmt(w io.Writer, rep *Report) error {
	bw := benchfmt.NewWriter(w)
	cfg := []benchfmt.Config{
		{Key: "goos", Value: []byte(strings.Split(rep.Platform, "/")[0]), File: true},
		{Key: "goarch", Value: []byte(strings.Split(rep.Platform, "/")[1]), File: true},
		{Key: "pkg", Value: []byte("github.com/simdnn/simdnn/bench"), File: true},
		{Key: "cpu", Value: []byte(rep.CPU), File: true},
		{Key: "kernels", Value: []byte(rep.Kernels), File: true},
	}
	for _, m := range rep.Models {
		for _, p := range m.Throughput {
			for i, ns := range p.Runs {
				res := &benchfmt.Result{
					Config: cfg,
					Name:   benchfmt.Name(fmt.Sprintf("Infer/model=%s/batch=%d/threads=%d", m.Arch, p.Batch, p.Threads)),
					Iters:  p.Iters[i],
					Values: []benchfmt.Value{
						{Value: ns, Unit: "ns/op"},
						{Value: ns / float64(p.Batch), Unit: "ns/image"},
						{Value: float64(p.Batch) * 1e9 / ns, Unit: "images/s"},
						{Value: float64(p.Batch) * 1e9 / ns * float64(m.FLOPsPerImage) / 1e9, Unit: "GFLOP/s"},
					},
				}
				if err := bw.Write(res); err != nil {
					return err
				}
			}
		}
		res := &benchfmt.Result{
			Config: cfg,
			Name:   benchfmt.Name(fmt.Sprintf("Latency/model=%s/batch=1", m.Arch)),
			Iters:  m.LatencyCalls,
			Values: []benchfmt.Value{
				{Value: m.LatencyMean, Unit: "ns/op"},
				{Value: m.LatencyP50, Unit: "p50-ns"},
				{Value: m.LatencyP99, Unit: "p99-ns"},
			},
		}
		if err := bw.Write(res); err != nil {
			return err
		}
	}
	return nil
}

// WriteTable writes the report as readable tables.
func WriteTable(w io.Writer, rep *Report) error {
	fmt.Fprintf(w, "kernels %s (available: %s) · %s · %s · GOMAXPROCS %d\n", rep.Kernels,
		strings.Join(rep.Available, ", "), rep.CPU, rep.GoVersion, rep.MaxProcs)
	fmt.Fprintf(w, "FMA peak of %s:", rep.Kernels)
	for _, p := range rep.Peak {
		fmt.Fprintf(w, " %.0f GFLOP/s on %d thread(s);", p.GFLOPS, p.Threads)
	}
	fmt.Fprintf(w, " each figure is the best of %d run(s) of %.2gs\n", rep.Count, rep.Benchtime)
	for _, m := range rep.Models {
		fmt.Fprintf(w, "\n== %s (%s)\n", strings.ToUpper(m.Arch), m.Source)
		if m.TestImages > 0 {
			fmt.Fprintf(w, "test accuracy %.2f%% (%d/%d), as train recorded (%.2f%%)", 100*m.TestAcc, m.TestCorrect, m.TestImages, 100*m.RecordedAcc)
			if m.Disagreements > 0 {
				fmt.Fprintf(w, "; %d test images classified differently from train", m.Disagreements)
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "parameters %d · %.2f MFLOP per image · model %s", m.Params, float64(m.FLOPsPerImage)/1e6, mib(m.ModelBytes))
		if m.FileBytes > 0 {
			fmt.Fprintf(w, " (file %s)", mib(m.FileBytes))
		}
		fmt.Fprint(w, " · activations per worker:")
		for _, a := range m.ActBytes {
			fmt.Fprintf(w, " %s at batch %d,", mib(a.Bytes), a.Batch)
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "batch-1 latency: p50 %s, p99 %s, mean %s (%d calls)\n\n", us(m.LatencyP50), us(m.LatencyP99), us(m.LatencyMean), m.LatencyCalls)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "batch\tthreads\tµs/batch\timages/s\tGFLOP/s\t% of peak\t")
		for _, p := range m.Throughput {
			fmt.Fprintf(tw, "%d\t%d\t%.1f\t%.0f\t%.1f\t%.1f%%\t\n", p.Batch, p.Threads, p.NsPerOp/1e3, p.ImagesPerSec, p.GFLOPS, p.PctPeak)
		}
		tw.Flush()
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "layer (batch 128, 1 thread)\tns/image\tshare\tMFLOP/image\tGFLOP/s\tkernel\t")
		for _, l := range m.Layers {
			fmt.Fprintf(tw, "%s\t%.0f\t%.1f%%\t%.3f\t%.1f\t%s\t\n", l.Name, l.NsPerImage, l.Percent, float64(l.FLOPs)/1e6, l.GFLOPS, l.Kernel)
		}
		tw.Flush()
		for _, l := range m.Layers {
			if strings.Contains(l.Kernel, "winograd") {
				fmt.Fprintln(w, "FLOPs and GFLOP/s count a direct convolution's work (2·cin·9 per output); Winograd F(2×2,3×3)")
				fmt.Fprintln(w, "does 2.25× fewer multiplications for it, so its layers (and the model's % of peak) can exceed the FMA peak.")
				break
			}
		}
	}
	return nil
}

func mib(b int64) string {
	if b < 1<<20 {
		return fmt.Sprintf("%.0f KiB", float64(b)/1024)
	}
	return fmt.Sprintf("%.2f MiB", float64(b)/(1<<20))
}

func us(ns float64) string { return fmt.Sprintf("%.1f µs", ns/1e3) }

// writeJSON writes v as indented JSON, atomically.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, append(b, '\n'))
}
