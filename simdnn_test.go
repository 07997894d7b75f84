package simdnn_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/simdnn/simdnn"
	"github.com/simdnn/simdnn/kernels"
	"github.com/simdnn/simdnn/nn"
)

// golden is what testdata/gen_golden.py recorded from PyTorch 1.13 (eval mode, no_grad) for the
// weights in testdata/golden_<arch>.safetensors.
type golden struct {
	Arch   string    `json:"arch"`
	N      int       `json:"n"`
	Inputs []float32 `json:"inputs"`
	Logits []float32 `json:"logits"`
}

func readGolden(t *testing.T, arch string) *golden {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "golden_"+arch+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if g.Arch != arch || g.N < 1 || len(g.Inputs) != g.N*simdnn.ImageSize || len(g.Logits) != g.N*simdnn.NumClasses {
		t.Fatalf("golden_%s.json is inconsistent", arch)
	}
	return &g
}

// TestPyTorchParity: the inference graph (BatchNorm folded, fused kernels) reproduces PyTorch's
// evaluation logits to 1e-4 relative to each image's largest logit, on every kernel set this CPU runs,
// at one thread and at two (where the batch is split).
func TestPyTorchParity(t *testing.T) {
	prev := kernels.Current().Name
	defer kernels.Use(prev)
	for _, arch := range []string{"ann", "cnn", "resnet"} {
		g := readGolden(t, arch)
		m, err := simdnn.Load(filepath.Join("testdata", "golden_"+arch+".safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		if m.Arch() != arch {
			t.Fatalf("Arch() = %q, want %q", m.Arch(), arch)
		}
		ran := 0
		for _, impl := range kernels.Available() {
			for _, threads := range []int{1, 2} {
				t.Run(fmt.Sprintf("arch=%s/impl=%s/threads=%d", arch, impl.Name, threads), func(t *testing.T) {
					if err := kernels.Use(impl.Name); err != nil {
						t.Fatal(err)
					}
					m.SetThreads(threads)
					out := make([]float32, g.N*simdnn.NumClasses)
					if err := m.Logits(out, g.Inputs); err != nil {
						t.Fatal(err)
					}
					// And each image alone: a single image takes other paths (the two-core plan,
					// matrix-vector products, the pooled transposed convolution).
					one := make([]float32, g.N*simdnn.NumClasses)
					for img := 0; img < g.N; img++ {
						if err := m.Logits(one[img*10:img*10+10], g.Inputs[img*simdnn.ImageSize:(img+1)*simdnn.ImageSize]); err != nil {
							t.Fatal(err)
						}
					}
					for img := 0; img < g.N; img++ {
						want := g.Logits[img*10 : img*10+10]
						scale := 0.0
						for _, v := range want {
							scale = math.Max(scale, math.Abs(float64(v)))
						}
						for o := range want {
							if d := math.Abs(float64(out[img*10+o] - want[o])); !(d <= 1e-4*scale) {
								t.Errorf("image %d logit %d: %v, PyTorch %v (|diff| %.3g > 1e-4 × %.3g)", img, o, out[img*10+o], want[o], d, scale)
							}
							if d := math.Abs(float64(one[img*10+o] - want[o])); !(d <= 1e-4*scale) {
								t.Errorf("image %d alone, logit %d: %v, PyTorch %v (|diff| %.3g > 1e-4 × %.3g)", img, o, one[img*10+o], want[o], d, scale)
							}
						}
					}
					ran++
				})
			}
		}
		if want := 2 * len(kernels.Available()); ran != want {
			t.Errorf("%s: %d of %d kernel-set runs done", arch, ran, want)
		}
	}
}

func TestPredictAPI(t *testing.T) {
	g := readGolden(t, "cnn")
	m, err := simdnn.Load(filepath.Join("testdata", "golden_cnn.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Classes(); len(c) != 10 || c[0] != "T-shirt/top" || c[9] != "Ankle boot" {
		t.Errorf("Classes() = %q", c)
	}
	mean, std := m.Normalization()
	// Invert the normalization to get pixel bytes, then predict from bytes, arrays and floats alike.
	imgs := make([][simdnn.ImageSize]byte, g.N)
	pixels := make([]byte, 0, g.N*simdnn.ImageSize)
	for i := range imgs {
		for p := range imgs[i] {
			v := math.Round((float64(g.Inputs[i*simdnn.ImageSize+p])*float64(std) + float64(mean)) * 255)
			imgs[i][p] = byte(math.Max(0, math.Min(255, v)))
		}
		pixels = append(pixels, imgs[i][:]...)
	}
	a, err := m.Predict(imgs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.PredictPixels(nil, pixels)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != g.N || len(b) != g.N {
		t.Fatalf("%d and %d predictions for %d images", len(a), len(b), g.N)
	}
	x := make([]float32, len(pixels))
	for i, p := range pixels {
		x[i] = (float32(p)/255 - mean) / std
	}
	c, err := m.PredictNormalized(nil, x)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if a[i] != b[i] || a[i] != c[i] {
			t.Errorf("image %d: Predict %+v, PredictPixels %+v, PredictNormalized %+v", i, a[i], b[i], c[i])
		}
		var sum float64
		for k, p := range a[i].Prob {
			sum += float64(p)
			if p > a[i].Prob[a[i].Class] {
				t.Errorf("image %d: class %d has probability %v above the predicted class %d's", i, k, p, a[i].Class)
			}
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Errorf("image %d: probabilities sum to %v", i, sum)
		}
	}
	// The golden inputs themselves: the class is PyTorch's argmax.
	d, err := m.PredictNormalized(nil, g.Inputs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range d {
		want := 0
		for k, v := range g.Logits[i*10 : i*10+10] {
			if v > g.Logits[i*10+want] {
				want = k
			}
		}
		if d[i].Class != want {
			t.Errorf("image %d: class %d, PyTorch's argmax %d", i, d[i].Class, want)
		}
	}
	// Empty batches are no work, not errors.
	if p, err := m.Predict(nil); err != nil || len(p) != 0 {
		t.Errorf("Predict(nil) = %v, %v", p, err)
	}
}

// TestWrongImageSize: input that is not a whole number of 28×28 images is an error, never a panic.
func TestWrongImageSize(t *testing.T) {
	m, err := simdnn.Load(filepath.Join("testdata", "golden_ann.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 783, 785, 2*784 - 1} {
		if _, err := m.PredictPixels(nil, make([]byte, n)); err == nil || !strings.Contains(err.Error(), "28×28") {
			t.Errorf("PredictPixels with %d bytes: err = %v, want a 28×28 size error", n, err)
		}
		if _, err := m.PredictNormalized(nil, make([]float32, n)); err == nil {
			t.Errorf("PredictNormalized with %d floats: no error", n)
		}
		if err := m.Logits(make([]float32, 10), make([]float32, n)); err == nil {
			t.Errorf("Logits with %d floats: no error", n)
		}
	}
	if err := m.Logits(make([]float32, 9), make([]float32, 784)); err == nil {
		t.Error("Logits with a 9-float output for one image: no error")
	}
}

// writeSafetensors writes tensors and metadata in the safetensors format, for building bad files.
func writeSafetensors(t *testing.T, path string, params []*nn.Param, meta map[string]string) {
	t.Helper()
	header := map[string]any{"__metadata__": meta}
	var data bytes.Buffer
	for _, p := range params {
		begin := data.Len()
		binary.Write(&data, binary.LittleEndian, p.Value)
		header[p.Name] = map[string]any{"dtype": "F32", "shape": p.Shape, "data_offsets": []int{begin, data.Len()}}
	}
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	var f bytes.Buffer
	binary.Write(&f, binary.LittleEndian, uint64(len(h)))
	f.Write(h)
	f.Write(data.Bytes())
	if err := os.WriteFile(path, f.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func goldenParams(t *testing.T, arch string) ([]*nn.Param, nn.Meta) {
	net, meta, err := nn.Load(filepath.Join("testdata", "golden_"+arch+".safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return append(net.Params(), net.Buffers()...), meta
}

// TestLoadBadFiles: a damaged model file, one of the wrong architecture and one with a tensor of the
// wrong shape each give one clear error naming the file; none panics.
func TestLoadBadFiles(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(filepath.Join("testdata", "golden_cnn.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{} // file → what the error must mention
	for _, cut := range []int{0, 7, 8, 100, len(good) / 2, len(good) - 1} {
		p := filepath.Join(dir, fmt.Sprintf("truncated-%d.safetensors", cut))
		if err := os.WriteFile(p, good[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		cases[p] = ""
	}
	params, meta := goldenParams(t, "ann")
	md := map[string]string{"arch": "cnn", "mean": fmt.Sprint(meta.Mean), "std": fmt.Sprint(meta.Std)}
	writeSafetensors(t, filepath.Join(dir, "ann-tensors-cnn-label.safetensors"), params, md)
	cases[filepath.Join(dir, "ann-tensors-cnn-label.safetensors")] = ""
	md["arch"] = "rnn"
	writeSafetensors(t, filepath.Join(dir, "unknown-arch.safetensors"), params, md)
	cases[filepath.Join(dir, "unknown-arch.safetensors")] = "rnn"

	cnn, cmeta := goldenParams(t, "cnn")
	for _, p := range cnn {
		if p.Name == "conv2.weight" { // [64,32,3,3] stored as [64,32,9,1]: same size, wrong shape
			p.Shape = []int{64, 32, 9, 1}
		}
	}
	cmd := map[string]string{"arch": "cnn", "mean": fmt.Sprint(cmeta.Mean), "std": fmt.Sprint(cmeta.Std)}
	writeSafetensors(t, filepath.Join(dir, "wrong-shape.safetensors"), cnn, cmd)
	cases[filepath.Join(dir, "wrong-shape.safetensors")] = "conv2.weight"
	cases[filepath.Join(dir, "missing.safetensors")] = ""

	names := make([]string, 0, len(cases))
	for p := range cases {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		t.Run(filepath.Base(p), func(t *testing.T) {
			var m *simdnn.Model
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("Load panicked: %v", r)
					}
				}()
				m, err = simdnn.Load(p)
			}()
			if err == nil {
				t.Fatalf("Load accepted it as a %s model", m.Arch())
			}
			msg := err.Error()
			if !strings.Contains(msg, filepath.Base(p)) || strings.Contains(msg, "\n") {
				t.Errorf("error %q should be one line naming the file", msg)
			}
			if want := cases[p]; want != "" && !strings.Contains(msg, want) {
				t.Errorf("error %q should mention %q", msg, want)
			}
			t.Log(msg)
		})
	}
}

// TestPredictZeroAllocs: with a reused result slice, a batch allocates nothing in steady state.
func TestPredictZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector (sync.Pool drops items on purpose)")
	}
	for _, arch := range []string{"ann", "cnn"} {
		m, err := simdnn.Load(filepath.Join("testdata", "golden_"+arch+".safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		for _, threads := range []int{1, 2} {
			m.SetThreads(threads)
			pixels := make([]byte, 33*simdnn.ImageSize)
			for i := range pixels {
				pixels[i] = byte(i * 7)
			}
			dst := make([]simdnn.Prediction, 0, 33)
			dst, _ = m.PredictPixels(dst[:0], pixels)
			if a := testing.AllocsPerRun(10, func() { dst, _ = m.PredictPixels(dst[:0], pixels) }); a != 0 {
				t.Errorf("%s threads=%d: %v allocations per batch of 33", arch, threads, a)
			}
		}
	}
}

// TestPredictConcurrent: one Model used from many goroutines (run under -race) gives exactly the
// serial results.
func TestPredictConcurrent(t *testing.T) {
	m, err := simdnn.Load(filepath.Join("testdata", "golden_cnn.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	m.SetThreads(2)
	const n = 5
	pixels := make([]byte, n*simdnn.ImageSize)
	for i := range pixels {
		pixels[i] = byte(i * 13)
	}
	want, err := m.PredictPixels(nil, pixels)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for gr := 0; gr < 6; gr++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := 0; it < 3; it++ {
				got, err := m.PredictPixels(nil, pixels)
				if err != nil {
					t.Error(err)
					return
				}
				for i := range got {
					if got[i] != want[i] {
						t.Errorf("image %d: concurrent %+v, serial %+v", i, got[i], want[i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func ExampleModel_Predict() {
	m, err := simdnn.Load("testdata/golden_cnn.safetensors")
	if err != nil {
		fmt.Println(err)
		return
	}
	var img [simdnn.ImageSize]byte // an all-black image; the test model has random weights
	preds, err := m.Predict([][simdnn.ImageSize]byte{img})
	if err != nil {
		fmt.Println(err)
		return
	}
	p := preds[0]
	fmt.Printf("%s model: class %d (%s), probability %.2f\n", m.Arch(), p.Class, m.Classes()[p.Class], p.Prob[p.Class])
	// Output: cnn model: class 1 (Trouser), probability 0.12
}
