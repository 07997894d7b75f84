package kernels

import (
	"fmt"
	"math"
)

// Winograd F(2×2, 3×3): a 3×3 convolution computed on 2×2 output tiles from 4×4 input tiles with 16
// multiplications per tile and input channel instead of 36 (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016). With the tiles of many images side by side the 16
// element-wise products become 16 GEMMs, U[ξ] (cout×cin) · V[ξ] (cin×tiles), on the same SGEMM
// kernels as im2col + GEMM, for 2.25× fewer FLOPs. The transforms' constants are 0, ±1 and ±½, so
// the result differs from the direct sum by a few float32 roundings (the tests bound it).
//
//	V = Bᵀ d B (input tile d, 4×4)   U = G g Gᵀ (filter g, 3×3)   Y = Aᵀ [U ⊙ V] A (output tile, 2×2)
//
// Layout: an output of h×w has th = ⌈h/2⌉ × tw = ⌈w/2⌉ tiles per image (T = th·tw); tile (ty, tx)
// reads input rows 2ty−1 … 2ty+2 and columns 2tx−1 … 2tx+2 (zero outside the image) and writes the
// output pixels (2ty … 2ty+1, 2tx … 2tx+1) that lie inside it. V is [16][cin][n·T] and the GEMM
// output M [16][cout][n·T], so each ξ is one dense GEMM over every tile of the chunk.

// WinogradF2x3 is a 3×3 convolution's weights transformed for Winograd F(2×2, 3×3), made once when a
// model is compiled for inference.
type WinogradF2x3 struct {
	cin, cout int
	u         []float32 // [16][cout][cin]
}

// NewWinogradF2x3 transforms weight, PyTorch's [cout][cin][3][3] (batchnorm already folded in). The
// transform runs in float64 and rounds once.
func NewWinogradF2x3(weight []float32, cin, cout int) *WinogradF2x3 {
	if cin <= 0 || cout <= 0 {
		panic(fmt.Sprintf("kernels: NewWinogradF2x3: cin = %d, cout = %d", cin, cout))
	}
	need("NewWinogradF2x3", "weight", len(weight), cout*cin*9)
	g := [4][3]float64{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}
	u := make([]float32, 16*cout*cin)
	for co := 0; co < cout; co++ {
		for ci := 0; ci < cin; ci++ {
			f := weight[(co*cin+ci)*9:]
			var gf [4][3]float64 // G·f
			for i := 0; i < 4; i++ {
				for c := 0; c < 3; c++ {
					for r := 0; r < 3; r++ {
						gf[i][c] += g[i][r] * float64(f[r*3+c])
					}
				}
			}
			for i := 0; i < 4; i++ {
				for j := 0; j < 4; j++ {
					var s float64 // (G·f·Gᵀ)[i][j]
					for c := 0; c < 3; c++ {
						s += gf[i][c] * g[j][c]
					}
					u[((i*4+j)*cout+co)*cin+ci] = float32(s)
				}
			}
		}
	}
	return &WinogradF2x3{cin: cin, cout: cout, u: u}
}

// Bytes is the memory the transformed weights take (0 for nil).
func (c *WinogradF2x3) Bytes() int64 {
	if c == nil {
		return 0
	}
	return int64(len(c.u)) * 4
}

// winogradTiles returns the tile grid of an h×w output.
func winogradTiles(h, w int) (th, tw int) { return (h + 1) / 2, (w + 1) / 2 }

// winogradChunkBytes bounds V and M of one chunk of images. Larger chunks measured faster, past L2,
// until they leave L3's share: the CNN's conv2, 32 images, one thread (BenchmarkConv3x3Winograd with
// the chunk varied, 2026-11-30): 256 KiB 26.0, 768 KiB 25.0, 1.5 MiB 24.1, 3 MiB 21.7, 6 MiB 21.3,
// 12 MiB 33.0 µs per image.
var winogradChunkBytes = 4 << 20

func (c *WinogradF2x3) chunk(n, h, w int) int {
	th, tw := winogradTiles(h, w)
	per := 16 * (c.cin + c.cout) * th * tw * 4
	return max(1, min(n, winogradChunkBytes/per))
}

// ScratchSize is the length of the scratch slice Forward needs for n images whose computed output
// region is oh×ow.
func (c *WinogradF2x3) ScratchSize(n, oh, ow int) int {
	if n <= 0 || oh <= 0 || ow <= 0 {
		return 0
	}
	th, tw := winogradTiles(oh, ow)
	return 16 * (c.cin + c.cout) * c.chunk(n, oh, ow) * th * tw
}

// Pays reports whether Forward on n images with an oh×ow output region is expected to be faster than
// Conv3x3BiasReLU with the current kernel set: the set must have the transform kernels (the Go
// reference transforms cost more than the multiplications they save), and the tiles must cover little
// enough beyond the region (an odd size pads the last row and column of tiles) and be many enough per
// call (each of the 16 GEMMs is as wide as the tiles) for that set: see the thresholds in
// elementwise_amd64.go.
func (c *WinogradF2x3) Pays(n, oh, ow int) bool {
	ew := &current.Load().ew
	th, tw := winogradTiles(oh, ow)
	return ew.winogradIn != nil && ew.winogradOut != nil &&
		float64(oh*ow) >= ew.winogradMinFill*float64(4*th*tw) && c.chunk(n, oh, ow)*th*tw >= ew.winogradMinTiles
}

// Forward computes output channels [lo, hi) of the convolution Conv3x3BiasReLU computes, with the same
// layouts: src [cin][n][h][w], dst [hi−lo][n][h][w] (the range's channels only), bias[hi−lo] (the
// range's), but only over the top-left oh×ow region of every output plane (oh ≤ h, ow ≤ w; the rest
// of dst is left as it was). A 2×2 max-pool that rounds down reads only the even region of an odd-sized
// output: the CNN's conv3 (7×7) feeds a 3×3 pool, so 13 of its 49 pixels need not be computed. The
// GEMMs run as SgemmBiasReLU does (threaded unless the caller runs serial kernels).
func (c *WinogradF2x3) Forward(dst, src, bias []float32, n, h, w, oh, ow, lo, hi int, relu bool, scratch []float32) {
	checkConvShape("WinogradF2x3.Forward", n, c.cin, h, w)
	if lo < 0 || hi > c.cout || lo > hi {
		panic(fmt.Sprintf("kernels: WinogradF2x3.Forward: channels [%d, %d) outside [0, %d)", lo, hi, c.cout))
	}
	if oh < 0 || oh > h || ow < 0 || ow > w {
		panic(fmt.Sprintf("kernels: WinogradF2x3.Forward: region %d×%d outside the %d×%d output", oh, ow, h, w))
	}
	hw := h * w
	co := hi - lo
	need("WinogradF2x3.Forward", "src", len(src), c.cin*n*hw)
	need("WinogradF2x3.Forward", "dst", len(dst), co*n*hw)
	need("WinogradF2x3.Forward", "bias", len(bias), co)
	need("WinogradF2x3.Forward", "scratch", len(scratch), c.ScratchSize(n, oh, ow))
	if n == 0 || co == 0 || oh == 0 || ow == 0 {
		return
	}
	ew := &current.Load().ew
	in, out := ew.winogradIn, ew.winogradOut
	if in == nil {
		in = winogradInRef
	}
	if out == nil {
		out = winogradOutRef
	}
	lower := float32(math.Inf(-1))
	if relu {
		lower = 0
	}
	th, tw := winogradTiles(oh, ow)
	t := th * tw
	chunk := c.chunk(n, oh, ow)
	for i0 := 0; i0 < n; i0 += chunk {
		nb := min(chunk, n-i0)
		nt := nb * t
		v := scratch[:16*c.cin*nt]
		m := scratch[16*c.cin*nt : 16*(c.cin+co)*nt]
		if nb == n {
			// One chunk holds the whole batch: every (channel, image) plane is hw floats after the last
			// in src and t tiles after it in v, so one call transforms them all.
			in(v, src[:c.cin*n*hw], c.cin*n, hw, t, c.cin*nt, h, w, th, tw)
		} else {
			for ci := 0; ci < c.cin; ci++ {
				in(v[ci*nt:], src[(ci*n+i0)*hw:(ci*n+i0+nb)*hw], nb, hw, t, c.cin*nt, h, w, th, tw)
			}
		}
		for xi := 0; xi < 16; xi++ {
			SgemmBiasReLU(co, nt, c.cin, c.u[(xi*c.cout+lo)*c.cin:], c.cin, v[xi*c.cin*nt:], nt, nil, false, m[xi*co*nt:], nt)
		}
		for o := 0; o < co; o++ {
			out(dst[(o*n+i0)*hw:(o*n+i0+nb)*hw], m[o*nt:], nb, hw, t, co*nt, oh, ow, w, bias[o], lower)
		}
	}
}

// winogradInRef is the spec of the input transform of planes planes, xstride floats apart in x, each
// h×w (row stride w), on a th×tw grid of tiles (a grid smaller than ⌈h/2⌉×⌈w/2⌉ covers a top-left
// region): for every plane p, tile (ty, tx) and ξ = 4i+j,
// v[ξ·vstride + p·pstride + ty·tw + tx] = (Bᵀ d B)[i][j] with d[r][s] = x[p·xstride + (2ty−1+r)·w +
// 2tx−1+s] (0 outside the plane), evaluated exactly in this order (the assembly matches it bit for bit):
//
//	t[r][0] = d[r][0] − d[r][2]   t[r][1] = d[r][1] + d[r][2]   t[r][2] = d[r][2] − d[r][1]   t[r][3] = d[r][1] − d[r][3]
//	v[0][j] = t[0][j] − t[2][j]   v[1][j] = t[1][j] + t[2][j]   v[2][j] = t[2][j] − t[1][j]   v[3][j] = t[1][j] − t[3][j]
func winogradInRef(v, x []float32, planes, xstride, pstride, vstride, h, w, th, tw int) {
	for p := 0; p < planes; p++ {
		xp := x[p*xstride:]
		at := func(y, x0 int) float32 {
			if y < 0 || y >= h || x0 < 0 || x0 >= w {
				return 0
			}
			return xp[y*w+x0]
		}
		for ty := 0; ty < th; ty++ {
			for tx := 0; tx < tw; tx++ {
				var t [4][4]float32
				for r := 0; r < 4; r++ {
					d0, d1, d2, d3 := at(2*ty-1+r, 2*tx-1), at(2*ty-1+r, 2*tx), at(2*ty-1+r, 2*tx+1), at(2*ty-1+r, 2*tx+2)
					t[r] = [4]float32{d0 - d2, d1 + d2, d2 - d1, d1 - d3}
				}
				q := p*pstride + ty*tw + tx
				for j := 0; j < 4; j++ {
					v[(0*4+j)*vstride+q] = t[0][j] - t[2][j]
					v[(1*4+j)*vstride+q] = t[1][j] + t[2][j]
					v[(2*4+j)*vstride+q] = t[2][j] - t[1][j]
					v[(3*4+j)*vstride+q] = t[1][j] - t[3][j]
				}
			}
		}
	}
}

// winogradOutRef is the spec of the output transform of planes planes, ystride floats apart in y, each
// an oh×ow region (row stride w ≥ ow) of an output plane: from the products m[ξ·mstride + p·pstride +
// ty·tw + tx] (tw = ⌈ow/2⌉), each tile's Aᵀ M A plus bias, then max(·, lower) (lower 0 for a fused
// ReLU, −Inf for none), written where it falls inside the region, evaluated exactly in this order:
//
//	s0[j] = m[0][j] + m[1][j] + m[2][j]   s1[j] = m[1][j] − m[2][j] − m[3][j]
//	y[r][0] = s_r[0] + s_r[1] + s_r[2]      y[r][1] = s_r[1] − s_r[2] − s_r[3]
func winogradOutRef(y, m []float32, planes, ystride, pstride, mstride, oh, ow, w int, bias, lower float32) {
	th, tw := winogradTiles(oh, ow)
	for p := 0; p < planes; p++ {
		yp := y[p*ystride:]
		for ty := 0; ty < th; ty++ {
			for tx := 0; tx < tw; tx++ {
				q := p*pstride + ty*tw + tx
				var mm [4][4]float32
				for xi := 0; xi < 16; xi++ {
					mm[xi/4][xi%4] = m[xi*mstride+q]
				}
				var s [2][4]float32
				for j := 0; j < 4; j++ {
					s[0][j] = mm[0][j] + mm[1][j] + mm[2][j]
					s[1][j] = mm[1][j] - mm[2][j] - mm[3][j]
				}
				for r := 0; r < 2; r++ {
					oy := 2*ty + r
					if oy >= oh {
						break
					}
					o := [2]float32{s[r][0] + s[r][1] + s[r][2], s[r][1] - s[r][2] - s[r][3]}
					for c := 0; c < 2; c++ {
						if ox := 2*tx + c; ox < ow {
							yp[oy*w+ox] = max(o[c]+bias, lower)
						}
					}
				}
			}
		}
	}
}
