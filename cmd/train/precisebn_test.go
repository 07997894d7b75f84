package main

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/simdnn/simdnn/nn"
)

// TestPreciseBNCommand trains a tiny CNN and runs `train precise-bn --write` on it: the written model
// has the same weights, other running statistics and says so in its metadata. (tinyDataset has 50
// training images, 45 after the validation split: fewer than two batches of 128, so all are used.)
func TestPreciseBNCommand(t *testing.T) {
	data, out := tinyTrainedCNN(t)
	model := filepath.Join(out, "cnn.safetensors")
	recal := filepath.Join(out, "cnn-precise.safetensors")
	code, stdout, stderr := runCmd(t, "precise-bn", "--data", data, "--batches", "2", "--write", recal, model)
	if code != 0 || !strings.Contains(stdout, "with its BatchNorm statistics") || !strings.Contains(stdout, "recomputed over 45 training images") {
		t.Fatalf("precise-bn: exit %d: %s%s", code, stdout, stderr)
	}
	a, _, err := nn.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	b, meta, err := nn.Load(recal)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range a.Params() {
		if !reflect.DeepEqual(p.Value, b.Params()[i].Value) {
			t.Fatalf("%s changed", p.Name)
		}
	}
	if reflect.DeepEqual(a.Buffers()[0].Value, b.Buffers()[0].Value) {
		t.Fatalf("%s unchanged", a.Buffers()[0].Name)
	}
	if meta.Extra["precise_bn_batches"] != "2" {
		t.Fatalf("metadata %v", meta.Extra)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"precise-bn", "--data", data, filepath.Join(out, "missing.safetensors")}, "missing.safetensors"},
		{[]string{"precise-bn", "--data", data, "--write", model, model}, "is the model itself"},
		{[]string{"precise-bn", "--data", data, "--batches", "0", model}, "--batches 0"},
	} {
		if code, _, stderr := runCmd(t, c.args...); code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %q, want an error with %q", c.args, code, stderr, c.want)
		}
	}
}
