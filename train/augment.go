package train

import (
	"math"
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

// Random erasing (Zhong et al. 2020, torchvision's RandomErasing with its default scale and ratio
// ranges): with probability p a rectangle of 2–33% of the image, of aspect ratio 0.3–3.3 (log-uniform),
// is overwritten with random pixel values (the paper's best variant). Up to 10 draws look for a
// rectangle that fits, as torchvision does; if none fits the image is left alone.
const (
	eraseMinArea, eraseMaxArea   = 0.02, 0.33
	eraseMinRatio, eraseMaxRatio = 0.3, 1 / 0.3
)

// eraseRNG draws an epoch's erasures; it is separate from augmentRNG so that adding erasing to a run
// leaves its crops and flips unchanged, and like it depends only on the seed and the epoch.
func eraseRNG(seed int64, epoch int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed)^0x6572_6173_696e_6721, uint64(epoch)))
}

// eraseImage erases one rectangle of img (28×28) with probability p and reports whether it did.
func eraseImage(img []uint8, p float64, rng *rand.Rand) bool {
	const h, w = dataset.Rows, dataset.Cols
	if rng.Float64() >= p {
		return false
	}
	for range 10 {
		area := float64(h*w) * (eraseMinArea + (eraseMaxArea-eraseMinArea)*rng.Float64())
		ratio := math.Exp(math.Log(eraseMinRatio) + (math.Log(eraseMaxRatio)-math.Log(eraseMinRatio))*rng.Float64())
		eh := int(math.Round(math.Sqrt(area * ratio)))
		ew := int(math.Round(math.Sqrt(area / ratio)))
		if eh < 1 || ew < 1 || eh >= h || ew >= w {
			continue
		}
		i, j := rng.IntN(h-eh+1), rng.IntN(w-ew+1)
		for r := i; r < i+eh; r++ {
			for c := j; c < j+ew; c++ {
				img[r*w+c] = uint8(rng.Uint32())
			}
		}
		return true
	}
	return false
}
