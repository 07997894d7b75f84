package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/simdnn/simdnn/bench"
	"github.com/simdnn/simdnn/nn"
	"github.com/simdnn/simdnn/train"
)

// metricsFile is where the trainer writes an architecture's metrics.
func metricsFile(outDir, arch string) string { return filepath.Join(outDir, arch+".metrics.json") }

// loadRuns reads every <arch>.metrics.json in outDir, of the study's two networks and the residual
// CNNs; at least one must exist.
func loadRuns(outDir string) (map[string]*run, error) {
	runs := map[string]*run{}
	for _, arch := range nn.AllArchs {
		m, err := train.ReadMetrics(metricsFile(outDir, arch))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		r, err := fromMetrics(m, metricsFile(outDir, arch))
		if err != nil {
			return nil, err
		}
		runs[arch] = r
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("report: %s holds no ann.metrics.json, cnn.metrics.json or resnet*.metrics.json: run `train --out %s` first", outDir, outDir)
	}
	return runs, nil
}

// fromMetrics checks that a metrics file has what the report draws and takes the report's view of it.
func fromMetrics(m *train.Metrics, path string) (*run, error) {
	k := len(m.Classes)
	bad := func(what string) error { return fmt.Errorf("report: %s: %s", path, what) }
	if k < 2 {
		return nil, bad("no class names")
	}
	if len(m.Confusion) != k {
		return nil, bad(fmt.Sprintf("confusion matrix has %d rows for %d classes", len(m.Confusion), k))
	}
	for _, row := range m.Confusion {
		if len(row) != k {
			return nil, bad(fmt.Sprintf("confusion matrix row of %d entries for %d classes", len(row), k))
		}
	}
	if len(m.PerClass) != k {
		return nil, bad(fmt.Sprintf("per-class scores for %d classes, want %d", len(m.PerClass), k))
	}
	r := &run{
		Changes:  m.Recipe.Changes(),
		Schedule: m.Recipe.Schedule(),
		Arch:     m.Arch, Classes: m.Classes, Confusion: m.Confusion,
		TrainAcc: m.Train.Acc, ValAcc: m.Val.Acc, TestAcc: m.Test.Acc,
		TrainLoss: m.Train.Loss, ValLoss: m.Val.Loss, TestLoss: m.Test.Loss,
		Params: m.Params, WallSeconds: m.WallSeconds, SecondsPerEpoch: m.SecondsPerEpoch,
		Threads: m.Threads, Kernels: m.Kernels, Mean: m.Mean, Std: m.Std,
		TestPredictions: m.TestPredictions,
	}
	for _, e := range m.History {
		r.Epochs = append(r.Epochs, epochRow{Epoch: e.Epoch, TrainLoss: e.TrainLoss, TrainAcc: e.TrainAcc,
			ValLoss: e.ValLoss, ValAcc: e.ValAcc, LR: e.LR, Seconds: e.Seconds})
	}
	for _, c := range m.PerClass {
		r.Precision = append(r.Precision, c.Precision)
		r.Recall = append(r.Recall, c.Recall)
		r.F1 = append(r.F1, c.F1)
	}
	for _, p := range m.ConfusedPairs {
		if p.AIndex < 0 || p.AIndex >= k || p.BIndex < 0 || p.BIndex >= k {
			return nil, bad(fmt.Sprintf("confused pair %d ↔ %d out of range", p.AIndex, p.BIndex))
		}
		r.Pairs = append(r.Pairs, pairRow{A: p.AIndex, B: p.BIndex, Count: p.Count})
	}
	return r, nil
}

// benchFile is where `bench` writes its results.
func benchFile(outDir string) string { return filepath.Join(outDir, "bench.json") }

// loadBench reads bench.json when present (absent is not an error: the efficiency table then shows
// what the architecture alone determines). Throughput is quoted at batch 128 on the most threads
// measured, the setting of the project's targets, or at the fastest point when batch 128 was not run.
func loadBench(outDir string) (map[string]benchRow, error) {
	rows := map[string]benchRow{}
	b, err := os.ReadFile(benchFile(outDir))
	if errors.Is(err, fs.ErrNotExist) {
		return rows, nil
	}
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var rep bench.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("report: %s: not a bench.json: %v", benchFile(outDir), err)
	}
	for _, m := range rep.Models {
		if m == nil {
			continue
		}
		row := benchRow{Arch: m.Arch, Found: true, FLOPs: float64(m.FLOPsPerImage), LatencyP50us: m.LatencyP50 / 1e3,
			Kernels: rep.Kernels, CPU: rep.CPU, Source: m.Source}
		var best *bench.Point
		for i := range m.Throughput {
			p := &m.Throughput[i]
			if best == nil || better(p, best) {
				best = p
			}
		}
		if best != nil {
			row.Throughput, row.GFLOPS, row.PctPeak = best.ImagesPerSec, best.GFLOPS, best.PctPeak
			row.Batch, row.Threads = best.Batch, best.Threads
		}
		rows[m.Arch] = row
	}
	return rows, nil
}

// better prefers batch 128, then more threads, then more images/s.
func better(p, q *bench.Point) bool {
	if (p.Batch == 128) != (q.Batch == 128) {
		return p.Batch == 128
	}
	if p.Batch == 128 && p.Threads != q.Threads {
		return p.Threads > q.Threads
	}
	return p.ImagesPerSec > q.ImagesPerSec
}
