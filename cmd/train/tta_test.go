package main

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/simdnn/simdnn"
	"github.com/simdnn/simdnn/dataset"
)

func TestMirror(t *testing.T) {
	src := make([]byte, 2*dataset.ImageSize)
	for i := range src {
		src[i] = byte(i % 253)
	}
	dst := make([]byte, len(src))
	mirror(dst, src)
	for img := 0; img < 2; img++ {
		for y := 0; y < dataset.Rows; y++ {
			for x := 0; x < dataset.Cols; x++ {
				o := img*dataset.ImageSize + y*dataset.Cols
				if dst[o+x] != src[o+dataset.Cols-1-x] {
					t.Fatalf("image %d (%d,%d): %d, want %d", img, y, x, dst[o+x], src[o+dataset.Cols-1-x])
				}
			}
		}
	}
}

// TestTTA trains a tiny CNN and runs `train tta` on it: the output has both accuracies, and on images
// that are their own mirror image the averaged prediction is the single one.
func TestTTA(t *testing.T) {
	data, out := tinyTrainedCNN(t)
	model := filepath.Join(out, "cnn.safetensors")
	code, stdout, stderr := runCmd(t, "tta", "--data", data, model)
	if code != 0 || !strings.Contains(stdout, "on the images alone") || !strings.Contains(stdout, "/20) with each image's left-right mirror") {
		t.Fatalf("tta: exit %d: %s%s", code, stdout, stderr)
	}
	m, err := simdnn.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	sym := make([]byte, 30*dataset.ImageSize)
	for i := range sym {
		x := i % dataset.Cols
		sym[i] = byte((i/dataset.Cols)*9 + min(x, dataset.Cols-1-x)*17)
	}
	labels := make([]uint8, 30)
	for i := range labels {
		labels[i] = uint8(i % dataset.NumClasses)
	}
	single, tta, err := ttaCorrect(m, sym, labels)
	if err != nil || single != tta {
		t.Fatalf("symmetric images: %d correct alone, %d with mirrors (err %v)", single, tta, err)
	}
	if _, _, err := ttaCorrect(m, sym[:100], labels); err == nil {
		t.Error("images and labels of different counts were accepted")
	}
	if code, _, stderr := runCmd(t, "tta", "--data", data, filepath.Join(out, "missing.safetensors")); code == 0 || !strings.Contains(stderr, "missing.safetensors") {
		t.Errorf("a missing model: exit %d, %q", code, stderr)
	}
}

// tinyTrainedCNN trains a CNN for one epoch on a tiny dataset (50 training images, 20 test) and
// returns the dataset's directory and the output directory holding cnn.safetensors.
func tinyTrainedCNN(t *testing.T) (data, out string) {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	data = tinyDataset(t, 50, 20)
	out = filepath.Join(t.TempDir(), "out")
	if code, _, stderr := runCmd(t, "--data", data, "--out", out, "--epochs", "1", "--batch", "16", "--model", "cnn", "--threads", "1"); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	return data, out
}
