package dataset

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Image geometry and class count of Fashion-MNIST.
const (
	Rows       = 28
	Cols       = 28
	ImageSize  = Rows * Cols
	NumClasses = 10
)

// Where FindDir looks, after the --data flag.
const (
	EnvDir    = "FASHION_MNIST"                     // environment variable naming the data directory
	SystemDir = "/usr/share/datasets/fashion-mnist" // Debian's dataset-fashion-mnist package
	LocalDir  = "data"                              // ./data, where --download writes
)

// ClassNames returns the ten Fashion-MNIST class names, indexed by label.
func ClassNames() []string {
	return []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
}

// The four files, by their base names (stored gzip-compressed as name+".gz", or raw as name).
const (
	TrainImagesFile = "train-images-idx3-ubyte"
	TrainLabelsFile = "train-labels-idx1-ubyte"
	TestImagesFile  = "t10k-images-idx3-ubyte"
	TestLabelsFile  = "t10k-labels-idx1-ubyte"
)

var fileNames = []string{TrainImagesFile, TrainLabelsFile, TestImagesFile, TestLabelsFile}

// Split is a set of labelled images: Images holds Len() images of ImageSize bytes, Labels one label
// (0..9) per image.
type Split struct {
	Images []uint8
	Labels []uint8
}

// Len is the number of images.
func (s Split) Len() int { return len(s.Labels) }

// Image returns image i's ImageSize pixels.
func (s Split) Image(i int) []uint8 { return s.Images[i*ImageSize : (i+1)*ImageSize] }

// Subset copies the images at the given indices, in that order.
func (s Split) Subset(idx []int) Split {
	out := Split{Images: make([]uint8, len(idx)*ImageSize), Labels: make([]uint8, len(idx))}
	for j, i := range idx {
		copy(out.Images[j*ImageSize:], s.Image(i))
		out.Labels[j] = s.Labels[i]
	}
	return out
}

// Head returns the first n images (all of them when n ≤ 0 or n ≥ Len), sharing memory.
func (s Split) Head(n int) Split {
	if n <= 0 || n >= s.Len() {
		return s
	}
	return Split{Images: s.Images[:n*ImageSize], Labels: s.Labels[:n]}
}

// FashionMNIST is the dataset as distributed: 60,000 training and 10,000 test images.
type FashionMNIST struct {
	Dir   string
	Train Split
	Test  Split
}

// FindDir resolves the data directory: dir if not empty, else $FASHION_MNIST if set, else SystemDir,
// else ./data. A directory named explicitly (flag or environment) is the only one tried, so a typo
// is reported instead of silently training on other files. If no candidate holds the four files the
// one error lists where it looked and how to get them.
func FindDir(dir string) (string, error) {
	var cands []string
	switch {
	case dir != "":
		cands = []string{dir}
	case os.Getenv(EnvDir) != "":
		cands = []string{os.Getenv(EnvDir)}
	default:
		cands = []string{SystemDir, LocalDir}
	}
	var looked []string
	for _, c := range cands {
		missing := missingFiles(c)
		if len(missing) == 0 {
			return c, nil
		}
		why := "missing " + strings.Join(missing, ", ")
		if len(missing) == len(fileNames) {
			why = "no dataset files"
			if _, err := os.Stat(c); errors.Is(err, fs.ErrNotExist) {
				why = "no such directory"
			}
		}
		label := c
		switch {
		case dir != "":
			label = "--data " + c
		case os.Getenv(EnvDir) != "":
			label = "$" + EnvDir + "=" + c
		}
		looked = append(looked, label+" ("+why+")")
	}
	return "", fmt.Errorf("Fashion-MNIST not found: looked in %s; get it with `apt-get install dataset-fashion-mnist` or `train --download`",
		strings.Join(looked, ", "))
}

// missingFiles lists the dataset files dir lacks (in either form, .gz or raw).
func missingFiles(dir string) []string {
	var missing []string
	for _, name := range fileNames {
		if filePath(dir, name) == "" {
			missing = append(missing, name+"[.gz]")
		}
	}
	return missing
}

// filePath returns the path of name in dir, preferring the .gz form, or "" if neither is a file.
func filePath(dir, name string) string {
	for _, p := range []string{filepath.Join(dir, name+".gz"), filepath.Join(dir, name)} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// Load reads and validates the four files in dir.
func Load(dir string) (*FashionMNIST, error) {
	if m := missingFiles(dir); len(m) > 0 {
		return nil, fmt.Errorf("%s: missing %s", dir, strings.Join(m, ", "))
	}
	train, err := LoadSplit(filePath(dir, TrainImagesFile), filePath(dir, TrainLabelsFile))
	if err != nil {
		return nil, err
	}
	test, err := LoadSplit(filePath(dir, TestImagesFile), filePath(dir, TestLabelsFile))
	if err != nil {
		return nil, err
	}
	return &FashionMNIST{Dir: dir, Train: train, Test: test}, nil
}

// LoadSplit reads an images file ([n][28][28]) and its labels file ([n], values 0..9).
func LoadSplit(imagesPath, labelsPath string) (Split, error) {
	img, err := ReadIDX(imagesPath)
	if err != nil {
		return Split{}, err
	}
	if len(img.Dims) != 3 || img.Dims[1] != Rows || img.Dims[2] != Cols {
		return Split{}, fmt.Errorf("%s: dimensions %v, want [n %d %d] images", imagesPath, img.Dims, Rows, Cols)
	}
	lab, err := ReadIDX(labelsPath)
	if err != nil {
		return Split{}, err
	}
	if len(lab.Dims) != 1 {
		return Split{}, fmt.Errorf("%s: dimensions %v, want [n] labels", labelsPath, lab.Dims)
	}
	if img.Dims[0] != lab.Dims[0] {
		return Split{}, fmt.Errorf("%s has %d images but %s has %d labels", imagesPath, img.Dims[0], labelsPath, lab.Dims[0])
	}
	for i, l := range lab.Data {
		if l >= NumClasses {
			return Split{}, fmt.Errorf("%s: label %d of item %d is out of range 0..%d", labelsPath, l, i, NumClasses-1)
		}
	}
	return Split{Images: img.Data, Labels: lab.Data}, nil
}

// TrainValIndices splits n items into a training part and a validation part of round(n·valFrac)
// items, by a permutation drawn from seed. Both index lists are sorted.
func TrainValIndices(n int, valFrac float64, seed int64) (train, val []int) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed_da7a))
	perm := rng.Perm(n)
	nv := int(math.Round(float64(n) * valFrac))
	val = append([]int(nil), perm[:nv]...)
	train = append([]int(nil), perm[nv:]...)
	sort.Ints(val)
	sort.Ints(train)
	return train, val
}

// MeanStd returns the mean and (population) standard deviation of the pixels scaled to [0,1].
func MeanStd(images []uint8) (mean, std float32) {
	if len(images) == 0 {
		return 0, 1
	}
	var hist [256]int64
	for _, p := range images {
		hist[p]++
	}
	var s, ss float64
	for v, c := range hist {
		x := float64(v) / 255
		s += float64(c) * x
		ss += float64(c) * x * x
	}
	n := float64(len(images))
	m := s / n
	return float32(m), float32(math.Sqrt(math.Max(ss/n-m*m, 0)))
}

// Normalizer maps raw pixels to (p/255 − Mean)/Std, the networks' input.
type Normalizer struct {
	Mean, Std float32
	lut       [256]float32
}

// NewNormalizer builds the lookup table for mean and std.
func NewNormalizer(mean, std float32) *Normalizer {
	n := &Normalizer{Mean: mean, Std: std}
	for v := range n.lut {
		n.lut[v] = (float32(v)/255 - mean) / std
	}
	return n
}

// Apply writes the normalized pixels of src into dst (len(dst) ≥ len(src)).
func (n *Normalizer) Apply(dst []float32, src []uint8) {
	dst = dst[:len(src)]
	for i, p := range src {
		dst[i] = n.lut[p]
	}
}
