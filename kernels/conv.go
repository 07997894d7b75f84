package kernels

import "math"

// convChunkBytes bounds the im2col buffer of one chunk of images. It was sized to stay in L2 (1 MiB
// per core here, 768 KiB), but larger chunks measured faster once the GEMM's own blocking took over:
// CNN inference at batch 128 on 2 threads, `bench --model cnn --random-weights --batch 128 --count 5`,
// 768 KiB 22.97k, 1 MiB 23.46k, 2 MiB 23.92k, 4 MiB 24.01k images/s (2026-11-30). 2 MiB keeps most of
// the gain at half the scratch of 4.
var convChunkBytes = 2 << 20

// convChunk is the number of images Conv3x3BiasReLU unfolds and multiplies at a time.
func convChunk(n, cin, h, w int) int {
	per := cin * 9 * h * w * 4
	return max(1, min(n, convChunkBytes/max(per, 1)))
}

// Conv3x3ScratchSize is the length of the scratch slice Conv3x3BiasReLU needs for n images of
// cin×h×w; allocate it once and reuse it across calls.
func Conv3x3ScratchSize(n, cin, h, w int) int {
	if n <= 0 || cin <= 0 || h <= 0 || w <= 0 {
		return 0
	}
	return max(cin*9*convChunk(n, cin, h, w)*h*w, (h+2)*(w+2))
}

// convForceGEMM makes Conv3x3BiasReLU take im2col + GEMM for cin = 1 too, so tests and benchmarks can
// compare the two paths.
var convForceGEMM = false

// conv3x3In1Direct is Conv3x3BiasReLU for one input channel with the ISA's direct kernel: each image
// is copied into a zero-padded plane at the start of scratch and convolved with all cout filters.
func conv3x3In1Direct(k func(dst, pad, weight, bias []float32, cout, h, w, m int, lo float32),
	dst, src, weight, bias []float32, n, cout, h, w int, relu bool, scratch []float32) {
	lo := float32(math.Inf(-1))
	if relu {
		lo = 0
	}
	hw, wp := h*w, w+2
	pad := scratch[:(h+2)*wp]
	clear(pad)
	for img := 0; img < n; img++ {
		in := src[img*hw : (img+1)*hw]
		for y := 0; y < h; y++ {
			copy(pad[(y+1)*wp+1:(y+1)*wp+1+w], in[y*w:(y+1)*w])
		}
		k(dst[img*hw:], pad, weight, bias, cout, h, w, n*hw, lo)
	}
}

// Conv3x3Algorithm names what Conv3x3BiasReLU runs for cin input and cout output channels with the
// current kernel set: "direct" or "im2col+sgemm".
func Conv3x3Algorithm(cin, cout int) string {
	if conv3x3Direct(&current.Load().ew, cin, cout) {
		return "direct"
	}
	return "im2col+sgemm"
}

// conv3x3Direct reports whether the set's direct kernel takes the convolution: one input channel,
// output channels in eights.
func conv3x3Direct(ew *ewKernels, cin, cout int) bool {
	return ew.conv3x3In1 != nil && cin == 1 && cout%8 == 0 && !convForceGEMM
}

// Conv3x3BiasReLU is an inference 3×3 convolution, stride 1, padding 1, with a fused epilogue:
//
//	dst[co][img][y][x] = act(bias[co] + Σ_{ci,kh,kw} weight[co][ci][kh][kw] · src[ci][img][y+kh−1][x+kw−1])
//
// with act = max(·, 0) when relu is set, identity otherwise, and src read as 0 outside the image. src
// is [cin][n][h][w] and dst [cout][n][h][w] (channel-major CNHW), weight is PyTorch's [cout][cin][3][3]
// (fold batchnorm into weight and bias first). scratch holds at least Conv3x3ScratchSize(n, cin, h, w)
// floats.
//
// It runs im2col + SgemmBiasReLU on chunks of images whose unfolded columns stay in L2, each chunk's
// GEMM writing its column block of dst directly (and threaded as SgemmBiasReLU is). For one input
// channel with cout a multiple of 8 a kernel set may have a direct convolution instead (AVX-512 has),
// which runs on the calling goroutine: with K = 9 the GEMM mostly moves memory, and the direct kernel
// measured about twice as fast on one thread (BenchmarkConv3x3In1Paths).
func Conv3x3BiasReLU(dst, src, weight, bias []float32, n, cin, cout, h, w int, relu bool, scratch []float32) {
	checkConvShape("Conv3x3BiasReLU", n, cin, h, w)
	if cout < 0 {
		panic("kernels: Conv3x3BiasReLU: negative cout")
	}
	hw := h * w
	m := n * hw
	need("Conv3x3BiasReLU", "src", len(src), cin*m)
	need("Conv3x3BiasReLU", "dst", len(dst), cout*m)
	need("Conv3x3BiasReLU", "weight", len(weight), cout*cin*9)
	need("Conv3x3BiasReLU", "bias", len(bias), cout)
	need("Conv3x3BiasReLU", "scratch", len(scratch), Conv3x3ScratchSize(n, cin, h, w))
	if n == 0 || cin == 0 || cout == 0 {
		if cin == 0 { // an empty sum: the epilogue of the bias alone
			for co := 0; co < cout; co++ {
				v := bias[co]
				if relu {
					v = max(v, 0)
				}
				row := dst[co*m : (co+1)*m]
				for j := range row {
					row[j] = v
				}
			}
		}
		return
	}
	if ew := &current.Load().ew; conv3x3Direct(ew, cin, cout) {
		conv3x3In1Direct(ew.conv3x3In1, dst, src, weight, bias, n, cout, h, w, relu, scratch)
		return
	}
	chunk := convChunk(n, cin, h, w)
	for i0 := 0; i0 < n; i0 += chunk {
		i1 := min(n, i0+chunk)
		cols := (i1 - i0) * hw
		col := scratch[:cin*9*cols]
		im2col3x3(col, src, n, cin, h, w, i0, i1)
		SgemmBiasReLU(cout, cols, cin*9, weight, cin*9, col, cols, bias, relu, dst[i0*hw:], m)
	}
}
