package nn

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var fashionClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// trainedNet returns a network whose weights and running statistics are no longer the initial ones.
func trainedNet(t *testing.T, arch string) Network {
	t.Helper()
	net, _ := New(arch, 11)
	x := randImages(8, 12)
	labels := []uint8{0, 1, 2, 3, 4, 5, 6, 7}
	opt := NewAdam(net.Params(), 1e-2)
	d := make([]float32, 8*NumClasses)
	for i := 0; i < 2; i++ {
		opt.ZeroGrad()
		SoftmaxCrossEntropy(net.Forward(x, 8, true), labels, 8, d)
		net.Backward(d)
		opt.Step()
	}
	return net
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, arch := range Archs {
		net := trainedNet(t, arch)
		x := randImages(6, 13)
		want := append([]float32(nil), net.Forward(x, 6, false)...)
		path := filepath.Join(dir, arch+".safetensors")
		meta := Meta{Mean: 0.2860402, Std: 0.3530239, Classes: fashionClasses, Extra: map[string]string{"epochs": "18"}}
		if err := Save(path, net, meta); err != nil {
			t.Fatal(err)
		}
		got, gm, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if got.Arch() != arch || gm.Arch != arch || gm.Mean != meta.Mean || gm.Std != meta.Std ||
			strings.Join(gm.Classes, "|") != strings.Join(fashionClasses, "|") || gm.Extra["epochs"] != "18" {
			t.Errorf("%s: meta came back as %+v", arch, gm)
		}
		logits := got.Forward(x, 6, false)
		for i := range want {
			if logits[i] != want[i] {
				t.Fatalf("%s: logit %d is %v after the round trip, was %v", arch, i, logits[i], want[i])
			}
		}
		if _, _, err := LoadArch(path, arch); err != nil {
			t.Errorf("LoadArch(%s): %v", arch, err)
		}
		// No temporary file is left behind.
		if m, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(m) != 0 {
			t.Errorf("temporary files left: %v", m)
		}
	}
}

// rewriteHeader loads a saved file, lets edit change the header entries, and writes it back with the
// same data section.
func rewriteHeader(t *testing.T, src, dst string, edit func(h map[string]any)) {
	t.Helper()
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(raw)
	var h map[string]any
	if err := json.Unmarshal(raw[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	edit(h)
	hb, _ := json.Marshal(h)
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(hb)))
	out = append(append(out, hb...), raw[8+n:]...)
	if err := os.WriteFile(dst, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	ann := filepath.Join(dir, "ann.safetensors")
	cnn := filepath.Join(dir, "cnn.safetensors")
	if err := Save(ann, NewANN(1), Meta{Mean: 0.5, Std: 0.5}); err != nil {
		t.Fatal(err)
	}
	if err := Save(cnn, NewCNN(1), Meta{Mean: 0.5, Std: 0.5}); err != nil {
		t.Fatal(err)
	}
	annBytes, _ := os.ReadFile(ann)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, path, arch, want string
	}{
		{"missing", filepath.Join(dir, "nope.safetensors"), "", "no such file"},
		{"empty", write("empty", nil), "", "too short"},
		{"truncated data", write("trunc", annBytes[:len(annBytes)-100]), "", "outside"},
		{"truncated header", write("trunch", annBytes[:200]), "", "exceeds"},
		{"huge header length", write("huge", append(binary.LittleEndian.AppendUint64(nil, 1<<62), annBytes[8:]...)), "", "exceeds"},
		{"bad header", write("badjson", append(binary.LittleEndian.AppendUint64(nil, 5), []byte("{oops-and-more")...)), "", "damaged safetensors header"},
		{"other architecture", cnn, "ann", "holds a cnn model, want ann"},
		{"other architecture 2", ann, "cnn", "holds a ann model, want cnn"},
	}
	rw := func(name string, edit func(h map[string]any)) string {
		p := filepath.Join(dir, name)
		rewriteHeader(t, ann, p, edit)
		return p
	}
	entry := func(h map[string]any, name string) map[string]any { return h[name].(map[string]any) }
	cases = append(cases,
		struct{ name, path, arch, want string }{"wrong shape", rw("shape", func(h map[string]any) {
			entry(h, "fc2.weight")["shape"] = []int{512, 256}
		}), "", `"fc2.weight" has F32 shape [512 256], the ann needs F32 [256 512]`},
		struct{ name, path, arch, want string }{"shape vs bytes", rw("bytes", func(h map[string]any) {
			entry(h, "fc2.weight")["shape"] = []int{256, 511}
		}), "", "needs 523264 bytes"},
		struct{ name, path, arch, want string }{"dtype", rw("dtype", func(h map[string]any) {
			entry(h, "fc1.bias")["dtype"] = "F16"
		}), "", `dtype "F16"`},
		struct{ name, path, arch, want string }{"overlap", rw("overlap", func(h map[string]any) {
			entry(h, "fc1.bias")["data_offsets"] = entry(h, "bn1.weight")["data_offsets"]
		}), "", "overlap"},
		struct{ name, path, arch, want string }{"missing tensor", rw("missingt", func(h map[string]any) {
			delete(h, "bn2.running_var")
		}), "", `"bn2.running_var" of the ann is missing`},
		struct{ name, path, arch, want string }{"arch lies", rw("lies", func(h map[string]any) {
			h["__metadata__"].(map[string]any)["arch"] = "cnn"
		}), "", "metadata says cnn but the tensors are those of a ann"},
		struct{ name, path, arch, want string }{"unknown arch", rw("unk", func(h map[string]any) {
			h["__metadata__"].(map[string]any)["arch"] = "vgg16"
		}), "", `unknown architecture "vgg16"`},
		struct{ name, path, arch, want string }{"bad mean", rw("mean", func(h map[string]any) {
			h["__metadata__"].(map[string]any)["mean"] = "NaN"
		}), "", `"mean" = "NaN" is not a number`},
	)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.arch != "" {
				_, _, err = LoadArch(tc.path, tc.arch)
			} else {
				_, _, err = Load(tc.path)
			}
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.path) || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line naming %s and saying %q", msg, tc.path, tc.want)
			}
		})
	}
}

func TestLoadPyTorchExport(t *testing.T) {
	// A state_dict exported from PyTorch has no arch metadata and carries num_batches_tracked (I64).
	dir := t.TempDir()
	src := filepath.Join(dir, "cnn.safetensors")
	net := trainedNet(t, "cnn")
	if err := Save(src, net, Meta{}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(src)
	n := binary.LittleEndian.Uint64(raw)
	var h map[string]any
	json.Unmarshal(raw[8:8+n], &h)
	h["__metadata__"] = map[string]string{"format": "pt"}
	dataLen := int64(len(raw)) - 8 - int64(n)
	h["bn1.num_batches_tracked"] = map[string]any{"dtype": "I64", "shape": []int{}, "data_offsets": []int64{dataLen, dataLen + 8}}
	hb, _ := json.Marshal(h)
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(hb)))
	out = append(append(append(out, hb...), raw[8+n:]...), make([]byte, 8)...)
	dst := filepath.Join(dir, "export.safetensors")
	os.WriteFile(dst, out, 0o644)
	got, meta, err := Load(dst)
	if err != nil {
		t.Fatal(err)
	}
	if got.Arch() != "cnn" || meta.Std != 0 {
		t.Errorf("arch %q, std %v", got.Arch(), meta.Std)
	}
}

func TestSaveRejectsReservedExtra(t *testing.T) {
	err := Save(filepath.Join(t.TempDir(), "x.safetensors"), NewANN(1), Meta{Extra: map[string]string{"arch": "cnn"}})
	if err == nil {
		t.Error("Save accepted a reserved metadata key in Extra")
	}
}
