package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/simdnn/simdnn/dataset"
	"github.com/simdnn/simdnn/train"
)

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

// TestErrors: each bad invocation is one line on stderr and exit code 1.
func TestErrors(t *testing.T) {
	t.Setenv(dataset.EnvDir, "")
	missing := filepath.Join(t.TempDir(), "nowhere")
	partial := tinyDataset(t, 4, 4)
	os.Remove(filepath.Join(partial, dataset.TestLabelsFile))
	broken := tinyDataset(t, 4, 4)
	os.WriteFile(filepath.Join(broken, dataset.TrainLabelsFile), idx([]uint32{4}, []byte{1, 2, 10, 3}), 0o644)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--epochs", "x"}, `invalid value "x" for flag -epochs`},
		{[]string{"--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"--model", "rnn"}, `--model "rnn": want ann, cnn, resnet, resnet-wide, resnet-deep or all`},
		{[]string{"--schedule", "step"}, `--schedule "step": want plateau, cosine or onecycle`},
		{[]string{"--warmup", "18"}, "--warmup 18: want 0 to 17"},
		{[]string{"--patience", "-2"}, "--patience -2"},
		{[]string{"--patience", "3", "--keep", "first"}, `--keep "first": want best or last`},
		{[]string{"--keep", "last"}, "--keep last: it says which weights early stopping keeps, so it needs --patience N"},
		{[]string{"--precise-bn", "-1"}, "--precise-bn -1"},
		{[]string{"--weight-decay", "-1"}, "--weight-decay -1"},
		{[]string{"--weight-decay", "2000"}, "--lr × it below 1"},
		{[]string{"--label-smoothing", "1"}, "--label-smoothing 1"},
		{[]string{"--erase", "1.5"}, "--erase 1.5"},
		{[]string{"--block-dropout", "1"}, "--block-dropout 1"},
		{[]string{"--ema", "1"}, "--ema 1: want a decay in [0, 1)"},
		{[]string{"--ema", "-0.5"}, "--ema -0.5"},
		{[]string{"--init", "xavier"}, `--init "xavier": want pytorch or kaiming`},
		{[]string{"--model", "ann", "--init", "kaiming"}, "--init kaiming is for the convolutional networks"},
		{[]string{"--model", "cnn", "--block-dropout", "0.2"}, "--block-dropout is for the residual CNN (--model resnet, resnet-wide, resnet-deep), not cnn"},
		{[]string{"--model", "cnn", "--zero-init-residual"}, "--zero-init-residual is for the residual CNN (--model resnet, resnet-wide, resnet-deep), not cnn"},
		{[]string{"--epochs", "0"}, "--epochs 0"},
		{[]string{"--batch", "1"}, "--batch 1"},
		{[]string{"--lr", "-0.1"}, "--lr -0.1"},
		{[]string{"--lr", "NaN"}, "--lr NaN"},
		{[]string{"--limit", "-5"}, "--limit -5"},
		{[]string{"--threads", "-1"}, "--threads -1"},
		{[]string{"stray"}, `unexpected argument "stray"`},
		{[]string{"--blas", "mkl"}, `--blas "mkl": want kernels or gonum`},
		{[]string{"--isa", "sse9"}, `--isa: kernel set "sse9" is not available`},
		{[]string{"--data", missing}, "looked in --data " + missing + " (no such directory)"},
		{[]string{"--data", filepath.Join("..", "..", "testdata", "idx")}, "(no dataset files)"},
		{[]string{"--data", partial}, "missing t10k-labels-idx1-ubyte[.gz]"},
		{[]string{"--data", broken}, "label 10 of item 2 is out of range"},
		{[]string{"--cpuprofile", filepath.Join(missing, "cpu.pprof")}, "--cpuprofile: open " + missing},
	}
	for _, c := range cases {
		code, out, errOut := runCmd(t, c.args...)
		if code != 1 {
			t.Errorf("%v: exit code %d, want 1", c.args, code)
		}
		if !strings.HasPrefix(errOut, "train: ") || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: stderr %q, want one line containing %q", c.args, errOut, c.want)
		}
		if out != "" {
			t.Errorf("%v: unexpected stdout %q", c.args, out)
		}
	}
	// The missing-data error tells the user both ways to get the dataset.
	_, _, errOut := runCmd(t, "--data", missing)
	for _, want := range []string{"apt-get install dataset-fashion-mnist", "train --download"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("missing-data error %q lacks %q", errOut, want)
		}
	}
	if code, _, errOut := runCmd(t, "-h"); code != 0 || !strings.Contains(errOut, "-limit") {
		t.Errorf("-h: exit %d, usage %q", code, errOut)
	}
}

func idx(dims []uint32, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(data)
	return b.Bytes()
}

// tinyDataset writes a raw-IDX Fashion-MNIST look-alike of n training and m test images.
func tinyDataset(t *testing.T, n, m int) string {
	dir := t.TempDir()
	put := func(name string, count int, images bool) {
		var b []byte
		if images {
			px := make([]byte, count*dataset.ImageSize)
			for i := range px {
				px[i] = byte(i * 7 % 251)
			}
			b = idx([]uint32{uint32(count), dataset.Rows, dataset.Cols}, px)
		} else {
			l := make([]byte, count)
			for i := range l {
				l[i] = byte(i % dataset.NumClasses)
			}
			b = idx([]uint32{uint32(count)}, l)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put(dataset.TrainImagesFile, n, true)
	put(dataset.TrainLabelsFile, n, false)
	put(dataset.TestImagesFile, m, true)
	put(dataset.TestLabelsFile, m, false)
	return dir
}

// TestRunTiny goes through the whole command on a tiny dataset: both models, the files, the table.
// TestCPUProfile: --cpuprofile leaves a whole gzip-compressed pprof profile under its name and no
// temporary file beside it.
func TestCPUProfile(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	data := tinyDataset(t, 50, 20)
	dir := t.TempDir()
	prof := filepath.Join(dir, "cpu.pprof")
	code, _, stderr := runCmd(t, "--data", data, "--out", filepath.Join(dir, "out"), "--model", "ann", "--epochs", "1",
		"--batch", "16", "--threads", "1", "--cpuprofile", prof)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(prof)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("%s is not a gzip-compressed profile (%d bytes)", prof, len(b))
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "cpu.pprof" && e.Name() != "out" {
			t.Errorf("left behind %s", e.Name())
		}
	}
}

func TestRunTiny(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0)) // --threads changes it for the whole process
	data := tinyDataset(t, 50, 20)
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCmd(t, "--data", data, "--out", out, "--epochs", "2", "--batch", "16", "--threads", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"ANN epoch  1/2", "CNN epoch  2/2", "| Test Accuracy |", "| Parameter Count | 569,226 | 390,858 |"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	for _, f := range []string{"ann.safetensors", "cnn.safetensors", "ann.metrics.json", "cnn.metrics.json", "summary.json", "summary.md"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	m, err := train.ReadMetrics(filepath.Join(out, "cnn.metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Threads != 1 || m.Recipe.Batch != 16 || len(m.History) != 2 || m.Recipe.TrainImages != 45 || m.Kernels == "" {
		t.Fatalf("metrics do not reflect the flags: threads %d batch %d epochs %d images %d kernels %q",
			m.Threads, m.Recipe.Batch, len(m.History), m.Recipe.TrainImages, m.Kernels)
	}
	// Training one model again keeps the other's earlier metrics in the table.
	code, stdout, stderr = runCmd(t, "--data", data, "--out", out, "--epochs", "1", "--batch", "16", "--model", "ann")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "the CNN column is from the earlier run") || !strings.Contains(stdout, "| Metric | ANN | CNN |") {
		t.Errorf("second run's table:\n%s", stdout)
	}
}
