package train

import (
	"math/rand/v2"

	"github.com/simdnn/simdnn/dataset"
)

// Augmentation (off by default; the study's recipe has none): each training image is shifted by a
// random crop of the image padded with 2 background pixels on every side (torchvision's
// RandomCrop(28, padding=2) before ToTensor) and flipped left-right with probability ½.

const augmentPad = 2

// augmentRNG is the generator of epoch's crops and flips. It depends only on the seed and the epoch,
// so a resumed run draws the same augmentations without saving any state.
func augmentRNG(seed int64, epoch int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed)^0x6175_676d_656e_7421, uint64(epoch)))
}

// augmentImage writes into dst the src image cropped at offset (dx, dy) ∈ [−2, 2]² from the padded
// image (pixels from outside src are 0, the background) and mirrored left-right if flip.
func augmentImage(dst, src []uint8, dx, dy int, flip bool) {
	const h, w = dataset.Rows, dataset.Cols
	for i := 0; i < h; i++ {
		si := i + dy
		row := dst[i*w : (i+1)*w]
		if si < 0 || si >= h {
			clear(row)
			continue
		}
		for j := 0; j < w; j++ {
			sj := j + dx
			if flip {
				sj = w - 1 - j + dx
			}
			if sj < 0 || sj >= w {
				row[j] = 0
			} else {
				row[j] = src[si*w+sj]
			}
		}
	}
}

// augmentDraw draws one image's crop offset and flip.
func augmentDraw(rng *rand.Rand) (dx, dy int, flip bool) {
	r := rng.Uint64()
	return int(r%5) - augmentPad, int((r>>8)%5) - augmentPad, (r>>16)&1 == 1
}
