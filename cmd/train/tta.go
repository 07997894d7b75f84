package main

import (
	"fmt"
	"io"

	"github.com/simdnn/simdnn"
	"github.com/simdnn/simdnn/dataset"
)

// runTTA is `train tta [--data DIR] MODEL`: a model file's test accuracy on the images alone and with
// test-time augmentation, each image's softmax probabilities averaged with its left-right mirror's
// (the flip --augment trains with). The recorded metrics, and bench's check of them, stay single-view.
func runTTA(args []string, stdout, stderr io.Writer) int {
	c := newModelCommand("train tta", "[--data DIR] MODEL.safetensors   (test accuracy alone and with each image's mirror averaged in)", stderr)
	path, code, ok := c.parse(args)
	if !ok {
		return code
	}
	m, err := simdnn.Load(path)
	if err != nil {
		return c.fail(err)
	}
	ds, err := c.dataset()
	if err != nil {
		return c.fail(err)
	}
	single, tta, err := ttaCorrect(m, ds.Test.Images, ds.Test.Labels)
	if err != nil {
		return c.fail(err)
	}
	n := ds.Test.Len()
	fmt.Fprintf(stdout, "%s: test accuracy %.2f%% (%d/%d) on the images alone, %.2f%% (%d/%d) with each image's left-right mirror averaged in\n",
		path, 100*float64(single)/float64(n), single, n, 100*float64(tta)/float64(n), tta, n)
	return 0
}

// ttaCorrect counts the images classified correctly alone and with their mirror's probabilities
// averaged in (ties go to the lower class, as the single-view argmax does).
func ttaCorrect(m *simdnn.Model, images []byte, labels []uint8) (single, tta int, err error) {
	const batch = 500
	n := len(labels)
	if len(images) != n*simdnn.ImageSize {
		return 0, 0, fmt.Errorf("%d labels for %d bytes of images", n, len(images))
	}
	mirrored := make([]byte, batch*simdnn.ImageSize)
	var p0, p1 []simdnn.Prediction
	for s := 0; s < n; s += batch {
		e := min(s+batch, n)
		px := images[s*simdnn.ImageSize : e*simdnn.ImageSize]
		mir := mirrored[:len(px)]
		mirror(mir, px)
		if p0, err = m.PredictPixels(p0[:0], px); err != nil {
			return 0, 0, err
		}
		if p1, err = m.PredictPixels(p1[:0], mir); err != nil {
			return 0, 0, err
		}
		for j := range p0 {
			label := int(labels[s+j])
			if p0[j].Class == label {
				single++
			}
			best, bestP := 0, float32(-1)
			for c := range p0[j].Prob {
				if p := p0[j].Prob[c] + p1[j].Prob[c]; p > bestP {
					best, bestP = c, p
				}
			}
			if best == label {
				tta++
			}
		}
	}
	return single, tta, nil
}

// mirror flips every 28×28 image of src left-right into dst.
func mirror(dst, src []byte) {
	const w = dataset.Cols
	for r := 0; r < len(src)/w; r++ {
		row, out := src[r*w:(r+1)*w], dst[r*w:(r+1)*w]
		for x := range row {
			out[w-1-x] = row[x]
		}
	}
}
