//go:build !noasm

package kernels

// conv3x3In1Cols_neon is conv3x3In1 on the first wv columns (wv a multiple of 4, ≤ w) of every row:
//
//	for co < cout, y < h, x < wv {
//		s := bias[co]
//		for kh, kw < 3 { s += weight[co*9+kh*3+kw] * pad[(y+kh)*(w+2)+x+kw] } // FMA, in this order
//		dst[co*m+y*w+x] = max(lo, s) // NaN kept
//	}
//
//go:noescape
func conv3x3In1Cols_neon(dst, pad, weight, bias *float32, cout, h, w, wv, m int, lo float32)

// conv3x3In1Neon is the conv3x3In1 entry: the assembly takes the columns in fours, Go the rest.
func conv3x3In1Neon(dst, pad, weight, bias []float32, cout, h, w, m int, lo float32) {
	if cout == 0 || h == 0 || w == 0 {
		return
	}
	// Reslicing bounds-checks once everything the assembly touches.
	wp := w + 2
	pad, weight, bias = pad[:(h+2)*wp], weight[:cout*9], bias[:cout]
	dst = dst[:(cout-1)*m+h*w]
	wv := w &^ 3
	if wv > 0 {
		conv3x3In1Cols_neon(&dst[0], &pad[0], &weight[0], &bias[0], cout, h, w, wv, m, lo)
	}
	for co := 0; co < cout; co++ {
		wt := weight[co*9 : co*9+9]
		for y := 0; y < h; y++ {
			for x := wv; x < w; x++ {
				s := bias[co]
				for kh := 0; kh < 3; kh++ {
					for kw := 0; kw < 3; kw++ {
						s += wt[kh*3+kw] * pad[(y+kh)*wp+x+kw]
					}
				}
				dst[co*m+y*w+x] = max(lo, s)
			}
		}
	}
}
