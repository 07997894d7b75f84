package train

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdnn/simdnn/dataset"
	"github.com/simdnn/simdnn/internal/datatest"
	"github.com/simdnn/simdnn/nn"
)

func TestEMAUpdate(t *testing.T) {
	cur := []*nn.Param{{Name: "a", Value: []float32{1, -2}}, {Name: "b.running_var", Value: []float32{4}}}
	avg := []*nn.Param{{Name: "a", Value: []float32{9, 9}}, {Name: "b.running_var", Value: []float32{9}}}
	e, err := newEMA(0.5, avg, cur)
	if err != nil {
		t.Fatal(err)
	}
	if avg[0].Value[0] != 1 || avg[0].Value[1] != -2 || avg[1].Value[0] != 4 {
		t.Fatalf("the average starts at %v %v, want the weights", avg[0].Value, avg[1].Value)
	}
	// Updates 0, 1, … use min(0.5, (1+t)/(10+t)): 0.1, 2/11, 3/12, …, 0.5 from t = 8 on.
	want := []float64{1, -2, 4}
	for step := 0; step < 12; step++ {
		next := []float32{float32(step), float32(-step), float32(step * step)}
		cur[0].Value[0], cur[0].Value[1], cur[1].Value[0] = next[0], next[1], next[2]
		d := math.Min(0.5, float64(1+step)/float64(10+step))
		for i := range want {
			want[i] = d*want[i] + (1-d)*float64(next[i])
		}
		e.update()
		got := []float32{avg[0].Value[0], avg[0].Value[1], avg[1].Value[0]}
		for i := range want {
			if math.Abs(float64(got[i])-want[i]) > 1e-4*math.Max(1, math.Abs(want[i])) {
				t.Fatalf("step %d: average %v, want %v", step, got, want)
			}
		}
	}
	if e.rate() != 0.5 {
		t.Errorf("rate after 12 updates %v, want the decay 0.5", e.rate())
	}
	if _, err := newEMA(0.5, avg[:1], cur); err == nil {
		t.Error("tensor lists of different lengths accepted")
	}
	if _, err := newEMA(0.5, []*nn.Param{avg[1], avg[0]}, cur); err == nil || !strings.Contains(err.Error(), "b.running_var") {
		t.Errorf("tensors in another order: %v", err)
	}
}

// TestRunEMA: with --ema the run trains exactly as without it (a cosine schedule does not watch
// validation), but evaluates and saves the average, which is another model than the last weights; the
// metrics and the model file say so, and the ablation names the change.
func TestRunEMA(t *testing.T) {
	datatest.Long(t)
	d := smallData(t, 4, 256, 64)
	cfg := DefaultConfig("cnn")
	cfg.Epochs, cfg.Schedule, cfg.Seed = 2, "cosine", 3
	cfg.OutDir = t.TempDir()
	plain, plainNet, err := Run(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	cfg.EMA = 0.99
	cfg.OutDir = t.TempDir()
	avg, avgNet, err := Run(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	for i := range plain.History {
		if plain.History[i].TrainLoss != avg.History[i].TrainLoss || plain.History[i].LR != avg.History[i].LR {
			t.Errorf("epoch %d trained differently with the average kept: %+v vs %+v", i+1, plain.History[i], avg.History[i])
		}
	}
	differ := 0
	for i, p := range plainNet.Params() {
		for j, v := range p.Value {
			if avgNet.Params()[i].Value[j] != v {
				differ++
			}
		}
	}
	if differ < plainNet.ParamCount()/2 {
		t.Errorf("only %d of %d weights differ between the average and the last weights", differ, plainNet.ParamCount())
	}
	if avg.Recipe.EMA != 0.99 {
		t.Errorf("recipe %+v lacks the EMA decay", avg.Recipe)
	}
	_, meta, err := nn.Load(filepath.Join(cfg.OutDir, "cnn.safetensors"))
	if err != nil || meta.Extra["ema_decay"] != "0.99" {
		t.Errorf("model file: %v, metadata %v", err, meta.Extra)
	}
	// The saved model is the evaluated one: reloaded, it scores the reported test accuracy.
	loaded, _, _ := nn.Load(filepath.Join(cfg.OutDir, "cnn.safetensors"))
	score, _ := Evaluate(loaded, d.Test, dataset.NewNormalizer(d.Mean, d.Std))
	if score.Acc != avg.Test.Acc {
		t.Errorf("reloaded model scores %v, the run reported %v", score.Acc, avg.Test.Acc)
	}
	if row := rowOf("x", avg); row.Changes != "2 epochs, seed 3, cosine schedule, weights averaged (EMA 0.99), 256 training images" {
		t.Errorf("ablation changes %q", row.Changes)
	}
	bad := cfg
	bad.EMA = 1
	if _, _, err := Run(bad, d); err == nil || !strings.Contains(err.Error(), "EMA decay") {
		t.Errorf("EMA decay 1: %v", err)
	}
}
