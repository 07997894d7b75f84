package kernels

import "fmt"

// Im2col3x3 unfolds src, a channel-major [cin][n][h][w] tensor (CNHW), into col, a [cin·9][n·h·w]
// matrix for a 3×3 convolution with stride 1 and padding 1: row ci·9 + kh·3 + kw holds, for every
// output position (img, y, x), the input src[ci][img][y+kh−1][x+kw−1], or 0 outside the image. The row
// order matches PyTorch's [out][in][kh][kw] weights, so W[cout][cin·9] · col is the convolution.
func Im2col3x3(col, src []float32, n, cin, h, w int) {
	checkChunk("Im2col3x3", "src", len(src), len(col), n, cin, h, w, 0, n)
	im2col3x3(col, src, n, cin, h, w, 0, n)
}

// Im2col3x3Images is Im2col3x3 for images i0 ≤ img < i1 of src only: col is [cin·9][(i1−i0)·h·w],
// the columns of a chunk of the batch without gathering its images first.
func Im2col3x3Images(col, src []float32, n, cin, h, w, i0, i1 int) {
	checkChunk("Im2col3x3Images", "src", len(src), len(col), n, cin, h, w, i0, i1)
	im2col3x3(col, src, n, cin, h, w, i0, i1)
}

// checkChunk panics unless images [i0, i1) lie in a batch of n, the [cin][n][h][w] tensor (named
// tensor, tlen floats) holds the batch and col (clen floats) the chunk's [cin·9][(i1−i0)·h·w] columns.
func checkChunk(fn, tensor string, tlen, clen, n, cin, h, w, i0, i1 int) {
	checkConvShape(fn, n, cin, h, w)
	if i0 < 0 || i1 < i0 || i1 > n {
		panic(fmt.Sprintf("kernels: %s: images [%d, %d) outside [0, %d)", fn, i0, i1, n))
	}
	need(fn, tensor, tlen, cin*n*h*w)
	need(fn, "col", clen, cin*9*(i1-i0)*h*w)
}

// im2col3x3 unfolds images i0 ≤ img < i1 of src into col, a [cin·9][(i1−i0)·h·w] matrix, with the
// ISA's kernel, or one (ci, kh, kw) row at a time with the reference tap.
func im2col3x3(col, src []float32, n, cin, h, w, i0, i1 int) {
	hw := h * w
	if cin == 0 || i1 == i0 {
		return
	}
	src = src[i0*hw:]
	if f := current.Load().ew.im2col; f != nil {
		f(col, src, cin, n*hw, i1-i0, h, w)
		return
	}
	im2colRef(col, src, cin, n*hw, i1-i0, h, w)
}

// im2colRef is the spec of the ISA's im2col: the nimg contiguous images at the start of each of cin
// channels cstride floats apart unfold into col's cin·9 rows, row ci·9+kh·3+kw being that channel's
// tap (kh, kw) (im2colTapRef).
func im2colRef(col, src []float32, cin, cstride, nimg, h, w int) {
	m := nimg * h * w
	for ci := 0; ci < cin; ci++ {
		for t := 0; t < 9; t++ {
			r := ci*9 + t
			im2colTapRef(col[r*m:(r+1)*m], src[ci*cstride:ci*cstride+m], nimg, h, w, t/3, t%3)
		}
	}
}

// im2colTapRef is one tap of im2colRef: for nimg contiguous images of h×w it writes the
// contiguous output planes
//
//	out[(img*h+y)*w+x] = in[(img*h+y+kh−1)*w+x+kw−1], or 0 where that falls outside the image.
func im2colTapRef(out, in []float32, nimg, h, w, kh, kw int) {
	hw := h * w
	// Output rows y0 ≤ y < y1 read input row y+kh−1; the others are padding.
	y0, y1 := max(0, 1-kh), min(h, h+1-kh)
	for img := 0; img < nimg; img++ {
		in := in[img*hw : (img+1)*hw]
		out := out[img*hw : (img+1)*hw]
		clear(out[:min(y0, y1)*w])
		clear(out[y1*w:])
		if y0 >= y1 { // h = 1: this kh reads only padding
			continue
		}
		// The valid rows are one contiguous block of the input, shifted by kw−1 columns: copy it in
		// one go, then zero the column that wrapped around from the next or previous row. Per-row
		// copies cost a call each on 7- to 28-wide images.
		s0 := (y0 + kh - 1) * w
		switch kw {
		case 0:
			copy(out[y0*w+1:y1*w], in[s0:])
			for y := y0; y < y1; y++ {
				out[y*w] = 0
			}
		case 1:
			copy(out[y0*w:y1*w], in[s0:])
		case 2:
			copy(out[y0*w:y1*w-1], in[s0+1:])
			for y := y0; y < y1; y++ {
				out[y*w+w-1] = 0
			}
		}
	}
}

// Col2im3x3 is Im2col3x3's adjoint, the input gradient of a 3×3 convolution: it adds every entry of
// col ([cin·9][n·h·w]) into the position of dx ([cin][n][h][w]) that Im2col3x3 read it from. It
// accumulates: clear dx first for a plain gradient.
func Col2im3x3(dx, col []float32, n, cin, h, w int) {
	checkChunk("Col2im3x3", "dx", len(dx), len(col), n, cin, h, w, 0, n)
	col2im3x3(dx, col, n, cin, h, w, 0, n)
}

// Col2im3x3Images is Im2col3x3Images' adjoint: it adds col, the [cin·9][(i1−i0)·h·w] columns of
// images i0 ≤ img < i1, into those images of dx ([cin][n][h][w]), so a chunk's input gradient lands
// in place. It accumulates, as Col2im3x3 does.
func Col2im3x3Images(dx, col []float32, n, cin, h, w, i0, i1 int) {
	checkChunk("Col2im3x3Images", "dx", len(dx), len(col), n, cin, h, w, i0, i1)
	col2im3x3(dx, col, n, cin, h, w, i0, i1)
}

// col2im3x3 adds col, the columns of images i0 ≤ img < i1, into those images of dx, with the ISA's
// kernel, or one (ci, kh, kw) row at a time with the set's add.
func col2im3x3(dx, col []float32, n, cin, h, w, i0, i1 int) {
	hw := h * w
	if cin == 0 || i1 == i0 {
		return
	}
	dx = dx[i0*hw:]
	ew := &current.Load().ew
	if ew.col2im != nil {
		ew.col2im(dx, col, cin, n*hw, i1-i0, h, w)
		return
	}
	col2imRows(dx, col, cin, n*hw, i1-i0, h, w, ew.add)
}

// col2imRows is im2colRef's adjoint, with add (a set's dst[i] += src[i]) doing the adds: row
// ci·9+kh·3+kw of col is added into channel ci's images by col2imTapRows, rows in order. With addRef
// it is the spec of the ISA's col2im, which must match it bit for bit.
func col2imRows(dx, col []float32, cin, cstride, nimg, h, w int, add func(dst, src []float32)) {
	m := nimg * h * w
	var buf [64]float32
	saved := buf[:min(h, len(buf))]
	if h > len(buf) {
		saved = make([]float32, h)
	}
	for ci := 0; ci < cin; ci++ {
		for t := 0; t < 9; t++ {
			r := ci*9 + t
			col2imTapRows(dx[ci*cstride:ci*cstride+m], col[r*m:(r+1)*m], nimg, h, w, t/3, t%3, add, saved)
		}
	}
}

// col2imTapRows adds, for nimg contiguous images of h×w,
//
//	g[(img*h+y)*w+x] into dx[(img*h+y+kh−1)*w+x+kw−1] where that lies inside the image,
//
// with add (a set's dst[i] += src[i]) doing the adds; saved (h floats) is scratch for the
// wrapped-around column, restored after each block add.
func col2imTapRows(dx, g []float32, nimg, h, w, kh, kw int, add func(dst, src []float32), saved []float32) {
	y0, y1 := max(0, 1-kh), min(h, h+1-kh)
	if y0 >= y1 {
		return
	}
	hw := h * w
	for img := 0; img < nimg; img++ {
		d := dx[img*hw : (img+1)*hw]
		g := g[img*hw : (img+1)*hw]
		// Mirror of im2colTapRef: one block add of the valid rows, shifted by kw−1. The shift makes
		// the block also touch one column it must not (padding entries of g land on the neighbouring
		// row's edge); save that column and put it back, which is exact, unlike subtracting again.
		s0, rows := (y0+kh-1)*w, y1-y0
		switch kw {
		case 0: // d[sy][x−1] += g[y][x]; the wrapped entries are d[sy][w−1], all rows but the last
			for r := 0; r < rows-1; r++ {
				saved[r] = d[s0+r*w+w-1]
			}
			add(d[s0:s0+rows*w-1], g[y0*w+1:y1*w])
			for r := 0; r < rows-1; r++ {
				d[s0+r*w+w-1] = saved[r]
			}
		case 1:
			add(d[s0:s0+rows*w], g[y0*w:y1*w])
		case 2: // d[sy][x+1] += g[y][x]; the wrapped entries are d[sy][0], all rows but the first
			for r := 1; r < rows; r++ {
				saved[r] = d[s0+r*w]
			}
			add(d[s0+1:s0+rows*w], g[y0*w:y1*w-1])
			for r := 1; r < rows; r++ {
				d[s0+r*w] = saved[r]
			}
		}
	}
}

func checkConvShape(fn string, n, cin, h, w int) {
	if n < 0 || cin < 0 || h < 0 || w < 0 {
		panic("kernels: " + fn + ": negative dimension")
	}
	if w == 0 || h == 0 {
		// Nothing to do, but slicing [:w-1] below would go negative.
		panic("kernels: " + fn + ": empty image (h or w is 0)")
	}
}
