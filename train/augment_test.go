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
