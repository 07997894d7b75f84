package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/simdnn/simdnn/nn"
	"github.com/simdnn/simdnn/train"
)

// TestSIGKILLResume builds the command, kills a run with SIGKILL during its second epoch, resumes it
// with --resume, and checks that the model it ends with is bit for bit the model of an uninterrupted
// run with the same seed. The CNN is used because it has dropout, whose generator state must survive.
func TestSIGKILLResume(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "train")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := tinyDataset(t, 400, 50)
	args := func(out string, extra ...string) []string {
		return append([]string{"--data", data, "--out", out, "--model", "cnn", "--epochs", "4", "--batch", "16",
			"--seed", "9", "--augment", "--schedule", "cosine", "--warmup", "1"}, extra...)
	}
	full := filepath.Join(t.TempDir(), "full")
	if out, err := exec.Command(bin, args(full)...).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}

	killed := filepath.Join(t.TempDir(), "killed")
	cmd := exec.Command(bin, args(killed)...)
	progress, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Off a terminal, progress is a plain line on stderr after each quarter of an epoch's images: kill
	// at the first one of epoch 2, mid-epoch, with epoch 1's checkpoint on disk.
	ckpt := train.CheckpointPath(killed, "cnn")
	sc := bufio.NewScanner(progress)
	midEpoch := false
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "CNN epoch  2/4: ") {
			midEpoch = true
			break
		}
	}
	if !midEpoch {
		t.Fatal("the run ended without reporting progress in epoch 2")
	}
	if _, err := os.Stat(ckpt); err != nil {
		t.Fatalf("no checkpoint during epoch 2: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	werr := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the run was not killed by SIGKILL (%v): it finished before the kill; make the run longer", werr)
	}
	if _, err := os.Stat(filepath.Join(killed, "cnn.safetensors")); err == nil {
		t.Fatal("the killed run already wrote its final model")
	}
	out, err := exec.Command(bin, args(killed, "--resume")...).CombinedOutput()
	if err != nil {
		t.Fatalf("resumed run: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "resumed from the checkpoint after epoch 1") {
		t.Errorf("resumed run's output does not say it resumed after epoch 1:\n%s", out)
	}
	a, _, err := nn.Load(filepath.Join(full, "cnn.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := nn.Load(filepath.Join(killed, "cnn.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	pa, pb := append(a.Params(), a.Buffers()...), append(b.Params(), b.Buffers()...)
	for i := range pa {
		for j := range pa[i].Value {
			if math.Float32bits(pa[i].Value[j]) != math.Float32bits(pb[i].Value[j]) {
				t.Fatalf("%s[%d]: resumed %v, uninterrupted %v", pa[i].Name, j, pb[i].Value[j], pa[i].Value[j])
			}
		}
	}
}

// TestRunResNetTiny: --model resnet with issue 6's flags runs through the command, writes its model,
// metrics and checkpoint, and skips the study's ANN-vs-CNN table, which has nothing to compare.
func TestRunResNetTiny(t *testing.T) {
	data := tinyDataset(t, 50, 20)
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCmd(t, "--data", data, "--out", out, "--model", "resnet", "--epochs", "2", "--batch", "16",
		"--schedule", "onecycle", "--warmup", "1", "--patience", "1", "--augment")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "RESNET epoch  1/2") || !strings.Contains(stdout, "364234 parameters") || strings.Contains(stdout, "Key Findings") {
		t.Errorf("stdout:\n%s", stdout)
	}
	for _, f := range []string{"resnet.safetensors", "resnet.metrics.json", "resnet.ckpt"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	m, err := train.ReadMetrics(filepath.Join(out, "resnet.metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !m.Recipe.Augment || m.Recipe.Patience != 1 || m.Recipe.Warmup != 1 || !strings.HasPrefix(m.Recipe.Scheduler, "OneCycleLR") || m.StoppedEpoch == 0 {
		t.Errorf("metrics do not reflect the flags: %+v, stopped %d", m.Recipe, m.StoppedEpoch)
	}
}

// TestRunResNetVariantsTiny: --model resnet-wide and resnet-deep train through the command under their
// own names, with their parameter counts, and their model files load as what they are and record the
// options given (--ema reaches the run).
func TestRunResNetVariantsTiny(t *testing.T) {
	for _, tc := range []struct {
		arch   string
		params int
		ema    string
	}{{"resnet-wide", nn.ResNetWideParams, ""}, {"resnet-deep", nn.ResNetDeepParams, "0.9"}} {
		t.Run(tc.arch, func(t *testing.T) {
			data := tinyDataset(t, 40, 20)
			out := filepath.Join(t.TempDir(), "out")
			args := []string{"--data", data, "--out", out, "--model", tc.arch, "--epochs", "1", "--batch", "16", "--zero-init-residual"}
			if tc.ema != "" {
				args = append(args, "--ema", tc.ema)
			}
			code, stdout, stderr := runCmd(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stdout, strings.ToUpper(tc.arch)+" epoch  1/1") || !strings.Contains(stdout, fmt.Sprintf("%d parameters", tc.params)) {
				t.Errorf("stdout:\n%s", stdout)
			}
			if _, meta, err := nn.LoadArch(filepath.Join(out, tc.arch+".safetensors"), tc.arch); err != nil || meta.Arch != tc.arch ||
				meta.Extra["ema_decay"] != tc.ema || meta.Extra["zero_init_residual"] != "true" {
				t.Errorf("model file: %v, arch %q, metadata %v", err, meta.Arch, meta.Extra)
			}
		})
	}
}
