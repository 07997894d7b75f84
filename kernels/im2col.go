package kernels

// Im2col3x3 unfolds src, a channel-major [cin][n][h][w] tensor (CNHW), into col, a [cin·9][n·h·w]
// matrix for a 3×3 convolution with stride 1 and padding 1: row ci·9 + kh·3 + kw holds, for every
// output position (img, y, x), the input src[ci][img][y+kh−1][x+kw−1], or 0 outside the image. The row
// order matches PyTorch's [out][in][kh][kw] weights, so W[cout][cin·9] · col is the convolution.
func Im2col3x3(col, src []float32, n, cin, h, w int) {
	checkConvShape("Im2col3x3", n, cin, h, w)
	m := n * h * w
	need("Im2col3x3", "src", len(src), cin*m)
	need("Im2col3x3", "col", len(col), cin*9*m)
	im2col3x3(col, src, n, cin, h, w, 0, n)
}

// im2col3x3 unfolds images i0 ≤ img < i1 of src into col, a [cin·9][(i1−i0)·h·w] matrix.
func im2col3x3(col, src []float32, n, cin, h, w, i0, i1 int) {
	m := (i1 - i0) * h * w
	for ci := 0; ci < cin; ci++ {
		for kh := 0; kh < 3; kh++ {
			for kw := 0; kw < 3; kw++ {
				dst := col[(ci*9+kh*3+kw)*m : (ci*9+kh*3+kw+1)*m]
				for img := i0; img < i1; img++ {
					plane := src[(ci*n+img)*h*w : (ci*n+img+1)*h*w]
					for y := 0; y < h; y++ {
						out := dst[((img-i0)*h+y)*w : ((img-i0)*h+y+1)*w]
						sy := y + kh - 1
						if sy < 0 || sy >= h {
							clear(out)
							continue
						}
						in := plane[sy*w : (sy+1)*w]
						switch kw {
						case 0: // input column x−1
							out[0] = 0
							copy(out[1:], in[:w-1])
						case 1:
							copy(out, in)
						case 2: // input column x+1
							copy(out[:w-1], in[1:])
							out[w-1] = 0
						}
					}
				}
			}
		}
	}
}

// Col2im3x3 is Im2col3x3's adjoint, the input gradient of a 3×3 convolution: it adds every entry of
// col ([cin·9][n·h·w]) into the position of dx ([cin][n][h][w]) that Im2col3x3 read it from. It
// accumulates: clear dx first for a plain gradient.
func Col2im3x3(dx, col []float32, n, cin, h, w int) {
	checkConvShape("Col2im3x3", n, cin, h, w)
	m := n * h * w
	need("Col2im3x3", "dx", len(dx), cin*m)
	need("Col2im3x3", "col", len(col), cin*9*m)
	add := current.Load().ew.add
	for ci := 0; ci < cin; ci++ {
		for kh := 0; kh < 3; kh++ {
			for kw := 0; kw < 3; kw++ {
				src := col[(ci*9+kh*3+kw)*m : (ci*9+kh*3+kw+1)*m]
				for img := 0; img < n; img++ {
					plane := dx[(ci*n+img)*h*w : (ci*n+img+1)*h*w]
					// Output rows whose input row sy = y+kh−1 lies inside the image.
					for y := max(0, 1-kh); y < min(h, h+1-kh); y++ {
						g := src[(img*h+y)*w : (img*h+y+1)*w]
						sy := y + kh - 1
						d := plane[sy*w : (sy+1)*w]
						switch kw {
						case 0:
							add(d[:w-1], g[1:])
						case 1:
							add(d, g)
						case 2:
							add(d[1:], g[:w-1])
						}
					}
				}
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
