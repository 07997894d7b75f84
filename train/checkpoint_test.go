package train

import (
	"errors"
	"github.com/simdnn/simdnn/internal/datatest"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/simdnn/simdnn/dataset"
	"github.com/simdnn/simdnn/nn"
)

// sameWeights fails unless a and b hold bit-identical tensors.
func sameWeights(t *testing.T, a, b nn.Network) {
	t.Helper()
	sa, sb := netState(a), netState(b)
	if len(sa) != len(sb) {
		t.Fatalf("%d vs %d tensors", len(sa), len(sb))
	}
	for i := range sa {
		for j := range sa[i].Value {
			if math.Float32bits(sa[i].Value[j]) != math.Float32bits(sb[i].Value[j]) {
				t.Fatalf("%s[%d]: %v vs %v", sa[i].Name, j, sa[i].Value[j], sb[i].Value[j])
			}
		}
	}
}

// TestResumeIdentical: a run stopped after epoch k (as if killed right after its checkpoint) and
// resumed ends with the weights, history and test results of the uninterrupted run, bit for bit. The
// configurations exercise everything a checkpoint carries: Adam, the shuffling and dropout generators
// (the CNN has dropout), the schedule (plateau and cosine with warm-up), early stopping's best copy,
// augmentation, random erasing, precise BN's draws and the weight average.
func TestResumeIdentical(t *testing.T) {
	datatest.Long(t)
	for _, tc := range []struct {
		name string
		cfg  func(*Config)
		halt int
	}{
		{"cnn-augment-cosine-early", func(c *Config) {
			c.Arch, c.Epochs, c.Schedule, c.Warmup, c.Patience, c.Augment = "cnn", 3, "cosine", 1, 2, true
		}, 1},
		{"resnet-plateau-precisebn-blockdropout-kaiming-zeroinit", func(c *Config) {
			c.Arch, c.Epochs, c.PreciseBN, c.BlockDropout, c.Init = "resnet", 2, 3, 0.2, "kaiming"
			c.ZeroInitResidual = true
		}, 1},
		{"cnn-ema-early-precisebn", func(c *Config) {
			c.Arch, c.Epochs, c.EMA, c.Patience, c.PreciseBN = "cnn", 3, 0.9, 2, 2
		}, 1},
		{"cnn-erase-smoothing-decay", func(c *Config) {
			c.Arch, c.Epochs, c.Erase, c.LabelSmoothing, c.WeightDecay, c.TestEachEpoch = "cnn", 3, 0.5, 0.1, 0.05, true
		}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := smallData(t, 4, 256, 64)
			cfg := DefaultConfig("cnn")
			cfg.Seed = 4
			tc.cfg(&cfg)

			cfg.OutDir = t.TempDir()
			want, wantNet, err := Run(cfg, d)
			if err != nil {
				t.Fatal(err)
			}

			cfg.OutDir = t.TempDir()
			halted := cfg
			halted.haltAfter = tc.halt
			if _, _, err := Run(halted, d); !errors.Is(err, errHalted) {
				t.Fatalf("halted run: %v", err)
			}
			resumed := cfg
			resumed.Resume = true
			got, gotNet, err := Run(resumed, d)
			if err != nil {
				t.Fatal(err)
			}
			sameWeights(t, wantNet, gotNet)
			if !reflect.DeepEqual(got.ResumedAfter, []int{tc.halt}) {
				t.Errorf("resumed_after %v, want [%d]", got.ResumedAfter, tc.halt)
			}
			if len(got.History) != len(want.History) || got.Test != want.Test || got.BestEpoch != want.BestEpoch {
				t.Fatalf("resumed: %d epochs, test %+v, best %d; uninterrupted: %d, %+v, %d",
					len(got.History), got.Test, got.BestEpoch, len(want.History), want.Test, want.BestEpoch)
			}
			for i := range want.History {
				w, g := want.History[i], got.History[i]
				if w.TrainLoss != g.TrainLoss || w.ValLoss != g.ValLoss || w.LR != g.LR || w.TestAcc != g.TestAcc {
					t.Fatalf("epoch %d: resumed %+v, uninterrupted %+v", i+1, g, w)
				}
			}
			// And the halted run did differ from a fresh one: resuming without the flag starts over.
			if len(want.History) < 2 {
				t.Fatal("the run is too short to interrupt")
			}
		})
	}
}

func TestCheckpointErrors(t *testing.T) {
	d := smallData(t, 5, 200, 50)
	cfg := DefaultConfig("ann")
	cfg.Epochs, cfg.Seed, cfg.OutDir, cfg.haltAfter = 2, 5, t.TempDir(), 1
	if _, _, err := Run(cfg, d); !errors.Is(err, errHalted) {
		t.Fatal(err)
	}
	path := CheckpointPath(cfg.OutDir, "ann")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.haltAfter, cfg.Resume = 0, true

	other := cfg
	other.LR = 0.002
	if _, _, err := Run(other, d); err == nil || !strings.Contains(err.Error(), "is of another run") {
		t.Errorf("resume with another lr: %v", err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"flipped byte", func() []byte { b := append([]byte(nil), good...); b[len(b)/2] ^= 1; return b }(), "checksum"},
		{"truncated", good[:len(good)/2], "checksum"},
		{"not a checkpoint", []byte("hello, world"), "not a simdnn checkpoint"},
	} {
		if err := os.WriteFile(path, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := Run(cfg, d); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want an error naming %s and saying %q", tc.name, err, path, tc.want)
		}
	}
	// No checkpoint at all: --resume starts a fresh run.
	os.Remove(path)
	m, _, err := Run(cfg, d)
	if err != nil || len(m.History) != 2 || m.ResumedAfter != nil {
		t.Fatalf("resume without a checkpoint: %v, %+v", err, m)
	}
}

// TestEarlyStopRun: with patience 1 and a learning rate that cannot improve the validation accuracy
// every epoch, the run stops early, records where, and holds the best epoch's weights.
func TestEarlyStopRun(t *testing.T) {
	d := smallData(t, 6, 300, 200)
	cfg := DefaultConfig("ann")
	cfg.Epochs, cfg.Seed, cfg.OutDir, cfg.Patience, cfg.LR = 12, 6, "", 1, 0.05
	m, net, err := Run(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	if m.StoppedEpoch != len(m.History) || m.StoppedEpoch >= cfg.Epochs {
		t.Fatalf("stopped after %d of %d epochs (history %d)", m.StoppedEpoch, cfg.Epochs, len(m.History))
	}
	best := 0
	for i, e := range m.History {
		if e.ValAcc > m.History[best].ValAcc {
			best = i
		}
	}
	if m.BestEpoch != best+1 || m.StoppedEpoch != m.BestEpoch+1 {
		t.Fatalf("best epoch %d (history says %d), stopped after %d", m.BestEpoch, best+1, m.StoppedEpoch)
	}
	// The model holds the best epoch's weights: its validation accuracy is that epoch's.
	if m.Val.Acc != m.History[best].ValAcc {
		t.Fatalf("final val acc %v, best epoch's %v", m.Val.Acc, m.History[best].ValAcc)
	}
	_ = net
}

// TestEarlyStopReplayExact: early stopping replayed on a full run's history (ReplayEarlyStop) stops
// and keeps where a run with early stopping does, and the full run's recorded test accuracy of the
// kept epoch is the early-stopped run's final test accuracy, exactly.
func TestEarlyStopReplayExact(t *testing.T) {
	d := smallData(t, 6, 300, 200)
	cfg := DefaultConfig("ann")
	cfg.Epochs, cfg.Seed, cfg.OutDir, cfg.LR, cfg.TestEachEpoch = 12, 6, "", 0.05, true
	full, _, err := Run(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	if last := full.History[len(full.History)-1]; last.TestAcc != full.Test.Acc {
		t.Fatalf("last epoch's test accuracy %v, the run's %v", last.TestAcc, full.Test.Acc)
	}
	for _, patience := range []int{1, 2} {
		es := cfg
		es.Patience, es.TestEachEpoch = patience, false
		m, _, err := Run(es, d)
		if err != nil {
			t.Fatal(err)
		}
		stopped, kept := ReplayEarlyStop(full.History, patience)
		if stopped != m.StoppedEpoch || kept != m.BestEpoch {
			t.Fatalf("patience %d: replay stops after %d and keeps %d, the run %d and %d", patience, stopped, kept, m.StoppedEpoch, m.BestEpoch)
		}
		if got := full.History[kept-1].TestAcc; got != m.Test.Acc {
			t.Fatalf("patience %d: replayed test accuracy %v, the early-stopped run's %v", patience, got, m.Test.Acc)
		}
		if patience == 1 && stopped == cfg.Epochs {
			t.Fatal("patience 1 did not stop: the test shows nothing")
		}
		// Keeping the last epoch is the same run without the restore: it ends with the stopped
		// epoch's weights, so the stopped epoch's test accuracy, and records both epochs.
		es.KeepLast = true
		last, _, err := Run(es, d)
		if err != nil {
			t.Fatal(err)
		}
		if last.StoppedEpoch != stopped || last.BestEpoch != kept || last.KeptEpoch != stopped || last.Kept() != stopped {
			t.Fatalf("patience %d, keeping the last: stopped %d, best %d, kept %d; want %d, %d, %d",
				patience, last.StoppedEpoch, last.BestEpoch, last.KeptEpoch, stopped, kept, stopped)
		}
		if got := full.History[stopped-1].TestAcc; got != last.Test.Acc {
			t.Fatalf("patience %d, keeping the last: epoch %d's test accuracy %v, the run's %v", patience, stopped, got, last.Test.Acc)
		}
		if !last.Recipe.KeepLast || m.Recipe.KeepLast {
			t.Fatalf("patience %d: recipe keep-last %v (keeping the last) and %v (restoring the best)", patience, last.Recipe.KeepLast, m.Recipe.KeepLast)
		}
		if kept == stopped {
			t.Fatalf("patience %d: the best epoch is the stopped one, so keeping the last shows nothing", patience)
		}
	}
}

// TestRegularizersTakeEffect: each of weight decay, label smoothing, random erasing and block dropout
// changes the weights a run ends with, and the recipe records it.
func TestRegularizersTakeEffect(t *testing.T) {
	d := smallData(t, 8, 256, 64)
	cfg := DefaultConfig("ann")
	cfg.Epochs, cfg.Seed, cfg.OutDir = 1, 8, ""
	base := map[string]nn.Network{}
	for _, arch := range []string{"ann", "resnet"} {
		c := cfg
		c.Arch = arch
		_, net, err := Run(c, d)
		if err != nil {
			t.Fatal(err)
		}
		base[arch] = net
	}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		ok   func(Recipe) bool
	}{
		{"block dropout", func(c *Config) { c.Arch, c.BlockDropout = "resnet", 0.2 }, func(r Recipe) bool { return r.BlockDrop == 0.2 }},
		{"weight decay", func(c *Config) { c.WeightDecay = 0.1 }, func(r Recipe) bool {
			return r.WeightDecay == 0.1 && strings.HasPrefix(r.Optimizer, "AdamW(") && strings.Contains(r.Optimizer, "weight_decay=0.1")
		}},
		{"label smoothing", func(c *Config) { c.LabelSmoothing = 0.1 }, func(r Recipe) bool {
			return r.Smoothing == 0.1 && strings.Contains(r.Loss, "label smoothing 0.1")
		}},
		{"erasing", func(c *Config) { c.Erase = 0.5 }, func(r Recipe) bool { return r.Erase == 0.5 }},
		{"kaiming init", func(c *Config) { c.Arch, c.Init = "resnet", "kaiming" }, func(r Recipe) bool { return r.Init == "kaiming" }},
		{"zero-init residual", func(c *Config) { c.Arch, c.ZeroInitResidual = "resnet", true }, func(r Recipe) bool { return r.ZeroInitRes }},
	} {
		c := cfg
		tc.mod(&c)
		m, net, err := Run(c, d)
		if err != nil {
			t.Fatal(err)
		}
		if !tc.ok(m.Recipe) {
			t.Errorf("%s: recipe %+v", tc.name, m.Recipe)
		}
		if reflect.DeepEqual(netState(net)[0].Value, netState(base[c.Arch])[0].Value) {
			t.Errorf("%s: the weights are those of the plain run", tc.name)
		}
		if c.fingerprint(d) == cfg.fingerprint(d) {
			t.Errorf("%s: a checkpoint of the plain run would resume this one", tc.name)
		}
	}
	// --init pytorch names the default: the same run, recipe and fingerprint as no --init.
	c := cfg
	c.Arch, c.Init = "resnet", "pytorch"
	m, net, err := Run(c, d)
	if err != nil {
		t.Fatal(err)
	}
	plain := cfg
	plain.Arch = "resnet"
	if m.Recipe.Init != "" || c.fingerprint(d) != plain.fingerprint(d) || !reflect.DeepEqual(netState(net), netState(base["resnet"])) {
		t.Errorf("init pytorch differs from the default: recipe init %q", m.Recipe.Init)
	}
}

// TestPreciseBNRun: with PreciseBN the model a run ends with carries BatchNorm statistics recomputed
// over that last epoch's draw of training images, not the moving averages, and the recipe says so.
func TestPreciseBNRun(t *testing.T) {
	d := smallData(t, 7, 300, 100)
	cfg := DefaultConfig("cnn")
	cfg.Epochs, cfg.Seed, cfg.OutDir, cfg.PreciseBN, cfg.Batch = 2, 7, "", 2, 64
	m, net, err := Run(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	if m.Recipe.PreciseBN != 2 {
		t.Fatalf("recipe records precise BN %d, want 2", m.Recipe.PreciseBN)
	}
	got := make([][]float32, 0)
	for _, p := range net.Buffers() {
		got = append(got, append([]float32(nil), p.Value...))
	}
	norm := dataset.NewNormalizer(d.Mean, d.Std)
	if err := PreciseBN(net, d.Train, norm, 2, cfg.Batch, cfg.Seed, cfg.Epochs); err != nil {
		t.Fatal(err)
	}
	for i, p := range net.Buffers() {
		for j := range p.Value {
			if p.Value[j] != got[i][j] {
				t.Fatalf("%s[%d] = %v after the run, %v recomputed over the last epoch's draw", p.Name, j, got[i][j], p.Value[j])
			}
		}
	}
	// The draw depends on the epoch, so the statistics do as well.
	if err := PreciseBN(net, d.Train, norm, 2, cfg.Batch, cfg.Seed, cfg.Epochs-1); err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(net.Buffers()[0].Value, got[0]) {
		t.Fatal("another epoch's draw gave the same statistics")
	}
}
