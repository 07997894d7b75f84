package train

import (
	"testing"

	"github.com/simdnn/simdnn/dataset"
)

func TestAugmentImage(t *testing.T) {
	const w = dataset.Cols
	src := make([]uint8, dataset.ImageSize)
	for i := range src {
		src[i] = uint8(1 + i%251)
	}
	dst := make([]uint8, dataset.ImageSize)
	at := func(img []uint8, i, j int) uint8 { return img[i*w+j] }

	augmentImage(dst, src, 0, 0, false)
	if string(dst) != string(src) {
		t.Fatal("offset (0,0) without flip is not the identity")
	}
	// Offset (dx, dy) = (2, -1): dst[i][j] = src[i-1][j+2], background outside.
	augmentImage(dst, src, 2, -1, false)
	for i := 0; i < w; i++ {
		for j := 0; j < w; j++ {
			want := uint8(0)
			if i-1 >= 0 && j+2 < w {
				want = at(src, i-1, j+2)
			}
			if got := at(dst, i, j); got != want {
				t.Fatalf("shift: dst[%d][%d] = %d, want %d", i, j, got, want)
			}
		}
	}
	// Flip: crop first, then mirror (torchvision's RandomCrop then RandomHorizontalFlip).
	augmentImage(dst, src, 1, 0, true)
	for i := 0; i < w; i++ {
		for j := 0; j < w; j++ {
			want := uint8(0)
			if c := w - 1 - j + 1; c < w {
				want = at(src, i, c)
			}
			if got := at(dst, i, j); got != want {
				t.Fatalf("flip: dst[%d][%d] = %d, want %d", i, j, got, want)
			}
		}
	}
}

func TestAugmentDraws(t *testing.T) {
	rng := augmentRNG(1, 1)
	seen := map[[3]int]int{}
	for k := 0; k < 5000; k++ {
		dx, dy, flip := augmentDraw(rng)
		if dx < -2 || dx > 2 || dy < -2 || dy > 2 {
			t.Fatalf("offset (%d,%d) outside the 2-pixel padding", dx, dy)
		}
		f := 0
		if flip {
			f = 1
		}
		seen[[3]int{dx, dy, f}]++
	}
	if len(seen) != 50 {
		t.Fatalf("%d of the 50 crop/flip combinations drawn", len(seen))
	}
	for k, c := range seen {
		if c < 50 || c > 150 { // expected 100 each
			t.Errorf("combination %v drawn %d times of 5000", k, c)
		}
	}
	// Same seed and epoch, same draws; another epoch, others.
	a, b, c := augmentRNG(7, 3), augmentRNG(7, 3), augmentRNG(7, 4)
	if a.Uint64() != b.Uint64() || a.Uint64() == c.Uint64() {
		t.Error("augmentation draws do not depend on (seed, epoch) alone")
	}
}

// TestEraseImage: erasing happens with probability p, overwrites one rectangle of 2–33% of the image
// (up to rounding) and nothing outside it, and repeats exactly for the same seed and epoch.
func TestEraseImage(t *testing.T) {
	const w, n = dataset.Cols, 4000
	src := make([]uint8, dataset.ImageSize)
	for i := range src {
		src[i] = 7
	}
	img := make([]uint8, dataset.ImageSize)
	for _, p := range []float64{0, 0.5, 1} {
		rng := eraseRNG(3, 1)
		erased := 0
		for range n {
			copy(img, src)
			did := eraseImage(img, p, rng)
			r0, c0, r1, c1, changed := w, w, -1, -1, 0
			for i := range img {
				if img[i] != src[i] {
					r, c := i/w, i%w
					r0, c0, r1, c1 = min(r0, r), min(c0, c), max(r1, r), max(c1, c)
					changed++
				}
			}
			if !did {
				if changed > 0 {
					t.Fatalf("p %v: not erased but %d pixels changed", p, changed)
				}
				continue
			}
			erased++
			box := (r1 - r0 + 1) * (c1 - c0 + 1)
			// A random value equals the old one with probability 1/256, so nearly every pixel of the
			// rectangle changes; the box bounds the rectangle from inside.
			if float64(changed) < 0.9*float64(box) || box > 267+2*w || changed < 11 {
				t.Fatalf("p %v: %d pixels changed in a %d-pixel box (%d..%d × %d..%d)", p, changed, box, r0, r1, c0, c1)
			}
		}
		got := float64(erased) / n
		if p == 0 && erased != 0 || p == 1 && got < 0.99 || p == 0.5 && (got < 0.46 || got > 0.54) {
			t.Errorf("p %v: erased %.3f of the images", p, got)
		}
	}
	a, b := make([]uint8, dataset.ImageSize), make([]uint8, dataset.ImageSize)
	copy(a, src)
	copy(b, src)
	ra, rb := eraseRNG(5, 2), eraseRNG(5, 2)
	for range 20 {
		eraseImage(a, 0.5, ra)
		eraseImage(b, 0.5, rb)
	}
	if string(a) != string(b) {
		t.Error("the same seed and epoch erased differently")
	}
}
