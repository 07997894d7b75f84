package dataset

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzReadIDX feeds arbitrary bytes to the decoder: it must return an IDX whose data matches its
// dimensions, or an error, and never panic, hang or allocate more than the header bound.
func FuzzReadIDX(f *testing.F) {
	for _, fx := range fixtures() {
		f.Add(fx.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		idx, err := decodeIDX(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if strings.ContainsRune(err.Error(), '\n') {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		n := 1
		for _, d := range idx.Dims {
			n *= d
		}
		if len(idx.Data) != n || len(idx.Dims) < 1 || len(idx.Dims) > maxIDXDims {
			t.Fatalf("dims %v with %d data bytes", idx.Dims, len(idx.Data))
		}
	})
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// tinyDir writes a complete dataset of n training and m test images into a temporary directory,
// gzip-compressed or raw.
func tinyDir(t *testing.T, n, m int, gz bool) string {
	t.Helper()
	dir := t.TempDir()
	put := func(name string, raw []byte) {
		if gz {
			writeFile(t, filepath.Join(dir, name+".gz"), gzipBytes(raw))
		} else {
			writeFile(t, filepath.Join(dir, name), raw)
		}
	}
	put(TrainImagesFile, idxBytes([]uint32{uint32(n), Rows, Cols}, tinyImages(n)))
	put(TrainLabelsFile, idxBytes([]uint32{uint32(n)}, tinyLabels(n)))
	put(TestImagesFile, idxBytes([]uint32{uint32(m), Rows, Cols}, tinyImages(m)))
	put(TestLabelsFile, idxBytes([]uint32{uint32(m)}, tinyLabels(m)))
	return dir
}

func TestLoadTiny(t *testing.T) {
	for _, gz := range []bool{true, false} {
		dir := tinyDir(t, 7, 4, gz)
		ds, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if ds.Train.Len() != 7 || ds.Test.Len() != 4 || len(ds.Train.Images) != 7*ImageSize {
			t.Fatalf("gz=%v: got %d/%d images", gz, ds.Train.Len(), ds.Test.Len())
		}
		if !bytes.Equal(ds.Train.Image(6), tinyImages(7)[6*ImageSize:]) || ds.Train.Labels[6] != 6 {
			t.Fatalf("gz=%v: image 6 or its label differs", gz)
		}
	}
}

func TestLoadSplitErrors(t *testing.T) {
	dir := tinyDir(t, 3, 3, true)
	img := filepath.Join(fixtureDir, "images.idx.gz")
	cases := []struct{ images, labels, want string }{
		{img, filepath.Join(fixtureDir, "labels-2.idx.gz"), "has 3 images but"},
		{img, filepath.Join(fixtureDir, "labels-10.idx"), "label 10 of item 1 is out of range"},
		{filepath.Join(fixtureDir, "labels.idx"), filepath.Join(fixtureDir, "labels.idx"), "want [n 28 28] images"},
		{img, img, "want [n] labels"},
		{filepath.Join(dir, "nope.gz"), img, "no such file"},
		{dir, img, "is a directory"},
	}
	for _, c := range cases {
		_, err := LoadSplit(c.images, c.labels)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LoadSplit(%s, %s) = %v, want error containing %q", c.images, c.labels, err, c.want)
		}
	}
}

func TestFindDir(t *testing.T) {
	good := tinyDir(t, 2, 2, true)
	partial := tinyDir(t, 2, 2, false)
	os.Remove(filepath.Join(partial, TestLabelsFile))
	missing := filepath.Join(t.TempDir(), "absent")

	t.Setenv(EnvDir, "")
	if d, err := FindDir(good); err != nil || d != good {
		t.Fatalf("FindDir(flag) = %q, %v", d, err)
	}
	t.Setenv(EnvDir, good)
	if d, err := FindDir(""); err != nil || d != good {
		t.Fatalf("FindDir with $%s = %q, %v", EnvDir, d, err)
	}
	// The flag beats the environment, and an explicit choice that lacks the files is an error even
	// though the environment names a good directory.
	_, err := FindDir(missing)
	if err == nil {
		t.Fatal("FindDir of a missing directory succeeded")
	}
	for _, want := range []string{"--data " + missing, "no such directory", "apt-get install dataset-fashion-mnist", "train --download"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	t.Setenv(EnvDir, partial)
	_, err = FindDir("")
	if err == nil || !strings.Contains(err.Error(), "missing "+TestLabelsFile) || !strings.Contains(err.Error(), "$"+EnvDir) {
		t.Fatalf("FindDir with a partial $%s: %v", EnvDir, err)
	}
	if strings.ContainsRune(err.Error(), '\n') {
		t.Fatalf("error spans lines: %q", err)
	}
}

func TestTrainValIndices(t *testing.T) {
	tr, va := TrainValIndices(60000, 0.1, 1)
	if len(tr) != 54000 || len(va) != 6000 {
		t.Fatalf("split %d/%d, want 54000/6000", len(tr), len(va))
	}
	seen := make([]bool, 60000)
	for _, i := range append(append([]int(nil), tr...), va...) {
		if seen[i] {
			t.Fatalf("index %d twice", i)
		}
		seen[i] = true
	}
	tr2, va2 := TrainValIndices(60000, 0.1, 1)
	_, va3 := TrainValIndices(60000, 0.1, 2)
	if !slices.Equal(tr, tr2) || !slices.Equal(va, va2) {
		t.Fatal("same seed, different split")
	}
	if slices.Equal(va, va3) {
		t.Fatal("different seeds, same split")
	}
}

func TestMeanStdNormalize(t *testing.T) {
	m, s := MeanStd([]uint8{0, 255, 0, 255})
	if m != 0.5 || math.Abs(float64(s)-0.5) > 1e-7 {
		t.Fatalf("MeanStd = %v, %v, want 0.5, 0.5", m, s)
	}
	n := NewNormalizer(m, s)
	dst := make([]float32, 3)
	n.Apply(dst, []uint8{0, 255, 51})
	want := []float32{-1, 1, (0.2 - 0.5) / 0.5}
	for i := range want {
		if math.Abs(float64(dst[i]-want[i])) > 1e-6 {
			t.Fatalf("Apply = %v, want %v", dst, want)
		}
	}
}

// TestRealData reads the installed dataset: sizes, label balance and the published statistics.
func TestRealData(t *testing.T) {
	ds := requireRealData(t)
	if ds.Train.Len() != 60000 || ds.Test.Len() != 10000 {
		t.Fatalf("%d train, %d test images", ds.Train.Len(), ds.Test.Len())
	}
	var counts [NumClasses]int
	for _, l := range ds.Test.Labels {
		counts[l]++
	}
	for c, n := range counts {
		if n != 1000 {
			t.Fatalf("class %d has %d test images, want 1000", c, n)
		}
	}
	m, s := MeanStd(ds.Train.Images)
	if math.Abs(float64(m)-0.2860) > 5e-4 || math.Abs(float64(s)-0.3530) > 5e-4 {
		t.Fatalf("train mean/std %.4f/%.4f, want 0.2860/0.3530", m, s)
	}
}

// debianFiles serves the installed .gz files, or fails / skips like every real-data test.
func debianFiles(t *testing.T) map[string][]byte {
	requireRealData(t)
	files := map[string][]byte{}
	for _, name := range fileNames {
		b, err := os.ReadFile(filepath.Join(SystemDir, name+".gz"))
		if err != nil {
			t.Fatalf("%v (the download test serves the installed .gz files)", err)
		}
		files[name+".gz"] = b
	}
	return files
}

func TestDownload(t *testing.T) {
	files := debianFiles(t)
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		b, ok := files[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()

	dir := filepath.Join(t.TempDir(), "data")
	if err := Download(context.Background(), dir, srv.URL); err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s not downloaded intact (%v)", name, err)
		}
	}
	assertNoTemp(t, dir)
	if _, err := Load(dir); err != nil {
		t.Fatal(err)
	}
	// A second call finds good files in place and fetches nothing.
	before := hits
	if err := Download(context.Background(), dir, srv.URL); err != nil || hits != before {
		t.Fatalf("re-download: err %v, %d requests", err, hits-before)
	}
}

// TestDebianChecksums pins the installed files to the checksum table, so a changed Debian package is
// noticed here and not by a user's failed download.
func TestDebianChecksums(t *testing.T) {
	for name, b := range debianFiles(t) {
		sum := sha256.Sum256(b)
		if !goodSum(name, hex.EncodeToString(sum[:])) {
			t.Errorf("%s: SHA-256 %x is not in the table", name, sum)
		}
	}
}

func TestDownloadErrors(t *testing.T) {
	files := debianFiles(t)
	tampered := map[string][]byte{}
	for k, v := range files {
		tampered[k] = v
	}
	bad := append([]byte(nil), files[TestLabelsFile+".gz"]...)
	bad[100] ^= 1
	tampered[TestLabelsFile+".gz"] = bad

	cases := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"checksum", func(w http.ResponseWriter, r *http.Request) {
			w.Write(tampered[strings.TrimPrefix(r.URL.Path, "/")])
		}, "does not match the published checksum"},
		{"server error", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", http.StatusInternalServerError)
		}, "500 Internal Server Error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(c.handler)
			defer srv.Close()
			dir := t.TempDir()
			err := Download(context.Background(), dir, srv.URL)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
			assertNoTemp(t, dir)
			// Nothing damaged is left under the real name.
			if _, err := os.Stat(filepath.Join(dir, TestLabelsFile+".gz")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a bad file was kept: %v", err)
			}
		})
	}
	// A server that is gone.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	if err := Download(context.Background(), t.TempDir(), url); err == nil {
		t.Fatal("download from a closed server succeeded")
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Fatalf("temporary file %s left behind", e.Name())
		}
	}
}
