//go:build !noasm

package kernels

// maxPoolRow_neon pools one output row: for x < n (n a multiple of 4), the window r0[2x], r0[2x+1],
// r1[2x], r1[2x+1] goes to dst[x] and idx[x] as in maxPool2x2Ref (first maximum wins, NaN wins).
//
//go:noescape
func maxPoolRow_neon(dst *float32, idx *uint8, r0, r1 *float32, n int)

// maxPoolBackRow_neon writes both input rows of n windows (n a multiple of 4): for x < n and k < 4,
// row k>>1 (d0 or d1) at column 2x + k&1 = (idx[x] == k ? dy[x] : 0).
//
//go:noescape
func maxPoolBackRow_neon(d0, d1, dy *float32, idx *uint8, n int)

// maxPoolWindow is maxPool2x2Ref's rule for one window, for the columns the vector loop leaves.
func maxPoolWindow(c0, c1, c2, c3 float32) (float32, uint8) {
	best, at := c0, uint8(0)
	for k, v := range [3]float32{c1, c2, c3} {
		if v > best || (v != v && best == best) {
			best, at = v, uint8(k+1)
		}
	}
	return best, at
}

func maxPoolNeon(dst []float32, idx []uint8, src []float32, planes, h, w int) {
	oh, ow := h/2, w/2
	if oh == 0 || ow == 0 {
		return
	}
	// Reslicing bounds-checks once what the assembly will touch.
	src, dst, idx = src[:planes*h*w], dst[:planes*oh*ow], idx[:planes*oh*ow]
	nv := ow &^ 3
	for p := 0; p < planes; p++ {
		in := src[p*h*w : (p+1)*h*w]
		out := dst[p*oh*ow : (p+1)*oh*ow]
		ix := idx[p*oh*ow : (p+1)*oh*ow]
		for y := 0; y < oh; y++ {
			r0 := in[2*y*w : 2*y*w+w]
			r1 := in[(2*y+1)*w : (2*y+1)*w+w]
			o, ox := out[y*ow:(y+1)*ow], ix[y*ow:(y+1)*ow]
			if nv > 0 {
				maxPoolRow_neon(&o[0], &ox[0], &r0[0], &r1[0], nv)
			}
			for x := nv; x < ow; x++ {
				o[x], ox[x] = maxPoolWindow(r0[2*x], r0[2*x+1], r1[2*x], r1[2*x+1])
			}
		}
	}
}

func maxPoolBackNeon(dx, dy []float32, idx []uint8, planes, h, w int) {
	oh, ow := h/2, w/2
	dx = dx[:planes*h*w]
	if oh == 0 || ow == 0 {
		clear(dx)
		return
	}
	dy, idx = dy[:planes*oh*ow], idx[:planes*oh*ow]
	nv := ow &^ 3
	for p := 0; p < planes; p++ {
		out := dx[p*h*w : (p+1)*h*w]
		g := dy[p*oh*ow : (p+1)*oh*ow]
		ix := idx[p*oh*ow : (p+1)*oh*ow]
		for y := 0; y < oh; y++ {
			r0 := out[2*y*w : 2*y*w+w]
			r1 := out[(2*y+1)*w : (2*y+1)*w+w]
			gy, iy := g[y*ow:(y+1)*ow], ix[y*ow:(y+1)*ow]
			if nv > 0 {
				maxPoolBackRow_neon(&r0[0], &r1[0], &gy[0], &iy[0], nv)
			}
			// The rest of the row pair, including a dropped odd last column, is cleared, then routed.
			clear(r0[2*nv:])
			clear(r1[2*nv:])
			for x := nv; x < ow; x++ {
				k := iy[x]
				if k < 2 {
					r0[2*x+int(k)] = gy[x]
				} else {
					r1[2*x+int(k&1)] = gy[x]
				}
			}
		}
		clear(out[2*oh*w:]) // a dropped odd last row
	}
}
